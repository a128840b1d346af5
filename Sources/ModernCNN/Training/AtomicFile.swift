// AtomicFile.swift: how every file a chapter writes reaches the disk.
//
// The bytes go to `<path>.tmp-<pid>` beside the target, are flushed (fsync), and only then
// renamed over it: a reader, or a later run, sees the old file or the new one, never a mixture,
// whatever stops the process (Ctrl-C, a kill, a full disk). A process killed between the two
// steps leaves its temporary file behind; `removeStaleTemporaryFiles` clears those of processes
// that no longer run. Errors carry the path and the system's reason ("No space left on device").

import Foundation

/// Writes `bytes` to `path` atomically; throws `CheckpointError.writeFailed` naming the path.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = "\(path).tmp-\(getpid())"
    func failure(_ step: String) -> CheckpointError {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        return .writeFailed(path: path, reason: "\(step): \(reason)")
    }
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
        let reason = String(cString: strerror(errno))
        throw CheckpointError.writeFailed(path: path, reason: "cannot create a file in its folder: \(reason)")
    }
    var written = 0
    let wroteAll = bytes.withUnsafeBytes { buffer -> Bool in
        while written < buffer.count {
            let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }
    guard wroteAll else {
        let error = failure("writing")
        close(descriptor)
        throw error
    }
    guard fsync(descriptor) == 0 else {
        let error = failure("flushing")
        close(descriptor)
        throw error
    }
    guard close(descriptor) == 0 else { throw failure("closing") }
    guard rename(temporary, path) == 0 else { throw failure("renaming the temporary file") }
}

/// Removes `<name>.tmp-<pid>` files in `folder` whose process no longer runs; returns their names.
@discardableResult
public func removeStaleTemporaryFiles(in folder: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
    var removed: [String] = []
    for name in names.sorted() {
        guard let marker = name.range(of: ".tmp-", options: .backwards),
            let pid = Int32(name[marker.upperBound...]), pid > 0, pid != getpid()
        else { continue }
        // kill(pid, 0) checks that a process exists without signalling it.
        guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
        if unlink("\(folder)/\(name)") == 0 { removed.append(name) }
    }
    return removed
}
