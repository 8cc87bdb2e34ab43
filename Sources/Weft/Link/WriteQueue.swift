import CWeftLinux
import Glibc

/// A connection's unsent frames, sent with one gathered `sendmsg` (writev with
/// MSG_NOSIGNAL) per flush.
///
/// Small frames are copied into the connection's own byte buffer, where
/// consecutive ones form a single iovec (one copy of ~100 bytes costs less
/// than an iovec the kernel walks and checks on its own). Large frames stay
/// in their shared `FrameStorage` and are sent from it without a copy — a
/// broadcast of a big block queues the same bytes on every connection.
package struct WriteQueue: ~Copyable {
    /// Frames up to this size are copied into the buffer.
    package static let copyLimit = 2048

    /// A run of bytes to send: in `storage` when set, else in the buffer.
    private struct Segment {
        var storage: FrameStorage?
        var start: Int
        var count: Int
    }

    private var segments: [Segment] = []
    private var first = 0                  // index of the oldest unsent segment
    private var buffer: UnsafeMutableRawPointer?
    private var bufferCapacity = 0
    private var bufferEnd = 0
    package private(set) var pendingBytes = 0

    package var isEmpty: Bool { pendingBytes == 0 }

    package init() {}

    deinit { buffer?.deallocate() }

    package mutating func append(_ frame: FrameStorage) {
        let n = frame.frameCount
        pendingBytes += n
        guard n <= WriteQueue.copyLimit else {
            segments.append(Segment(storage: frame, start: 0, count: n))
            return
        }
        reserve(n)
        (buffer! + bufferEnd).copyMemory(from: frame.base, byteCount: n)
        commitBufferBytes(n)
    }

    /// Appends up to `limit` bytes that `fill` writes straight into the
    /// buffer (it returns how many it wrote): TLS ciphertext.
    package mutating func append(upTo limit: Int, _ fill: (UnsafeMutableRawPointer) -> Int) {
        reserve(limit)
        let n = fill(buffer! + bufferEnd)
        guard n > 0 else { return }
        pendingBytes += n
        commitBufferBytes(n)
    }

    /// The `n` bytes just written at `bufferEnd` join the last buffer run, or start one.
    private mutating func commitBufferBytes(_ n: Int) {
        if let last = segments.indices.last, last >= first, segments[last].storage == nil,
           segments[last].start + segments[last].count == bufferEnd {
            segments[last].count += n
        } else {
            segments.append(Segment(storage: nil, start: bufferEnd, count: n))
        }
        bufferEnd += n
    }

    /// Hands every unsent run to `body`, oldest first, and forgets them all
    /// (TLS encrypts them into its own output).
    package mutating func drain(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard pendingBytes > 0 else { return }
        for index in first..<segments.count {
            let s = segments[index]
            body(UnsafeRawBufferPointer(start: (s.storage?.base ?? buffer!) + s.start, count: s.count))
        }
        consume(pendingBytes)
    }

    /// Room for `n` more bytes at `bufferEnd`: reclaims the sent prefix, or grows.
    private mutating func reserve(_ n: Int) {
        if bufferCapacity - bufferEnd >= n { return }
        // Bytes of the buffer still unsent start at the first buffer segment.
        let liveStart = segments[first...].first { $0.storage == nil }?.start ?? bufferEnd
        let live = bufferEnd - liveStart
        if liveStart > 0 && bufferCapacity - live >= n, let buffer {
            buffer.copyMemory(from: buffer + liveStart, byteCount: live)        // memmove
            for i in first..<segments.count where segments[i].storage == nil { segments[i].start -= liveStart }
            bufferEnd = live
            return
        }
        var capacity = max(bufferCapacity * 2, 4096)
        while capacity - bufferEnd < n { capacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        if let buffer { grown.copyMemory(from: buffer, byteCount: bufferEnd); buffer.deallocate() }
        buffer = grown
        bufferCapacity = capacity
    }

    package enum FlushResult { case drained, blocked, failed(Int32) }

    /// Writes as much as the socket takes, `maxIovecs` segments per call.
    package mutating func flush(fd: Int32, iovecs: UnsafeMutablePointer<iovec>, maxIovecs: Int, sent: inout Int) -> FlushResult {
        while pendingBytes > 0 {
            var count = 0
            var index = first
            while index < segments.count, count < maxIovecs {
                let s = segments[index]
                let base = s.storage?.base ?? buffer!
                iovecs[count] = iovec(iov_base: base + s.start, iov_len: s.count)
                count += 1
                index += 1
            }
            switch Syscall.sendGathered(fd, iovecs, count: count) {
            case .sent(let n):
                sent += n
                consume(n)
                if n == 0 { return .blocked }
            case .wouldBlock:
                return .blocked
            case .failed(let err):
                return .failed(err)
            }
        }
        return .drained
    }

    private mutating func consume(_ written: Int) {
        var left = written
        pendingBytes -= written
        while left > 0 {
            let remaining = segments[first].count
            if left < remaining {
                segments[first].start += left
                segments[first].count -= left
                return
            }
            left -= remaining
            segments[first].storage = nil
            first += 1
        }
        if first == segments.count {
            segments.removeAll(keepingCapacity: segments.capacity <= 1024)
            first = 0
            bufferEnd = 0
            if bufferCapacity > 64 * 1024 { releaseBuffer() }      // a burst is over: give the memory back
        } else if first >= 1024 && first * 2 >= segments.count {
            segments.removeFirst(first)
            first = 0
        }
    }

    private mutating func releaseBuffer() {
        buffer?.deallocate()
        buffer = nil
        bufferCapacity = 0
        bufferEnd = 0
    }

    /// Drops everything unsent (a closed connection).
    package mutating func removeAll() {
        segments = []
        first = 0
        pendingBytes = 0
        releaseBuffer()
    }
}
