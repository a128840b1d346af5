// Optimizers.swift: how gradients become weight updates, following PyTorch's update rules so
// that d2l's recipes (learning rates, momentum, weight decay) carry over unchanged.
//
// An optimizer's state (momentum buffers, Adam's moments) is kept by parameter name, the same
// names a checkpoint uses, so it can be saved and restored with the weights.

import Foundation

public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Updates every parameter from its accumulated gradient. Does not zero the gradients.
    /// Returns false when an updated weight is NaN or infinite: the run has diverged.
    @discardableResult
    func step(_ parameters: [(name: String, parameter: Parameter)]) -> Bool
    /// Named state tensors, for checkpoints ("momentum.0.weight", "adam.m.0.weight", ...).
    /// Setting it does not check shapes: a checkpoint's state is checked against
    /// `stateShapes(for:)` before it is set (Trainer.resume).
    var state: [String: Tensor] { get set }
    /// Every state tensor this optimizer may keep for `parameters`, by name, with its shape.
    func stateShapes(for parameters: [(name: String, shape: [Int])]) -> [String: [Int]]
    /// State tensors that hold a count rather than one value per weight.
    var stateCounters: Set<String> { get }
    /// How the optimizer is set, for a checkpoint's metadata: "SGD(momentum: 0.9, weight decay: 0)".
    var settings: String { get }
}

extension Optimizer {
    public var stateCounters: Set<String> { [] }
}

/// Stochastic gradient descent, PyTorch's torch.optim.SGD:
///   g = gradient + weightDecay * w
///   v = momentum * v + g          (v = g on the first step)
///   w = w - learningRate * v      (w - learningRate * g without momentum)
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    private var velocity: [String: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        (self.learningRate, self.momentum, self.weightDecay) = (learningRate, momentum, weightDecay)
    }

    public var state: [String: Tensor] {
        get { Dictionary(uniqueKeysWithValues: velocity.map { ("momentum.\($0.key)", $0.value) }) }
        set {
            velocity = [:]
            for (key, value) in newValue where key.hasPrefix("momentum.") { velocity[String(key.dropFirst(9))] = value }
        }
    }

    public func stateShapes(for parameters: [(name: String, shape: [Int])]) -> [String: [Int]] {
        momentum == 0 ? [:] : Dictionary(uniqueKeysWithValues: parameters.map { ("momentum.\($0.name)", $0.shape) })
    }

    public var settings: String { "SGD(momentum: \(momentum), weight decay: \(weightDecay))" }

    @discardableResult
    public func step(_ parameters: [(name: String, parameter: Parameter)]) -> Bool {
        // Whether any weight left the finite numbers (exponent bits all ones): an integer OR per
        // weight, which, unlike a float sum, the compiler may reorder and so keeps the loop vectorised.
        var nonFinite: UInt32 = 0
        for (name, parameter) in parameters {
            let count = parameter.value.count
            // Taken out of the dictionary while it is written: a second reference would make
            // the write below copy the whole buffer first (Tensor is copy-on-write).
            var buffer = velocity.removeValue(forKey: name)
            let first = buffer == nil
            if momentum != 0 && first { buffer = Tensor(zeros: parameter.value.shape) }
            // The loops below write through raw pointers: every buffer must match the weights.
            precondition(
                parameter.gradient.count == count && (buffer?.count ?? count) == count,
                "SGD: state for \(name) does not match its \(count) weights")
            parameter.gradient.withUnsafeBufferPointer { g in
                parameter.value.withUnsafeMutableBufferPointer { w in
                    if momentum == 0 {
                        for i in 0..<count {
                            w[i] -= learningRate * (g[i] + weightDecay * w[i])
                            nonFinite |= isNotFinite(w[i])
                        }
                        return
                    }
                    buffer!.withUnsafeMutableBufferPointer { v in
                        for i in 0..<count {
                            let d = g[i] + weightDecay * w[i]
                            v[i] = first ? d : momentum * v[i] + d
                            w[i] -= learningRate * v[i]
                            nonFinite |= isNotFinite(w[i])
                        }
                    }
                }
            }
            if momentum != 0 { velocity[name] = buffer }
        }
        return nonFinite == 0
    }
}

