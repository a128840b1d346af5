// Random.swift: seeded, reproducible random numbers. Every random thing in ModernCNN (weights,
// shuffles, dropout masks, augmentation) draws from one of these, so a run is a function of its
// seed and thread count.

import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and passes BigCrush; plenty for weights
/// and shuffles, and identical on every platform, unlike the system generator.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1) from the top 24 bits (a Float's whole mantissa).
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A standard normal sample by Box-Muller; 1 - u keeps the logarithm away from zero.
    public mutating func nextNormal() -> Float {
        let u1 = 1 - Double(next() >> 11) * (1.0 / Double(1 << 53))
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}
