// MatmulLadder.swift: chapter 01's rungs, from the definition to the packed microkernel.
//
//   C = A * B, row-major; A is M x K, B is K x N, C is M x N (overwritten).
//
// Each rung changes one thing, and chapter 01 times each one on the same matrices. The last two
// rungs are the real `sgemm` on one thread and on all threads.

public enum MatmulLadder {
    // snippet: rung-naive
    /// Rung 1, the definition: c[i][j] = sum over p of a[i][p] * b[p][j]. The inner loop walks
    /// down a column of B, N floats apart: each multiply-add touches a new cache line.
    public static func naive(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
                c[i * n + j] = sum
            }
        }
    }
    // end snippet: rung-naive

    // snippet: rung-reordered
    /// Rung 2, loop order i-k-j: the same multiply-adds, but the inner loop now runs along a row
    /// of B and a row of C, both contiguous, so every cache line is used whole and the compiler
    /// can vectorise the loop.
    public static func reordered(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        c.update(repeating: 0, count: m * n)
        for i in 0..<m {
            let cRow = c + i * n
            for p in 0..<k {
                let aip = a[i * k + p]
                let bRow = b + p * n
                for j in 0..<n { cRow[j] += aip * bRow[j] }
            }
        }
    }
    // end snippet: rung-reordered

    // snippet: rung-blocked
    /// Rung 3's tile of B: 128 x 256 floats, 128 KB.
    public static let blockedTile = (k: 128, n: 256)

    /// Rung 3, cache blocking: the i-k-j loops over tiles small enough that the tile of B being
    /// reused (`blockedTile`, 128 KB) stays in L2 while every row of A passes over it.
    public static func blocked(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        let (kTile, nTile) = blockedTile
        c.update(repeating: 0, count: m * n)
        for j0 in stride(from: 0, to: n, by: nTile) {
            let j1 = min(j0 + nTile, n)
            for p0 in stride(from: 0, to: k, by: kTile) {
                let p1 = min(p0 + kTile, k)
                for i in 0..<m {
                    let cRow = c + i * n
                    for p in p0..<p1 {
                        let aip = a[i * k + p]
                        let bRow = b + p * n
                        for j in j0..<j1 { cRow[j] += aip * bRow[j] }
                    }
                }
            }
        }
    }
    // end snippet: rung-blocked

    // snippet: rung-simd
    /// Rung 4, register blocking with explicit SIMD: a 4 x 16 tile of C lives in four SIMD16
    /// registers for the whole k-loop, so each loaded row of B feeds four FMAs and C is read and
    /// written once instead of K times. No packing yet: B rows are read straight from the matrix.
    public static func simd(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        let fullRows = m - m % 4, fullColumns = n - n % 16
        for i in stride(from: 0, to: fullRows, by: 4) {
            for j in stride(from: 0, to: fullColumns, by: 16) {
                var c0 = V(), c1 = V(), c2 = V(), c3 = V()
                for p in 0..<k {
                    let row = loadVector(b + p * n + j)
                    c0 = c0.addingProduct(a[i * k + p], row)
                    c1 = c1.addingProduct(a[(i + 1) * k + p], row)
                    c2 = c2.addingProduct(a[(i + 2) * k + p], row)
                    c3 = c3.addingProduct(a[(i + 3) * k + p], row)
                }
                storeVector(c0, to: c + i * n + j)
                storeVector(c1, to: c + (i + 1) * n + j)
                storeVector(c2, to: c + (i + 2) * n + j)
                storeVector(c3, to: c + (i + 3) * n + j)
            }
        }
        // The ragged right columns and bottom rows, by the definition.
        for i in 0..<m {
            for j in (i < fullRows ? fullColumns : 0)..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
                c[i * n + j] = sum
            }
        }
    }
    // end snippet: rung-simd

    /// Rungs 5 and 6: packing plus the microkernel (6 x 16, or 12 x 32 with AVX-512) with cache
    /// blocking (`sgemm`), on `threads` workers.
    public static func packed(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, threads: Int
    ) {
        sgemm(
            transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: max(k, 1),
            b: b, ldb: max(n, 1), beta: 0, c: c, ldc: max(n, 1), threads: threads)
    }
}
