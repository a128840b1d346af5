// ChapterOptions.swift: the flags every chapter shares, parsed by swift-argument-parser so that
// `--help` and unknown-flag errors come for free and read the same in every chapter.

import ArgumentParser
import Foundation
import Kernels
import ModernCNN

/// A chapter cannot go on: one line that says what is wrong and how to fix it.
public struct ChapterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct ChapterOptions: ParsableArguments {
    @Option(help: "Worker threads for the kernels (default: MODERNCNN_THREADS, else all cores).")
    public var threads: Int?

    @Option(help: "Seed for every random draw; a run is reproducible for a seed and thread count.")
    public var seed: UInt64 = 42

    @Option(help: "Folder for the chapter's files (default: output/<chapter>).")
    public var output: String?

    public init() {}

    public func validate() throws {
        if let threads {
            if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
            if threads > Parallel.maximumThreadCount {
                throw ValidationError("--threads \(ThreadCountError.tooMany(threads))")
            }
        } else if case let .failure(error)? = Parallel.environmentThreadCount() {
            throw ValidationError("MODERNCNN_THREADS: \(error); unset it or give --threads")
        }
    }

    /// Applies --threads to the kernels and installs the Ctrl-C handler; call once at the start
    /// of a chapter.
    public func applyThreads() {
        if let threads { Parallel.setThreadCount(threads) }
        Interrupt.install()
    }

    /// The chapter's output folder, created if missing and checked to be writable now, before
    /// any work whose results it would lose; temporary files that killed runs left are removed.
    public func outputDirectory(chapter: String) throws -> URL {
        let path = output ?? "output/\(chapter)"
        let flag = output == nil ? "the output folder \(path)" : "--output \(path)"
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw ChapterError("\(flag) is a file, not a folder; give another --output")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw ChapterError(
                    "\(flag): the folder cannot be created (\(Self.reason(creating: path))); "
                        + "give another --output")
            }
        }
        let probe = "\(path)/.write-test-\(getpid())"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw ChapterError(
                "\(flag): cannot write there (\(String(cString: strerror(errno)))); give another --output")
        }
        close(descriptor)
        unlink(probe)
        removeStaleTemporaryFiles(in: path)
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Why `path` cannot be made: the first ancestor that exists but is no folder, or is not
    /// writable.
    static func reason(creating path: String) -> String {
        var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: ancestor.path) && ancestor.path != "/" {
            ancestor = ancestor.deletingLastPathComponent()
        }
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder)
        if !isFolder.boolValue { return "\(ancestor.relativePath) is a file" }
        return access(ancestor.path, W_OK) == 0 ? "unknown reason" : "\(ancestor.relativePath) is not writable"
    }
}
