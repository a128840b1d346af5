// MultiplyAddCounter.swift: an instrument, not a timer. While `counting` runs its body, every
// SGEMM adds M * N * K to a counter, so the multiply-adds a real forward pass performs can be
// compared with the closed formulas of a model summary (every convolution and linear layer is a
// GEMM here). Off, it costs one relaxed atomic load per GEMM call.

import Synchronization

public enum MultiplyAddCounter {
    static let isCounting = Atomic<Bool>(false)
    static let total = Atomic<Int>(0)

    /// The multiply-adds SGEMM performed while `body` ran. Not reentrant: one count at a time.
    public static func counting(_ body: () throws -> Void) rethrows -> Int {
        total.store(0, ordering: .relaxed)
        isCounting.store(true, ordering: .sequentiallyConsistent)
        defer { isCounting.store(false, ordering: .sequentiallyConsistent) }
        try body()
        return total.load(ordering: .sequentiallyConsistent)
    }

    @inline(__always)
    static func record(m: Int, n: Int, k: Int) {
        if isCounting.load(ordering: .relaxed) { total.add(m * n * k, ordering: .relaxed) }
    }
}
