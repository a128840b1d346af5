// Dropout.swift: during training, zero each activation with probability p and scale the rest by
// 1/(1-p) ("inverted dropout"), so that inference is the identity and needs no rescaling.
// The mask comes from the layer's own seeded generator: a run is reproducible for its seed.

import Kernels

public final class Dropout: Layer {
    public let probability: Float
    private var generator: SeededGenerator
    private var cachedMask: Tensor?

    public init(probability: Float = 0.5, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    /// Restarts the mask sequence from `seed`. The trainer reseeds every dropout layer at each
    /// batch from (run seed, epoch, batch), so a run resumed from a checkpoint draws the same masks
    /// as one that never stopped.
    public func reseed(_ seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    public var description: String { "Dropout(p: \(probability))" }
    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training && probability > 0 else {
            cachedMask = nil
            return x
        }
        let keep = 1 / (1 - probability)
        var mask = Tensor(uninitializedShape: x.shape)
        mask.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = generator.nextUnitFloat() < probability ? 0 : keep }
        }
        cachedMask = mask
        return apply(mask, to: x)
    }

    public func releaseSavedTensors() { cachedMask = nil }

    public func backward(_ dOutput: Tensor) -> Tensor {
        // After an inference-mode (or p = 0) forward, dropout was the identity.
        guard let mask = cachedMask else { return dOutput }
        return apply(mask, to: dOutput)
    }

    private func apply(_ mask: Tensor, to x: Tensor) -> Tensor {
        var y = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { input in
            mask.withUnsafeBufferPointer { m in
                y.withUnsafeMutableBufferPointer {
                    multiply(input.baseAddress!, by: m.baseAddress!, into: $0.baseAddress!, count: x.count)
                }
            }
        }
        return y
    }
}
