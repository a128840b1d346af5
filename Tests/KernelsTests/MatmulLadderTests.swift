// MatmulLadderTests.swift: every rung of chapter 01's ladder computes the same product.

import Kernels
import Testing

typealias Rung =
    @Sendable (Int, Int, Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void

let rungs: [(String, Rung)] = [
    ("naive", { MatmulLadder.naive(m: $0, n: $1, k: $2, a: $3, b: $4, c: $5) }),
    ("reordered", { MatmulLadder.reordered(m: $0, n: $1, k: $2, a: $3, b: $4, c: $5) }),
    ("blocked", { MatmulLadder.blocked(m: $0, n: $1, k: $2, a: $3, b: $4, c: $5) }),
    ("simd", { MatmulLadder.simd(m: $0, n: $1, k: $2, a: $3, b: $4, c: $5) }),
    ("packed, 1 thread", { MatmulLadder.packed(m: $0, n: $1, k: $2, a: $3, b: $4, c: $5, threads: 1) }),
    ("packed, 2 threads", { MatmulLadder.packed(m: $0, n: $1, k: $2, a: $3, b: $4, c: $5, threads: 2) }),
]

@Test(
    "each rung matches the reference",
    arguments: [
        (1, 1, 1), (4, 16, 3), (5, 17, 9), (33, 70, 129),
        (67, 33, 300), (130, 260, 140),
    ])
func rungsAgree(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    let a = testValues(m * k, seed: 11), b = testValues(k * n, seed: 12)
    var reference = [Float](repeating: 0, count: m * n)
    sgemmReference(
        transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
        beta: 0, c: &reference, ldc: n)
    for (name, rung) in rungs {
        var c = [Float](repeating: .nan, count: m * n)
        rung(m, n, k, a, b, &c)
        let worst = zip(c, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance(k: k), "\(name) on \(m)x\(n)x\(k): max difference \(worst)")
    }
}
