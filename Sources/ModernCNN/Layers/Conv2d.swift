// Conv2d.swift: 2-D convolution layer, [N, C, H, W] -> [N, K, P, Q], on the Kernels module's
// convolutions: im2col + SGEMM, Winograd or direct, as an ExecutionPlan (or, for a layer run on
// its own, ExecutionRules) chose. Weight [K, C/G, R, S] and bias [K], named as in PyTorch.

import Kernels

public final class Conv2d: SlidingWindowLayer {
    public let inputChannels: Int, outputChannels: Int
    public let kernelSize: Int, stride: Int, padding: Int, groups: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Whether backward computes dL/dx. The first layer of a network can skip it (nothing
    /// upstream wants it), as PyTorch does for inputs that need no gradient; backward then
    /// returns zeros. The Trainer turns it off for the first layer.
    public var computesInputGradient = true
    /// The algorithm of each pass an ExecutionPlan chose for this layer's input size; nil: the
    /// rules' choice (ExecutionRules.convolution) for whatever input comes.
    public var passes: ConvolutionPasses?
    /// Those zeros, made once: filling a batch-sized tensor every step was a serial pass over
    /// memory (0.8 MB for LeNet) while the other workers waited.
    private var zeroInputGradient: Tensor?
    private var cachedInput: Tensor?
    private var scratch: ConvolutionScratch?

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        groups: Int = 1, bias: Bool = true, initialization: WeightInitialization = .pytorchDefault,
        generator: inout SeededGenerator
    ) {
        precondition(
            inputChannels % groups == 0 && outputChannels % groups == 0,
            "Conv2d: \(inputChannels) -> \(outputChannels) channels do not split into \(groups) groups")
        (self.inputChannels, self.outputChannels) = (inputChannels, outputChannels)
        (self.kernelSize, self.stride, self.padding, self.groups) = (kernelSize, stride, padding, groups)
        let (w, b) = initialization.values(
            weightShape: [outputChannels, inputChannels / groups, kernelSize, kernelSize], generator: &generator)
        weight = Parameter(name: "weight", value: w)
        self.bias = bias ? Parameter(name: "bias", value: b) : nil
    }

