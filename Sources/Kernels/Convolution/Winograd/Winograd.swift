// Winograd.swift: stride-1 convolutions by Winograd's minimal filtering (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): F(4x4, 3x3) for 3x3 filters and
// F(2x2, 5x5) for 5x5 ones. Both work on 6x6 tiles of input.
//
// Which plan rule picks it (ModernCNN's ExecutionRules.convolution): stride 1, one group, 3x3 or
// 5x5 filters and at least 16 channels each way (AlexNet's conv2-5, VGG's, GoogLeNet's 3x3).
//
// In F(4x4, 3x3), a 4x4 block of output needs a 6x6 block of input. Directly, one block and one
// pair of channels cost 16 * 9 = 144 multiplies. Winograd transforms the input block,
// V = B^T d B, and the filter, U = G g G^T, into 6x6 tiles in which the convolution is an
// element-wise product (36 multiplies), then transforms the product back, Y = A^T M A: 4x fewer
// multiplies. F(2x2, 5x5) does a 2x2 block of a 5x5 filter (100 multiplies directly) in the same
// 36: 2.8x fewer. Summed over input channels, each of the 36 tile positions xi becomes an
// ordinary matrix product, which runs on our SGEMM:
//   M[xi][K, T] = U[xi][K, C] * V[xi][C, T]         T = the output blocks of a chunk of images
// The price is the transforms (additions and small constants) and rounding: the matrices hold
// 1/24 and 8 (16 for 5x5), and results differ from direct convolution by a few parts in a
// million of the sum of |terms|, which the tests bound. Bigger tiles, F(6x6, 3x3), would save
// more multiplies but lose several bits in fp32 (NNPACK measured as much), so we stop at 6x6.
//
// Where the matrices come from: both are Toom-Cook on the six points 0, 1, -1, 2, -2 and
// infinity. G evaluates the filter polynomial at the points (row j: p_j^0 ... p_j^(r-1), scaled
// by 1/4, -1/6, -1/6, 1/24, 1/24, 1), B^T is the matching interpolation, which depends only on
// the points, so the two variants share it, and A^T (row i: p_j^i) sums the products back.
//
// Backward-data of a stride-1 convolution is itself a stride-1 convolution: of dy, with every
// filter rotated by 180 degrees, input and output channels swapped, and padding R - 1 - pad.
// So the same code runs both directions; only the filter transform reads w differently.

/// The two tile sizes: m x m outputs from a 6x6 input tile, for r x r filters (m + r - 1 = 6).
enum WinogradTile {
    case f4x4Kernel3x3, f2x2Kernel5x5

    init?(kernel: Int) {
        switch kernel {
        case 3: self = .f4x4Kernel3x3
        case 5: self = .f2x2Kernel5x5
        default: return nil
        }
    }

    /// m: output rows and columns per tile.
    var outputSize: Int { self == .f4x4Kernel3x3 ? 4 : 2 }
    /// r: the filter's size.
    var kernelSize: Int { self == .f4x4Kernel3x3 ? 3 : 5 }
    /// Blocks per product chunk: enough columns for the 36 products to run well, few enough
    /// that one chunk's transformed input and products stay near the caches.
    var chunkColumns: Int { self == .f4x4Kernel3x3 ? 256 : 512 }
}

/// The sizes of one Winograd convolution: input [N, C, H, W] with zero padding, r x r filters,
/// output [N, K, P, Q]. For backward-data, "input" is dy and "output" is dx.
struct WinogradProblem {
    let tile: WinogradTile
    let batch: Int, inputChannels: Int, outputChannels: Int
    let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int
    let paddingHeight: Int, paddingWidth: Int
    /// Floats from one image's output to the next (ConvolutionGeometry.outputImageStride).
    let outputImageStride: Int

    static let inputTile = 6, positions = 36

    /// The forward pass of `g`.
    init(forward g: ConvolutionGeometry) {
        tile = WinogradTile(kernel: g.kernelHeight)!
        batch = g.batch
        inputChannels = g.inputChannels
        outputChannels = g.outputChannels
        (inputHeight, inputWidth, outputHeight, outputWidth) = (
            g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth
        )
        (paddingHeight, paddingWidth) = (g.paddingHeight, g.paddingWidth)
        outputImageStride = g.outputImageStride
    }

