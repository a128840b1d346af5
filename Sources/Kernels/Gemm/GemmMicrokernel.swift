// GemmMicrokernel.swift: the innermost loop, where all of SGEMM's time should go.
//
//   C := alpha * A * B + beta * C   on one MR x NR tile
//   a: packed micro-panel, kc x MR (a[p*MR + r]); b: packed micro-panel, kc x NR (b[p*NR + j])
//
// Each step p is a rank-1 update: one NR-wide row of B, times each of MR broadcast A values,
// added into MR x NR accumulators that never leave registers during the loop. How big the tile
// can be is set by the register file, so there are two:
// - 6 x 16 for AVX2 (16 registers of 8 floats): 12 accumulators + 2 for the B row + 1 broadcast.
//   12 fused multiply-adds per 2 loads of B and 6 broadcasts.
// - 12 x 32 for AVX-512 (32 registers of 16 floats): 24 accumulators + 2 for the B row + 1
//   broadcast. 24 fused multiply-adds per 2 loads and 12 broadcasts. The 6 x 16 tile there would
//   keep only 6 accumulators: with the FMA's latency of 4 cycles and 2 FMA units, 8 independent
//   chains are the least that keep both units busy, so it could never pass 75% of peak.

import CPUHints

/// One register tile's shape and its microkernel. Generic code over the two tiles is specialized
/// for each, so the microkernel is inlined into its caller's loop either way.
protocol RegisterTile {
    static var rows: Int { get }
    static var columns: Int { get }
    static func multiply(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float)
    /// A tile at C's bottom edge, the first `rows` (fewer than `Self.rows`) rows of a packed A
    /// micro-panel and all the columns, written straight into C. Returns false, having done
    /// nothing, when this tile has no smaller kernel for that many rows.
    static func multiply(
        rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) -> Bool
}

// snippet: microkernel
/// 6 x 16, for AVX2: each accumulator row is a SIMD16<Float>, two ymm registers.
enum NarrowTile: RegisterTile {
    static var rows: Int { 6 }
    static var columns: Int { 16 }

    @inline(__always)
    static func multiply(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        typealias V = SIMD16<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        // Start fetching the C tile now; it is needed only after the loop. Two lines per row
        // cover the 64 bytes of a row even when C is not 64-byte aligned.
        for r in 0..<6 {
            prefetchForWrite(c + r * ldc)
            prefetchForWrite(c + r * ldc + 15)
        }
        var ap = a
        var bp = b
        for _ in 0..<kc {
            let row = loadVector(bp)
            c0 = c0.addingProduct(ap[0], row)
            c1 = c1.addingProduct(ap[1], row)
            c2 = c2.addingProduct(ap[2], row)
            c3 = c3.addingProduct(ap[3], row)
            c4 = c4.addingProduct(ap[4], row)
            c5 = c5.addingProduct(ap[5], row)
            ap += 6
            bp += 16
        }
        storeRow(c0, to: c, alpha: alpha, beta: beta)
        storeRow(c1, to: c + ldc, alpha: alpha, beta: beta)
        storeRow(c2, to: c + 2 * ldc, alpha: alpha, beta: beta)
        storeRow(c3, to: c + 3 * ldc, alpha: alpha, beta: beta)
        storeRow(c4, to: c + 4 * ldc, alpha: alpha, beta: beta)
        storeRow(c5, to: c + 5 * ldc, alpha: alpha, beta: beta)
    }
}
// end snippet: microkernel

extension NarrowTile {
    /// A 6-row tile has no smaller kernel: its edges go through scratch (see edgeTile).
    static func multiply(
        rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) -> Bool {
        false
    }
}

/// 12 x 32, for AVX-512: each accumulator row is two SIMD16<Float>, two zmm registers. (As one
/// SIMD32<Float>, the accumulators went through the stack: Swift's SIMD32 arithmetic is not
/// lowered to native vectors.)
enum WideTile: RegisterTile {
    static var rows: Int { 12 }
    static var columns: Int { 32 }

