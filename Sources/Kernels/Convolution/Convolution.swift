// Convolution.swift: 2-D convolution forward, backward-data and backward-filter, as SGEMMs.
//
// Letters as in ConvolutionGeometry.swift. Per image n and group g (K_g = K/G, CRS = C/G*R*S):
//   forward          y[K_g, PQ]   = w_g[K_g, CRS] * col[CRS, PQ]          (+ bias)
//   backward-data    dcol[CRS, PQ] = w_g^T * dy[K_g, PQ];  dx = col2im(dcol)
//   backward-filter  dw_g[K_g, CRS] += dy[K_g, PQ] * col^T;  db[k] += sum over PQ of dy[k, :]
// where col = im2col(x[n, group g]), or x itself for a pointwise (1x1, stride 1) convolution.
// Images go one at a time: a whole batch's im2col would not fit in memory (AlexNet's conv2 at
// batch 128 would need 830 MB), and each image's GEMM is already wide (P*Q columns).
// The workspace says which algorithm runs each pass (ConvolutionPasses; the caller chooses). A pass
// by Winograd (stride-1 3x3 and 5x5 layers) goes to Winograd.swift or WinogradFilterGradient.swift,
// and the direct passes (thin stride-1 layers) to DirectConvolution.swift, DirectFilterGradient.swift
// and DirectChannelVectors.swift; this file is the im2col route, and Im2col/SideBySide.swift its
// form for small planes (several images per product).

/// Where one image group's products run: threaded over `workers` slices of packing space, or,
/// when the batch itself is split over the workers, on one worker's own slice (workers: 1).
struct GemmTarget {
    let packingSpace: UnsafeMutablePointer<Float>
    let workers: Int

    func multiply(
        transA: Bool, transB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
            beta: beta, c: c, ldc: ldc, packingSpace: packingSpace, workers: workers)
    }
}

/// Calls `body(n, target, columns)` for every image. When one image's products are small, the
/// batch is split over the workers and each runs its images' products whole, with its own im2col
/// buffer; otherwise images go one by one and each product is threaded. Either way every image
/// writes only its own output, so the split needs no synchronisation.
private func forEachImage(
    _ g: ConvolutionGeometry, workspace: borrowing ConvolutionWorkspace,
    _ body: (Int, GemmTarget, UnsafeMutablePointer<Float>) -> Void
) {
    let (packing, workers) = (workspace.gemm.storage.pointer, workspace.workers)
    let columns = workspace.columns.pointer, perWorker = workspace.columnsPerWorker
    if g.splitsBatch(workers: workers) {
        Parallel.forEachWorker(workers) { worker in
            let ownSlice = GemmWorkspace.packingBlocks(at: packing, worker: worker).a
            let target = GemmTarget(packingSpace: ownSlice, workers: 1)
            for n in Parallel.chunk(worker, of: workers, splitting: g.batch) {
                body(n, target, columns + worker * perWorker)
            }
        }
    } else {
        let target = GemmTarget(packingSpace: packing, workers: workers)
        for n in 0..<g.batch { body(n, target, columns) }
    }
}

/// y = f(conv(x, w) + b) for the fused activation f (none, ReLU or sigmoid). x: [N, C, H, W],
/// w: [K, C/G, R, S], b: [K] or nil, y: [N, K, P, Q], image n at y + n * g.outputImageStride
/// (a concatenation's branch writes its channels of a wider output in place). The bias and the activation are applied to
/// each image's output while it is still in the cache, rather than in passes of their own over
/// the whole batch (for AlexNet's conv1 at batch 128 such a pass reads and writes 143 MB).
/// afterImage(n) runs once image n's output is complete: right away, on the worker that wrote
/// it, for the direct kernels (a pooling layer after them pools it while it is in L1); after
/// the whole pass, spread over the workers, for the others.
public func convolutionForward(
    _ g: ConvolutionGeometry, input x: UnsafePointer<Float>,
    weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
    output y: UnsafeMutablePointer<Float>, activation: FusedActivation = .none,
    workspace: borrowing ConvolutionWorkspace, afterImage: ((Int) -> Void)? = nil
) {
    if workspace.passes.forward == .direct {
        return MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
            directConvolve(
                DirectProblem(forward: g), input: .stored(x), weight: w, bias: b, output: y,
                activation: activation, buffers: workspace.direct, workers: workspace.workers,
                afterImage: afterImage ?? { _ in })
        }
    }
    storedForward(g, input: x, weight: w, bias: b, output: y, activation: activation, workspace: workspace)
    if let afterImage { Parallel.parallelFor(g.batch, afterImage) }
}

