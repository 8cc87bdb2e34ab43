import CWeftLinux
import Glibc

/// A connection's unsent frames, sent with one gathered `sendmsg` (writev with
/// MSG_NOSIGNAL) per flush. Frames are shared `FrameStorage`, so a broadcast
/// queues the same bytes on many connections without copying them.
struct WriteQueue: ~Copyable {
    private var frames: [FrameStorage] = []
    private var first = 0                 // index of the oldest unsent frame
    private var firstWritten = 0          // bytes of frames[first] already sent
    private(set) var pendingBytes = 0

    var isEmpty: Bool { pendingBytes == 0 }
    var pendingFrames: Int { frames.count - first }

    mutating func append(_ frame: FrameStorage) {
        frames.append(frame)
        pendingBytes += frame.frameCount
    }

    enum FlushResult { case drained, blocked, failed(Int32) }

    /// Writes as much as the socket takes, `iovecs` at a time.
    mutating func flush(fd: Int32, iovecs: UnsafeMutablePointer<iovec>, maxIovecs: Int, sent: inout Int) -> FlushResult {
        while pendingBytes > 0 {
            var count = 0
            var index = first
            var offset = firstWritten
            while index < frames.count, count < maxIovecs {
                let frame = frames[index]
                iovecs[count] = iovec(iov_base: frame.base + offset, iov_len: frame.frameCount - offset)
                count += 1
                index += 1
                offset = 0
            }
            var message = msghdr()
            message.msg_iov = iovecs
            message.msg_iovlen = count
            let n = sendmsg(fd, &message, cweft_msg_nosignal)
            if n < 0 {
                let err = errno
                if err == EINTR { continue }
                if err == EAGAIN || err == EWOULDBLOCK { return .blocked }
                return .failed(err)
            }
            sent += n
            consume(n)
            if n == 0 { return .blocked }
        }
        return .drained
    }

    private mutating func consume(_ written: Int) {
        var left = written
        pendingBytes -= written
        while left > 0 {
            let remaining = frames[first].frameCount - firstWritten
            if left < remaining { firstWritten += left; return }
            left -= remaining
            first += 1
            firstWritten = 0
        }
        if first == frames.count {
            frames.removeAll(keepingCapacity: frames.capacity <= 4096)
            first = 0
        } else if first >= 1024 && first * 2 >= frames.count {
            frames.removeFirst(first)
            first = 0
        }
    }

    /// Drops everything unsent (a closed connection).
    mutating func removeAll() {
        frames = []
        first = 0
        firstWritten = 0
        pendingBytes = 0
    }
}
