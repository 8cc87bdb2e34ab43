/// The requests this replica made for its own clients, the last `capacity` of
/// them: whatever its pool forgets (a state transfer empties it), it still
/// knows what it made, so it can tell its own request in a batch from a forgery.
struct OwnRequests {
    let capacity: Int
    private var payloads: [RequestKey: Pbft_request] = [:]
    private var order: [RequestKey] = []
    private var head = 0

    init(capacity: Int = 4096) { self.capacity = capacity }

    mutating func made(_ request: Pbft_request) {
        let key = RequestKey(request)
        guard payloads.updateValue(request, forKey: key) == nil else { return }
        order.append(key)
        if order.count - head > capacity {
            payloads[order[head]] = nil
            head += 1
            if head * 2 > order.count { order.removeFirst(head); head = 0 }
        }
    }

    func request(_ key: RequestKey) -> Pbft_request? { payloads[key] }
}