/// Forward by Winograd or through im2col.
private func storedForward(
    _ g: ConvolutionGeometry, input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
    bias b: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
    activation: FusedActivation, workspace: borrowing ConvolutionWorkspace
) {
    switch workspace.passes.forward {
    case .winograd:
        return runWinograd(
            g, WinogradProblem(forward: g), rotatingFilters: false, input: x, weight: w, bias: b,
            output: y, activation: activation, workspace: workspace)
    case .direct, .im2col: break
    }
    let (kPerGroup, plane) = (g.outputChannelsPerGroup, g.outputPlane)
    let images = min(g.imagesPerProduct(workers: workspace.workers), workspace.imagesPerProduct)
    if images > 1 {
        return forwardSideBySide(
            g, images: images, input: x, weight: w, bias: b, output: y, activation: activation,
            workspace: workspace)
    }
    forEachImage(g, workspace: workspace) { n, target, scratch in
        let out = y + n * g.outputImageStride
        for group in 0..<g.groups {
            let image = x + (n * g.inputChannels + group * g.inputChannelsPerGroup) * g.inputPlane
            target.multiply(
                transA: false, m: kPerGroup, n: plane, k: g.patchLength,
                a: w + group * kPerGroup * g.patchLength, lda: g.patchLength,
                b: lowered(g, image: image, scratch: scratch, workers: target.workers), ldb: plane,
                beta: 0, c: out + group * kPerGroup * plane, ldc: plane)
        }
        if b != nil || activation != .none {
            Parallel.parallelFor(g.outputChannels, workers: target.workers) { k in
                let row = out + k * plane
                applyActivation(row, row, count: plane, bias: b?[k] ?? 0, activation)
            }
        }
    }
}

/// One Winograd convolution of `problem` (the forward pass of g, or its backward-data): the
/// filters transformed (rotated for backward-data), then the tiles. The multiply-add counter
/// records the convolution's own count.
func runWinograd(
    _ g: ConvolutionGeometry, _ problem: WinogradProblem, rotatingFilters rotated: Bool,
    input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
    output y: UnsafeMutablePointer<Float>, activation: FusedActivation,
    workspace: borrowing ConvolutionWorkspace
) {
    let filters = workspace.winograd.transformedFilters.pointer
    winogradTransformFilters(
        w, tile: problem.tile, outputChannels: problem.outputChannels,
        inputChannels: problem.inputChannels, rotated: rotated, into: filters,
        workers: workspace.workers)
    MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
        winogradConvolve(
            problem, input: x, transformedFilters: filters, bias: b, output: y, activation: activation,
            buffers: workspace.winograd, packingSpace: workspace.gemm.storage.pointer,
            workers: workspace.workers)
    }
}

/// dx = the gradient of the loss with respect to x, given dy = its gradient with respect to y.
/// Overwrites dx: [N, C, H, W]. dy: [N, K, P, Q], w: [K, C/G, R, S].
public func convolutionBackwardData(
    _ g: ConvolutionGeometry, outputGradient dy: UnsafePointer<Float>,
    weight w: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
    workspace: borrowing ConvolutionWorkspace
) {
    convolutionBackwardData(g, outputGradient: .stored(dy), weight: w, inputGradient: dx, workspace: workspace)
}

/// The same, with dy stored or made image by image (the gradient through a pooling layer):
/// the direct kernels make each image where they read it; the others have it made whole first
/// (a caller running both backward passes makes it once instead; see Conv2d.backward).
public func convolutionBackwardData(
    _ g: ConvolutionGeometry, outputGradient source: ImageBatch,
    weight w: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
    workspace: borrowing ConvolutionWorkspace
) {
    if workspace.passes.backwardData == .direct {
        return MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
            directConvolve(
                DirectProblem(backwardData: g), input: source, weight: w, bias: nil, output: dx,
                activation: .none, buffers: workspace.direct, workers: workspace.workers)
        }
    }
    source.withStored { dy in
        // dx is the stride-1 convolution of dy with the rotated filters (see Winograd.swift).
        if workspace.passes.backwardData == .winograd {
            return runWinograd(
                g, WinogradProblem(backwardData: g), rotatingFilters: true, input: dy, weight: w,
                bias: nil, output: dx, activation: .none, workspace: workspace)
        }
        storedBackwardData(g, outputGradient: dy, weight: w, inputGradient: dx, workspace: workspace)
    }
}

