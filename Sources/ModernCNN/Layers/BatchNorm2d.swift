// BatchNorm2d.swift: batch normalisation of [N, C, H, W] maps per channel, as PyTorch's
// nn.BatchNorm2d: a learned scale and shift ("weight", "bias"), and running statistics
// ("running_mean", "running_var", "num_batches_tracked") that a training forward updates and an
// evaluation forward uses. The formulas are in the kernel's file (Kernels/Elementwise/BatchNorm.swift).
//
// In training, each image's output depends on the other images of its batch (through the
// batch's mean and variance); in evaluation, it does not: the running statistics stand in.

import Kernels

public final class BatchNorm2d: Layer {
    public let channels: Int
    public let epsilon: Float, momentum: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Buffer, runningVariance: Buffer
    /// Training forwards so far. PyTorch keeps it as an int64 scalar; here a Float of shape [],
    /// exact up to 2^24 steps, which load_state_dict copies into PyTorch's buffer unchanged.
    public let batchesTracked: Buffer
    /// What backward needs: the input, and each channel's batch mean and 1 / sqrt(var + eps).
    private var cached: (input: Tensor, mean: Tensor, inverseDeviation: Tensor)?

    /// PyTorch's defaults: eps 1e-5, momentum 0.1, weight 1 and bias 0, running mean 0 and variance 1.
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        precondition(channels > 0, "BatchNorm2d needs at least one channel")
        (self.channels, self.epsilon, self.momentum) = (channels, epsilon, momentum)
        weight = Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1))
        bias = Parameter(name: "bias", value: Tensor(zeros: [channels]))
        runningMean = Buffer(name: "running_mean", value: Tensor(zeros: [channels]))
        runningVariance = Buffer(name: "running_var", value: Tensor(shape: [channels], repeating: 1))
        batchesTracked = Buffer(name: "num_batches_tracked", value: Tensor(zeros: []))
    }

    public var description: String { "BatchNorm2d(\(channels))" }
    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVariance, batchesTracked] }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4, input[1] == channels else {
            throw ShapeError(
                layer: description, input: input, problem: "expected [N, \(channels), H, W]")
        }
        return input
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        _ = try outputShape(for: x.shape)
        let geometry = BatchNormGeometry(batch: x.shape[0], channels: channels, pixels: x.shape[2] * x.shape[3])
        if training && geometry.count < 2 {
            throw ShapeError(
                layer: description, input: x.shape,
                problem: "training needs more than one value per channel to estimate a variance")
        }
        var y = Tensor(uninitializedShape: x.shape)
        guard training else {
            cached = nil
            x.withUnsafeBufferPointer { input in
                weight.value.withUnsafeBufferPointer { gamma in
                    bias.value.withUnsafeBufferPointer { beta in
                        runningMean.value.withUnsafeBufferPointer { mean in
                            runningVariance.value.withUnsafeBufferPointer { variance in
                                y.withUnsafeMutableBufferPointer { output in
                                    batchNormEvaluationForward(
                                        geometry, input: input.baseAddress!, gamma: gamma.baseAddress!,
                                        beta: beta.baseAddress!, epsilon: epsilon, runningMean: mean.baseAddress!,
                                        runningVariance: variance.baseAddress!, output: output.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            return y
        }
        var mean = Tensor(uninitializedShape: [channels]), inverse = Tensor(uninitializedShape: [channels])
        x.withUnsafeBufferPointer { input in
            weight.value.withUnsafeBufferPointer { gamma in
                bias.value.withUnsafeBufferPointer { beta in
                    runningMean.value.withUnsafeMutableBufferPointer { runningMean in
                        runningVariance.value.withUnsafeMutableBufferPointer { runningVariance in
                            y.withUnsafeMutableBufferPointer { output in
                                mean.withUnsafeMutableBufferPointer { mean in
                                    inverse.withUnsafeMutableBufferPointer { inverse in
                                        batchNormTrainingForward(
                                            geometry, input: input.baseAddress!, gamma: gamma.baseAddress!,
                                            beta: beta.baseAddress!, epsilon: epsilon, momentum: momentum,
                                            runningMean: runningMean.baseAddress!,
                                            runningVariance: runningVariance.baseAddress!,
                                            output: output.baseAddress!, mean: mean.baseAddress!,
                                            inverseDeviation: inverse.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        batchesTracked.value.withUnsafeMutableBufferPointer { $0[0] += 1 }
        cached = (x, mean, inverse)
        return y
    }

    public func releaseSavedTensors() { cached = nil }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let (x, mean, inverse) = cached else {
            preconditionFailure("\(description): backward without a training forward")
        }
        let geometry = BatchNormGeometry(batch: x.shape[0], channels: channels, pixels: x.shape[2] * x.shape[3])
        var dx = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { input in
            weight.value.withUnsafeBufferPointer { gamma in
                mean.withUnsafeBufferPointer { mean in
                    inverse.withUnsafeBufferPointer { inverse in
                        dOutput.withUnsafeBufferPointer { dy in
                            dx.withUnsafeMutableBufferPointer { dInput in
                                weight.gradient.withUnsafeMutableBufferPointer { dGamma in
                                    bias.gradient.withUnsafeMutableBufferPointer { dBeta in
                                        batchNormBackward(
                                            geometry, input: input.baseAddress!, gamma: gamma.baseAddress!,
                                            mean: mean.baseAddress!, inverseDeviation: inverse.baseAddress!,
                                            outputGradient: dy.baseAddress!, inputGradient: dInput.baseAddress!,
                                            gammaGradient: dGamma.baseAddress!, betaGradient: dBeta.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
