// ChannelsLastWinograd.swift: 3x3 convolutions on channels-last batches by Winograd F(2x2, 3x3).
//
// Winograd.swift explains the idea on F(4x4, 3x3): transform input tiles and filters so that
// the convolution becomes element-wise products, summed over channels as one matrix product per
// tile position. On 6x6 planes F(4x4, 3x3)'s 6x6 tiles would cover 8x8 outputs for 36; here each
// 4x4 input tile gives a 2x2 block of output, so a 6x6 plane is exactly nine tiles and a 2x2
// block costs 16 multiplies per pair of channels instead of 36 directly: 2.25x fewer. Its
// matrices hold only 0, +-1 and 1/2, so it rounds hardly more than the direct sum (Lavin & Gray):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   V = B^T d B    (input tile d, 4x4)
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]  U = G g G^T    (filter g, 3x3)
//   A^T = [1 1 1 0; 0 1 -1 -1]                      Y = A^T M A    (M = U . V summed over C)
// Channels-last, a tile's sixteen positions are each a row of C floats, so both transforms run
// on vectors of sixteen channels with no gathering, and the 16 products are
//   M[xi][T, K] = V[xi][T, C] * U[xi][K, C]^T     T = a chunk of the batch's tiles.

/// Tile positions of F(2x2, 3x3): 4 x 4.
private let positions = 16

extension ConvolutionGeometry {
    /// Whether Winograd F(2x2, 3x3) computes this convolution channels-last: 3x3 filters,
    /// stride 1, one group, padding at most 2.
    public var supportsChannelsLastWinograd: Bool {
        kernelHeight == 3 && kernelWidth == 3 && strideHeight == 1 && strideWidth == 1 && groups == 1
            && paddingHeight <= 2 && paddingWidth <= 2
    }

    /// Output positions F(2x2, 3x3) computes per position wanted: 1 on even planes, 16/9 on 3x3.
    public var channelsLastWinogradTileWaste: Double {
        Double(tiles2x2PerImage * 4) / Double(outputPlane)
    }

    var tiles2x2High: Int { (outputHeight + 1) / 2 }
    var tiles2x2Wide: Int { (outputWidth + 1) / 2 }
    var tiles2x2PerImage: Int { tiles2x2High * tiles2x2Wide }

    /// Images per chunk: about 2 M floats of transformed input and products (8 MB).
    var channelsLastWinogradImagesPerChunk: Int {
        let tiles = (1 << 21) / (positions * (inputChannels + outputChannels))
        return max(1, min(batch, tiles / tiles2x2PerImage))
    }
}

/// Buffers of channels-last Winograd: the transformed filters [16, K, C], and one chunk's
/// transformed input [16, T, C] and products [16, T, K].
struct ChannelsLastWinogradBuffers: ~Copyable {
    let filters: AlignedBuffer
    let input: AlignedBuffer
    let products: AlignedBuffer

    init(for geometries: [ConvolutionGeometry]) {
        func largest(_ count: (ConvolutionGeometry) -> Int) -> Int { geometries.map(count).max() ?? 0 }
        func tiles(_ g: ConvolutionGeometry) -> Int { g.channelsLastWinogradImagesPerChunk * g.tiles2x2PerImage }
        filters = AlignedBuffer(count: largest { positions * $0.outputChannels * $0.inputChannels })
        input = AlignedBuffer(count: largest { positions * tiles($0) * $0.inputChannels })
        products = AlignedBuffer(count: largest { positions * tiles($0) * $0.outputChannels })
    }
}

