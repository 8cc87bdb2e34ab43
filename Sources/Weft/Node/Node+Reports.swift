import Foundation
import Glibc

/// What /metrics, /healthz and /peers say (reactor thread).
extension Node {
    func prometheusText() -> String {
        var out = PrometheusText()
        let m = metrics
        out.counter("weft_frames_in_total", "Frames received from peers.", m.framesIn)
        out.counter("weft_frames_out_total", "Frames queued to peers.", m.framesOut)
        out.counter("weft_received_bytes_total", "Bytes read from peer sockets.", m.bytesIn)
        out.counter("weft_sent_bytes_total", "Bytes written to peer sockets.", m.bytesOut)
        out.gauge("weft_connections_open", "Open peer connections (any state).", links.table.openCount)
        out.counter("weft_connections_accepted_total", "Connections accepted.", m.accepted)
        out.counter("weft_connections_dialed_total", "Connections dialed.", m.dialed)
        out.metric("weft_connections_closed_total", "counter", "Connections closed, by cause.",
                   CloseCause.allCases.map { ("cause=\"\($0.rawValue)\"", m.closed[$0] ?? 0) })
        out.gauge("weft_peers_established", "Peers with a completed handshake.", sessions.establishedCount)
        out.counter("weft_handshakes_total", "Handshakes completed.", m.established)
        out.counter("weft_tls_handshakes_total", "TLS handshakes completed (peer.tls.enabled).", m.tlsHandshakes)
        out.gauge("weft_ring_depth", "Messages in the inbound consensus ring.", inbound.count)
        out.gauge("weft_ring_capacity", "Capacity of the inbound consensus ring.", inbound.capacity)
        out.gauge("weft_outbound_ring_depth", "Messages in the outbound ring.", outbound.count)
        out.counter("weft_ring_full_total", "Times a sender was paused because the inbound ring was full.", m.ringFullEvents)
        out.counter("weft_messages_rejected_total", "Messages dropped by the reject overflow policy.", m.rejected)
        out.counter("weft_consenter_messages_total", "Messages delivered to the consenter.", fan.delivered.load(ordering: .relaxed))
        out.counter("weft_slow_peers_disconnected_total", "Peers disconnected for unsent bytes over the cap.", m.slowPeers)
        out.counter("weft_decode_errors_total", "Frames too large or not a protos.Message.", m.decodeErrors)
        out.counter("weft_outbound_dropped_total", "Consenter sends whose peer had gone.", m.outboundDropped + communicator.dropped.load(ordering: .relaxed))
        out.counter("weft_unhandled_messages_total", "Messages no handler took.", m.unhandledMessages)
        out.counter("weft_accept_errors_total", "accept() failures (EMFILE and others).", m.acceptErrors)
        out.counter("weft_socket_option_failures_total", "Socket options that could not be set.", m.socketOptionFailures)
        out.counter("weft_reactor_wakeups_total", "eventfd wake-ups of the reactor by the fan.", reactorWaker.kicks.load(ordering: .relaxed))
        out.gauge("weft_discovery_known_addresses", "Addresses discovery may dial.", discovery.known.count)
        out.gauge("weft_chain_height", "Blocks in the ledger.", Int(consenter.chainHeight))
        fan.deliveryLatency.write(to: &out)
        // Prometheus' *_build_info convention: the version and the commit only (the Swift version is in /version).
        out.metric("weft_build_info", "gauge", "The version and commit of this build (value 1).",
                   [("version=\"\(WeftVersion.text)\",commit=\"\(WeftVersion.commit)\"", 1)])
        ProcessMetrics.write(to: &out)
        var text = out.text
        consenter.writeMetrics(to: &text)
        return text
    }

    /// What is wrong now, as Fabric's operations service reports it: a
    /// component and a reason each. Empty when healthy.
    func failedChecks() -> [(component: String, reason: String)] {
        var failed: [(String, String)] = []
        if shuttingDown { failed.append(("consenter", "stopped: the peer is shutting down")) }
        // The data directory must stay writable (a disk remounted read-only, a changed owner).
        if access(config.fileSystemPath, W_OK | X_OK) != 0 {
            failed.append(("ledger", "peer.fileSystemPath '\(config.fileSystemPath)' is not writable: \(String(cString: strerror(errno)))"))
        }
        for check in consenter.failedHealthChecks {
            if let colon = check.range(of: ": ") {
                failed.append((String(check[..<colon.lowerBound]), String(check[colon.upperBound...])))
            } else {
                failed.append(("consenter", check))
            }
        }
        return failed
    }

    /// /healthz: 200 `{"status":"OK","time":…}`, or 503 with `failed_checks`.
    func healthJSON() -> (healthy: Bool, body: String) {
        let failed = failedChecks()
        var health: [String: Any] = [
            "status": failed.isEmpty ? "OK" : "Service Unavailable",
            "time": WeftLogHandler.isoTimestamp(Date()),
            "peer": name,
            "address": advertisedAddress,
            "type": selfType == .validator ? "VALIDATOR" : "NON_VALIDATOR",
            "consensus": config.consensus.plugin,
            "peers": sessions.establishedCount,
            "connections": links.table.openCount,
            "height": consenter.chainHeight,
            "uptimeSeconds": Int(Date().timeIntervalSince(startedAt)),
        ]
        if !failed.isEmpty {
            health["failed_checks"] = failed.map { ["component": $0.component, "reason": $0.reason] }
        }
        return (failed.isEmpty, OperationsJSON.encode(health))
    }

    /// /version: Fabric 1.4's `{"Version","CommitSHA"}`, and Weft's own fields beside them.
    func versionJSON() -> String {
        OperationsJSON.encode(["Version": WeftVersion.text, "CommitSHA": WeftVersion.commit,
                               "version": WeftVersion.text, "commit": WeftVersion.commit, "swift": WeftVersion.swift])
    }

    func peersJSON() -> String {
        let list: [[String: Any]] = sessions.byName.sorted { $0.key < $1.key }.map { name, c in
            let session = sessions.session(c.handle)
            return [
                "name": name,
                "address": session.peer?.address ?? "",
                "type": session.peer?.type == .validator ? "VALIDATOR" : "NON_VALIDATOR",
                "direction": c.direction.rawValue,
                "since": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: session.establishedWallClock)),
                "bytesIn": c.bytesIn,
                "bytesOut": c.bytesOut,
            ]
        }
        return OperationsJSON.encode(["peer": name, "peers": list])
    }
}