/// Backward-data through im2col, from dy stored whole: per image, the column gradient w^T * dy,
/// added back into place.
private func storedBackwardData(
    _ g: ConvolutionGeometry, outputGradient dy: UnsafePointer<Float>,
    weight w: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
    workspace: borrowing ConvolutionWorkspace
) {
    let images = min(g.imagesPerProduct(workers: workspace.workers), workspace.imagesPerProduct)
    if images > 1 {
        return backwardDataSideBySide(
            g, images: images, outputGradient: dy, weight: w, inputGradient: dx, workspace: workspace)
    }
    let (kPerGroup, plane) = (g.outputChannelsPerGroup, g.outputPlane)
    forEachImage(g, workspace: workspace) { n, target, scratch in
        for group in 0..<g.groups {
            let gradient = dy + (n * g.outputChannels + group * kPerGroup) * plane
            let image = dx + (n * g.inputChannels + group * g.inputChannelsPerGroup) * g.inputPlane
            let weights = w + group * kPerGroup * g.patchLength
            // A pointwise convolution's column gradient is the input gradient itself.
            let columns = g.isPointwise ? image : scratch
            target.multiply(
                transA: true, m: g.patchLength, n: plane, k: kPerGroup, a: weights, lda: g.patchLength,
                b: gradient, ldb: plane, beta: 0, c: columns, ldc: plane)
            if !g.isPointwise {
                image.update(repeating: 0, count: g.inputChannelsPerGroup * g.inputPlane)
                col2imAccumulate(g, columns: columns, image: image, workers: target.workers)
            }
        }
    }
}

/// dw += the gradient with respect to the weights, db += with respect to the bias (when given).
/// Accumulates, so that gradients of several batches (or several uses of a layer) add up.
/// x: [N, C, H, W], dy: [N, K, P, Q], dw: [K, C/G, R, S], db: [K].
public func convolutionBackwardFilter(
    _ g: ConvolutionGeometry, input x: UnsafePointer<Float>,
    outputGradient dy: UnsafePointer<Float>,
    weightGradient dw: UnsafeMutablePointer<Float>,
    biasGradient db: UnsafeMutablePointer<Float>?,
    workspace: borrowing ConvolutionWorkspace
) {
    convolutionBackwardFilter(
        g, input: x, outputGradient: .stored(dy), weightGradient: dw, biasGradient: db,
        workspace: workspace)
}

/// The same, with dy stored or made image by image, as for convolutionBackwardData.
public func convolutionBackwardFilter(
    _ g: ConvolutionGeometry, input x: UnsafePointer<Float>,
    outputGradient source: ImageBatch,
    weightGradient dw: UnsafeMutablePointer<Float>,
    biasGradient db: UnsafeMutablePointer<Float>?,
    workspace: borrowing ConvolutionWorkspace
) {
    if workspace.passes.filterGradient == .direct {
        return MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
            directFilterGradient(
                DirectProblem(forward: g), input: x, outputGradient: source, weightGradient: dw,
                biasGradient: db, buffers: workspace.direct, workers: workspace.workers)
        }
    }
    source.withStored { dy in
        storedBackwardFilter(
            g, input: x, outputGradient: dy, weightGradient: dw, biasGradient: db, workspace: workspace)
    }
}

