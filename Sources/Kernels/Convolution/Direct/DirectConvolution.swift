// DirectConvolution.swift: stride-1 convolutions with few channels, computed straight from a
// zero-bordered copy of each image: no im2col matrix and no packing.
//
// Which plan rule picks it (ModernCNN's ExecutionRules.convolution): stride 1, one group, not
// 1x1, and fewer than 16 channels on a side (LeNet's layers, when they do not run in lanes).
//
// Why a third way: LeNet's layers are tiny products. Its conv1 (1 -> 6 channels, 5x5 on 28x28) is
// a 6 x 25 x 784 GEMM per image. Lowered, the 25 x 784 im2col matrix is written, packed again
// and read once more, all for 6 multiply-adds per float, so the copies cost as much as the
// arithmetic. Here the image is copied once, into a padded plane that stays in L1, and every
// multiply-add reads it in place.
//
// One trick keeps every load a plain 16-lane load. The padded plane is stored flat, its rows
// `rowStride` = W + 2 * padW floats apart, and the output is computed over the same flat index:
//   flat[k, i] = sum over c, r, s of w[k, c, r, s] * padded[c, i + r * rowStride + s]
// For i = p * rowStride + q with q < Q this is y[k, p, q]. The other lanes (q >= Q) wrap into
// the next row: garbage, dropped when the result is copied into NCHW. So sixteen outputs at a
// time, whichever rows they straddle, cost one load per filter tap, shared by six output
// channels that stay in registers (the 6 x 16 tile of GemmMicrokernel.swift, with the
// padded image standing in for the packed B panel).
//
// Backward-data is the same kernel run on dy, with the filters turned by 180 degrees and their
// channel axes swapped (as Winograd.swift does). Backward-filter multiplies the same flat planes:
//   dw[k, c, r, s] = sum over n and i of dyFlat[n, k, i] * padded[n, c, i + r * rowStride + s]
// where dyFlat is dy laid out with the padded plane's row stride and zeros in the garbage lanes.
// A problem with 16 or more output channels runs the same sums with its vectors along the
// channels instead (DirectChannelVectors.swift).

import CPUHints

/// The sizes of one direct convolution: the forward pass of a layer, or its backward-data. Both
/// use the forward pass's flat layout: rows `rowStride` = W + 2 * padW floats apart.
struct DirectProblem {
    let batch: Int, inputChannels: Int, outputChannels: Int
    /// The dense planes copied in (x forward, dy backward), and the filter size.
    let inputHeight: Int, inputWidth: Int, kernelHeight: Int, kernelWidth: Int
    let rowStride: Int
    /// Where the input's (0, 0) sits in its zero-bordered flat plane.
    let inputOrigin: Int
    /// Rows of flat outputs computed, and where the output's (0, 0) sits among them.
    let flatRows: Int, outputOrigin: Int
    let outputHeight: Int, outputWidth: Int
    /// Whether the filters are read turned by 180 degrees with their channel axes swapped.
    let rotated: Bool
    /// Floats from one image's output to the next (ConvolutionGeometry.outputImageStride).
    let outputImageStride: Int

    /// x [N, C, H, W] -> y [N, K, P, Q]: x sits inside its padding, and flat output i is y at
    /// (i / rowStride, i % rowStride).
    init(forward g: ConvolutionGeometry) {
        (batch, inputChannels, outputChannels) = (g.batch, g.inputChannels, g.outputChannels)
        (inputHeight, inputWidth, kernelHeight, kernelWidth) = (
            g.inputHeight, g.inputWidth, g.kernelHeight, g.kernelWidth
        )
        rowStride = g.inputWidth + 2 * g.paddingWidth
        inputOrigin = g.paddingHeight * rowStride + g.paddingWidth
        (flatRows, outputOrigin, outputHeight, outputWidth) = (g.outputHeight, 0, g.outputHeight, g.outputWidth)
        rotated = false
        outputImageStride = g.outputImageStride
    }

