// ConvolutionGeometry.swift: the sizes of one 2-D convolution, and what follows from them.
//
// Dimension letters, used in every convolution file:
//   N batch, C input channels, H W input height and width,
//   K output channels, R S kernel height and width, P Q output height and width, G groups.
//   input x: [N, C, H, W]   weight w: [K, C/G, R, S]   bias b: [K]   output y: [N, K, P, Q]
// With groups, input channels and output channels are split into G equal parts, and output
// group g sees only input group g (the AlexNet paper's two GPUs are G = 2).

public struct ConvolutionGeometry: Sendable, Hashable, CustomStringConvertible {
    public let batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int
    public let outputChannels: Int, kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let paddingHeight: Int, paddingWidth: Int
    public let groups: Int
    /// Floats from one image's output to the next: K * P * Q when y is [N, K, P, Q] of its own.
    /// A branch of a concatenation writes its K channels in place into a wider output
    /// [N, K_total, P, Q], starting at its first channel: then K_total * P * Q. Read by the
    /// forward pass only; backward passes read and write dense tensors.
    public var outputImageStride: Int

    /// The caller (a layer) has checked the sizes; a geometry that cannot exist is a programming
    /// error here.
    public init(
        batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
        outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int = 1, strideWidth: Int = 1,
        paddingHeight: Int = 0, paddingWidth: Int = 0, groups: Int = 1
    ) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
        self.groups = groups
        outputImageStride = 0
        precondition(
            groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0,
            "\(self): channels must divide into \(groups) groups")
        precondition(
            strideHeight >= 1 && strideWidth >= 1 && paddingHeight >= 0 && paddingWidth >= 0,
            "\(self): strides must be positive and padding non-negative")
        precondition(outputHeight >= 1 && outputWidth >= 1, "\(self): the kernel does not fit the padded input")
        outputImageStride = outputChannels * outputPlane
    }

    /// This convolution writing its output into channels of a wider output with `channels`
    /// channels per image (see outputImageStride).
    public func writing(intoImagesOf channels: Int) -> ConvolutionGeometry {
        precondition(
            channels >= outputChannels, "\(self): a wider output cannot have fewer than its \(outputChannels) channels")
        var g = self
        g.outputImageStride = channels * outputPlane
        return g
    }

    /// P = floor((H + 2 * padding - R) / stride) + 1, PyTorch's rounding.
    public var outputHeight: Int { (inputHeight + 2 * paddingHeight - kernelHeight) / strideHeight + 1 }
    /// Q = floor((W + 2 * padding - S) / stride) + 1.
    public var outputWidth: Int { (inputWidth + 2 * paddingWidth - kernelWidth) / strideWidth + 1 }

    public var inputChannelsPerGroup: Int { inputChannels / groups }
    public var outputChannelsPerGroup: Int { outputChannels / groups }
    /// Length of one receptive field within a group, C/G * R * S: the GEMM's inner dimension.
    public var patchLength: Int { inputChannelsPerGroup * kernelHeight * kernelWidth }
    public var inputPlane: Int { inputHeight * inputWidth }
    public var outputPlane: Int { outputHeight * outputWidth }

    /// A 1x1 convolution with stride 1 and no padding reads the input plane exactly as the GEMM
    /// wants it ([C/G, H*W] is already [patchLength, P*Q]), so it needs no im2col.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && paddingHeight == 0 && paddingWidth == 0
    }

    /// Floats of im2col scratch for one image and group: [C/G * R * S, P * Q]; 0 when pointwise.
    public var columnCount: Int { isPointwise ? 0 : patchLength * outputPlane }

    public var weightCount: Int { outputChannels * patchLength }

    /// Multiply-adds of one image and group's GEMM.
    var multiplyAddsPerImageGroup: Int { outputChannelsPerGroup * outputPlane * patchLength }

    /// Below this many multiply-adds per image (about 90 microseconds on one core), the batch is
    /// split over the workers, each running whole single-threaded products, instead of every
    /// small product being split: LeNet's conv1 is a 6 x 784 x 25 product per image.
    static let imageParallelThreshold = 1 << 22

    /// Images whose products (forward, and the im2col backward passes) are run as one GEMM, side
    /// by side. One image of a 12x12 layer gives a product only 144 columns wide, and each
    /// product re-packs all the weights (AlexNet's conv4: 1.3 million floats packed for 191
    /// million multiply-adds); a few images at once make it about 1,024 columns wide. Much
    /// wider, the im2col matrix (28 MB for conv4 at 2,048 columns) no longer stays in the
    /// caches. A layer whose products are small enough to split the batch over the workers
    /// keeps that split unless its weights are many (NiN's 1x1 layers on 7x7 planes re-pack
    /// 65,536 weights for 49 columns); thin layers such as LeNet's run best whole per worker.
    func imagesPerProduct(workers: Int) -> Int {
        if splitsBatch(workers: workers) && weightCount < Self.sideBySideWeights { return 1 }
        return max(1, min(batch, Self.wideProductColumns / outputPlane))
    }

    static let wideProductColumns = 1024
    static let sideBySideWeights = 16_384

    /// Whether the kernels split this batch over `workers` rather than threading each product.
    func splitsBatch(workers: Int) -> Bool {
        multiplyAddsPerImageGroup * groups < Self.imageParallelThreshold && workers > 1 && batch > 1
    }

    public var description: String {
        "conv [\(batch), \(inputChannels), \(inputHeight), \(inputWidth)] -> \(outputChannels) channels, "
            + "kernel \(kernelHeight)x\(kernelWidth), stride \(strideHeight)x\(strideWidth), "
            + "padding \(paddingHeight)x\(paddingWidth), groups \(groups)"
    }
}