/// Backward-filter by Winograd or through im2col, from dy stored whole.
private func storedBackwardFilter(
    _ g: ConvolutionGeometry, input x: UnsafePointer<Float>,
    outputGradient dy: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>,
    biasGradient db: UnsafeMutablePointer<Float>?, workspace: borrowing ConvolutionWorkspace
) {
    let workers = workspace.workers
    if workspace.passes.filterGradient == .winograd {
        return MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
            winogradFilterGradient(
                WinogradProblem(forward: g), input: x, outputGradient: dy, weightGradient: dw,
                biasGradient: db, buffers: workspace.winograd,
                packingSpace: workspace.gemm.storage.pointer, workers: workers)
        }
    }
    let images = min(g.imagesPerProduct(workers: workers), workspace.imagesPerProduct)
    if images > 1 {
        return filterGradientSideBySide(
            g, images: images, input: x, outputGradient: dy, weightGradient: dw, biasGradient: db,
            workspace: workspace)
    }
    guard g.splitsBatch(workers: workers) else {
        let target = GemmTarget(packingSpace: workspace.gemm.storage.pointer, workers: workers)
        for n in 0..<g.batch {
            accumulateFilterGradient(
                g, image: n, x: x, dy: dy, dw: dw, db: db, target: target,
                scratch: workspace.columns.pointer)
        }
        return
    }
    // Small images: each worker sums its share of the batch into its own partial gradients, then
    // the partials are added in worker order (a fixed order, so the result repeats exactly).
    let (packing, columns, perWorker) = (
        workspace.gemm.storage.pointer, workspace.columns.pointer,
        workspace.columnsPerWorker
    )
    let stride = g.weightCount + g.outputChannels, partials = workspace.partialGradients.pointer
    Parallel.forEachWorker(workers) { worker in
        let own = partials + worker * stride
        own.update(repeating: 0, count: stride)
        let target = GemmTarget(packingSpace: GemmWorkspace.packingBlocks(at: packing, worker: worker).a, workers: 1)
        for n in Parallel.chunk(worker, of: workers, splitting: g.batch) {
            accumulateFilterGradient(
                g, image: n, x: x, dy: dy, dw: own, db: db == nil ? nil : own + g.weightCount,
                target: target, scratch: columns + worker * perWorker)
        }
    }
    for worker in 0..<workers {
        let own = partials + worker * stride
        for i in 0..<g.weightCount { dw[i] += own[i] }
        if let db { for k in 0..<g.outputChannels { db[k] += own[g.weightCount + k] } }
    }
}

/// dw += dy[n] * col(x[n])^T and db += the row sums of dy[n], for image n, every group.
private func accumulateFilterGradient(
    _ g: ConvolutionGeometry, image n: Int, x: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
    db: UnsafeMutablePointer<Float>?, target: GemmTarget,
    scratch: UnsafeMutablePointer<Float>
) {
    let (kPerGroup, plane) = (g.outputChannelsPerGroup, g.outputPlane)
    for group in 0..<g.groups {
        let image = x + (n * g.inputChannels + group * g.inputChannelsPerGroup) * g.inputPlane
        let gradient = dy + (n * g.outputChannels + group * kPerGroup) * plane
        let columns = lowered(g, image: image, scratch: scratch, workers: target.workers)
        accumulateProductGradient(
            g, group: group, gradient: gradient, columns: columns, width: plane, dw: dw, db: db, target: target)
    }
}

/// dw_g += gradient[K_g, width] * columns[C/G*R*S, width]^T, and db_g += the gradient's row sums:
/// the filter gradient of one product, one image's (width P*Q) or several side by side.
func accumulateProductGradient(
    _ g: ConvolutionGeometry, group: Int, gradient: UnsafePointer<Float>, columns: UnsafePointer<Float>,
    width: Int, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?, target: GemmTarget
) {
    let kPerGroup = g.outputChannelsPerGroup
    target.multiply(
        transA: false, transB: true, m: kPerGroup, n: g.patchLength, k: width,
        a: gradient, lda: width, b: columns, ldb: width,
        beta: 1, c: dw + group * kPerGroup * g.patchLength, ldc: g.patchLength)
    guard let db else { return }
    for k in 0..<kPerGroup {
        let row = gradient + k * width
        var sum: Float = 0
        for i in 0..<width { sum += row[i] }
        db[group * kPerGroup + k] += sum
    }
}

/// The GEMM's right-hand matrix [C/G*R*S, P*Q] for one image group: the image itself when
/// pointwise, otherwise its im2col in `scratch`, made by `workers` workers.
private func lowered(
    _ g: ConvolutionGeometry, image: UnsafePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, workers: Int
) -> UnsafePointer<Float> {
    if g.isPointwise { return image }
    im2col(g, image: image, columns: scratch, workers: workers)
    return UnsafePointer(scratch)
}