    /// Backward-data of `g`: dy [N, K, P, Q] convolved to dx [N, C, H, W] with padding r - 1 - pad.
    init(backwardData g: ConvolutionGeometry) {
        tile = WinogradTile(kernel: g.kernelHeight)!
        batch = g.batch
        inputChannels = g.outputChannels
        outputChannels = g.inputChannels
        (inputHeight, inputWidth, outputHeight, outputWidth) = (
            g.outputHeight, g.outputWidth, g.inputHeight, g.inputWidth
        )
        let reach = g.kernelHeight - 1
        (paddingHeight, paddingWidth) = (reach - g.paddingHeight, reach - g.paddingWidth)
        outputImageStride = g.inputChannels * g.inputPlane
    }

    var tilesHigh: Int { (outputHeight + tile.outputSize - 1) / tile.outputSize }
    var tilesWide: Int { (outputWidth + tile.outputSize - 1) / tile.outputSize }
    var tilesPerImage: Int { tilesHigh * tilesWide }
    var inputPlane: Int { inputHeight * inputWidth }
    var outputPlane: Int { outputHeight * outputWidth }

    /// The zero-bordered copy of one input plane that every tile reads without bounds checks:
    /// m * tilesHigh + r - 1 rows of m * tilesWide + r + 1 floats (two spare, so that an 8-wide
    /// load at the last tile stays inside).
    var paddedRowStride: Int { tile.outputSize * tilesWide + tile.kernelSize + 1 }
    var paddedPlane: Int { (tile.outputSize * tilesHigh + tile.kernelSize - 1) * paddedRowStride }

    /// Images per chunk: about `tile.chunkColumns` blocks.
    var imagesPerChunk: Int { max(1, min(batch, tile.chunkColumns / tilesPerImage)) }
}

extension ConvolutionGeometry {
    /// Whether Winograd can compute this convolution: 3x3 or 5x5 filters, stride 1, one group,
    /// and padding at most r - 1 (so that backward-data's padding r - 1 - pad is not negative).
    public var supportsWinograd: Bool {
        (kernelHeight == 3 || kernelHeight == 5) && kernelWidth == kernelHeight
            && strideHeight == 1 && strideWidth == 1 && groups == 1
            && paddingHeight < kernelHeight && paddingWidth < kernelWidth
    }
}

/// Transforms every r x r filter into its 6x6 tile, U = G g G^T, stored as u[xi][o][i] (the
/// left-hand matrices of the 36 products). Forward: filter (o, i) is w[o, i]. Backward-data
/// (`rotated`): filter (o, i) is w[i, o] turned by 180 degrees.
func winogradTransformFilters(
    _ w: UnsafePointer<Float>, tile: WinogradTile, outputChannels: Int, inputChannels: Int,
    rotated: Bool, into u: UnsafeMutablePointer<Float>, workers: Int
) {
    let stride = outputChannels * inputChannels, r = tile.kernelSize, area = r * r
    Parallel.parallelFor(outputChannels, workers: workers) { o in
        for i in 0..<inputChannels {
            let g = rotated ? w + (i * outputChannels + o) * area : w + (o * inputChannels + i) * area
            // Row `row` of the filter as a vector over its columns (rotated: rows and columns reversed).
            func row(_ row: Int) -> SIMD8<Float> {
                var v = SIMD8<Float>()
                for s in 0..<r { v[s] = rotated ? g[area - 1 - row * r - s] : g[row * r + s] }
                return v
            }
            // G g down the rows; then G along them, through the r columns of G g: lane j of `uc`
            // is U[j][c].
            let rows = (row(0), row(1), row(2), r == 5 ? row(3) : .zero, r == 5 ? row(4) : .zero)
            let (l0, l1, l2, l3, l4, l5) = filterTransform(tile, rows.0, rows.1, rows.2, rows.3, rows.4)
            func column(_ s: Int) -> SIMD8<Float> { SIMD8(l0[s], l1[s], l2[s], l3[s], l4[s], l5[s], 0, 0) }
            let (u0, u1, u2, u3, u4, u5) = filterTransform(
                tile, column(0), column(1), column(2),
                r == 5 ? column(3) : .zero, r == 5 ? column(4) : .zero)
            scatterTile(u0, u1, u2, u3, u4, u5, to: u + o * inputChannels + i, positionStride: stride)
        }
    }
}