/// y = f(conv(x, w) + b) by F(2x2, 3x3), channels-last; arguments as channelsLastConvolutionForward.
func channelsLastWinogradForward(
    _ g: ConvolutionGeometry, input x: UnsafePointer<Float>, inputRowStride: Int,
    weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
    output y: UnsafeMutablePointer<Float>, outputRowStride: Int, activation: FusedActivation,
    workspace: borrowing ChannelsLastWorkspace
) {
    precondition(g.supportsChannelsLastWinograd, "\(g): not a stride-1 3x3 convolution")
    let (C, K, workers) = (g.inputChannels, g.outputChannels, workspace.gemm.workers)
    let imagesPerChunk = g.channelsLastWinogradImagesPerChunk, tilesPerImage = g.tiles2x2PerImage
    precondition(
        workspace.winograd.filters.count >= positions * K * C
            && workspace.winograd.input.count >= positions * imagesPerChunk * tilesPerImage * C
            && workspace.winograd.products.count >= positions * imagesPerChunk * tilesPerImage * K,
        "channels-last workspace too small for \(g)")
    let (u, v, m) = (
        workspace.winograd.filters.pointer, workspace.winograd.input.pointer, workspace.winograd.products.pointer
    )
    let packing = workspace.gemm.storage.pointer
    transformFilters2x2(w, outputChannels: K, inputChannels: C, into: u, workers: workers)
    for first in stride(from: 0, to: g.batch, by: imagesPerChunk) {
        let images = first..<min(g.batch, first + imagesPerChunk), T = images.count * tilesPerImage
        // V[xi][t][c] for the chunk's tiles t.
        Parallel.parallelFor(T, workers: workers) { t in
            transformInputTile2x2(
                g, x, inputRowStride: inputRowStride, image: images.lowerBound + t / tilesPerImage,
                tile: t % tilesPerImage, into: v + t * C, positionStride: T * C)
        }
        // The 16 products, each single-threaded on its worker's packing space.
        Parallel.forEachWorker(workers) { worker in
            let ownSpace = GemmWorkspace.packingBlocks(at: packing, worker: worker).a
            for xi in Parallel.chunk(worker, of: workers, splitting: positions) {
                sgemm(
                    transA: false, transB: true, m: T, n: K, k: C, alpha: 1, a: v + xi * T * C, lda: C,
                    b: u + xi * K * C, ldb: C, beta: 0, c: m + xi * T * K, ldc: K,
                    packingSpace: ownSpace, workers: 1)
            }
        }
        // Y = A^T M A, plus bias and activation, into the output rows.
        Parallel.parallelFor(T, workers: workers) { t in
            transformOutputTile2x2(
                g, products: m + t * K, positionStride: T * K, image: images.lowerBound + t / tilesPerImage,
                tile: t % tilesPerImage, bias: b, activation: activation, into: y, outputRowStride: outputRowStride)
        }
    }
}

/// U[xi][k][c] = (G g G^T)[xi] for every filter g = w[k, c] (3x3).
private func transformFilters2x2(
    _ w: UnsafePointer<Float>, outputChannels K: Int, inputChannels C: Int,
    into u: UnsafeMutablePointer<Float>, workers: Int
) {
    Parallel.parallelFor(K, workers: workers) { k in
        for c in 0..<C {
            let g = w + (k * C + c) * 9
            // G down the three rows of g (each a SIMD4 over its columns, lane 3 unused).
            let rows = (SIMD4(g[0], g[1], g[2], 0), SIMD4(g[3], g[4], g[5], 0), SIMD4(g[6], g[7], g[8], 0))
            let half = (rows.0, (rows.0 + rows.1 + rows.2) * 0.5, (rows.0 - rows.1 + rows.2) * 0.5, rows.2)
            // Then G along each of those four rows.
            for (i, row) in [half.0, half.1, half.2, half.3].enumerated() {
                let values = (row[0], (row[0] + row[1] + row[2]) * 0.5, (row[0] - row[1] + row[2]) * 0.5, row[2])
                let base = u + (i * 4) * K * C + k * C + c
                base[0] = values.0
                base[K * C] = values.1
                base[2 * K * C] = values.2
                base[3 * K * C] = values.3
            }
        }
    }
}

