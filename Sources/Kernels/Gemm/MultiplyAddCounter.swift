// MultiplyAddCounter.swift: an instrument, not a timer. While `counting` runs its body, every
// SGEMM that body starts (on its own thread, or on workers it hands work to) adds M * N * K to
// a counter, so the multiply-adds a real forward pass performs can be compared with the closed
// formulas of a model summary (every convolution and linear layer is a GEMM here). A Winograd
// convolution records the multiply-adds of the convolution it computes, not the quarter of them
// its transformed products perform, so that the count still checks the model's formula. The counter
// lives in a thread-local slot, so GEMMs of other threads (tests running beside it) are not
// counted; off, it costs one thread-local read per GEMM call.

import CPUHints

public enum MultiplyAddCounter {
    /// The multiply-adds SGEMM performed on behalf of `body`.
    public static func counting(_ body: () throws -> Void) rethrows -> Int {
        let slot = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        slot.initialize(to: 0)
        defer { slot.deallocate() }
        try counting(into: slot, body)
        return slot.pointee
    }

    /// Runs `body` with this thread counting into `slot` (nil: not counting), then restores the
    /// slot it had: how a count follows work handed to pool threads, and how it pauses.
    static func counting<R>(into slot: UnsafeMutablePointer<Int>?, _ body: () throws -> R) rethrows -> R {
        let outer = moderncnnCounterSlot()
        moderncnnSetCounterSlot(slot)
        defer { moderncnnSetCounterSlot(outer) }
        return try body()
    }

    @inline(__always)
    static func record(m: Int, n: Int, k: Int) {
        if let slot = moderncnnCounterSlot() { moderncnnCounterAdd(slot, m * n * k) }
    }

    /// Records `count` multiply-adds for the work `body` does, and counts nothing inside it: for
    /// kernels whose GEMMs are not the convolution's own products (Winograd's).
    static func recordingNominal(_ count: Int, _ body: () -> Void) {
        guard let slot = moderncnnCounterSlot() else { return body() }
        moderncnnCounterAdd(slot, count)
        counting(into: nil, body)
    }
}
