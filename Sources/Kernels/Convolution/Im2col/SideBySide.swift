// SideBySide.swift: the im2col route for small output planes, several images per product.
//
// One image of a layer with a P x Q = 7 x 7 output gives products 49 columns wide, and every
// product re-packs the filters: NiN's 1x1 layers on 7x7 planes pack 65,536 weights to use
// each 49 times. Here `images` images share one product instead (ConvolutionGeometry.
// imagesPerProduct: about 1,024 columns), for all three passes. Per group g (K_g filters,
// CRS = C/G*R*S), with W = images * P * Q:
//   forward          wide[K_g, W]  = w_g[K_g, CRS] * col[CRS, W], then scattered into NCHW
//   backward-data    dcol[CRS, W]  = w_g^T * dy gathered into wide[K_g, W]; dx = col2im(dcol)
//   backward-filter  dw_g[K_g, CRS] += wide[K_g, W] * col^T;  db[k] += sum of wide's row k
// where col holds each image's im2col (a pointwise layer's image itself, gathered) in its own
// P * Q columns of every row. The images of a product are independent, so gathering and
// scattering are split over the workers by image; each product is one threaded SGEMM.

/// The forward pass for layers with small output planes: `images` images' columns side by side
/// in one [C/G*R*S, images*P*Q] matrix, one threaded GEMM into [K/G, images*P*Q], then each
/// image's block copied (with its bias and activation) into its place in the NCHW output.
func forwardSideBySide(
    _ g: ConvolutionGeometry, images: Int, input x: UnsafePointer<Float>,
    weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
    output y: UnsafeMutablePointer<Float>, activation: FusedActivation,
    workspace: borrowing ConvolutionWorkspace
) {
    let (kPerGroup, plane, workers) = (g.outputChannelsPerGroup, g.outputPlane, workspace.workers)
    let (columns, wide) = (workspace.columns.pointer, workspace.wideOutput.pointer)
    let target = GemmTarget(packingSpace: workspace.gemm.storage.pointer, workers: workers)
    forEachProduct(g, images: images) { first, count, width, group in
        lowerSideBySide(g, x, first: first, count: count, group: group, into: columns, workers: workers)
        target.multiply(
            transA: false, m: kPerGroup, n: width, k: g.patchLength,
            a: w + group * kPerGroup * g.patchLength, lda: g.patchLength,
            b: columns, ldb: width, beta: 0, c: wide, ldc: width)
        Parallel.parallelFor(count, workers: workers) { i in
            for k in 0..<kPerGroup {
                let source = wide + k * width + i * plane
                let target = y + (first + i) * g.outputImageStride + (group * kPerGroup + k) * plane
                applyActivation(source, target, count: plane, bias: b?[group * kPerGroup + k] ?? 0, activation)
            }
        }
    }
}

/// Calls `body(first, count, width, group)` for each product: images first..<first+count
/// (`images` at a time, the last product perhaps fewer), width = count * P * Q, each group.
private func forEachProduct(_ g: ConvolutionGeometry, images: Int, _ body: (Int, Int, Int, Int) -> Void) {
    for first in stride(from: 0, to: g.batch, by: images) {
        let count = min(images, g.batch - first)
        for group in 0..<g.groups { body(first, count, count * g.outputPlane, group) }
    }
}

/// im2col of images first..<first+count, group `group`, side by side in `columns`: image i's
/// columns at i*P*Q in every row (a pointwise layer's image copied as it is).
private func lowerSideBySide(
    _ g: ConvolutionGeometry, _ x: UnsafePointer<Float>, first: Int, count: Int, group: Int,
    into columns: UnsafeMutablePointer<Float>, workers: Int
) {
    let width = count * g.outputPlane
    Parallel.parallelFor(count, workers: workers) { i in
        let image = x + ((first + i) * g.inputChannels + group * g.inputChannelsPerGroup) * g.inputPlane
        im2col(g, image: image, columns: columns + i * g.outputPlane, rowStride: width)
    }
}

/// dy of images first..<first+count, group `group`, gathered into wide[K_g, count * P * Q]: image
/// i's rows in columns i*P*Q ..< (i+1)*P*Q.
private func gatherGradient(
    _ g: ConvolutionGeometry, _ dy: UnsafePointer<Float>, first: Int, count: Int, group: Int,
    into wide: UnsafeMutablePointer<Float>, workers: Int
) {
    let (kPerGroup, plane) = (g.outputChannelsPerGroup, g.outputPlane)
    let width = count * plane
    Parallel.parallelFor(count, workers: workers) { i in
        for k in 0..<kPerGroup {
            let source = dy + ((first + i) * g.outputChannels + group * kPerGroup + k) * plane
            (wide + k * width + i * plane).update(from: source, count: plane)
        }
    }
}

/// Backward-data for small planes: dcol[CRS, W] = w_g^T * wide, then each image's columns added
/// back into its (zeroed) dx; a pointwise layer's column gradient is dx itself, copied out.
func backwardDataSideBySide(
    _ g: ConvolutionGeometry, images: Int, outputGradient dy: UnsafePointer<Float>,
    weight w: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
    workspace: borrowing ConvolutionWorkspace
) {
    let (kPerGroup, plane, workers) = (g.outputChannelsPerGroup, g.outputPlane, workspace.workers)
    let (columns, wide) = (workspace.columns.pointer, workspace.wideOutput.pointer)
    let target = GemmTarget(packingSpace: workspace.gemm.storage.pointer, workers: workers)
    forEachProduct(g, images: images) { first, count, width, group in
        gatherGradient(g, dy, first: first, count: count, group: group, into: wide, workers: workers)
        target.multiply(
            transA: true, m: g.patchLength, n: width, k: kPerGroup,
            a: w + group * kPerGroup * g.patchLength, lda: g.patchLength,
            b: wide, ldb: width, beta: 0, c: columns, ldc: width)
        Parallel.parallelFor(count, workers: workers) { i in
            let image = dx + ((first + i) * g.inputChannels + group * g.inputChannelsPerGroup) * g.inputPlane
            if g.isPointwise {
                for c in 0..<g.inputChannelsPerGroup {
                    (image + c * plane).update(from: columns + c * width + i * plane, count: plane)
                }
            } else {
                image.update(repeating: 0, count: g.inputChannelsPerGroup * g.inputPlane)
                col2imAccumulate(g, columns: columns + i * plane, image: image, rowStride: width)
            }
        }
    }
}

/// Backward-filter for small planes: dw_g += wide * col^T over each product's images, and db
/// += wide's row sums. The products add into dw in image order, so the sum repeats exactly.
func filterGradientSideBySide(
    _ g: ConvolutionGeometry, images: Int, input x: UnsafePointer<Float>,
    outputGradient dy: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>,
    biasGradient db: UnsafeMutablePointer<Float>?, workspace: borrowing ConvolutionWorkspace
) {
    let workers = workspace.workers
    let (columns, wide) = (workspace.columns.pointer, workspace.wideOutput.pointer)
    let target = GemmTarget(packingSpace: workspace.gemm.storage.pointer, workers: workers)
    forEachProduct(g, images: images) { first, count, width, group in
        gatherGradient(g, dy, first: first, count: count, group: group, into: wide, workers: workers)
        lowerSideBySide(g, x, first: first, count: count, group: group, into: columns, workers: workers)
        accumulateProductGradient(
            g, group: group, gradient: wide, columns: columns, width: width, dw: dw, db: db, target: target)
    }
}
