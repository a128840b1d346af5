// WinogradFilterGradient.swift: the weight gradient of a stride-1 convolution on Winograd's tiles.
//
// The forward pass is y_block = A^T [U ⊙ V] A with U = G g G^T and V = B^T d B (Winograd.swift).
// Differentiating through the element-wise product gives, for each block and each pair of
// channels, dU = (A dy_block A^T) ⊙ V, and then dg = G^T dU G. Summed over blocks and images,
// each of the 36 positions xi is again a matrix product, now over the blocks:
//   dU[xi][K, C] += dY~[xi][K, T] * V[xi][C, T]^T      dY~ = A dy_block A^T, V as in forward
// so backward-filter does a quarter (3x3) or 36% (5x5) of the direct method's multiplies too.
// A (6 x m) spreads an m x m block of dy over the six points, and G^T (r x 6) gathers six
// points back into r filter taps: the transposes of the forward's output and filter transforms.

/// dw += dL/dw and db += dL/db for the convolution `s` (its forward problem), x: [N, C, H, W],
/// dy: [N, K, P, Q], dw: [K, C, r, r], db: [K] or nil.
func winogradFilterGradient(
    _ s: WinogradProblem, input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    weightGradient dw: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>?,
    buffers: borrowing WinogradBuffers, packingSpace: UnsafeMutablePointer<Float>, workers: Int
) {
    let (C, K, tiles) = (s.inputChannels, s.outputChannels, s.tilesPerImage)
    let (v, spread, padded) = (buffers.transformedInput.pointer, buffers.products.pointer, buffers.paddedPlanes.pointer)
    let dU = buffers.transformedFilters.pointer
    let chunk = min(buffers.imagesPerChunk, s.imagesPerChunk)
    for first in stride(from: 0, to: s.batch, by: chunk) {
        let count = min(chunk, s.batch - first), T = count * tiles
        // 1. V for every input block (as in forward) and dY~ = A dy A^T for every output block.
        transformInputChunk(
            s, input: x, images: first..<(first + count), into: v, paddedPlanes: padded, workers: workers)
        Parallel.forEachWorker(workers) { worker in
            for item in Parallel.chunk(worker, of: workers, splitting: count * K) {
                let (i, k) = item.quotientAndRemainder(dividingBy: K)
                spreadOutputGradientTiles(
                    s, plane: dy + ((first + i) * K + k) * s.outputPlane,
                    into: spread + k * T + i * tiles, positionStride: K * T)
            }
        }
        // 2. The 36 products over this chunk's blocks, added to the earlier chunks'.
        Parallel.forEachWorker(workers) { worker in
            let ownSpace = GemmWorkspace.packingBlocks(at: packingSpace, worker: worker).a
            for xi in Parallel.chunk(worker, of: workers, splitting: WinogradProblem.positions) {
                sgemm(
                    transA: false, transB: true, m: K, n: C, k: T, alpha: 1, a: spread + xi * K * T, lda: T,
                    b: v + xi * C * T, ldb: T, beta: first == 0 ? 0 : 1, c: dU + xi * K * C, ldc: C,
                    packingSpace: ownSpace, workers: 1)
            }
        }
    }
    // 3. dg = G^T dU G for every pair of channels, added to dw; the bias gradient sums dy.
    let r = s.tile.kernelSize, stride = K * C
    Parallel.parallelFor(K, workers: workers) { k in
        for c in 0..<C {
            func row(_ i: Int) -> SIMD8<Float> { gatherTileRow(i, from: dU + k * C + c, positionStride: stride) }
            let (z0, z1, z2, z3, z4) = gatherTaps(s.tile, row(0), row(1), row(2), row(3), row(4), row(5))
            // Along the rows: lane a of `hb` is dg[a][b].
            let (h0, h1, h2, h3, h4) = gatherTaps(
                s.tile, column(0, z0, z1, z2, z3, z4, .zero),
                column(1, z0, z1, z2, z3, z4, .zero),
                column(2, z0, z1, z2, z3, z4, .zero),
                column(3, z0, z1, z2, z3, z4, .zero),
                column(4, z0, z1, z2, z3, z4, .zero),
                column(5, z0, z1, z2, z3, z4, .zero))
            func tap(_ b: Int) -> SIMD8<Float> {
                switch b {
                case 0: h0
                case 1: h1
                case 2: h2
                case 3: h3
                default: h4
                }
            }
            let target = dw + (k * C + c) * r * r
            for b in 0..<r {
                let column = tap(b)
                for a in 0..<r { target[a * r + b] += column[a] }
            }
        }
        if let db {
            var sum: Float = 0
            for n in 0..<s.batch {
                let plane = dy + (n * K + k) * s.outputPlane
                for j in 0..<s.outputPlane { sum += plane[j] }
            }
            db[k] += sum
        }
    }
}

