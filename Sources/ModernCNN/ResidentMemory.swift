// ResidentMemory.swift: how much memory this process really holds, from Linux's /proc, for
// the bench's peak column and for exercises that measure memory rather than estimate it.

import Foundation

public enum ResidentMemory {
    /// Bytes resident now (VmRSS), or nil where /proc cannot say.
    public static var current: Int? { statusBytes("VmRSS:") }

    /// Peak resident bytes so far (VmHWM): the high-water mark of this program's own address
    /// space. Not getrusage's ru_maxrss, its fallback: Linux folds the address space a process
    /// had before exec into that, and a child forked from the bench inherits the parent's, so
    /// after the convolution tables (about 1 GB) a LeNet child reported 950 MB for a 45 MB run.
    public static var peak: Int {
        if let bytes = statusBytes("VmHWM:") { return bytes }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    /// Starts a new high-water mark at the current resident size (Linux: writing 5 to
    /// /proc/self/clear_refs), so that `peak` after a piece of work is that work's own peak.
    /// Returns false where the kernel does not allow it.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }

    private static func statusBytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}