    public var description: String {
        "Conv2d(\(inputChannels), \(outputChannels), kernel: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (groups > 1 ? ", groups: \(groups))" : ")")
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4 else {
            throw ShapeError(layer: description, input: input, problem: "expected [N, C, H, W]")
        }
        guard input[1] == inputChannels else {
            throw ShapeError(
                layer: description, input: input,
                problem: "expected \(inputChannels) channels, got \(input[1])")
        }
        let p = (input[2] + 2 * padding - kernelSize) / stride + 1
        let q = (input[3] + 2 * padding - kernelSize) / stride + 1
        guard input[2] + 2 * padding >= kernelSize, input[3] + 2 * padding >= kernelSize else {
            throw ShapeError(
                layer: description, input: input,
                problem: "a \(kernelSize)x\(kernelSize) kernel does not fit \(input[2])x\(input[3]) "
                    + "padded by \(padding): is the input too small for this network?")
        }
        return [input[0], outputChannels, p, q]
    }

    func geometry(for input: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(
            batch: input[0], inputChannels: inputChannels, inputHeight: input[2], inputWidth: input[3],
            outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
            strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding,
            groups: groups)
    }

    /// The workspace for this input size, kept across batches (its im2col buffer depends only on
    /// the image size, not on the batch).
    private func scratch(for g: ConvolutionGeometry) -> ConvolutionScratch {
        let passes = passes.flatMap { g.supports($0) ? $0 : nil } ?? ExecutionRules.convolution(g).passes
        if let scratch, scratch.fits(g, passes: passes) { return scratch }
        let fresh = ConvolutionScratch(g, passes: passes)
        scratch = fresh
        return fresh
    }

    // snippet: conv2d-forward
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try forward(x, training: training, activation: .none)
    }

    /// y = f(conv(x) + b): an activation layer that follows this one, fused into it (an
    /// ExecutionPlan's fused block; the teaching API is `forward(_:training:)`).
    /// afterImage(y, n) runs once image n of y is complete (see convolutionForward).
    func forward(
        _ x: Tensor, training: Bool, activation: FusedActivation,
        afterImage: ((_ y: UnsafePointer<Float>, _ image: Int) -> Void)? = nil
    ) throws -> Tensor {
        var y = Tensor(uninitializedShape: try outputShape(for: x.shape))
        y.withUnsafeMutableBufferPointer { output in
            let written = afterImage.map { body in { n in body(UnsafePointer(output.baseAddress!), n) } }
            convolve(x, geometry(for: x.shape), activation: activation, into: output.baseAddress!, afterImage: written)
        }
        cachedInput = training ? x : nil
        return y
    }

    /// The forward kernel on this layer's weights and scratch, image n written at
    /// output + n * g.outputImageStride.
    private func convolve(
        _ x: Tensor, _ g: ConvolutionGeometry, activation: FusedActivation, into output: UnsafeMutablePointer<Float>,
        afterImage: ((Int) -> Void)?
    ) {
        let scratch = scratch(for: g)
        x.withUnsafeBufferPointer { input in
            weight.value.withUnsafeBufferPointer { w in
                bias.withValuePointer { b in
                    convolutionForward(
                        g, input: input.baseAddress!, weight: w.baseAddress!, bias: b, output: output,
                        activation: activation, workspace: scratch.workspace, afterImage: afterImage)
                }
            }
        }
    }
    // end snippet: conv2d-forward

    /// y = f(conv(x) + b) written into its channels of a concatenation's output (an
    /// ExecutionPlan's branch step), where the branch would otherwise give its own tensor to be
    /// copied there.
    func forward(_ x: Tensor, training: Bool, activation: FusedActivation, into target: ChannelSlice) throws {
        let shape = try outputShape(for: x.shape)
        precondition(
            shape[0] == target.batch && shape[1] == target.channels.count && shape[2] * shape[3] == target.plane,
            "\(description): output \(shape) does not fit \(target)")
        let g = geometry(for: x.shape).writing(intoImagesOf: target.totalChannels)
        convolve(x, g, activation: activation, into: target.image(0), afterImage: nil)
        cachedInput = training ? x : nil
    }

    public func releaseSavedTensors() { cachedInput = nil }

    // snippet: conv2d-backward
    public func backward(_ dOutput: Tensor) -> Tensor {
        dOutput.withUnsafeBufferPointer { dy in backward(.stored(dy.baseAddress!)) }
    }

    /// dL/dx, with dy stored or made image by image by the pooling layer after this one (see
    /// Sequential.backward).
    func backward(_ dy: ImageBatch) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(description): backward without a training forward") }
        let g = geometry(for: x.shape), scratch = scratch(for: g)
        // dy is made image by image only where one pass alone reads it, with kernels that can
        // (the direct ones: LeNet's conv1, whose input needs no gradient). Where both passes read
        // it, it is made whole once, here: making each image twice, once per pass, cost more
        // than writing the whole dy out and reading it back (LeNet's conv2, 1.6 MB a batch).
        let madePerImage = scratch.workspace.readsGradientImageByImage && !computesInputGradient
        if case .throughPool = dy, !madePerImage {
            return dy.withStored { backward(.stored($0)) }
        }
        if !computesInputGradient, zeroInputGradient?.shape != x.shape { zeroInputGradient = Tensor(zeros: x.shape) }
        var dx = computesInputGradient ? Tensor(uninitializedShape: x.shape) : zeroInputGradient!
        if computesInputGradient {
            weight.value.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dInput in
                    convolutionBackwardData(
                        g, outputGradient: dy, weight: w.baseAddress!,
                        inputGradient: dInput.baseAddress!, workspace: scratch.workspace)
                }
            }
        }
        x.withUnsafeBufferPointer { input in
            weight.gradient.withUnsafeMutableBufferPointer { dw in
                bias.withGradientPointer { db in
                    convolutionBackwardFilter(
                        g, input: input.baseAddress!, outputGradient: dy,
                        weightGradient: dw.baseAddress!, biasGradient: db,
                        workspace: scratch.workspace)
                }
            }
        }
        return dx
    }
    // end snippet: conv2d-backward
}

/// Owns a ConvolutionWorkspace (non-copyable) so a layer can keep one between batches.
final class ConvolutionScratch {
    let workspace: ConvolutionWorkspace
    private let geometry: ConvolutionGeometry, workers: Int

    init(_ g: ConvolutionGeometry, passes: ConvolutionPasses) {
        workers = Parallel.threadCount
        geometry = g
        workspace = ConvolutionWorkspace(g, workers: workers, passes: passes)
    }

    /// A workspace made for a batch at least as large (the buffers depend on the image size and,
    /// for layers that put several images in one product, on the batch) and the same threads.
    func fits(_ g: ConvolutionGeometry, passes: ConvolutionPasses) -> Bool {
        passes == workspace.passes && g.columnCount <= geometry.columnCount
            && g.outputPlane == geometry.outputPlane && g.batch <= geometry.batch
            && workers == Parallel.threadCount
    }
}