/// G applied down r rows (g3 and g4 are zero for 3x3 filters): six rows out, one per point
/// 0, 1, -1, 2, -2, infinity.
@inline(__always)
private func filterTransform(
    _ tile: WinogradTile, _ g0: SIMD8<Float>, _ g1: SIMD8<Float>, _ g2: SIMD8<Float>,
    _ g3: SIMD8<Float>, _ g4: SIMD8<Float>
)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
{
    // The filter polynomial g(p) = g0 + g1 p + g2 p^2 (+ g3 p^3 + g4 p^4), split into its even
    // and odd parts so that g(1), g(-1), g(2), g(-2) share them.
    let even1 = g0 + g2 + g4, odd1 = g1 + g3
    let even2 = g0 + 4 * g2 + 16 * g4, odd2 = 2 * g1 + 8 * g3
    let last = tile == .f4x4Kernel3x3 ? g2 : g4
    return (g0 / 4, -(even1 + odd1) / 6, -(even1 - odd1) / 6, (even2 + odd2) / 24, (even2 - odd2) / 24, last)
}

// snippet: winograd-input-transform
/// B^T applied down six rows (each a vector over columns): the input transform's first half.
@inline(__always)
private func inputTransform(
    _ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>,
    _ d4: SIMD8<Float>, _ d5: SIMD8<Float>
) -> (
    SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
    SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
) {
    let t0 = 4 * d0 - 5 * d2 + d4
    let t1 = -4 * (d1 + d2) + d3 + d4
    let t2 = 4 * (d1 - d2) - d3 + d4
    let t3 = 2 * (d3 - d1) - d2 + d4
    let t4 = 2 * (d1 - d3) - d2 + d4
    let t5 = 4 * d1 - 5 * d3 + d5
    return (t0, t1, t2, t3, t4, t5)
}
// end snippet: winograd-input-transform

/// A^T applied down six rows: the output transform's first half, m rows out (four rows are
/// returned; for F(2x2, 5x5) only the first two mean anything). Row i weighs the point p by p^i,
/// and the point at infinity only in the last row.
@inline(__always)
private func outputTransform(
    _ tile: WinogradTile, _ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>,
    _ m3: SIMD8<Float>, _ m4: SIMD8<Float>, _ m5: SIMD8<Float>
)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
{
    let (sum12, difference12) = (m1 + m2, m1 - m2)
    let (sum34, difference34) = (m3 + m4, m3 - m4)
    let row1 = difference12 + 2 * difference34
    if tile == .f2x2Kernel5x5 { return (m0 + sum12 + sum34, row1 + m5, .zero, .zero) }
    return (m0 + sum12 + sum34, row1, sum12 + 4 * sum34, difference12 + 8 * difference34 + m5)
}

/// Stores a 6x6 tile given by its columns (lane i of `cj` is tile[i][j]) into the 36 position
/// matrices: tile[i][j] goes to target[(i * 6 + j) * positionStride].
@inline(__always)
func scatterTile(
    _ c0: SIMD8<Float>, _ c1: SIMD8<Float>, _ c2: SIMD8<Float>, _ c3: SIMD8<Float>,
    _ c4: SIMD8<Float>, _ c5: SIMD8<Float>, to target: UnsafeMutablePointer<Float>, positionStride: Int
) {
    for i in 0..<6 {
        let base = target + i * 6 * positionStride
        base[0] = c0[i]
        base[positionStride] = c1[i]
        base[2 * positionStride] = c2[i]
        base[3 * positionStride] = c3[i]
        base[4 * positionStride] = c4[i]
        base[5 * positionStride] = c5[i]
    }
}

/// Row i of a 6x6 tile stored in the 36 position matrices (as scatterTile stores it), as a
/// vector over its columns.
@inline(__always)
func gatherTileRow(_ i: Int, from source: UnsafePointer<Float>, positionStride: Int) -> SIMD8<Float> {
    let base = source + i * 6 * positionStride
    return SIMD8(
        base[0], base[positionStride], base[2 * positionStride], base[3 * positionStride],
        base[4 * positionStride], base[5 * positionStride], 0, 0)
}