    @inline(__always)
    static func multiply(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        typealias V = SIMD16<Float>
        // cRL: row R, left (L = 0) or right (L = 1) half of the tile.
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var c60 = V(), c61 = V(), c70 = V(), c71 = V(), c80 = V(), c81 = V()
        var c90 = V(), c91 = V(), cA0 = V(), cA1 = V(), cB0 = V(), cB1 = V()
        // A row of the tile is 128 bytes: three lines cover it at any alignment.
        for r in 0..<12 {
            prefetchForWrite(c + r * ldc)
            prefetchForWrite(c + r * ldc + 16)
            prefetchForWrite(c + r * ldc + 31)
        }
        forEachStep(kc: kc, a: a, b: b) { ap, left, right in
            var x = V(repeating: ap[0]); c00 = c00.addingProduct(x, left); c01 = c01.addingProduct(x, right)
            x = V(repeating: ap[1]); c10 = c10.addingProduct(x, left); c11 = c11.addingProduct(x, right)
            x = V(repeating: ap[2]); c20 = c20.addingProduct(x, left); c21 = c21.addingProduct(x, right)
            x = V(repeating: ap[3]); c30 = c30.addingProduct(x, left); c31 = c31.addingProduct(x, right)
            x = V(repeating: ap[4]); c40 = c40.addingProduct(x, left); c41 = c41.addingProduct(x, right)
            x = V(repeating: ap[5]); c50 = c50.addingProduct(x, left); c51 = c51.addingProduct(x, right)
            x = V(repeating: ap[6]); c60 = c60.addingProduct(x, left); c61 = c61.addingProduct(x, right)
            x = V(repeating: ap[7]); c70 = c70.addingProduct(x, left); c71 = c71.addingProduct(x, right)
            x = V(repeating: ap[8]); c80 = c80.addingProduct(x, left); c81 = c81.addingProduct(x, right)
            x = V(repeating: ap[9]); c90 = c90.addingProduct(x, left); c91 = c91.addingProduct(x, right)
            x = V(repeating: ap[10]); cA0 = cA0.addingProduct(x, left); cA1 = cA1.addingProduct(x, right)
            x = V(repeating: ap[11]); cB0 = cB0.addingProduct(x, left); cB1 = cB1.addingProduct(x, right)
        }
        // Stored row by row, both halves, without an array: an array here was a heap
        // allocation per tile.
        @inline(__always) func store(_ left: V, _ right: V, row r: Int) {
            storeRow(left, to: c + r * ldc, alpha: alpha, beta: beta)
            storeRow(right, to: c + r * ldc + 16, alpha: alpha, beta: beta)
        }
        store(c00, c01, row: 0); store(c10, c11, row: 1); store(c20, c21, row: 2)
        store(c30, c31, row: 3); store(c40, c41, row: 4); store(c50, c51, row: 5)
        store(c60, c61, row: 6); store(c70, c71, row: 7); store(c80, c81, row: 8)
        store(c90, c91, row: 9); store(cA0, cA1, row: 10); store(cB0, cB1, row: 11)
    }
}

/// One row of the wide tile's accumulators: 32 floats, two zmm registers.
private struct WideRow {
    var left = SIMD16<Float>(), right = SIMD16<Float>()

    @inline(__always)
    mutating func add(_ a: Float, times bLeft: SIMD16<Float>, _ bRight: SIMD16<Float>) {
        let x = SIMD16<Float>(repeating: a)
        left = left.addingProduct(x, bLeft)
        right = right.addingProduct(x, bRight)
    }

    @inline(__always)
    func store(to row: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
        storeRow(left, to: row, alpha: alpha, beta: beta)
        storeRow(right, to: row + 16, alpha: alpha, beta: beta)
    }
}

