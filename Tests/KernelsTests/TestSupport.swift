// TestSupport.swift: seeded test data that does not depend on the library under test.

/// A linear congruential generator (Knuth's MMIX constants): tiny and deterministic.
struct LCG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }
}

/// `count` deterministic values in [-1, 1).
func testValues(_ count: Int, seed: UInt64) -> [Float] {
    var generator = LCG(seed: seed)
    return (0..<count).map { _ in Float(generator.next() >> 40) / Float(1 << 23) - 1 }
}
