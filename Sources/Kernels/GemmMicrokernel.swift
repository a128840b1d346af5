// GemmMicrokernel.swift: the innermost loop, where all of SGEMM's time should go.
//
//   C := alpha * A * B + beta * C   on one 6 x 16 tile
//   a: packed micro-panel, kc x 6 (a[p*6 + r]); b: packed micro-panel, kc x 16 (b[p*16 + j])
//
// Each step p is a rank-1 update: one 16-wide row of B, times each of six broadcast A values,
// added into six 16-wide accumulators that never leave registers during the loop. With AVX2
// that is 12 fused multiply-adds per 2 loads of B and 6 broadcasts.

import CPUHints

@inline(__always)
func microkernel6x16(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
    typealias V = SIMD16<Float>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    // Start fetching the C tile now; it is needed only after the loop. Two lines per row cover
    // the 64 bytes of a row even when C is not 64-byte aligned.
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

/// row of C := alpha * acc + beta * row; with beta == 0 the old row is never read.
@inline(__always)
private func storeRow(_ acc: SIMD16<Float>, to row: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
    var result = alpha == 1 ? acc : acc * alpha
    if beta != 0 { result = result.addingProduct(beta, loadVector(row)) }
    storeVector(result, to: row)
}
