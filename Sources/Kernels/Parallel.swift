// Parallel.swift: a fixed number of workers for every threaded kernel.
//
// The worker count comes from, in order: `Parallel.setThreadCount(_:)` (a chapter's `--threads`),
// the MODERNCNN_THREADS environment variable, and otherwise all active cores. Results are
// reproducible for a given count because every kernel splits its work by worker index, never by
// which thread finishes first.

import CPUHints
import Foundation
import Synchronization

public enum Parallel {
    /// 0 means "not chosen yet": resolved lazily from the environment on first use.
    private static let chosen = Atomic<Int>(0)

    /// How many workers threaded kernels use.
    public static var threadCount: Int {
        let current = chosen.load(ordering: .relaxed)
        if current > 0 { return current }
        let resolved = threadCountFromEnvironment() ?? ProcessInfo.processInfo.activeProcessorCount
        chosen.store(max(1, resolved), ordering: .relaxed)
        return max(1, resolved)
    }

    /// Fixes the worker count for the rest of the process (a chapter's `--threads`).
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1")
        chosen.store(count, ordering: .relaxed)
    }

    static func threadCountFromEnvironment() -> Int? {
        guard let text = ProcessInfo.processInfo.environment["MODERNCNN_THREADS"],
              let value = Int(text), value >= 1 else { return nil }
        return value
    }

    /// The pool, started on first use with one thread per core, or more if --threads asked for
    /// more. A job with more workers than the pool has threads runs several on each thread.
    private static let pool = WorkerPool(size: max(threadCount, ProcessInfo.processInfo.activeProcessorCount))

    /// Runs `body(worker)` for worker in 0..<workers, concurrently when workers > 1.
    ///
    /// Each worker must write only to memory no other worker writes (its own rows of C, its own
    /// scratch). Under that contract the unsynchronised pointer captures in `body` are safe; Swift
    /// 6 cannot see disjointness through raw pointers, and downgrading the whole package to Swift
    /// 5 mode would hide real races elsewhere. A call made while the pool is busy (from inside a
    /// worker, or from another thread) runs its workers one after another on the calling thread:
    /// the same results, without the parallelism.
    public static func forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
        guard let slot = moderncnnCounterSlot() else { return runWorkers(workers, body) }
        // A multiply-add count is running on this thread: the workers count into it too.
        runWorkers(workers) { worker in MultiplyAddCounter.counting(into: slot) { body(worker) } }
    }

    private static func runWorkers(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 || !pool.run(workers: workers, body) {
            for worker in 0..<max(1, workers) { body(worker) }
        }
    }

    /// Runs `body(i)` for every i in 0..<count, spread over `workers` in contiguous chunks so
    /// that neighbouring indices (neighbouring rows, images) stay on one core's caches.
    public static func parallelFor(_ count: Int, workers: Int = Parallel.threadCount,
                                   _ body: (Int) -> Void) {
        let workers = min(workers, count)
        if workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        forEachWorker(workers) { worker in
            for i in chunk(worker, of: workers, splitting: count) { body(i) }
        }
    }

    /// The `worker`-th of `workers` near-equal contiguous slices of 0..<count.
    public static func chunk(_ worker: Int, of workers: Int, splitting count: Int) -> Range<Int> {
        let base = count / workers, extra = count % workers
        let start = worker * base + min(worker, extra)
        return start..<(start + base + (worker < extra ? 1 : 0))
    }
}