/// How a convolution's three passes (forward, backward-data, backward-filter) run.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    /// Lowered to SGEMM: the filters times im2col of the input (the input itself when pointwise).
    case im2col
    /// Winograd F(4x4, 3x3) or F(2x2, 5x5): 36 SGEMMs on transformed 6x6 tiles, a quarter (3x3)
    /// or 36% (5x5) of the multiplies. 3x3 and 5x5 filters with stride 1 and one group only
    /// (`ConvolutionGeometry.supportsWinograd`).
    case winograd
    /// Straight from a zero-bordered copy of each image, sixteen outputs of a row per load
    /// (DirectConvolution.swift) or, with 16 or more output channels, sixteen channels of one
    /// position (DirectChannelVectors.swift): for stride-1 layers too thin for a GEMM to pay
    /// for its copies.
    /// Stride 1, one group (`ConvolutionGeometry.supportsDirect`).
    case direct
}

/// Which algorithm runs each of a convolution's three passes. The passes may differ: a 5x5
/// layer can run its forward by Winograd and its backward passes through im2col. The direct
/// kernels run all three or none (their buffers are their own).
public struct ConvolutionPasses: Equatable, Sendable, CustomStringConvertible {
    public var forward: ConvolutionAlgorithm
    public var backwardData: ConvolutionAlgorithm
    public var filterGradient: ConvolutionAlgorithm

    public init(forward: ConvolutionAlgorithm, backwardData: ConvolutionAlgorithm, filterGradient: ConvolutionAlgorithm)
    {
        (self.forward, self.backwardData, self.filterGradient) = (forward, backwardData, filterGradient)
    }

    /// The same algorithm for all three passes.
    public init(_ algorithm: ConvolutionAlgorithm) {
        self.init(forward: algorithm, backwardData: algorithm, filterGradient: algorithm)
    }

    public var all: [ConvolutionAlgorithm] { [forward, backwardData, filterGradient] }
    public func uses(_ algorithm: ConvolutionAlgorithm) -> Bool { all.contains(algorithm) }

    /// "winograd" when all three agree, else each pass named: "winograd, backward im2col".
    public var description: String {
        if backwardData == forward && filterGradient == forward { return forward.rawValue }
        if backwardData == filterGradient { return "\(forward.rawValue), backward \(backwardData.rawValue)" }
        return "\(forward.rawValue), backward-data \(backwardData.rawValue), filter gradient \(filterGradient.rawValue)"
    }
}