/// V = B^T d B for tile `tile` of image `image`: d[i][j] is input position (2 * tileRow - pad + i,
/// 2 * tileColumn - pad + j), zero outside the image; V[xi] goes to v[xi * positionStride].
@inline(__always)
private func transformInputTile2x2(
    _ g: ConvolutionGeometry, _ x: UnsafePointer<Float>, inputRowStride: Int, image n: Int, tile: Int,
    into v: UnsafeMutablePointer<Float>, positionStride: Int
) {
    let (tileRow, tileColumn) = tile.quotientAndRemainder(dividingBy: g.tiles2x2Wide)
    let (top, left) = (2 * tileRow - g.paddingHeight, 2 * tileColumn - g.paddingWidth)
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: positions) { sources in
        // Where each of the 16 inputs lies, or nil in the padding.
        for i in 0..<4 {
            for j in 0..<4 {
                let (h, column) = (top + i, left + j)
                let inside = h >= 0 && h < g.inputHeight && column >= 0 && column < g.inputWidth
                sources[i * 4 + j] =
                    inside ? x + ((n * g.inputHeight + h) * g.inputWidth + column) * inputRowStride : nil
            }
        }
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: positions) { half in
            var c = 0
            while c < g.inputChannels {
                let lanes = min(16, g.inputChannels - c)
                @inline(__always) func d(_ i: Int, _ j: Int) -> SIMD16<Float> {
                    sources[i * 4 + j].map { loadChannels($0 + c, lanes: lanes) } ?? .zero
                }
                // B^T down each column j, then B along each row.
                for j in 0..<4 {
                    let (d0, d1, d2, d3) = (d(0, j), d(1, j), d(2, j), d(3, j))
                    (half[j], half[4 + j], half[8 + j], half[12 + j]) = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                }
                for i in 0..<4 {
                    let (r0, r1, r2, r3) = (half[i * 4], half[i * 4 + 1], half[i * 4 + 2], half[i * 4 + 3])
                    let base = v + (i * 4) * positionStride + c
                    storeChannels(r0 - r2, to: base, lanes: lanes)
                    storeChannels(r1 + r2, to: base + positionStride, lanes: lanes)
                    storeChannels(r2 - r1, to: base + 2 * positionStride, lanes: lanes)
                    storeChannels(r1 - r3, to: base + 3 * positionStride, lanes: lanes)
                }
                c += lanes
            }
        }
    }
}

/// Y = A^T M A (+ bias, then the activation) for one tile, M[xi] read from
/// products[xi * positionStride]; the 2x2 block written to the output rows inside the plane.
@inline(__always)
private func transformOutputTile2x2(
    _ g: ConvolutionGeometry, products m: UnsafePointer<Float>, positionStride: Int, image n: Int, tile: Int,
    bias: UnsafePointer<Float>?, activation: FusedActivation, into y: UnsafeMutablePointer<Float>,
    outputRowStride: Int
) {
    let (tileRow, tileColumn) = tile.quotientAndRemainder(dividingBy: g.tiles2x2Wide)
    let (top, left) = (2 * tileRow, 2 * tileColumn)
    let rows = min(2, g.outputHeight - top), columns = min(2, g.outputWidth - left)
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 8) { half in
        var k = 0
        while k < g.outputChannels {
            let lanes = min(16, g.outputChannels - k)
            @inline(__always) func product(_ xi: Int) -> SIMD16<Float> {
                loadChannels(m + xi * positionStride + k, lanes: lanes)
            }
            // A^T down each column j, then A along each of the two rows.
            for j in 0..<4 {
                let (m0, m1, m2, m3) = (product(j), product(4 + j), product(8 + j), product(12 + j))
                (half[j], half[4 + j]) = (m0 + m1 + m2, m1 - m2 - m3)
            }
            let shift = bias.map { loadChannels($0 + k, lanes: lanes) } ?? .zero
            for a in 0..<rows {
                let (r0, r1, r2, r3) = (half[a * 4], half[a * 4 + 1], half[a * 4 + 2], half[a * 4 + 3])
                let row = y + ((n * g.outputHeight + top + a) * g.outputWidth + left) * outputRowStride + k
                storeChannels(activate(r0 + r1 + r2 + shift, activation), to: row, lanes: lanes)
                if columns == 2 {
                    storeChannels(activate(r1 - r2 - r3 + shift, activation), to: row + outputRowStride, lanes: lanes)
                }
            }
            k += lanes
        }
    }
}