/// Column j of six row vectors, as one vector (lanes 6 and 7 zero).
@inline(__always)
func column(
    _ j: Int, _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
    _ r4: SIMD8<Float>, _ r5: SIMD8<Float>
) -> SIMD8<Float> {
    SIMD8(r0[j], r1[j], r2[j], r3[j], r4[j], r5[j], 0, 0)
}

/// y = f(conv(x, filters) + bias) for a fused activation f, by Winograd, with the filters already
/// transformed into `u` ([36, K, C]). Works through the batch in chunks of `imagesPerChunk`
/// images; each chunk's three steps (input transform, 36 products, output transform) are split
/// over the workers.
func winogradConvolve(
    _ s: WinogradProblem, input x: UnsafePointer<Float>, transformedFilters u: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, activation: FusedActivation = .none,
    buffers: borrowing WinogradBuffers, packingSpace: UnsafeMutablePointer<Float>, workers: Int
) {
    let (C, K, tiles) = (s.inputChannels, s.outputChannels, s.tilesPerImage)
    let (v, m, padded) = (buffers.transformedInput.pointer, buffers.products.pointer, buffers.paddedPlanes.pointer)
    let chunk = min(buffers.imagesPerChunk, s.imagesPerChunk)
    for first in stride(from: 0, to: s.batch, by: chunk) {
        let count = min(chunk, s.batch - first), T = count * tiles
        // 1. V[xi][c][t] = B^T d B for every 6x6 input block d of every image and channel.
        transformInputChunk(
            s, input: x, images: first..<(first + count), into: v, paddedPlanes: padded, workers: workers)
        // 2. The 36 products, each single-threaded on its worker's packing space.
        Parallel.forEachWorker(workers) { worker in
            let ownSpace = GemmWorkspace.packingBlocks(at: packingSpace, worker: worker).a
            for xi in Parallel.chunk(worker, of: workers, splitting: WinogradProblem.positions) {
                sgemm(
                    transA: false, transB: false, m: K, n: T, k: C, alpha: 1, a: u + xi * K * C, lda: C,
                    b: v + xi * C * T, ldb: T, beta: 0, c: m + xi * K * T, ldc: T,
                    packingSpace: ownSpace, workers: 1)
            }
        }
        // 3. Y = A^T M A for every block, plus the bias, cut to the output's edges.
        Parallel.forEachWorker(workers) { worker in
            for item in Parallel.chunk(worker, of: workers, splitting: count * K) {
                let (i, k) = item.quotientAndRemainder(dividingBy: K)
                let plane = y + (first + i) * s.outputImageStride + k * s.outputPlane
                transformOutputTiles(
                    s, products: m + k * T + i * tiles, positionStride: K * T,
                    bias: bias?[k] ?? 0, into: plane)
                if activation != .none { applyActivation(plane, plane, count: s.outputPlane, bias: 0, activation) }
            }
        }
    }
}

/// V[xi][c][t] = B^T d B for the 6x6 input blocks of `images` (a chunk of the batch), every
/// channel, block t of the chunk's T; split over the workers, each with its own padded plane.
func transformInputChunk(
    _ s: WinogradProblem, input x: UnsafePointer<Float>, images: Range<Int>,
    into v: UnsafeMutablePointer<Float>, paddedPlanes: UnsafeMutablePointer<Float>, workers: Int
) {
    let (C, tiles) = (s.inputChannels, s.tilesPerImage), T = images.count * tiles
    Parallel.forEachWorker(workers) { worker in
        let plane = paddedPlanes + worker * s.paddedPlane
        for item in Parallel.chunk(worker, of: workers, splitting: images.count * C) {
            let (i, c) = item.quotientAndRemainder(dividingBy: C)
            copyPadded(s, plane: x + ((images.lowerBound + i) * C + c) * s.inputPlane, into: plane)
            transformInputTiles(s, paddedPlane: plane, into: v + c * T + i * tiles, positionStride: C * T)
        }
    }
}

