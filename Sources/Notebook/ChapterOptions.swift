// ChapterOptions.swift: the flags every chapter shares, parsed by swift-argument-parser so that
// `--help` and unknown-flag errors come for free and read the same in every chapter.

import ArgumentParser
import Foundation
import Kernels

public struct ChapterOptions: ParsableArguments {
    @Option(help: "Worker threads for the kernels (default: MODERNCNN_THREADS, else all cores).")
    public var threads: Int?

    @Option(help: "Seed for every random draw; a run is reproducible for a seed and thread count.")
    public var seed: UInt64 = 42

    @Option(help: "Folder for the chapter's files (default: output/<chapter>).")
    public var output: String?

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies --threads to the kernels; call once at the start of a chapter.
    public func applyThreads() {
        if let threads { Parallel.setThreadCount(threads) }
    }

    /// The chapter's output folder, created if missing.
    public func outputDirectory(chapter: String) throws -> URL {
        let url = URL(fileURLWithPath: output ?? "output/\(chapter)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