    /// dy [N, K, P, Q] -> dx [N, C, H, W], computed over the padded input plane of the forward
    /// pass, (H + 2 padH) x rowStride, and cut out of it:
    ///   dxPadded[j] = sum over k, r, s of w[k, c, r, s] * dy at flat index j - r * rowStride - s
    /// With dy stored (R - 1) * rowStride + S - 1 floats in, that is the forward kernel on the
    /// rotated filters. Where j - s wraps into the row before, it lands on a lane q >= Q of dy's
    /// plane, which is zero, so the wrap adds nothing.
    init(backwardData g: ConvolutionGeometry) {
        (batch, inputChannels, outputChannels) = (g.batch, g.outputChannels, g.inputChannels)
        (inputHeight, inputWidth, kernelHeight, kernelWidth) = (
            g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth
        )
        rowStride = g.inputWidth + 2 * g.paddingWidth
        inputOrigin = (g.kernelHeight - 1) * rowStride + g.kernelWidth - 1
        flatRows = g.inputHeight + 2 * g.paddingHeight
        outputOrigin = g.paddingHeight * rowStride + g.paddingWidth
        (outputHeight, outputWidth) = (g.inputHeight, g.inputWidth)
        rotated = true
        outputImageStride = g.inputChannels * g.inputPlane
    }

    static let lanes = 16
    /// Output channels per register tile of the forward kernel.
    static let channelBlock = 6

    var taps: Int { inputChannels * kernelHeight * kernelWidth }
    /// Flat outputs per channel, in whole vectors: flatRows * rowStride rounded up to 16.
    var flatLength: Int { GemmBlocking.roundedUp(flatRows * rowStride, toMultipleOf: Self.lanes) }
    /// Floats per padded input channel: the plane, and the zeros past it that the last vector's
    /// far taps read (they feed garbage lanes only). It holds the input: inputOrigin +
    /// (inputHeight - 1) * rowStride + inputWidth <= flatRows * rowStride + (R - 1) * rowStride.
    var channelStride: Int {
        GemmBlocking.roundedUp(flatLength + (kernelHeight - 1) * rowStride + kernelWidth - 1, toMultipleOf: Self.lanes)
    }
    var paddedImage: Int { inputChannels * channelStride }
    var channelBlocks: Int { (outputChannels + Self.channelBlock - 1) / Self.channelBlock }

    /// Floats of one image's output before it goes into NCHW: flat rows in whole channel blocks,
    /// or transposed [positions][channels] when the vectors run along the channels.
    var outputScratch: Int {
        vectorsAlongChannels ? paddedPositions * paddedOutputChannels : channelBlocks * Self.channelBlock * flatLength
    }

    /// Floats of packed filters and of packed bias: blocks of 6 channels, or one block of all.
    var packedFilterCount: Int { taps * packedBiasCount }
    var packedBiasCount: Int { vectorsAlongChannels ? paddedOutputChannels : channelBlocks * Self.channelBlock }

    /// Where tap t = (c * R + r) * S + s of a window starts, relative to the window's first float.
    func tapOffsets() -> [Int] {
        var offsets: [Int] = []
        for c in 0..<inputChannels {
            for r in 0..<kernelHeight {
                for s in 0..<kernelWidth { offsets.append(c * channelStride + r * rowStride + s) }
            }
        }
        return offsets
    }

    /// Floats in one dense input image: C * H * W.
    var inputImageSize: Int { inputChannels * inputHeight * inputWidth }

    /// Copies one dense [C, H, W] image into `padded`, inside its zero border. Only the
    /// interior is written: the border and the spare floats were zeroed once, when the buffer
    /// was made (DirectBuffers), and stay zero.
    func pad(_ image: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        copyPlanes(
            inputChannels, rows: inputHeight, width: inputWidth,
            from: image, sourceStride: inputWidth, sourcePlaneStride: inputHeight * inputWidth,
            to: padded + inputOrigin, targetStride: rowStride, targetPlaneStride: channelStride)
    }

    /// The filters as the kernels read them: [channel block][tap][`block` channels], zero past
    /// the last channel. Forward, filter (o, i) is w[o, i]; rotated, it is w[i, o] turned by 180
    /// degrees.
    func packFilters(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, block: Int = channelBlock) {
        let area = kernelHeight * kernelWidth
        for b in 0..<(outputChannels + block - 1) / block {
            for t in 0..<taps {
                let (i, tap) = t.quotientAndRemainder(dividingBy: area)
                for j in 0..<block {
                    let o = b * block + j
                    let value: Float
                    if o >= outputChannels {
                        value = 0
                    } else if rotated {
                        value = w[(i * outputChannels + o) * area + area - 1 - tap]
                    } else {
                        value = w[(o * inputChannels + i) * area + tap]
                    }
                    packed[(b * taps + t) * block + j] = value
                }
            }
        }
    }
}

