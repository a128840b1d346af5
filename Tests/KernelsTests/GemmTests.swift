// GemmTests.swift: the packed SGEMM against the naive oracle on sizes that hit every edge:
// single rows and columns, sizes that are not multiples of the register tile (6 x 16, or 12 x 32
// with AVX-512), and sizes that cross each cache block (MC = 144, KC = 256, NC = 2048). sgemm
// runs the tile this processor chose, or the AVX2 one under MODERNCNN_TILE=avx2 (`make test`
// runs these tests both ways); both microkernels are checked alone below.

import CPUHints
import Foundation
import Testing

@testable import Kernels

@Test("the kernels run this processor's tiles, or the AVX2 ones when MODERNCNN_TILE says avx2")
func tileChoice() {
    if ProcessInfo.processInfo.environment["MODERNCNN_TILE"] == "avx2" {
        #expect(!GemmBlocking.wideTile && GemmBlocking.mr == 6 && GemmBlocking.nr == 16)
        #expect(FilterGradientTile.channels == 2 && FilterGradientTile.taps == 3)
    } else {
        #expect(GemmBlocking.wideTile == GemmBlocking.processorHasAVX512)
        #expect(GemmBlocking.processorHasAVX512 == (moderncnnHasAVX512() != 0))
        #expect(GemmBlocking.mr == (GemmBlocking.wideTile ? 12 : 6))
    }
}

/// Operands for one sgemm call, with leading dimensions padded by `padding` to catch code that
/// assumes tightly packed rows. Padding cells of C hold a sentinel that must survive.
struct GemmCase: CustomStringConvertible {
    var transA = false, transB = false
    var m: Int, n: Int, k: Int
    var alpha: Float = 1, beta: Float = 0
    var padding = 0

    var description: String {
        "\(transA ? "T" : "N")\(transB ? "T" : "N") m\(m) n\(n) k\(k) alpha\(alpha) beta\(beta) pad\(padding)"
    }

    var lda: Int { (transA ? m : k) + padding }
    var ldb: Int { (transB ? k : n) + padding }
    var ldc: Int { n + padding }
}

let sentinel: Float = -12345

/// Runs `sgemm` with `threads` workers and the Double-accumulating reference on the same
/// operands; returns both C matrices (including their padding columns).
func runBoth(_ test: GemmCase, threads: Int = 2) -> (ours: [Float], reference: [Float]) {
    let a = testValues((test.transA ? test.k : test.m) * test.lda, seed: 1)
    let b = testValues((test.transB ? test.n : test.k) * test.ldb, seed: 2)
    var initial = testValues(test.m * test.ldc, seed: 3)
    for i in 0..<test.m { for j in test.n..<test.ldc { initial[i * test.ldc + j] = sentinel } }
    var ours = initial, reference = initial
    sgemm(
        transA: test.transA, transB: test.transB, m: test.m, n: test.n, k: test.k, alpha: test.alpha,
        a: a, lda: test.lda, b: b, ldb: test.ldb, beta: test.beta, c: &ours, ldc: test.ldc, threads: threads)
    sgemmReference(
        transA: test.transA, transB: test.transB, m: test.m, n: test.n, k: test.k,
        alpha: test.alpha, a: a, lda: test.lda, b: b, ldb: test.ldb, beta: test.beta,
        c: &reference, ldc: test.ldc)
    return (ours, reference)
}

/// Float32 rounding grows like sqrt(K) for sums of K terms of unit size.
func tolerance(k: Int) -> Float { 2e-6 * Float(k).squareRoot() + 1e-6 }

func expectClose(_ test: GemmCase, threads: Int = 2) {
    let (ours, reference) = runBoth(test, threads: threads)
    var worst: Float = 0
    for i in 0..<test.m {
        for j in 0..<test.ldc {
            let index = i * test.ldc + j
            if j >= test.n {
                #expect(ours[index] == sentinel, "\(test): padding C[\(i), \(j)] was overwritten")
            } else {
                worst = max(worst, abs(ours[index] - reference[index]))
            }
        }
    }
    #expect(
        worst <= tolerance(k: test.k) * max(1, abs(test.alpha) + abs(test.beta)),
        "\(test): max |ours - reference| = \(worst)")
}

let transposes = [(false, false), (true, false), (false, true), (true, true)]

