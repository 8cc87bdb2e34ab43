import Synchronization

/// Work handed to the reactor thread from other threads (a name resolved off
/// the loop, a look-up by a test): queued under a mutex, announced by a flag
/// the loop reads once per turn, woken through the reactor's eventfd.
final class ReactorTasks: @unchecked Sendable {   // a mutex and an atomic flag
    /// A closure that runs only on the reactor thread, so it may capture reactor-owned state.
    private struct Task: @unchecked Sendable { let run: () -> Void }

    private let queue = Mutex<[Task]>([])
    private let pending = Atomic<Bool>(false)
    private let waker: EventWaker

    init(waker: EventWaker) { self.waker = waker }

    /// Runs `task` on the reactor thread soon (from any thread).
    func submit(_ task: @escaping () -> Void) {
        let wrapped = Task(run: task)
        queue.withLock { $0.append(wrapped) }
        pending.store(true, ordering: .releasing)
        waker.forceWake()
    }

    /// Whether tasks wait (the loop must not block).
    var hasPending: Bool { pending.load(ordering: .relaxed) }

    /// Reactor: runs what was submitted so far.
    func runPending() {
        guard pending.load(ordering: .acquiring) else { return }
        let tasks = queue.withLock { tasks -> [Task] in
            pending.store(false, ordering: .relaxed)
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { task.run() }
    }
}
