/// A min-heap of items by (time, order of insertion): ties go first in, first
/// out, so the run never depends on the heap's shape.
struct SimEventQueue<Item> {
    private var heap: [(at: UInt64, order: UInt64, item: Item)] = []
    private var inserted: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    var nextTime: UInt64? { heap.first?.at }

    mutating func push(_ item: Item, at: UInt64) {
        inserted += 1
        heap.append((at, inserted, item))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// The earliest item due at or before `now`, removed.
    mutating func popDue(_ now: UInt64) -> Item? {
        guard let first = heap.first, first.at <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count && less(left, smallest) { smallest = left }
                if right < heap.count && less(right, smallest) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.item
    }

    mutating func removeAll() { heap.removeAll() }

    private func less(_ a: Int, _ b: Int) -> Bool { (heap[a].at, heap[a].order) < (heap[b].at, heap[b].order) }
}
