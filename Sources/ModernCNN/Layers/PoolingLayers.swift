// PoolingLayers.swift: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d on the Kernels module's pooling.
// [N, C, H, W] -> [N, C, P, Q] with P = floor((H + 2*padding - kernel) / stride) + 1.

import Kernels

/// A pooling layer that can run fused with the convolution and activation before it (see
/// Sequential): forward, it pools each image as soon as it is written; backward, it applies the
/// activation's slope as it makes its input gradient, and can hand that gradient to the
/// convolution one image at a time.
protocol ActivationFusingPool: Layer {
    /// The pooled output of an input of `inputShape` ([N, C, H, W]): `produce` gets the pooling
    /// of an input pointer and runs it, whole or image by image as the input is written (as
    /// Sequential.forward does with a convolution's afterImage). Caches what backward needs.
    func forward(
        inputShape: [Int], training: Bool,
        _ produce: (_ pooling: @escaping (UnsafePointer<Float>) -> PoolingForward) throws -> Void
    ) throws -> Tensor

    /// body(dL/dx, ready to be made plane by plane): the pooling backward of dOutput, times the
    /// activation's slope when one is given (then dx is the gradient of the activation's input).
    func withPooledGradient<Result>(
        _ dOutput: Tensor, through activation: ActivationOutput?,
        _ body: (PooledGradient) -> Result
    ) -> Result
}

extension ActivationFusingPool {
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try forward(inputShape: x.shape, training: training) { pooling in
            x.withUnsafeBufferPointer { pooling($0.baseAddress!).run() }
        }
    }

    /// dL/dx made whole, every plane.
    func backward(_ dOutput: Tensor, through activation: ActivationOutput?) -> Tensor {
        withPooledGradient(dOutput, through: activation) { pooled in
            var dx = Tensor(uninitializedShape: pooled.inputShape)
            dx.withUnsafeMutableBufferPointer { dInput in pooled.write(into: dInput.baseAddress!) }
            return dx
        }
    }

    public func backward(_ dOutput: Tensor) -> Tensor { backward(dOutput, through: nil) }
}

/// Shared shape logic of the two fixed-window pools.
struct PoolingWindow {
    let kernelSize: Int, stride: Int, padding: Int

    func geometry(for input: [Int]) -> PoolingGeometry {
        PoolingGeometry(
            batch: input[0], channels: input[1], inputHeight: input[2], inputWidth: input[3],
            windowHeight: kernelSize, windowWidth: kernelSize, strideHeight: stride, strideWidth: stride,
            paddingHeight: padding, paddingWidth: padding)
    }

    /// "MaxPool2d(kernel: 3, stride: 2)", with the padding when there is some.
    func describe(_ kind: String) -> String {
        "\(kind)(kernel: \(kernelSize), stride: \(stride)" + (padding > 0 ? ", padding: \(padding))" : ")")
    }

    func outputShape(for input: [Int], layer: String) throws -> [Int] {
        guard input.count == 4 else { throw ShapeError(layer: layer, input: input, problem: "expected [N, C, H, W]") }
        guard input[2] + 2 * padding >= kernelSize && input[3] + 2 * padding >= kernelSize else {
            throw ShapeError(
                layer: layer, input: input,
                problem: "a \(kernelSize)x\(kernelSize) window does not fit \(input[2])x\(input[3])")
        }
        return [
            input[0], input[1], (input[2] + 2 * padding - kernelSize) / stride + 1,
            (input[3] + 2 * padding - kernelSize) / stride + 1,
        ]
    }
}

public final class MaxPool2d: SlidingWindowLayer, ActivationFusingPool {
    let window: PoolingWindow
    public var kernelSize: Int { window.kernelSize }
    public var stride: Int { window.stride }
    public var padding: Int { window.padding }
    private var cached: (inputShape: [Int], winners: PoolWinners)?

    public func releaseSavedTensors() { cached = nil }

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        window = PoolingWindow(kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding)
    }

    public var description: String { window.describe("MaxPool2d") }

    public func outputShape(for input: [Int]) throws -> [Int] { try window.outputShape(for: input, layer: description) }

    func forward(
        inputShape: [Int], training: Bool,
        _ produce: (_ pooling: @escaping (UnsafePointer<Float>) -> PoolingForward) throws -> Void
    ) throws -> Tensor {
        var y = Tensor(uninitializedShape: try outputShape(for: inputShape))
        let g = window.geometry(for: inputShape)
        // Winners only where backward will read them.
        let winners = training ? PoolWinners(count: y.count) : nil
        try y.withUnsafeMutableBufferPointer { output in
            let pooled = output.baseAddress!
            try produce { PoolingForward(g, input: $0, output: pooled, operation: .maximum(winners: winners?.pointer)) }
        }
        cached = winners.map { (inputShape, $0) }
        return y
    }

    func withPooledGradient<Result>(
        _ dOutput: Tensor, through activation: ActivationOutput?,
        _ body: (PooledGradient) -> Result
    ) -> Result {
        guard let cached else { preconditionFailure("\(description): backward without a training forward") }
        return dOutput.withUnsafeBufferPointer { dy in
            body(
                PooledGradient(
                    window.geometry(for: cached.inputShape), outputGradient: dy.baseAddress!,
                    argmax: cached.winners.pointer, through: activation))
        }
    }
}