extension ConvolutionGeometry {
    /// Whether the direct kernels can compute this convolution: stride 1 and one group.
    public var supportsDirect: Bool { strideHeight == 1 && strideWidth == 1 && groups == 1 }
}

/// Per-worker slices of one buffer: worker w's `perWorker` floats start at w * perWorker.
struct WorkerSlices: ~Copyable {
    let buffer: AlignedBuffer, perWorker: Int

    /// `zeroed`: for layouts whose borders and garbage lanes must read as zero; the kernels
    /// write only the other floats, so one zeroing here lasts for the buffer's life.
    init(workers: Int, perWorker: Int, zeroed: Bool = false) {
        self.perWorker = perWorker
        buffer = AlignedBuffer(count: workers * perWorker)
        if zeroed { buffer.pointer.update(repeating: 0, count: workers * perWorker) }
    }

    subscript(worker: Int) -> UnsafeMutablePointer<Float> { buffer.pointer + worker * perWorker }

    /// The sum of floats offset ..< offset + count of the first `workers` slices, added worker by
    /// worker in order, so that per-worker partial sums reduce to the same result every run.
    func sumInWorkerOrder(from offset: Int, count: Int, workers: Int) -> Float {
        var sum: Float = 0
        for worker in 0..<workers {
            let partial = self[worker] + offset
            for j in 0..<count { sum += partial[j] }
        }
        return sum
    }
}

/// Scratch for the direct kernels: each worker's padded images (one layout per problem, so
/// that their zero borders never need rewriting), flat output rows and flat copy of dy, the
/// packed filters, and per-worker partial filter gradients.
public struct DirectBuffers: ~Copyable {
    let forwardPadded: WorkerSlices, backwardPadded: WorkerSlices
    let flat: WorkerSlices, gradientRows: WorkerSlices, partialGradients: WorkerSlices
    /// One image of dy per worker, for a dy made image by image (ImageBatch.throughPool).
    let madeImages: WorkerSlices
    let packedFilters: AlignedBuffer
    /// The bias of every output channel, zero past the last (and for backward-data).
    let packedBias: AlignedBuffer
    let forwardOffsets: [Int], backwardOffsets: [Int]
    /// Where each output position sits in the flat plane, for the channel-vector kernels.
    let forwardPositions: [Int], backwardPositions: [Int]

    init(_ g: ConvolutionGeometry, workers: Int) {
        let forward = DirectProblem(forward: g), backward = DirectProblem(backwardData: g)
        let workers = max(1, workers)
        forwardPadded = WorkerSlices(workers: workers, perWorker: forward.paddedImage, zeroed: true)
        backwardPadded = WorkerSlices(workers: workers, perWorker: backward.paddedImage, zeroed: true)
        // Forward and backward-data write whole tiles, every lane.
        flat = WorkerSlices(workers: workers, perWorker: max(forward.outputScratch, backward.outputScratch))
        // The filter gradient's copy of dy: flat rows, or transposed [positions][channels].
        gradientRows = WorkerSlices(
            workers: workers,
            perWorker: forward.vectorsAlongChannels
                ? forward.outputHeight * forward.outputWidth * forward.paddedOutputChannels
                : FilterGradientTile.paddedChannels(forward) * forward.flatLength, zeroed: true)
        partialGradients = WorkerSlices(
            workers: workers,
            perWorker: forward.vectorsAlongChannels
                ? ChannelVectorTile.partials(forward) : FilterGradientTile.partials(forward))
        madeImages = WorkerSlices(workers: workers, perWorker: backward.inputImageSize)
        packedFilters = AlignedBuffer(count: max(forward.packedFilterCount, backward.packedFilterCount))
        packedBias = AlignedBuffer(count: max(forward.packedBiasCount, backward.packedBiasCount))
        (forwardOffsets, backwardOffsets) = (forward.tapOffsets(), backward.tapOffsets())
        (forwardPositions, backwardPositions) = (forward.positionOffsets(), backward.positionOffsets())
    }