/// Copies one H x W plane into the middle of a zero border: `padding` rows and columns before,
/// and after it as many as the last tile needs.
private func copyPadded(_ s: WinogradProblem, plane x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
    let rowStride = s.paddedRowStride, rows = s.paddedPlane / rowStride
    for r in 0..<rows {
        let to = padded + r * rowStride, h = r - s.paddingHeight
        guard h >= 0 && h < s.inputHeight else {
            to.update(repeating: 0, count: rowStride)
            continue
        }
        let copied = min(s.inputWidth, rowStride - s.paddingWidth)
        to.update(repeating: 0, count: s.paddingWidth)
        (to + s.paddingWidth).update(from: x + h * s.inputWidth, count: copied)
        (to + s.paddingWidth + copied).update(repeating: 0, count: rowStride - s.paddingWidth - copied)
    }
}

/// V = B^T d B for every block of one padded plane; block t's 36 values go to v[xi * stride + t].
/// Eight blocks at a time, one per lane: each block's 36 inputs are gathered into lanes, and
/// then both halves of the transform are plain vector arithmetic and V's values for eight
/// consecutive blocks are one store per position (they are adjacent in v).
private func transformInputTiles(
    _ s: WinogradProblem, paddedPlane: UnsafeMutablePointer<Float>,
    into v: UnsafeMutablePointer<Float>, positionStride: Int
) {
    let rowStride = s.paddedRowStride
    withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: WinogradProblem.positions) { scratch in
        let half = scratch.baseAddress!  // half[i * 6 + j] = (B^T d)[i][j], eight blocks wide
        for first in stride(from: 0, to: s.tilesPerImage, by: 8) {
            let count = min(8, s.tilesPerImage - first)
            let corner = s.blockCorners(first: first, count: count, rowStride: rowStride)
            // B^T down each column j of the blocks.
            for j in 0..<6 {
                func d(_ i: Int) -> SIMD8<Float> {
                    let base = paddedPlane + i * rowStride + j
                    return SIMD8(
                        base[corner[0]], base[corner[1]], base[corner[2]], base[corner[3]],
                        base[corner[4]], base[corner[5]], base[corner[6]], base[corner[7]])
                }
                let (t0, t1, t2, t3, t4, t5) = inputTransform(d(0), d(1), d(2), d(3), d(4), d(5))
                (half[j], half[6 + j], half[12 + j], half[18 + j], half[24 + j], half[30 + j]) = (
                    t0, t1, t2, t3, t4, t5
                )
            }
            // Then along each row i: V[i][j], position i * 6 + j.
            for i in 0..<6 {
                let row = half + i * 6
                let (v0, v1, v2, v3, v4, v5) = inputTransform(row[0], row[1], row[2], row[3], row[4], row[5])
                func put(_ j: Int, _ value: SIMD8<Float>) {
                    let target = v + (i * 6 + j) * positionStride + first
                    if count == 8 {
                        storeVector8(value, to: target)
                    } else {
                        for l in 0..<count { target[l] = value[l] }
                    }
                }
                put(0, v0)
                put(1, v1)
                put(2, v2)
                put(3, v3)
                put(4, v4)
                put(5, v5)
            }
        }
    }
}

