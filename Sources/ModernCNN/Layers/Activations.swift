// Activations.swift: elementwise activations. Each caches its output, which is all its backward
// needs (ReLU's slope is 1 where y > 0; sigmoid's is y(1 - y)), so one class serves them all and
// each activation names its two kernels.

import Kernels

public class Activation: Layer {
    typealias Forward = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    typealias Backward = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    public let description: String
    private let forwardKernel: Forward
    private let backwardKernel: Backward
    private var cachedOutput: Tensor?
    /// The channels of `cachedOutput` this activation wrote, when it wrote them in place into a
    /// concatenation's output (`forward(_:into:)`); nil when the whole tensor is its own.
    private var cachedChannels: Range<Int>?
    /// What this activation keeps for backward: its output, or the concatenation it wrote into.
    var savedOutput: Tensor? { cachedOutput }

    /// The same activation as a convolution can apply while writing its output (Sequential
    /// fuses the two).
    let fusedKind: FusedActivation?

    init(_ description: String, fusedKind: FusedActivation?, forward: @escaping Forward, backward: @escaping Backward) {
        self.description = description
        self.fusedKind = fusedKind
        forwardKernel = forward
        backwardKernel = backward
    }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { forwardKernel(input.baseAddress!, $0.baseAddress!, x.count) }
        }
        cachedOutput = training ? y : nil
        cachedChannels = nil
        return y
    }

    /// Takes an output that the previous layer already passed through this activation (a fused
    /// convolution), keeping it for backward as `forward` would have.
    func adopt(fusedOutput y: Tensor, training: Bool) -> Tensor {
        cachedOutput = training ? y : nil
        cachedChannels = nil
        return y
    }

    /// y = f(x) written into its channels of a concatenation's output (an ExecutionPlan's
    /// branch step). x: [N, K, H, W] with K = target.channels.count.
    func forward(_ x: Tensor, into target: ChannelSlice) {
        precondition(
            x.rank == 4 && x.shape[0] == target.batch && x.shape[1] == target.channels.count
                && x.shape[2] * x.shape[3] == target.plane,
            "\(description): input \(x.shape) does not fit \(target)")
        let size = target.channels.count * target.plane
        x.withUnsafeBufferPointer { input in
            Parallel.parallelFor(target.batch) { n in
                forwardKernel(input.baseAddress! + n * size, target.image(n), size)
            }
        }
    }

    /// Keeps, for backward, the concatenation `y` into whose `channels` this activation (or the
    /// convolution it is fused into) wrote its output; `y` is complete, every branch written.
    func adopt(concatenation y: Tensor, channels: Range<Int>, training: Bool) {
        cachedOutput = training ? y : nil
        cachedChannels = training ? channels : nil
    }

    /// dL/dx for an output written into channels of a concatenation: `dOutput` is the
    /// concatenation's whole gradient [N, K_total, H, W], of which this reads its own channels
    /// where they lie, so that splitting the gradient by branches copies nothing.
    /// Returns [N, K, H, W].
    func backward(fromChannelsOf dOutput: Tensor) -> Tensor {
        guard let y = cachedOutput, let channels = cachedChannels else {
            preconditionFailure("\(description): backward from a concatenation without writing into one")
        }
        precondition(dOutput.shape == y.shape, "\(description): gradient \(dOutput.shape) for output \(y.shape)")
        let (batch, total, plane) = (y.shape[0], y.shape[1], y.shape[2] * y.shape[3])
        let size = channels.count * plane
        var dx = Tensor(uninitializedShape: [batch, channels.count, y.shape[2], y.shape[3]])
        dOutput.withUnsafeBufferPointer { dy in
            y.withUnsafeBufferPointer { output in
                dx.withUnsafeMutableBufferPointer { dInput in
                    let (dy, output, dInput) = (dy.baseAddress!, output.baseAddress!, dInput.baseAddress!)
                    Parallel.parallelFor(batch) { n in
                        let offset = (n * total + channels.lowerBound) * plane
                        backwardKernel(dy + offset, output + offset, dInput + n * size, size)
                    }
                }
            }
        }
        return dx
    }

    /// The gradient through `pool` and then this activation, in one pass: the pooling layer
    /// (which Sequential found right after this one) applies the slope as it writes each plane.
    /// The same arithmetic in the same order as the two backward passes, so the same result.
    func backward(_ dOutput: Tensor, throughPool pool: any ActivationFusingPool) -> Tensor {
        guard let y = cachedOutput, cachedChannels == nil, let fusedKind else {
            preconditionFailure("\(description): backward without a training forward")
        }
        return y.withUnsafeBufferPointer { output in
            pool.backward(dOutput, through: ActivationOutput(fusedKind, output: output.baseAddress!))
        }
    }

    /// The gradient through `pool`, this activation and then `convolution`: the convolution's
    /// backward makes its dy image by image from the pool's gradient (ImageBatch.throughPool),
    /// where its kernels read it, so the batch's dy is never written out whole.
    func backward(
        _ dOutput: Tensor, throughPool pool: any ActivationFusingPool, andConvolution convolution: Conv2d
    )
        -> Tensor
    {
        guard let y = cachedOutput, cachedChannels == nil, let fusedKind else {
            preconditionFailure("\(description): backward without a training forward")
        }
        return y.withUnsafeBufferPointer { output in
            pool.withPooledGradient(dOutput, through: ActivationOutput(fusedKind, output: output.baseAddress!)) {
                convolution.backward(.throughPool($0))
            }
        }
    }

    public func releaseSavedTensors() {
        cachedOutput = nil
        cachedChannels = nil
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let y = cachedOutput, cachedChannels == nil else {
            preconditionFailure("\(description): backward without a training forward")
        }
        var dx = Tensor(uninitializedShape: y.shape)
        dOutput.withUnsafeBufferPointer { dy in
            y.withUnsafeBufferPointer { output in
                dx.withUnsafeMutableBufferPointer {
                    backwardKernel(dy.baseAddress!, output.baseAddress!, $0.baseAddress!, y.count)
                }
            }
        }
        return dx
    }
}

/// max(0, x): no saturation for positive inputs, so gradients reach deep layers (AlexNet's change).
public final class ReLU: Activation {
    public init() {
        super.init(
            "ReLU()", fusedKind: .relu, forward: { reluForward($0, $1, count: $2) },
            backward: { reluBackward(outputGradient: $0, output: $1, inputGradient: $2, count: $3) })
    }
}

/// 1 / (1 + e^-x): LeNet's activation, whose slope vanishes for large |x|.
public final class Sigmoid: Activation {
    public init() {
        super.init(
            "Sigmoid()", fusedKind: .sigmoid, forward: { sigmoidForward($0, $1, count: $2) },
            backward: { sigmoidBackward(outputGradient: $0, output: $1, inputGradient: $2, count: $3) })
    }
}