    /// No buffers, for convolutions that do not run directly.
    init() {
        forwardPadded = WorkerSlices(workers: 0, perWorker: 0)
        backwardPadded = WorkerSlices(workers: 0, perWorker: 0)
        flat = WorkerSlices(workers: 0, perWorker: 0)
        gradientRows = WorkerSlices(workers: 0, perWorker: 0)
        partialGradients = WorkerSlices(workers: 0, perWorker: 0)
        madeImages = WorkerSlices(workers: 0, perWorker: 0)
        packedFilters = AlignedBuffer(count: 0)
        packedBias = AlignedBuffer(count: 0)
        (forwardOffsets, backwardOffsets) = ([], [])
        (forwardPositions, backwardPositions) = ([], [])
    }

    /// Worker `worker`'s padded image, laid out for `problem`.
    func paddedImage(for problem: DirectProblem, worker: Int) -> UnsafeMutablePointer<Float> {
        problem.rotated ? backwardPadded[worker] : forwardPadded[worker]
    }

    /// Where each filter tap of `problem` reads, relative to the window's first float.
    func tapOffsets(for problem: DirectProblem) -> [Int] { problem.rotated ? backwardOffsets : forwardOffsets }

    /// Where each output position of `problem` sits in its flat plane.
    func positionOffsets(for problem: DirectProblem) -> [Int] { problem.rotated ? backwardPositions : forwardPositions }
}

/// y = f(conv(x) + b) for every image of `problem` (its forward pass or a layer's backward-data),
/// the batch split over the workers. x: [N, inputChannels, H, W], y: [N, outputChannels, P, Q].
/// afterImage(n) runs on the worker that wrote image n's output, as soon as it is written.
func directConvolve(
    _ problem: DirectProblem, input x: ImageBatch, weight w: UnsafePointer<Float>,
    bias b: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
    activation: FusedActivation, buffers: borrowing DirectBuffers, workers: Int,
    afterImage: (Int) -> Void = { _ in }
) {
    if problem.vectorsAlongChannels {
        return channelVectorConvolve(
            problem, input: x, weight: w, bias: b, output: y, activation: activation,
            buffers: buffers, workers: workers, afterImage: afterImage)
    }
    let (packed, biases) = (buffers.packedFilters.pointer, buffers.packedBias.pointer)
    problem.packFilters(w, into: packed)
    biases.update(repeating: 0, count: problem.channelBlocks * DirectProblem.channelBlock)
    if let b { biases.update(from: b, count: problem.outputChannels) }
    let (P, Q, L) = (problem.outputHeight, problem.outputWidth, problem.flatLength)
    let (rowStride, taps) = (problem.rowStride, problem.taps)
    let workers = max(1, min(workers, problem.batch))
    Parallel.forEachItem(problem.batch, workers: workers) { worker, n in
        let (image, rows) = (buffers.paddedImage(for: problem, worker: worker), buffers.flat[worker])
        let out = y + n * problem.outputImageStride
        problem.pad(x.image(n, size: problem.inputImageSize, scratch: buffers.madeImages[worker]), into: image)
        for block in 0..<problem.channelBlocks {
            let first = block * DirectProblem.channelBlock
            let (filters, bias) = (packed + first * taps, biases + first)
            let destination = OutputPlanes(
                start: out + first * P * Q, size: P * Q,
                count: min(DirectProblem.channelBlock, problem.outputChannels - first))
            // With the width a constant the tile's branch on it goes away, and with it the
            // arithmetic of a general width (a few percent on LeNet's layers).
            if problem.kernelWidth == 5 {
                directTile(
                    problem, kernelWidth: 5, image: image, filters: filters, bias: bias, rows: rows + first * L,
                    fetching: destination)
            } else {
                directTile(
                    problem, kernelWidth: problem.kernelWidth, image: image, filters: filters, bias: bias,
                    rows: rows + first * L, fetching: destination)
            }
        }
        // Each output row's Q valid floats into place, then the activation over the
        // image's whole output at once (no garbage lanes, no short rows).
        copyPlanes(
            problem.outputChannels, rows: P, width: Q,
            from: rows + problem.outputOrigin, sourceStride: rowStride, sourcePlaneStride: L,
            to: out, targetStride: Q, targetPlaneStride: P * Q)
        if activation != .none {
            applyActivation(out, out, count: problem.outputChannels * P * Q, bias: 0, activation)
        }
        afterImage(n)
    }
}