extension WideTile {
    /// The bottom edge: up to 4 rows on 8 accumulators, or up to 8 on 16. The full 12 x 32 tile
    /// into scratch spends a whole tile's multiply-adds on the remainder, and powers of two
    /// leave one: 4 rows after 21 tiles for 256 output channels (AlexNet's conv2 and conv5),
    /// after 85 for square 1024, after 1 for LeNet's 16; 8 rows for 512 or 2048. Eight
    /// accumulators are the fewest that keep both FMA units busy, so 4 rows cost a third of a
    /// tile rather than all of it.
    static func multiply(
        rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) -> Bool {
        if rows <= 4 {
            multiplyUpToFourRows(rows, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
            return true
        }
        if rows <= 8 {
            multiplyUpToEightRows(rows, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
            return true
        }
        return false
    }

    /// The tile's k-loop, shared by the full tile and the bottom-edge kernels: `body` gets A's
    /// panel at step p (its stride is 12 whatever the rows used) and B's row there as two vectors.
    @inline(__always)
    private static func forEachStep(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        _ body: (UnsafePointer<Float>, SIMD16<Float>, SIMD16<Float>) -> Void
    ) {
        var ap = a, bp = b
        for _ in 0..<kc {
            // B's row eight steps ahead, both its lines. The B micro-panel (KC x 32, 32 KB) fills
            // L1 by itself, so its rows come from L2 (A's panel is the one kept in L1; see
            // GemmBlocking.sweepPanels), where the prefetcher alone does not bring them in time.
            // A is in L1 already, so it needs no request (MEASUREMENTS.md).
            prefetchForRead(bp + 256)
            prefetchForRead(bp + 272)
            body(ap, loadVector(bp), loadVector(bp + 16))
            ap += 12
            bp += 32
        }
    }

    @inline(never)
    private static func multiplyUpToFourRows(
        _ rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        var r0 = WideRow(), r1 = WideRow(), r2 = WideRow(), r3 = WideRow()
        forEachStep(kc: kc, a: a, b: b) { ap, left, right in
            r0.add(ap[0], times: left, right); r1.add(ap[1], times: left, right)
            r2.add(ap[2], times: left, right); r3.add(ap[3], times: left, right)
        }
        r0.store(to: c, alpha: alpha, beta: beta)
        if rows > 1 { r1.store(to: c + ldc, alpha: alpha, beta: beta) }
        if rows > 2 { r2.store(to: c + 2 * ldc, alpha: alpha, beta: beta) }
        if rows > 3 { r3.store(to: c + 3 * ldc, alpha: alpha, beta: beta) }
    }

    @inline(never)
    private static func multiplyUpToEightRows(
        _ rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        var r0 = WideRow(), r1 = WideRow(), r2 = WideRow(), r3 = WideRow()
        var r4 = WideRow(), r5 = WideRow(), r6 = WideRow(), r7 = WideRow()
        forEachStep(kc: kc, a: a, b: b) { ap, left, right in
            r0.add(ap[0], times: left, right); r1.add(ap[1], times: left, right)
            r2.add(ap[2], times: left, right); r3.add(ap[3], times: left, right)
            r4.add(ap[4], times: left, right); r5.add(ap[5], times: left, right)
            r6.add(ap[6], times: left, right); r7.add(ap[7], times: left, right)
        }
        r0.store(to: c, alpha: alpha, beta: beta)
        r1.store(to: c + ldc, alpha: alpha, beta: beta)
        r2.store(to: c + 2 * ldc, alpha: alpha, beta: beta)
        r3.store(to: c + 3 * ldc, alpha: alpha, beta: beta)
        r4.store(to: c + 4 * ldc, alpha: alpha, beta: beta)
        if rows > 5 { r5.store(to: c + 5 * ldc, alpha: alpha, beta: beta) }
        if rows > 6 { r6.store(to: c + 6 * ldc, alpha: alpha, beta: beta) }
        if rows > 7 { r7.store(to: c + 7 * ldc, alpha: alpha, beta: beta) }
    }
}

/// row of C := alpha * acc + beta * row; with beta == 0 the old row is never read.
@inline(__always)
private func storeRow(_ acc: SIMD16<Float>, to row: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
    var result = alpha == 1 ? acc : acc * alpha
    if beta != 0 { result = result.addingProduct(beta, loadVector(row)) }
    storeVector(result, to: row)
}