@Test("square sizes, every transpose", arguments: [1, 2, 7, 16, 33, 100, 257])
func squareSizes(size: Int) {
    for (transA, transB) in transposes {
        expectClose(GemmCase(transA: transA, transB: transB, m: size, n: size, k: size))
    }
}

@Test("1000 x 1000 x 1000 crosses MC, KC and the tile edges", arguments: transposes.indices)
func thousand(transposeIndex: Int) {
    let (transA, transB) = transposes[transposeIndex]
    expectClose(GemmCase(transA: transA, transB: transB, m: 1000, n: 1000, k: 1000))
}

@Test(
    "non-square mixes",
    arguments: [
        (1, 1, 1), (1, 37, 5), (37, 1, 5), (5, 7, 1), (6, 16, 256), (7, 17, 257), (145, 15, 300),
        (13, 4100, 3), (3, 4097, 520), (290, 33, 17), (2, 300, 1000), (300, 2, 700),
    ])
func nonSquare(shape: (Int, Int, Int)) {
    for (transA, transB) in transposes {
        expectClose(GemmCase(transA: transA, transB: transB, m: shape.0, n: shape.1, k: shape.2))
    }
}

@Test("alpha and beta", arguments: [(Float(1), Float(0)), (2.5, 0), (1, 1), (-0.5, 2), (0, 3), (1.5, -1)])
func alphaBeta(scales: (Float, Float)) {
    for (transA, transB) in transposes {
        expectClose(
            GemmCase(
                transA: transA, transB: transB, m: 23, n: 41, k: 300,
                alpha: scales.0, beta: scales.1))
    }
}

@Test("leading dimensions larger than the rows they stride", arguments: [1, 5, 16])
func paddedLeadingDimensions(padding: Int) {
    for (transA, transB) in transposes {
        expectClose(
            GemmCase(
                transA: transA, transB: transB, m: 19, n: 35, k: 270, alpha: 1, beta: 0.5,
                padding: padding))
    }
}

@Test("beta = 0 overwrites C without reading it, even when C holds NaN")
func betaZeroIgnoresOldC() {
    let (m, n, k) = (9, 20, 11)
    let a = testValues(m * k, seed: 4), b = testValues(k * n, seed: 5)
    var c = [Float](repeating: .nan, count: m * n)
    var reference = [Float](repeating: 0, count: m * n)
    sgemm(
        transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
        beta: 0, c: &c, ldc: n)
    sgemmReference(
        transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
        beta: 0, c: &reference, ldc: n)
    #expect(c.allSatisfy { !$0.isNaN })
    #expect(zip(c, reference).allSatisfy { abs($0 - $1) <= tolerance(k: k) })
}

@Test("K = 0 leaves beta * C")
func emptyInnerDimension() {
    let a: [Float] = [0], b: [Float] = [0]
    var c: [Float] = [1, 2, 3, 4, 5, 6]
    sgemm(
        transA: false, transB: false, m: 2, n: 3, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 3,
        beta: 2, c: &c, ldc: 3)
    #expect(c == [2, 4, 6, 8, 10, 12])
}

@Test("the result does not depend on the thread count, to the bit", arguments: transposes.indices)
func threadCountIndependence(transposeIndex: Int) {
    let (transA, transB) = transposes[transposeIndex]
    for test in [
        GemmCase(transA: transA, transB: transB, m: 301, n: 517, k: 300),
        GemmCase(transA: transA, transB: transB, m: 700, n: 45, k: 260, alpha: 0.5, beta: 1.5),
    ] {
        let one = runBoth(test, threads: 1).ours
        for threads in [2, 3, 4] {
            #expect(runBoth(test, threads: threads).ours == one, "\(test) with \(threads) threads")
        }
        expectClose(test, threads: 1)
    }
}

@Test(
    "a large A over many B blocks of columns: slabs claimed as workers come free, bit for bit",
    arguments: [(false, false), (true, true)])