/// Adam (Kingma & Ba 2015), PyTorch's torch.optim.Adam (weight decay added to the gradient):
///   m = beta1 * m + (1 - beta1) * g,   v = beta2 * v + (1 - beta2) * g^2
///   w = w - learningRate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var moments: [String: (m: Tensor, v: Tensor)] = [:]
    private var steps = 0

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay) =
            (learningRate, beta1, beta2, epsilon, weightDecay)
    }

    public var state: [String: Tensor] {
        get {
            var result = ["adam.steps": Tensor(shape: [1], repeating: Float(steps))]
            for (name, moment) in moments {
                result["adam.m.\(name)"] = moment.m
                result["adam.v.\(name)"] = moment.v
            }
            return result
        }
        set {
            moments = [:]
            // A checkpoint's count was checked to be a whole number in 0...2^24 (stateCounters).
            steps = Int(exactly: newValue["adam.steps"]?.scalars.first ?? 0) ?? 0
            for (key, m) in newValue where key.hasPrefix("adam.m.") {
                let name = String(key.dropFirst(7))
                if let v = newValue["adam.v.\(name)"] { moments[name] = (m, v) }
            }
        }
    }

    public func stateShapes(for parameters: [(name: String, shape: [Int])]) -> [String: [Int]] {
        var shapes = ["adam.steps": [1]]
        for (name, shape) in parameters { (shapes["adam.m.\(name)"], shapes["adam.v.\(name)"]) = (shape, shape) }
        return shapes
    }

    public var stateCounters: Set<String> { ["adam.steps"] }

    public var settings: String {
        "Adam(beta1: \(beta1), beta2: \(beta2), epsilon: \(epsilon), weight decay: \(weightDecay))"
    }

    @discardableResult
    public func step(_ parameters: [(name: String, parameter: Parameter)]) -> Bool {
        var nonFinite: UInt32 = 0  // as in SGD.step
        steps += 1
        // Bias corrections as multipliers: the loop then has one division (by sqrt(v) + epsilon).
        let scale1 = learningRate / (1 - pow(beta1, Float(steps))), scale2 = 1 / (1 - pow(beta2, Float(steps)))
        for (name, parameter) in parameters {
            // Out of the dictionary while written, as in SGD.step: no copy-on-write of m and v.
            var (m, v) =
                moments.removeValue(forKey: name)
                ?? (Tensor(zeros: parameter.value.shape), Tensor(zeros: parameter.value.shape))
            // The loop below writes through raw pointers: every buffer must match the weights.
            precondition(
                [m.count, v.count, parameter.gradient.count].allSatisfy { $0 == parameter.value.count },
                "Adam: state for \(name) does not match its \(parameter.value.count) weights")
            parameter.gradient.withUnsafeBufferPointer { g in
                parameter.value.withUnsafeMutableBufferPointer { w in
                    m.withUnsafeMutableBufferPointer { m in
                        v.withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                let d = g[i] + weightDecay * w[i]
                                m[i] = beta1 * m[i] + (1 - beta1) * d
                                v[i] = beta2 * v[i] + (1 - beta2) * d * d
                                w[i] -= scale1 * m[i] / ((v[i] * scale2).squareRoot() + epsilon)
                                nonFinite |= isNotFinite(w[i])
                            }
                        }
                    }
                }
            }
            moments[name] = (m, v)
        }
        return nonFinite == 0
    }
}

/// 1 when `value` is NaN or infinite (all exponent bits set), else 0; branch-free.
@inline(__always)
func isNotFinite(_ value: Float) -> UInt32 {
    (value.bitPattern & 0x7f80_0000) == 0x7f80_0000 ? 1 : 0
}
