import Foundation
import Glibc

/// Prometheus's standard process metrics (the names client libraries use),
/// read from /proc at scrape time.
enum ProcessMetrics {
    static func write(to out: inout PrometheusText) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.range(of: ")", options: .backwards) {
            // Fields after the command name, from field 3 (state) on.
            let fields = stat[close.upperBound...].split(separator: " ")
            func field(_ number: Int) -> Double { fields.count > number - 3 ? Double(fields[number - 3]) ?? 0 : 0 }
            let cpu = (field(14) + field(15)) / ticks             // utime + stime
            out.real("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu)
            out.real("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23))
            out.real("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24) * pageSize)
            if let boot = bootTime() {
                out.real("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
                     boot + field(22) / ticks)
            }
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map { max(0, $0 - 1) } ?? 0
        out.real("process_open_fds", "gauge", "Number of open file descriptors.", Double(fds))
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            out.real("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
    }

    /// The kernel's boot time (seconds since the epoch), from /proc/stat.
    private static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }) else { return nil }
        return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
    }
}
