// Parallel.swift: a fixed number of workers for every threaded kernel.
//
// The worker count comes from, in order: `Parallel.setThreadCount(_:)` (a chapter's `--threads`),
// the MODERNCNN_THREADS environment variable, and otherwise all active cores. Results are
// reproducible for a given count: work whose result depends on how it is split (per-worker
// partial sums) is split by worker index, never by which thread finishes first, and work that
// `forEachItem` or `forEachClaim` hands out as the workers come free gives each item the same
// result on any worker.

import CPUHints
import Foundation
import Synchronization

/// A worker count that cannot be used, and why.
public enum ThreadCountError: Error, CustomStringConvertible, Equatable {
    case notACount(String)
    case tooMany(Int)

    public var description: String {
        switch self {
        case let .notACount(text): return "\"\(text)\" is not a whole number of at least 1"
        case let .tooMany(count):
            let cores = ProcessInfo.processInfo.activeProcessorCount
            return "\(count) is more than \(Parallel.maximumThreadCount) (4 per core on this machine's \(cores) "
                + "cores); workers beyond the cores only take turns, so they never make a run faster"
        }
    }
}

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

    /// Fixes the worker count for the rest of the process (a chapter's `--threads`), at most
    /// `maximumThreadCount`.
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1")
        chosen.store(min(count, maximumThreadCount), ordering: .relaxed)
    }

    /// The most workers a run may ask for: a few per core. Past the cores, workers only take
    /// turns (and waiting ones park rather than spin, WorkerPool), so more never helps; a
    /// thousand threads would only cost their stacks and start-up.
    public static let maximumThreadCount = 4 * ProcessInfo.processInfo.activeProcessorCount

    /// MODERNCNN_THREADS as a worker count, or why it is not one (a chapter reports the reason).
    public static func environmentThreadCount() -> Result<Int, ThreadCountError>? {
        guard let text = ProcessInfo.processInfo.environment["MODERNCNN_THREADS"] else { return nil }
        guard let value = Int(text), value >= 1 else { return .failure(.notACount(text)) }
        guard value <= maximumThreadCount else { return .failure(.tooMany(value)) }
        return .success(value)
    }

    /// Benchmarks and tests read MODERNCNN_THREADS here; a bad value falls back to the cores
    /// (chapters refuse it with the reason before they get this far).
    static func threadCountFromEnvironment() -> Int? {
        guard case let .success(value)? = environmentThreadCount() else { return nil }
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

    /// Runs `body(i)` for every i in 0..<count, spread over `workers` as `forEachItem` spreads
    /// them. `body(i)` must write only what item i owns.
    public static func parallelFor(
        _ count: Int, workers: Int = Parallel.threadCount,
        _ body: (Int) -> Void
    ) {
        forEachItem(count, workers: workers) { _, i in body(i) }
    }

    /// Runs `body(worker, item)` for every item in 0..<count, each on one worker.
    ///
    /// With two workers the split is made as the work goes: worker 0 takes items from the front
    /// and worker 1 from the back, a few at a time against one shared ticket counter, until they
    /// meet. A worker that this shared machine slows down (another tenant, an interrupt) leaves
    /// its last items to the other one instead of keeping it waiting; fixed halves made every
    /// step as slow as its slowest moment. Each worker still walks its own end in order, so
    /// neighbouring items (an image's planes, the images a layer before wrote) stay in one core's
    /// caches. Which worker ran an item must not change its result, so per-worker partial sums
    /// (the filter gradients) keep to `chunk` instead. Other worker counts split in fixed chunks.
    public static func forEachItem(
        _ count: Int, workers: Int = Parallel.threadCount,
        _ body: (_ worker: Int, _ item: Int) -> Void
    ) {
        let workers = min(workers, count)
        if workers <= 1 {
            for i in 0..<count { body(0, i) }
            return
        }
        guard workers == 2 else {
            forEachWorker(workers) { worker in
                for i in chunk(worker, of: workers, splitting: count) { body(worker, i) }
            }
            return
        }
        // About 64 tickets per call: few enough that the counter's cache line, which the two
        // cores pass back and forth, costs nothing next to the work.
        let grain = max(1, count / 64), groups = (count + grain - 1) / grain
        let tickets = Atomic<Int>(0)
        forEachWorker(2) { worker in
            var taken = 0
            while tickets.wrappingAdd(1, ordering: .relaxed).oldValue < groups {
                // Group g from the front is items g * grain ..< (g + 1) * grain; from the back,
                // the last group is the short one.
                let group = worker == 0 ? taken : groups - 1 - taken
                for item in (group * grain)..<min(count, (group + 1) * grain) { body(worker, item) }
                taken += 1
            }
        }
    }

    /// Runs `body(worker, range)` over contiguous ranges that together cover 0..<count once,
    /// handed out as the workers come free, largest first (guided self-scheduling).
    ///
    /// For work whose items are cheaper in large runs (a range of SGEMM's row tiles packs its
    /// rows of A once and reuses each block of B across all of them): each claim takes an equal
    /// share of what is left among twice the workers, between `smallest` and `largest` items, so
    /// most of the work goes in long ranges and the last claims are short enough that no worker
    /// waits long for another. With fixed halves, a worker that this shared machine slowed kept
    /// the other waiting at every SGEMM block (MEASUREMENTS.md).
    public static func forEachClaim(
        of count: Int, workers: Int = Parallel.threadCount, largest: Int,
        smallest: Int = 1, _ body: (_ worker: Int, _ range: Range<Int>) -> Void
    ) {
        let largest = max(1, largest), smallest = max(1, min(smallest, largest))
        if workers <= 1 || count <= smallest {
            for start in stride(from: 0, to: count, by: largest) { body(0, start..<min(count, start + largest)) }
            return
        }
        let next = Atomic<Int>(0)
        forEachWorker(min(workers, (count + smallest - 1) / smallest)) { worker in
            var start = next.load(ordering: .relaxed)
            while start < count {
                let share = (count - start) / (2 * workers)
                let end = min(count, start + min(largest, max(smallest, share)))
                let (claimed, seen) = next.compareExchange(expected: start, desired: end, ordering: .relaxed)
                if claimed { body(worker, start..<end) }
                start = claimed ? end : seen
            }
        }
    }

    /// The `worker`-th of `workers` near-equal contiguous slices of 0..<count.
    public static func chunk(_ worker: Int, of workers: Int, splitting count: Int) -> Range<Int> {
        let base = count / workers, extra = count % workers
        let start = worker * base + min(worker, extra)
        return start..<(start + base + (worker < extra ? 1 : 0))
    }
}
