import CWeftLinux
import Foundation
import Glibc
import Histogram
import SwiftProtobuf
import Synchronization
import Weft

/// One load connection's state (owned by its worker thread).
final class LoadConnection {
    let id: Int
    let fd: Int32
    var established = false
    var dead = false
    var reader = FrameReader()
    /// Plaintext to send; with TLS it is sealed into `sealed` at each flush.
    var out: [UInt8] = []
    var outOffset = 0
    var tls: TLSSession?
    var sealed: [UInt8] = []
    var sealedOffset = 0
    var inFlight = 0
    var nextSeq: UInt64 = 0
    var expectSeq: UInt64 = 0
    var nextDue: UInt64 = 0
    var txSentAt: [UInt64: UInt64] = [:]
    var writeArmed = false

    init(id: Int, fd: Int32) { self.id = id; self.fd = fd }

    var hasUnsent: Bool { outOffset < out.count || sealedOffset < sealed.count }
}

/// The connections of one thread, on one epoll loop.
final class LoadWorker: @unchecked Sendable {
    let options: LoadOptions
    let tls: TLSContext?
    let address: SocketAddress
    let ids: [Int]
    let counters: LoadCounters
    let start: UInt64, measureFrom: UInt64, end: UInt64
    private(set) var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
    private var recent = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .two)
    private var recentSecond: UInt64 = 0
    let progressP99Nanos = Atomic<UInt64>(0)
    private(set) var measuredBytes = 0
    private(set) var lastReceiveAt: UInt64 = 0
    private var connections: [Int32: LoadConnection] = [:]
    private let interval: UInt64          // open loop: nanoseconds between sends on one connection
    private let epfd: Int32

    init(options: LoadOptions, tls: TLSContext?, address: SocketAddress, connectionIDs: [Int], counters: LoadCounters,
         start: UInt64, measureFrom: UInt64, end: UInt64) {
        self.options = options
        self.tls = tls
        self.address = address
        ids = connectionIDs
        self.counters = counters
        self.start = start
        self.measureFrom = measureFrom
        self.end = end
        if let rate = options.rate, rate > 0 {
            interval = UInt64(1e9 * Double(options.connections) / rate)
        } else {
            interval = 0
        }
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
    }

    deinit { Glibc.close(epfd) }

    func run() {
        for id in ids { open(id) }
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 256)
        defer { events.deallocate() }
        while true {
            let now = MonotonicClock.now()
            if now >= end || connections.values.allSatisfy(\.dead) { break }
            var timeout: Int32 = 50
            if interval > 0 {
                let due = connections.values.filter { $0.established && !$0.dead }.map(\.nextDue).min() ?? now + 50_000_000
                timeout = due <= now ? 0 : Int32(min(50, (due - now) / 1_000_000))
            }
            timeout = min(timeout, Int32((end - now) / 1_000_000) + 1)
            let n = epoll_wait(epfd, events, 256, timeout)
            if n > 0 {
                for i in 0..<Int(n) {
                    guard let c = connections[events[i].data.fd], !c.dead else { continue }
                    if events[i].events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { readable(c) }
                    if !c.dead, events[i].events & EPOLLOUT.rawValue != 0 { flush(c) }
                }
            }
            if interval > 0 { sendDue() }
            for c in connections.values where !c.dead && c.hasUnsent { flush(c) }
        }
        for c in connections.values where !c.dead { kill(c) }
    }

    // MARK: connections

    private func open(_ id: Int) {
        guard let fd = try? address.connectBlocking() else {
            counters.errors.add(1, ordering: .relaxed)
            FileHandle.standardError.write(Data("load: connection \(id): cannot connect to \(options.target)\n".utf8))
            return
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let c = LoadConnection(id: id, fd: fd)
        if let tls {
            do {
                c.tls = try BlockingTLS.handshake(fd: fd, context: tls)
            } catch {
                counters.errors.add(1, ordering: .relaxed)
                FileHandle.standardError.write(Data("load: connection \(id): TLS handshake with \(options.target) failed: \(error)\n".utf8))
                Glibc.close(fd)
                return
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        connections[fd] = c
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = fd
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event)
        counters.alive.add(1, ordering: .relaxed)
        var hello = Protos_HelloMessage()
        hello.peerEndpoint.id.name = options.peerName(id)
        hello.peerEndpoint.address = "127.0.0.1:1"
        hello.peerEndpoint.type = .nonValidator
        var message = Protos_Message()
        message.type = .discHello
        message.payload = (try? hello.serializedData()) ?? Data()
        c.out += FrameFormat.frame((try? message.serializedBytes()) ?? [UInt8]())
        flush(c)
    }

    private func kill(_ c: LoadConnection) {
        guard !c.dead else { return }
        c.dead = true
        c.reader.release()
        epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nil)
        Glibc.close(c.fd)
        counters.alive.add(-1, ordering: .relaxed)
    }

    private func fail(_ c: LoadConnection, _ why: String) {
        counters.errors.add(1, ordering: .relaxed)
        FileHandle.standardError.write(Data("load: connection \(c.id): \(why)\n".utf8))
        kill(c)
    }

    // MARK: sending

    /// Appends one request with `stamp` (send time, or due time in open loop).
    private func enqueue(_ c: LoadConnection, stamp: UInt64) {
        let seq = c.nextSeq
        c.nextSeq += 1
        c.inFlight += 1
        counters.sent.add(1, ordering: .relaxed)
        switch options.mode {
        case .consensus:
            let size = max(16, options.payloadSize)
            let body = 2 + 1 + varintSize(UInt64(size)) + size
            appendBE32(&c.out, UInt32(body))
            c.out += [0x08, 21, 0x1a]
            appendVarint(&c.out, UInt64(size))
            appendLE64(&c.out, stamp)
            appendLE64(&c.out, seq)
            c.out += repeatElement(0, count: size - 16)
        case .tx:
            var tx = Protos_Transaction()
            tx.type = .chaincodeInvoke
            tx.txid = "\(options.idPrefix)-\(options.runNonce)-\(c.id)-\(seq)"
            tx.payload = Data(count: max(0, options.payloadSize - tx.txid.utf8.count))
            var message = Protos_Message()
            message.type = .chainTransaction
            message.payload = (try? tx.serializedData()) ?? Data()
            c.out += FrameFormat.frame((try? message.serializedBytes()) ?? [UInt8]())
            c.txSentAt[seq] = stamp
        }
    }

    private func sendDue() {
        let now = MonotonicClock.now()
        for c in connections.values where c.established && !c.dead {
            var burst = 0
            while c.nextDue <= now && c.nextDue < end && burst < 10_000 {
                enqueue(c, stamp: c.nextDue)
                c.nextDue += interval
                burst += 1
            }
        }
    }

    private func flush(_ c: LoadConnection) {
        let sentAll: Bool
        if let tls = c.tls {
            let sealedAll = c.out.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[c.outOffset...])) }
            guard sealedAll else { fail(c, "TLS: cannot seal a record"); return }
            c.out.removeAll(keepingCapacity: true)
            c.outOffset = 0
            let pending = tls.pendingOutput
            if pending > 0 {
                let start = c.sealed.count
                c.sealed += repeatElement(0, count: pending)
                let n = c.sealed.withUnsafeMutableBytes { tls.takeOutput(into: $0.baseAddress! + start, count: pending) }
                c.sealed.removeLast(pending - n)
            }
            guard let done = sendBuffered(c, &c.sealed, &c.sealedOffset) else { return }
            sentAll = done
        } else {
            guard let done = sendBuffered(c, &c.out, &c.outOffset) else { return }
            sentAll = done
        }
        let wantWrite = !sentAll
        if wantWrite != c.writeArmed {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | (wantWrite ? EPOLLOUT.rawValue : 0)
            event.data.fd = c.fd
            epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &event)
            c.writeArmed = wantWrite
        }
    }

    /// Sends what the socket takes: true when all of it went, nil when the connection failed.
    private func sendBuffered(_ c: LoadConnection, _ bytes: inout [UInt8], _ offset: inout Int) -> Bool? {
        while offset < bytes.count {
            let start = offset
            let n = bytes.withUnsafeBytes { send(c.fd, $0.baseAddress! + start, $0.count - start, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return false }
            fail(c, "write: \(String(cString: strerror(errno)))")
            return nil
        }
        bytes.removeAll(keepingCapacity: true)
        offset = 0
        return true
    }

    // MARK: receiving

    private func readable(_ c: LoadConnection) {
        let space = c.reader.writable(minimum: 64 * 1024)
        let n = recv(c.fd, space.baseAddress, space.count, 0)
        if n == 0 { fail(c, "the peer closed the connection"); return }
        if n < 0 {
            if errno != EAGAIN && errno != EINTR { fail(c, "read: \(String(cString: strerror(errno)))") }
            return
        }
        if let tls = c.tls {
            // The ciphertext went where the plaintext goes: hand it over, then decrypt behind it.
            tls.feed(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(space)[..<n]))
            guard openRecords(c, tls) else { return }
        } else {
            c.reader.commit(n)
        }
        let bytes = c.reader.readable
        var offset = 0
        let now = MonotonicClock.now()
        while !c.dead {
            guard case .frame(let at, let count) = FrameCursor.next(in: bytes, at: offset, maxFrameSize: 64 << 20) else { break }
            let body = UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 4 + count)])
            offset = at + 4 + count
            guard let header = WireScan.message(body) else { fail(c, "malformed frame from the peer"); break }
            handle(c, header: header, body: body, frameBytes: 4 + count, now: now)
        }
        if !c.dead { c.reader.consume(offset) }
    }

    /// Decrypts every whole record into the reader; false when the connection failed.
    private func openRecords(_ c: LoadConnection, _ tls: TLSSession) -> Bool {
        while true {
            switch tls.read(into: c.reader.writable(minimum: TLSSession.maxRecordSize)) {
            case .bytes(let n): c.reader.commit(n)
            case .needInput: return true
            case .closed: fail(c, "the peer closed the TLS session"); return false
            case .failed(let why): fail(c, "TLS: \(why)"); return false
            }
        }
    }

    private func handle(_ c: LoadConnection, header: MessageHeader, body: UnsafeRawBufferPointer, frameBytes: Int, now: UInt64) {
        let payload = UnsafeRawBufferPointer(rebasing: body[header.payloadOffset..<(header.payloadOffset + header.payloadCount)])
        switch header.type {
        case .discHello where !c.established:
            c.established = true
            counters.connections.add(1, ordering: .relaxed)
            if options.idle {
                break
            } else if interval > 0 {
                c.nextDue = max(now, start) + UInt64(c.id) * interval / UInt64(max(1, options.connections))
            } else {
                for _ in 0..<options.window { enqueue(c, stamp: MonotonicClock.now()) }
            }
        case .discDisconnect:
            fail(c, "DISC_DISCONNECT: \(String(decoding: payload, as: UTF8.self))")
        case .consensus where options.mode == .consensus:
            guard payload.count >= 16 else { fail(c, "echo too short"); return }
            let stamp = payload.loadUnaligned(as: UInt64.self).littleEndian
            let seq = payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
            guard seq == c.expectSeq else { fail(c, "echo out of order: got \(seq), expected \(c.expectSeq)"); return }
            c.expectSeq += 1
            completed(c, sentAt: stamp, now: now, bytes: frameBytes)
        case .response where options.mode == .tx:
            guard let response = try? Protos_Response(serializedBytes: Array(payload)) else { fail(c, "undecodable RESPONSE"); return }
            let txid = String(decoding: response.msg, as: UTF8.self)
            guard response.status == .success else {
                counters.errors.add(1, ordering: .relaxed)
                FileHandle.standardError.write(Data("load: connection \(c.id): FAILURE: \(txid)\n".utf8))
                c.inFlight -= 1
                return
            }
            guard let seq = txid.split(separator: "-").last.flatMap({ UInt64($0) }), let sentAt = c.txSentAt.removeValue(forKey: seq) else {
                fail(c, "RESPONSE for an unknown txid '\(txid)'"); return
            }
            completed(c, sentAt: sentAt, now: now, bytes: frameBytes)
        default:
            break           // discovery traffic and the like
        }
    }

    private func completed(_ c: LoadConnection, sentAt: UInt64, now: UInt64, bytes: Int) {
        c.inFlight -= 1
        counters.received.add(1, ordering: .relaxed)
        let latency = now > sentAt ? now - sentAt : 0
        if now >= measureFrom && now <= end {
            _ = histogram.record(max(1, latency))
            measuredBytes += bytes
            lastReceiveAt = now
        }
        let second = (now - start) / 1_000_000_000
        if second != recentSecond {
            progressP99Nanos.store(recent.totalCount > 0 ? recent.valueAtPercentile(99) : 0, ordering: .relaxed)
            recent.reset()
            recentSecond = second
        }
        _ = recent.record(max(1, latency))
        if interval == 0 && now < end { enqueue(c, stamp: MonotonicClock.now()) }
    }
}

private func varintSize(_ v: UInt64) -> Int { v < 0x80 ? 1 : 1 + varintSize(v >> 7) }
private func appendVarint(_ out: inout [UInt8], _ v: UInt64) {
    var v = v
    while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
    out.append(UInt8(v))
}
private func appendBE32(_ out: inout [UInt8], _ v: UInt32) {
    out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
}
private func appendLE64(_ out: inout [UInt8], _ v: UInt64) {
    for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
}
