// Activations.swift: ReLU and sigmoid. Both cache their output, which is all their backward needs.

import Kernels

public final class ReLU: Layer {
    private var cachedOutput: Tensor?
    public init() {}
    public var description: String { "ReLU()" }
    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = Tensor(zeros: x.shape)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { reluForward(input.baseAddress!, $0.baseAddress!, count: x.count) }
        }
        cachedOutput = training ? y : nil
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let y = cachedOutput else { preconditionFailure("ReLU: backward without a training forward") }
        var dx = Tensor(zeros: y.shape)
        dOutput.withUnsafeBufferPointer { dy in
            y.withUnsafeBufferPointer { output in
                dx.withUnsafeMutableBufferPointer {
                    reluBackward(outputGradient: dy.baseAddress!, output: output.baseAddress!,
                                 inputGradient: $0.baseAddress!, count: y.count)
                }
            }
        }
        return dx
    }
}

public final class Sigmoid: Layer {
    private var cachedOutput: Tensor?
    public init() {}
    public var description: String { "Sigmoid()" }
    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = Tensor(zeros: x.shape)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { sigmoidForward(input.baseAddress!, $0.baseAddress!, count: x.count) }
        }
        cachedOutput = training ? y : nil
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let y = cachedOutput else { preconditionFailure("Sigmoid: backward without a training forward") }
        var dx = Tensor(zeros: y.shape)
        dOutput.withUnsafeBufferPointer { dy in
            y.withUnsafeBufferPointer { output in
                dx.withUnsafeMutableBufferPointer {
                    sigmoidBackward(outputGradient: dy.baseAddress!, output: output.baseAddress!,
                                    inputGradient: $0.baseAddress!, count: y.count)
                }
            }
        }
        return dx
    }
}