extension ConvolutionGeometry {
    /// Whether `algorithm` can compute this convolution's passes.
    public func supports(_ algorithm: ConvolutionAlgorithm) -> Bool {
        switch algorithm {
        case .im2col: true
        case .winograd: supportsWinograd
        case .direct: supportsDirect
        }
    }

    /// Whether `passes` can compute this convolution: each pass's algorithm supports it, and the
    /// direct kernels run all three passes or none.
    public func supports(_ passes: ConvolutionPasses) -> Bool {
        passes.all.allSatisfy(supports) && (!passes.uses(.direct) || passes == ConvolutionPasses(.direct))
    }
}

/// Scratch for the convolution kernels: an im2col matrix and SGEMM packing space per worker,
/// and Winograd's or the direct kernels' buffers when that algorithm runs. Keep one per layer so that training
/// allocates nothing per batch.
public struct ConvolutionWorkspace: ~Copyable {
    let columns: AlignedBuffer
    let columnsPerWorker: Int
    let gemm: GemmWorkspace
    /// Per-worker partial weight and bias gradients, [workers][K * C/G * R * S + K], for the
    /// backward-filter pass when the batch is split over the workers (small images only).
    let partialGradients: AlignedBuffer
    /// The product of several images at once, [K/G, images * P * Q]: the forward output before
    /// it is scattered into NCHW, or the output gradient gathered for the backward passes.
    let wideOutput: AlignedBuffer
    /// How many images an im2col product may hold (see imagesPerProduct).
    public let imagesPerProduct: Int
    public let passes: ConvolutionPasses
    let winograd: WinogradBuffers
    let direct: DirectBuffers

    /// For `passes`, which the caller chose (ModernCNN's ExecutionRules say which suits which
    /// shapes); asking for passes that cannot compute this geometry is a programming error.
    public init(_ geometry: ConvolutionGeometry, workers: Int = Parallel.threadCount, passes: ConvolutionPasses) {
        precondition(geometry.supports(passes), "\(geometry) cannot run as \(passes)")
        self.passes = passes
        winograd =
            passes.uses(.winograd) ? WinogradBuffers(geometry, workers: max(1, workers)) : WinogradBuffers()
        direct = passes.uses(.direct) ? DirectBuffers(geometry, workers: workers) : DirectBuffers()
        let lowered = !passes.uses(.direct)
        columnsPerWorker = lowered ? geometry.columnCount : 0
        imagesPerProduct = passes.uses(.im2col) ? geometry.imagesPerProduct(workers: workers) : 1
        // Side by side, the matrix holds every image's columns, a pointwise layer's too (its
        // images are gathered there rather than read in place).
        let sideBySide = imagesPerProduct > 1 ? geometry.patchLength * geometry.outputPlane * imagesPerProduct : 0
        columns = AlignedBuffer(count: max(columnsPerWorker * max(1, workers), sideBySide))
        wideOutput = AlignedBuffer(
            count: imagesPerProduct > 1
                ? geometry.outputChannelsPerGroup * imagesPerProduct * geometry.outputPlane : 0)
        gemm = GemmWorkspace(workers: workers)
        partialGradients = AlignedBuffer(
            count: lowered && geometry.splitsBatch(workers: workers)
                ? workers * (geometry.weightCount + geometry.outputChannels) : 0)
    }

    /// The same algorithm for all three passes.
    public init(_ geometry: ConvolutionGeometry, workers: Int = Parallel.threadCount, algorithm: ConvolutionAlgorithm) {
        self.init(geometry, workers: workers, passes: ConvolutionPasses(algorithm))
    }

    var workers: Int { gemm.workers }

    /// Whether the backward passes make a dy given as ImageBatch.throughPool image by image
    /// where they read it (the direct kernels); the others need it made whole first.
    public var readsGradientImageByImage: Bool { passes.backwardData == .direct }
}