/// dY~ = A dy A^T for every m x m block of one output-gradient plane (zero past its edges);
/// block t's 36 values go to spread[xi * stride + t].
private func spreadOutputGradientTiles(
    _ s: WinogradProblem, plane dy: UnsafePointer<Float>,
    into spread: UnsafeMutablePointer<Float>, positionStride: Int
) {
    let m = s.tile.outputSize
    var t = 0
    for th in 0..<s.tilesHigh {
        for tw in 0..<s.tilesWide {
            let (top, left) = (m * th, m * tw)
            let rows = min(m, s.outputHeight - top), columns = min(m, s.outputWidth - left)
            func row(_ i: Int) -> SIMD8<Float> {
                var v = SIMD8<Float>()
                if i < rows {
                    let line = dy + (top + i) * s.outputWidth + left
                    for j in 0..<columns { v[j] = line[j] }
                }
                return v
            }
            let (e0, e1, e2, e3, e4, e5) = spreadOverPoints(s.tile, row(0), row(1), row(2), row(3))
            // Along the rows: lane a of `fb` is dY~[a][b].
            let (f0, f1, f2, f3, f4, f5) = spreadOverPoints(
                s.tile, column(0, e0, e1, e2, e3, e4, e5), column(1, e0, e1, e2, e3, e4, e5),
                column(2, e0, e1, e2, e3, e4, e5), column(3, e0, e1, e2, e3, e4, e5))
            scatterTile(f0, f1, f2, f3, f4, f5, to: spread + t, positionStride: positionStride)
            t += 1
        }
    }
}

/// A applied down m rows (d2 and d3 are zero when m = 2): the value of the polynomial
/// d0 + d1 p + d2 p^2 + d3 p^3 at the points 0, 1, -1, 2, -2, and at infinity its top coefficient.
@inline(__always)
private func spreadOverPoints(
    _ tile: WinogradTile, _ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>,
    _ d3: SIMD8<Float>
)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
{
    let even1 = d0 + d2, odd1 = d1 + d3
    let even2 = d0 + 4 * d2, odd2 = 2 * d1 + 8 * d3
    return (d0, even1 + odd1, even1 - odd1, even2 + odd2, even2 - odd2, tile == .f4x4Kernel3x3 ? d3 : d1)
}

/// G^T applied down six rows: r rows out (five returned; rows past r - 1 are zero). Row a weighs
/// point p by its G entry, scale * p^a, and takes the point at infinity only in the last row.
@inline(__always)
private func gatherTaps(
    _ tile: WinogradTile, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>,
    _ x3: SIMD8<Float>, _ x4: SIMD8<Float>, _ x5: SIMD8<Float>
)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
{
    // Scaled values at the points 1, -1, 2, -2 (G's row scales -1/6, -1/6, 1/24, 1/24).
    let (plus1, minus1, plus2, minus2) = (-x1 / 6, -x2 / 6, x3 / 24, x4 / 24)
    let (even1, odd1) = (plus1 + minus1, plus1 - minus1)
    let (even2, odd2) = (plus2 + minus2, plus2 - minus2)
    let row0 = x0 / 4 + even1 + even2, row1 = odd1 + 2 * odd2, row2 = even1 + 4 * even2
    if tile == .f4x4Kernel3x3 { return (row0, row1, row2 + x5, .zero, .zero) }
    return (row0, row1, row2, odd1 + 8 * odd2, even1 + 16 * even2 + x5)
}