/// Y = A^T M A (+ bias) for every block of one output plane, M read from m[xi * stride + t].
/// Eight blocks at a time, one per lane, as transformInputTiles: M's values for eight
/// consecutive blocks are one load per position; each lane's m x m result is then written to
/// its place in the plane, cut to the plane's edges.
private func transformOutputTiles(
    _ s: WinogradProblem, products m: UnsafePointer<Float>, positionStride: Int,
    bias: Float, into y: UnsafeMutablePointer<Float>
) {
    let size = s.tile.outputSize
    withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: WinogradProblem.positions + 16) { scratch in
        // half[a * 6 + j] = (A^T M)[a][j] for a < 4; result[a * 4 + b] = Y[a][b].
        let (half, result) = (scratch.baseAddress!, scratch.baseAddress! + 24)
        for first in stride(from: 0, to: s.tilesPerImage, by: 8) {
            let count = min(8, s.tilesPerImage - first)
            for j in 0..<6 {
                func products(_ i: Int) -> SIMD8<Float> {
                    let source = m + (i * 6 + j) * positionStride + first
                    if count == 8 { return loadVector8(source) }
                    var lanes = SIMD8<Float>()
                    for l in 0..<count { lanes[l] = source[l] }
                    return lanes
                }
                let (r0, r1, r2, r3) = outputTransform(
                    s.tile, products(0), products(1), products(2), products(3),
                    products(4), products(5))
                (half[j], half[6 + j], half[12 + j], half[18 + j]) = (r0, r1, r2, r3)
            }
            for a in 0..<size {
                let row = half + a * 6
                let (o0, o1, o2, o3) = outputTransform(s.tile, row[0], row[1], row[2], row[3], row[4], row[5])
                (result[a * 4], result[a * 4 + 1], result[a * 4 + 2], result[a * 4 + 3]) = (o0, o1, o2, o3)
            }
            for l in 0..<count {
                let (th, tw) = (first + l).quotientAndRemainder(dividingBy: s.tilesWide)
                let (top, left) = (size * th, size * tw)
                let rows = min(size, s.outputHeight - top), columns = min(size, s.outputWidth - left)
                for a in 0..<rows {
                    let out = y + (top + a) * s.outputWidth + left
                    let values =
                        SIMD4(
                            result[a * 4][l], result[a * 4 + 1][l], result[a * 4 + 2][l],
                            result[a * 4 + 3][l]) + bias
                    if columns == 4 {
                        UnsafeMutableRawPointer(out).storeBytes(of: values, as: SIMD4<Float>.self)
                    } else {
                        for b in 0..<columns { out[b] = values[b] }
                    }
                }
            }
        }
    }
}

extension WinogradProblem {
    /// The offsets in the padded plane of blocks first ..< first + count, one per lane; lanes
    /// past the last block repeat it, so that every lane reads inside the plane.
    @inline(__always)
    func blockCorners(first: Int, count: Int, rowStride: Int) -> SIMD8<Int> {
        var corner = SIMD8<Int>()
        for l in 0..<8 {
            let (th, tw) = (first + min(l, count - 1)).quotientAndRemainder(dividingBy: tilesWide)
            corner[l] = tile.outputSize * (th * rowStride + tw)
        }
        return corner
    }
}

/// Scratch for Winograd convolutions of one geometry, all three passes: the transformed filters
/// (or the filter gradient's 36 products), one chunk's transformed input and products, and a
/// padded plane per worker.
public struct WinogradBuffers: ~Copyable {
    let transformedFilters: AlignedBuffer
    let transformedInput: AlignedBuffer
    let products: AlignedBuffer
    let paddedPlanes: AlignedBuffer
    let imagesPerChunk: Int

    init(_ g: ConvolutionGeometry, workers: Int) {
        let forward = WinogradProblem(forward: g), backward = WinogradProblem(backwardData: g)
        imagesPerChunk = min(forward.imagesPerChunk, backward.imagesPerChunk)
        let columns = imagesPerChunk * max(forward.tilesPerImage, backward.tilesPerImage)
        let channels = max(g.inputChannels, g.outputChannels)
        transformedFilters = AlignedBuffer(count: WinogradProblem.positions * g.inputChannels * g.outputChannels)
        transformedInput = AlignedBuffer(count: WinogradProblem.positions * channels * columns)
        products = AlignedBuffer(count: WinogradProblem.positions * channels * columns)
        paddedPlanes = AlignedBuffer(count: workers * max(forward.paddedPlane, backward.paddedPlane))
    }

    /// No buffers, for convolutions that do not use Winograd.
    init() {
        transformedFilters = AlignedBuffer(count: 0)
        transformedInput = AlignedBuffer(count: 0)
        products = AlignedBuffer(count: 0)
        paddedPlanes = AlignedBuffer(count: 0)
        imagesPerChunk = 0
    }
}

extension ConvolutionGeometry {
    /// Output positions Winograd computes per position wanted: whole m x m tiles cover the
    /// plane, so a 3x3 plane under F(4x4, 3x3) costs a 4x4 tile (1.78) and a 7x7 plane under
    /// F(2x2, 5x5) four by four 2x2 tiles (1.31). Only for geometries that support Winograd.
    public var winogradTileWaste: Double {
        let problem = WinogradProblem(forward: self)
        let m = problem.tile.outputSize
        return Double(problem.tilesPerImage * m * m) / Double(outputPlane)
    }
}