/// Where an image's output planes go in y (or dx), so that the kernels can have their lines
/// fetched while they compute. The planes are written once the image is done, and y is large
/// (LeNet's conv1: 4.8 MB a batch, in no cache): each store waited for its line to come from
/// memory, and copying the rows into y took longer than the tile's arithmetic. Requested a line
/// per plane per tile vector, they arrive while the multiply-adds run (MEASUREMENTS.md).
struct OutputPlanes {
    let start: UnsafeMutablePointer<Float>
    /// Floats per plane (P * Q), and how many planes the block has.
    let size: Int, count: Int

    /// Requests the line `offset` floats into every plane, if the planes reach that far. (The flat
    /// kernel's vectors run over flat planes, which are at least as long as output planes, so
    /// one request per vector reaches every line.)
    @inline(__always)
    func prefetchLine(at offset: Int) {
        guard offset < size else { return }
        for plane in 0..<count { prefetchForWrite(start + plane * size + offset) }
    }
}

/// Six channels' flat rows from one padded image: rows[j * L + i] = bias[j] + the sum over taps
/// t = (c, r, s) of filters[t * 6 + j] * image[c, i + r * rowStride + s], for i in 0..<L, sixteen
/// (or, with AVX-512, thirty-two) at a time.
///
/// Taps whose rows of the plane are all zero are skipped. For backward-data that is most of the
/// work it would otherwise do: dy sits inside a border of R - 1 zero rows on each side, and for
/// LeNet's conv2 (dy 10x10, dx 14x14) half of all the products a plain sweep makes are with
/// those zeros. A vector whose outputs lie in flat rows top ... bottom reads, through kernel row
/// r, plane rows top + r ... bottom + r; when none of them holds data, the row adds nothing.
@inline(__always)
private func directTile(
    _ problem: DirectProblem, kernelWidth S: Int, image: UnsafePointer<Float>,
    filters: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: UnsafeMutablePointer<Float>,
    fetching destination: OutputPlanes
) {
    // With AVX-512, two vectors of positions at a time: twelve chains of sums rather than six,
    // enough to keep both FMA units busy through the FMA's latency.
    var start = 0
    if GemmBlocking.wideTile {
        start = directVectors(
            SixChannelPairSums.self, from: 0, problem, kernelWidth: S, image: image,
            filters: filters, bias: bias, rows: rows, fetching: destination)
    }
    directVectors(
        SixChannelSums.self, from: start, problem, kernelWidth: S, image: image,
        filters: filters, bias: bias, rows: rows, fetching: destination)
}

/// directTile's sweep with one register tile, `Sums.positions` flat outputs per step, from
/// `start` while whole tiles fit the flat length; returns where it stopped.
@inline(__always) @discardableResult
private func directVectors<Sums: FlatChannelSums>(
    _: Sums.Type, from start: Int, _ problem: DirectProblem,
    kernelWidth S: Int, image: UnsafePointer<Float>,
    filters: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    rows: UnsafeMutablePointer<Float>,
    fetching destination: OutputPlanes
) -> Int {
    let (R, L) = (problem.kernelHeight, problem.flatLength)
    let (rowStride, channelStride) = (problem.rowStride, problem.channelStride)
    // The plane rows that hold data; every row outside them is zero border.
    let firstRow = problem.inputOrigin / rowStride, endRow = firstRow + problem.inputHeight
    var i = start
    while i + Sums.positions <= L {
        var sums = Sums(bias: bias)
        for lane in stride(from: 0, to: Sums.positions, by: DirectProblem.lanes) {
            destination.prefetchLine(at: i + lane)
        }
        let (top, bottom) = (i / rowStride, (i + Sums.positions - 1) / rowStride)
        let kernelRows = max(0, firstRow - bottom)..<max(0, min(R, endRow - top))
        for c in 0..<problem.inputChannels {
            for r in kernelRows {
                let row = image + i + c * channelStride + r * rowStride
                let f = filters + (c * R + r) * S * DirectProblem.channelBlock
                if S == 5 {
                    // LeNet's five taps written out. As a loop, even with S a known 5, LLVM
                    // unrolled it by two and kept the loop's branches in every kernel row.
                    sums.add(row, times: f)
                    sums.add(row + 1, times: f + 6)
                    sums.add(row + 2, times: f + 12)
                    sums.add(row + 3, times: f + 18)
                    sums.add(row + 4, times: f + 24)
                } else {
                    for s in 0..<S { sums.add(row + s, times: f + s * DirectProblem.channelBlock) }
                }
            }
        }
        sums.store(to: rows + i, channelStride: L)
        i += Sums.positions
    }
    return i
}