func claimedColumnSlabs(transposed: (Bool, Bool)) {
    // A (7 x 5300) is more than one packed A block and N holds two B blocks per worker, so the
    // columns go out in claimed slabs, the last ones narrower than a block and not a whole tile.
    // The naive loop over all of C would take seconds: every 37th column and the last 20 are
    // checked against it instead.
    let (transA, transB) = transposed
    let (m, n, k) = (7, 2 * 2 * GemmBlocking.nc + 9, 5300)
    #expect(m * k > GemmBlocking.mc * GemmBlocking.kc)
    let a = testValues(m * k, seed: 1), b = testValues(k * n, seed: 2)
    let (lda, ldb) = (transA ? m : k, transB ? k : n)
    func product(threads: Int) -> [Float] {
        var c = [Float](repeating: sentinel, count: m * n)
        sgemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
            beta: 0, c: &c, ldc: n, threads: threads)
        return c
    }
    let one = product(threads: 1), two = product(threads: 2)
    let differing = zip(one, two).filter { $0.0.bitPattern != $0.1.bitPattern }.count
    #expect(differing == 0, "\(differing) of \(m * n) floats differ between 1 and 2 threads")
    var worst: Float = 0
    for j in Array(stride(from: 0, to: n, by: 37)) + Array((n - 20)..<n) {
        for i in 0..<m {
            var sum = 0.0
            for p in 0..<k {
                sum += Double(a[transA ? p * lda + i : i * lda + p]) * Double(b[transB ? j * ldb + p : p * ldb + j])
            }
            worst = max(worst, abs(two[i * n + j] - Float(sum)))
        }
    }
    #expect(worst <= tolerance(k: k), "max |ours - reference| = \(worst)")
}

@Test("a workspace is reusable across calls of different shapes")
func workspaceReuse() {
    let workspace = GemmWorkspace(workers: 2)
    for (m, n, k) in [(50, 70, 300), (7, 5000, 20), (300, 9, 600)] {
        let a = testValues(m * k, seed: 6), b = testValues(k * n, seed: 7)
        var c = [Float](repeating: 0, count: m * n), reference = c
        sgemm(
            transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
            beta: 0, c: &c, ldc: n, workspace: workspace)
        sgemmReference(
            transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
            beta: 0, c: &reference, ldc: n)
        #expect(zip(c, reference).allSatisfy { abs($0 - $1) <= tolerance(k: k) }, "m\(m) n\(n) k\(k)")
    }
}

@Test(
    "packing writes whole zero-padded panels and nothing past them",
    arguments: [
        (1, 1, 6), (5, 3, 6), (6, 4, 6), (7, 9, 6), (15, 5, 16), (16, 2, 16), (33, 7, 16),
        (5, 16, 6), (13, 37, 6), (17, 48, 16), (3, 35, 16),  // 16-deep blocks and remainders
        (12, 16, 12), (25, 35, 12), (7, 48, 12), (32, 16, 32), (45, 37, 32), (3, 20, 32),
    ])  // AVX-512 tile
func packingBounds(example: (lanes: Int, depth: Int, width: Int)) {
    let (lanes, depth, width) = example
    let panels = (lanes + width - 1) / width
    let written = panels * width * depth
    // Lane l at depth p holds 1000 * l + p, in both source layouts the packer meets.
    for (laneStride, depthStride) in [(1, lanes), (depth, 1)] {
        var source = [Float](repeating: 0, count: lanes * depth)
        for l in 0..<lanes { for p in 0..<depth { source[l * laneStride + p * depthStride] = Float(1000 * l + p) } }
        var packed = [Float](repeating: sentinel, count: written + 32)
        source.withUnsafeBufferPointer { src in
            packed.withUnsafeMutableBufferPointer { dst in
                packPanels(
                    from: src.baseAddress!, laneStride: laneStride, depthStride: depthStride,
                    lanes: lanes, depth: depth, width: width, into: dst.baseAddress!)
            }
        }
        #expect(packed[written...].allSatisfy { $0 == sentinel }, "wrote past \(written) floats")
        for q in 0..<panels {
            for p in 0..<depth {
                for l in 0..<width {
                    let lane = q * width + l
                    let expected: Float = lane < lanes ? Float(1000 * lane + p) : 0
                    #expect(packed[q * width * depth + p * width + l] == expected)
                }
            }
        }
    }
}