public final class AvgPool2d: SlidingWindowLayer, ActivationFusingPool {
    let window: PoolingWindow
    public var kernelSize: Int { window.kernelSize }
    public var stride: Int { window.stride }
    public var padding: Int { window.padding }
    private var cachedInputShape: [Int]?

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        window = PoolingWindow(kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding)
    }

    public var description: String { window.describe("AvgPool2d") }

    public func outputShape(for input: [Int]) throws -> [Int] { try window.outputShape(for: input, layer: description) }

    func forward(
        inputShape: [Int], training: Bool,
        _ produce: (_ pooling: @escaping (UnsafePointer<Float>) -> PoolingForward) throws -> Void
    ) throws -> Tensor {
        var y = Tensor(uninitializedShape: try outputShape(for: inputShape))
        let g = window.geometry(for: inputShape)
        try y.withUnsafeMutableBufferPointer { output in
            let pooled = output.baseAddress!
            try produce { PoolingForward(g, input: $0, output: pooled, operation: .average) }
        }
        cachedInputShape = training ? inputShape : nil
        return y
    }

    func withPooledGradient<Result>(
        _ dOutput: Tensor, through activation: ActivationOutput?,
        _ body: (PooledGradient) -> Result
    ) -> Result {
        guard let shape = cachedInputShape else {
            preconditionFailure("\(description): backward without a training forward")
        }
        return dOutput.withUnsafeBufferPointer { dy in
            body(
                PooledGradient(
                    window.geometry(for: shape), outputGradient: dy.baseAddress!, argmax: nil,
                    through: activation))
        }
    }
}

/// Averages each channel over an outputSize grid of near-equal regions; (1, 1) is the global
/// average pooling that ends NiN and GoogLeNet.
public final class AdaptiveAvgPool2d: Layer {
    public let outputSize: (height: Int, width: Int)
    private var cachedInputShape: [Int]?

    public init(outputSize: (height: Int, width: Int)) { self.outputSize = outputSize }

    public var description: String { "AdaptiveAvgPool2d(\(outputSize.height), \(outputSize.width))" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4 else {
            throw ShapeError(layer: description, input: input, problem: "expected [N, C, H, W]")
        }
        guard input[2] >= outputSize.height && input[3] >= outputSize.width else {
            throw ShapeError(layer: description, input: input, problem: "the input is smaller than the output grid")
        }
        return [input[0], input[1], outputSize.height, outputSize.width]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = Tensor(uninitializedShape: try outputShape(for: x.shape))
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { output in
                adaptiveAveragePoolForward(
                    planes: x.shape[0] * x.shape[1], inputHeight: x.shape[2], inputWidth: x.shape[3],
                    outputHeight: outputSize.height, outputWidth: outputSize.width,
                    input: input.baseAddress!, output: output.baseAddress!)
            }
        }
        cachedInputShape = training ? x.shape : nil
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let shape = cachedInputShape else {
            preconditionFailure("\(description): backward without a training forward")
        }
        var dx = Tensor(uninitializedShape: shape)
        dOutput.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { dInput in
                adaptiveAveragePoolBackward(
                    planes: shape[0] * shape[1], inputHeight: shape[2], inputWidth: shape[3],
                    outputHeight: outputSize.height, outputWidth: outputSize.width,
                    outputGradient: dy.baseAddress!, inputGradient: dInput.baseAddress!)
            }
        }
        return dx
    }
}

/// A max pool's winners, kept for backward: one Int32 per output, in an AlignedBuffer so that
/// the large ones are blocks reused batch after batch (LargeBlocks.swift). As a Swift array (VGG's
/// first pool: 103 MB at batch 128) they were mapped, zeroed and page-faulted every step.
final class PoolWinners {
    private let buffer: AlignedBuffer
    let pointer: UnsafeMutablePointer<Int32>

    init(count: Int) {
        buffer = AlignedBuffer(count: count)
        pointer = UnsafeMutableRawPointer(buffer.pointer).bindMemory(to: Int32.self, capacity: max(count, 1))
    }
}
