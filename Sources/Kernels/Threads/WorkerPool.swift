// WorkerPool.swift: a fixed set of threads that stay alive between kernels.
//
// A 256^3 matrix product takes a quarter of a millisecond on two cores; waking a sleeping
// thread can take tens of microseconds. So after each job the pool's helpers spin for a short
// while, watching a counter, before they park, and back-to-back kernels (a network's layers)
// start without a wake-up. The caller's own thread is worker 0.
//
// Protocol: the caller publishes the job, then bumps `generation` (release). Each helper sees
// the new generation (acquire), runs its share, and decrements `pending`; the caller spins until
// `pending` is 0. Every helper acknowledges every job, even one with fewer workers than the pool
// has threads, so no helper can still be inside an old job when the next one is published.

import CPUHints
import Foundation
import Synchronization

final class WorkerPool: @unchecked Sendable {
    /// Pool threads, the caller included.
    let size: Int
    /// About 0.1-0.5 ms of pause instructions before a helper parks. With more threads than
    /// cores a spinning helper holds the very core the one it waits for needs, so it parks at once.
    private let spinLimit: Int
    /// Whether the caller, waiting for the helpers, yields its core instead of spinning.
    private let oversubscribed: Bool

    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let parking = NSCondition()
    // Written by the caller before `generation` is bumped; read by helpers after they see it.
    private var job: ((Int) -> Void)?
    private var jobWorkers = 0

    init(size: Int) {
        self.size = max(1, size)
        oversubscribed = self.size > ProcessInfo.processInfo.activeProcessorCount
        spinLimit = oversubscribed ? 0 : 20_000
        for helper in 1..<self.size {
            let thread = Thread { [unowned self] in self.helperLoop(helper) }
            thread.name = "moderncnn-worker-\(helper)"
            thread.start()
        }
    }

    /// Runs body(w) for w in 0..<workers: pool thread t runs t, t + size, t + 2*size, ...
    /// Returns false without running anything when the pool is already running a job (a nested
    /// or concurrent call); the caller then runs the bodies itself.
    func run(workers: Int, _ body: (Int) -> Void) -> Bool {
        guard size > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        withoutActuallyEscaping(body) { body in
            job = body
            jobWorkers = workers
            pending.store(size - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            parking.lock()
            parking.broadcast()
            parking.unlock()
            runShare(of: 0, body: body, workers: workers)
            while pending.load(ordering: .acquiring) > 0 {
                if oversubscribed { sched_yield() } else { spinPause() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func runShare(of thread: Int, body: (Int) -> Void, workers: Int) {
        for worker in stride(from: thread, to: workers, by: size) { body(worker) }
    }

    /// Runs this thread's share of the published job. A function of its own so that the
    /// helper's copy of the closure is released when it returns, before `pending` tells the
    /// caller the job is done: unoptimized builds otherwise kept it alive past that point, and
    /// the caller's `withoutActuallyEscaping` check then saw the closure escape and trapped.
    @inline(never)
    private func runCurrentJob(_ thread: Int) {
        if let job { runShare(of: thread, body: job, workers: jobWorkers) }
    }

    private func helperLoop(_ thread: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if spins < spinLimit {
                    spins += 1
                    spinPause()
                } else {
                    parking.lock()
                    while generation.load(ordering: .acquiring) == seen { parking.wait() }
                    parking.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            runCurrentJob(thread)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
