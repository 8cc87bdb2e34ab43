/// One life of a simulated host process, shared by its ports: once `dead`,
/// nothing it writes or sends has any effect. A crash planned "at any step"
/// counts the host's effects (record writes, sends, appends) down and dies
/// just before the one that reaches zero: between a write and the next one,
/// between a persist and the send that depends on it.
final class SimIncarnation {
    let number: Int
    private(set) var dead = false
    /// Effects left before the planned crash; nil = none planned.
    var countdown: Int?

    init(number: Int) { self.number = number }

    /// May the next effect happen? False once dead (and when the crash is now).
    func effect() -> Bool {
        if dead { return false }
        if let left = countdown {
            if left <= 0 { dead = true; return false }
            countdown = left - 1
        }
        return true
    }

    func kill() { dead = true }
}
