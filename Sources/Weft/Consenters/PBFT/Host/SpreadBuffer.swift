/// This validator's requests waiting to be spread, gathered over one round of
/// the fan (a burst of messages, a tick, records becoming durable) so that they
/// leave in one `request_batch` envelope instead of one frame each. A batch is
/// cut before it would pass `maxBytes` (it must fit in one frame).
struct SpreadBuffer {
    private(set) var requests: [Pbft_request] = []
    private var bytes = 0
    let maxBytes: Int

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    var isEmpty: Bool { requests.isEmpty }

    /// Adds `request`; returns the batch gathered so far when it would not fit beside it.
    mutating func add(_ request: Pbft_request) -> [Pbft_request]? {
        let size = request.payload.count + RequestPool.requestOverhead
        let full = !requests.isEmpty && bytes + size > maxBytes ? take() : nil
        requests.append(request)
        bytes += size
        return full
    }

    /// Everything gathered, oldest first; the buffer is empty after.
    mutating func take() -> [Pbft_request] {
        defer { requests = []; bytes = 0 }
        return requests
    }
}