/// One microkernel call on packed panels against a double loop: C := alpha * A * B + beta * C,
/// with C's rows `ldc` apart and a sentinel between them that must survive.
func checkMicrokernel<Tile: RegisterTile>(_ tile: Tile.Type, kc: Int, alpha: Float, beta: Float) {
    let (mr, nr, ldc) = (Tile.rows, Tile.columns, Tile.columns + 3)
    let a = testValues(kc * mr, seed: 4), b = testValues(kc * nr, seed: 5)
    var c = testValues(mr * ldc, seed: 6)
    for i in 0..<mr { for j in nr..<ldc { c[i * ldc + j] = sentinel } }
    var expected = c
    for i in 0..<mr {
        for j in 0..<nr {
            var sum = 0.0
            for p in 0..<kc { sum += Double(a[p * mr + i]) * Double(b[p * nr + j]) }
            expected[i * ldc + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * ldc + j]))
        }
    }
    c.withUnsafeMutableBufferPointer { c in
        Tile.multiply(kc: kc, a: a, b: b, c: c.baseAddress!, ldc: ldc, alpha: alpha, beta: beta)
    }
    let worst = zip(c, expected).map { abs($0 - $1) }.max()!
    #expect(worst <= tolerance(k: kc) * 4, "\(mr) x \(nr), kc \(kc), alpha \(alpha), beta \(beta): off by \(worst)")
}

@Test(
    "both register tiles' microkernels against a double loop, whichever this processor runs",
    arguments: [(1, Float(1), Float(0)), (7, 2.5, 0), (256, 1, 1), (33, -0.5, 2)])
func microkernels(example: (kc: Int, alpha: Float, beta: Float)) {
    checkMicrokernel(NarrowTile.self, kc: example.kc, alpha: example.alpha, beta: example.beta)
    checkMicrokernel(WideTile.self, kc: example.kc, alpha: example.alpha, beta: example.beta)
}

/// The wide tile's kernels for C's bottom edge: the first `rows` rows of a 12-row panel into C,
/// rows past them and the padding between rows untouched. The 6-row tile has none and must
/// leave C alone, as must the wide tile for 9 rows or more.
@Test(
    "the bottom-edge kernels write exactly their rows, against a double loop",
    arguments: [(1, Float(1), Float(0)), (7, 2.5, 0), (256, 1, 1), (33, -0.5, 2)])
func shortRowKernels(example: (kc: Int, alpha: Float, beta: Float)) {
    let (kc, alpha, beta) = example
    let (mr, nr, ldc) = (WideTile.rows, WideTile.columns, WideTile.columns + 3)
    let a = testValues(kc * mr, seed: 7), b = testValues(kc * nr, seed: 8)
    for rows in 1..<mr {
        var c = testValues(mr * ldc, seed: 9)
        for i in 0..<mr { for j in 0..<ldc where i >= rows || j >= nr { c[i * ldc + j] = sentinel } }
        // Rows 9 to 11 have no kernel: C must come back exactly as it was.
        let runs = rows <= 8
        var expected = c
        for i in 0..<(runs ? rows : 0) {
            for j in 0..<nr {
                var sum = 0.0
                for p in 0..<kc { sum += Double(a[p * mr + i]) * Double(b[p * nr + j]) }
                expected[i * ldc + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * ldc + j]))
            }
        }
        let ran = c.withUnsafeMutableBufferPointer { c in
            WideTile.multiply(rows: rows, kc: kc, a: a, b: b, c: c.baseAddress!, ldc: ldc, alpha: alpha, beta: beta)
        }
        #expect(ran == runs, "\(rows) rows: ran \(ran)")
        let worst = zip(c, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= tolerance(k: kc) * 4, "\(rows) rows, kc \(kc), alpha \(alpha), beta \(beta): off by \(worst)")
    }
    var c = [Float](repeating: sentinel, count: NarrowTile.rows * NarrowTile.columns)
    let ran = c.withUnsafeMutableBufferPointer { c in
        NarrowTile.multiply(
            rows: 4, kc: kc, a: a, b: b, c: c.baseAddress!, ldc: NarrowTile.columns,
            alpha: alpha, beta: beta)
    }
    #expect(!ran && c.allSatisfy { $0 == sentinel }, "the 6 x 16 tile has no bottom-edge kernel")
}

@Test("the workspace holds whole packed blocks for every worker")
func workspaceSize() {
    let (mr, nr) = (GemmBlocking.mr, GemmBlocking.nr)
    let aPanels = (GemmBlocking.mc + mr - 1) / mr, bPanels = (GemmBlocking.nc + nr - 1) / nr
    #expect(GemmBlocking.workspacePerWorker >= GemmBlocking.kc * (aPanels * mr + bPanels * nr))
}