/// Sums of six output channels over a run of flat positions, held in registers.
private protocol FlatChannelSums {
    /// Flat positions per tile: a multiple of 16.
    static var positions: Int { get }
    init(bias: UnsafePointer<Float>)
    /// Channel j += f[j] * x[0 ..< positions]: one filter tap of the six channels.
    mutating func add(_ x: UnsafePointer<Float>, times f: UnsafePointer<Float>)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int)
}

/// The flat kernel's register tile: sixteen positions of six output channels, twelve AVX2
/// registers.
private struct SixChannelSums: FlatChannelSums {
    static var positions: Int { 16 }
    var c0, c1, c2, c3, c4, c5: SIMD16<Float>

    @inline(__always)
    init(bias: UnsafePointer<Float>) {
        (c0, c1, c2) = (SIMD16(repeating: bias[0]), SIMD16(repeating: bias[1]), SIMD16(repeating: bias[2]))
        (c3, c4, c5) = (SIMD16(repeating: bias[3]), SIMD16(repeating: bias[4]), SIMD16(repeating: bias[5]))
    }

    @inline(__always)
    mutating func add(_ x: UnsafePointer<Float>, times f: UnsafePointer<Float>) {
        add(loadVector(x), times: f)
    }

    @inline(__always)
    mutating func add(_ x: SIMD16<Float>, times f: UnsafePointer<Float>) {
        c0 = c0.addingProduct(f[0], x)
        c1 = c1.addingProduct(f[1], x)
        c2 = c2.addingProduct(f[2], x)
        c3 = c3.addingProduct(f[3], x)
        c4 = c4.addingProduct(f[4], x)
        c5 = c5.addingProduct(f[5], x)
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int) {
        storeVector(c0, to: out)
        storeVector(c1, to: out + channelStride)
        storeVector(c2, to: out + 2 * channelStride)
        storeVector(c3, to: out + 3 * channelStride)
        storeVector(c4, to: out + 4 * channelStride)
        storeVector(c5, to: out + 5 * channelStride)
    }
}

/// Thirty-two positions of six output channels, twelve AVX-512 registers: two tiles of sixteen
/// sharing each tap's six broadcasts.
private struct SixChannelPairSums: FlatChannelSums {
    static var positions: Int { 32 }
    var left, right: SixChannelSums

    @inline(__always)
    init(bias: UnsafePointer<Float>) {
        left = SixChannelSums(bias: bias)
        right = left
    }

    @inline(__always)
    mutating func add(_ x: UnsafePointer<Float>, times f: UnsafePointer<Float>) {
        left.add(loadVector(x), times: f)
        right.add(loadVector(x + 16), times: f)
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int) {
        left.store(to: out, channelStride: channelStride)
        right.store(to: out + 16, channelStride: channelStride)
    }
}

/// The direct kernels' register tiles, for the text that explains them (chapter 02, 2.8).
public enum DirectTileShapes {
    /// Output channels that share each vector of sixteen flat outputs (vectors along the row).
    public static var channelsPerRowVector: Int { DirectProblem.channelBlock }
    /// Output positions per tile when a vector holds sixteen output channels.
    public static var positionsPerChannelVector: Int { ChannelVectorTile.rows }
    /// SGEMM's AVX2 microkernel tile, rows x columns, whose shape the channel-vector tile shares.
    public static var gemmNarrowTile: (rows: Int, columns: Int) { (NarrowTile.rows, NarrowTile.columns) }
}
