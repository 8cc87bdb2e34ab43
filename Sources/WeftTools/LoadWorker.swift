import CWeftLinux
import Foundation
import Glibc
import Histogram
import SwiftProtobuf
import Synchronization
import Weft

/// The connections of one thread, on the library's event loop.
final class LoadWorker: @unchecked Sendable {
    let options: LoadOptions
    let tls: TLSContext?
    let address: SocketAddress
    let ids: [Int]
    let counters: LoadCounters
    let acked: AckedFile?
    let start: UInt64, measureFrom: UInt64, end: UInt64
    /// FAILURE answers by reason.
    private(set) var failedReasons: [String: Int] = [:]
    /// Acknowledged txids not yet written to `acked` (written at the end of each read).
    private var ackBuffer: [UInt8] = []
    /// --reconnect: connection ids to open again, when, and the sequence numbers they go on from.
    private var reopenAt: [Int: UInt64] = [:]
    private var nextSeqOf: [Int: UInt64] = [:]
    private(set) var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
    private var recent = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .two)
    private var recentSecond: UInt64 = 0
    let progressP99Nanos = Atomic<UInt64>(0)
    private(set) var measuredBytes = 0
    private(set) var lastReceiveAt: UInt64 = 0
    private var connections: [Int32: LoadConnection] = [:]
    private let interval: UInt64          // open loop: nanoseconds between sends on one connection
    private let loop: EventLoop
    private let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 64)

    init(options: LoadOptions, tls: TLSContext?, address: SocketAddress, connectionIDs: [Int], counters: LoadCounters,
         acked: AckedFile? = nil, start: UInt64, measureFrom: UInt64, end: UInt64) throws {
        self.acked = acked
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
        loop = try EventLoop()
    }

    deinit { iovecs.deallocate() }

    func run() {
        for id in ids { open(id) }
        while true {
            let now = MonotonicClock.now()
            if now >= end || (connections.values.allSatisfy(\.dead) && reopenAt.isEmpty) { break }
            for (id, at) in reopenAt where at <= now {
                reopenAt[id] = nil
                counters.reconnects.add(1, ordering: .relaxed)
                open(id)
            }
            var timeout: Int32 = 50
            if interval > 0 {
                let due = connections.values.filter { $0.established && !$0.dead }.map(\.nextDue).min() ?? now + 50_000_000
                timeout = due <= now ? 0 : Int32(min(50, (due - now) / 1_000_000))
            }
            timeout = min(timeout, Int32((end - now) / 1_000_000) + 1)
            if !reopenAt.isEmpty { timeout = min(timeout, 20) }
            loop.turn(maxWaitMillis: timeout)
            if interval > 0 { sendDue() }
            for c in connections.values where !c.dead && c.hasUnsent { flush(c) }
        }
        for c in connections.values where !c.dead { kill(c) }
    }

    /// A connection's readiness, from the event loop.
    func ready(_ c: LoadConnection, events: UInt32) {
        guard !c.dead else { return }
        if events & (Readiness.readable | Readiness.hangUp | Readiness.error) != 0 { readable(c) }
        if !c.dead, events & Readiness.writable != 0 { flush(c) }
    }

    // MARK: connections

    private func open(_ id: Int) {
        guard let fd = try? address.connectBlocking() else {
            counters.errors.add(1, ordering: .relaxed)
            FileHandle.standardError.write(Data("load: connection \(id): cannot connect to \(options.target)\n".utf8))
            scheduleReopen(id)
            return
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let c = LoadConnection(id: id, fd: fd, worker: self, firstSeq: nextSeqOf[id] ?? 0)
        if let tls {
            do {
                c.tls = try BlockingTLS.handshake(fd: fd, context: tls)
            } catch {
                counters.errors.add(1, ordering: .relaxed)
                FileHandle.standardError.write(Data("load: connection \(id): TLS handshake with \(options.target) failed: \(error)\n".utf8))
                Syscall.close(fd)
                scheduleReopen(id)
                return
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        do { try loop.register(fd, events: Readiness.readable, handler: c) } catch {
            counters.errors.add(1, ordering: .relaxed)
            FileHandle.standardError.write(Data("load: connection \(id): \(error)\n".utf8))
            Syscall.close(fd)
            scheduleReopen(id)
            return
        }
        connections[fd] = c
        counters.alive.add(1, ordering: .relaxed)
        var hello = Protos_HelloMessage()
        hello.peerEndpoint.id.name = options.peerName(id)
        hello.peerEndpoint.address = "127.0.0.1:1"
        hello.peerEndpoint.type = .nonValidator
        c.out.append(Message(type: .discHello, payload: (try? hello.serializedBytes()) ?? [UInt8]()).storage)
        flush(c)
    }

    private func kill(_ c: LoadConnection) {
        guard !c.dead else { return }
        c.dead = true
        c.reader.release()
        loop.unregister(c.fd)
        Syscall.close(c.fd)
        c.out.removeAll()
        c.sealed.removeAll()
        counters.alive.add(-1, ordering: .relaxed)
        nextSeqOf[c.id] = c.nextSeq
    }

    private func fail(_ c: LoadConnection, _ why: String) {
        counters.errors.add(1, ordering: .relaxed)
        FileHandle.standardError.write(Data("load: connection \(c.id): \(why)\n".utf8))
        kill(c)
        scheduleReopen(c.id)
    }

    /// --reconnect: opens connection `id` again after the delay (if before the end).
    private func scheduleReopen(_ id: Int) {
        guard options.reconnect else { return }
        let at = MonotonicClock.now() + UInt64(options.reconnectDelaySeconds * 1e9)
        if at < end { reopenAt[id] = at }
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
            // Written straight into the write queue: no message object, no allocation per request.
            let size = max(16, options.payloadSize)
            let frameSize = MessageFrame.size(type: .consensus, payloadCount: size)
            c.out.append(upTo: frameSize) { at in
                MessageFrame.write(type: .consensus, payloadCount: size, into: at) { payload in
                    payload.storeBytes(of: stamp.littleEndian, toByteOffset: 0, as: UInt64.self)
                    payload.storeBytes(of: seq.littleEndian, toByteOffset: 8, as: UInt64.self)
                    UnsafeMutableRawBufferPointer(rebasing: payload[16...]).initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
        case .tx:
            var tx = Protos_Transaction()
            tx.type = .chaincodeInvoke
            tx.txid = "\(options.idPrefix)-\(options.runNonce)-\(c.id)-\(seq)"
            tx.payload = Data(count: max(0, options.payloadSize - tx.txid.utf8.count))
            c.out.append(Message(type: .chainTransaction, payload: (try? tx.serializedBytes()) ?? [UInt8]()).storage)
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
        var sent = 0
        let result: WriteQueue.FlushResult
        if let tls = c.tls {
            guard c.out.seal(into: tls) else { fail(c, "TLS: cannot seal a record"); return }
            c.sealed.appendCiphertext(of: tls)
            result = c.sealed.flush(fd: c.fd, iovecs: iovecs, maxIovecs: 64, sent: &sent)
        } else {
            result = c.out.flush(fd: c.fd, iovecs: iovecs, maxIovecs: 64, sent: &sent)
        }
        let wantWrite: Bool
        switch result {
        case .drained: wantWrite = false
        case .blocked: wantWrite = true
        case .failed(let err): fail(c, "write: \(String(cString: strerror(err)))"); return
        }
        if wantWrite != c.writeArmed {
            loop.modify(c.fd, events: Readiness.readable | (wantWrite ? Readiness.writable : 0))
            c.writeArmed = wantWrite
        }
    }

    // MARK: receiving

    private func readable(_ c: LoadConnection) {
        let space = c.reader.writable(minimum: 64 * 1024)
        let n: Int
        switch Syscall.receive(c.fd, into: space.baseAddress, count: space.count) {
        case .bytes(let count): n = count
        case .wouldBlock: return
        case .endOfStream: fail(c, "the peer closed the connection"); return
        case .failed(let err): fail(c, "read: \(String(cString: strerror(err)))"); return
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
        if let acked, !ackBuffer.isEmpty {
            acked.append(ackBuffer)
            ackBuffer.removeAll(keepingCapacity: true)
        }
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
                // "<txid>: <reason>" (or a bare reason when there is no txid to name).
                let text = txid
                var reason = text, failedTxid = ""
                if let colon = text.range(of: ": ") {
                    failedTxid = String(text[..<colon.lowerBound])
                    reason = String(text[colon.upperBound...])
                }
                counters.errors.add(1, ordering: .relaxed)
                counters.failed.add(1, ordering: .relaxed)
                failedReasons[reason, default: 0] += 1
                if failedReasons[reason] == 1 {   // the first of each reason; the summary counts them all
                    FileHandle.standardError.write(Data("load: connection \(c.id): FAILURE: \(text)\n".utf8))
                }
                let seq = failedTxid.split(separator: "-").last.flatMap { UInt64($0) }
                // One of this connection's (not an earlier connection's, after --reconnect):
                // its slot is free again, and in closed loop the window stays full.
                if failedTxid.isEmpty || seq.flatMap({ c.txSentAt.removeValue(forKey: $0) }) != nil {
                    c.inFlight -= 1
                    if interval == 0 && now < end { enqueue(c, stamp: MonotonicClock.now()) }
                }
                return
            }
            guard let seq = txid.split(separator: "-").last.flatMap({ UInt64($0) }) else {
                fail(c, "RESPONSE for an unknown txid '\(txid)'"); return
            }
            guard let sentAt = c.txSentAt.removeValue(forKey: seq) else {
                // A transaction sent on an earlier connection of this id (--reconnect), answered
                // on this one (the peer answers by name): acknowledged all the same.
                if seq < c.firstSeq && txid == "\(options.idPrefix)-\(options.runNonce)-\(c.id)-\(seq)" {
                    counters.received.add(1, ordering: .relaxed)
                    if acked != nil { ackBuffer.append(contentsOf: response.msg); ackBuffer.append(0x0A) }
                    return
                }
                fail(c, "RESPONSE for an unknown txid '\(txid)'"); return
            }
            if acked != nil {
                ackBuffer.append(contentsOf: response.msg)
                ackBuffer.append(0x0A)
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
