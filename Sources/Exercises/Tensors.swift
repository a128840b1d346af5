// Tensors.swift: chapter 01's exercises (d2l's, in our words), each a function
// whose doc comment asks the question in our words and whose return value is the answer.
// ExercisesTests checks them: the traffic model against a traced, cache-simulated run of each
// loop nest, the experiments against what their runs produced.

import Dispatch
import Foundation
import Kernels
import ModernCNN
import Notebook

public enum TensorsExercises {
    // MARK: 1. Traffic per multiply-add

    /// One rung's memory traffic: bytes brought into the core's nearest cache per multiply-add,
    /// when the matrices are far larger than that cache.
    public struct Traffic: Sendable {
        public let rung: String
        public let bytesPerMultiplyAdd: Double
        /// Where the bytes come from, in words.
        public let reason: String
    }

    // snippet: tensors-exercise-1
    /// Exercise 1. Why does each rung of the matmul ladder sit where it does below the peak?
    /// Count the memory traffic per multiply-add of each rung's inner loops: a core does two
    /// FMAs per cycle but loads only a few lines per cycle, so a rung that needs a new cache
    /// line for every multiply-add cannot come near the peak, and one that needs under a byte
    /// can. Lines are 64 bytes (16 floats); the matrices are n x n.
    public static func trafficPerMultiplyAdd(size n: Int) -> [Traffic] {
        let line = 64.0, float = 4.0
        // The register tile this processor's sgemm runs: 6 x 16 (AVX2) or 12 x 32 (AVX-512).
        let (mr, nr) = (GemmBlocking.mr, GemmBlocking.nr)
        return [
            Traffic(
                rung: "1 naive i-j-k",
                bytesPerMultiplyAdd: line + float + 2 * float / Double(n),
                reason: "a new line of B for every multiply-add (a column walk), A's row streams"),
            Traffic(
                rung: "2 loop order i-k-j",
                bytesPerMultiplyAdd: 3 * float + float / Double(n),
                reason: "rows of B and C stream: B read, C read and written back, 4 bytes each"),
            Traffic(
                rung: "4 SIMD registers (4x16 tile)",
                bytesPerMultiplyAdd: (16 * float + 4 * float) / 64 + 2 * 4 * line / (64 * Double(n)),
                reason: "per k: one 16-float row of B and 4 floats of A feed 64 multiply-adds"),
            Traffic(
                rung: packedRung,
                bytesPerMultiplyAdd: Double(nr + mr) * float / Double(mr * nr)
                    + 2 * float / Double(min(n, GemmBlocking.kc)),  // each float of C in and out per K block
                reason: "per k: \(nr) floats of packed B and \(mr) of packed A feed \(mr * nr) multiply-adds; "
                    + "C once per K block"),
        ]
    }
    // end snippet: tensors-exercise-1

    /// Exercise 1's name for the packed rung, with the register tile it runs on this processor.
    public static var packedRung: String { "5 packing + microkernel (\(GemmBlocking.mr)x\(GemmBlocking.nr))" }

    // MARK: 2. Sizes around the caches

    /// One size of the sweep: GFLOP/s of each rung measured, and on how many rows of C.
    public struct SizePoint: Sendable {
        public let size: Int
        /// Bytes of one matrix.
        public var matrixBytes: Int { size * size * 4 }
        public let gflops: [String: Double]
        /// Rows of C each rung computed in its best timed pass (all `size` when it finished).
        public let rowsTimed: [String: Int]
    }

    /// The rungs the sweep times (one thread each), in ladder order.
    public static let sweptRungs = ["1 naive i-j-k", "2 loop order i-k-j", "5 packing + microkernel"]

    // snippet: tensors-exercise-2
    /// Exercise 2. Where does each rung fall off as the matrices outgrow L1, L2 and L3? Times
    /// the naive, i-k-j and packed rungs on one thread at each size. The naive rung falls first:
    /// its column walk needs all n lines of a column of B to stay cached, and stops hitting as
    /// soon as they do not; i-k-j falls when a row of C and B's rows no longer fit; packing keeps
    /// its blocks in the caches by construction, so it barely moves.
    ///
    /// Each pass computes rows of C until `secondsPerPass` have gone by or C is done. Every row
    /// of C costs the same n^2 multiply-adds and reads all of B the same way, so a slice of
    /// rows runs at the whole product's rate: the naive rung at L3's size takes a fraction of a
    /// second instead of a minute.
    public static func sizeSweep(
        sizes: [Int], repeats: Int = 2, secondsPerPass: Double = 0.2, seed: UInt64 = 0
    ) -> [SizePoint] {
        sizes.map { n in
            var generator = SeededGenerator(seed: seed)
            let a = Tensor(uniform: [n, n], in: -1...1, generator: &generator)
            let b = Tensor(uniform: [n, n], in: -1...1, generator: &generator)
            var c = Tensor(zeros: [n, n])
            var gflops: [String: Double] = [:], rowsTimed: [String: Int] = [:]
            for rung in sweptRungs {
                // The packed rung packs B once per call, so it takes rows in large slices.
                let slice = rung == sweptRungs[2] ? min(n, 4 * GemmBlocking.mc) : 1
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            let (x, y, z) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                            for _ in 0..<max(1, repeats) {
                                let start = DispatchTime.now().uptimeNanoseconds
                                var rows = 0, seconds = 0.0
                                repeat {
                                    let m = min(slice, n - rows)
                                    let (aRows, cRows) = (x + rows * n, z + rows * n)
                                    switch rung {
                                    case sweptRungs[0]: MatmulLadder.naive(m: m, n: n, k: n, a: aRows, b: y, c: cRows)
                                    case sweptRungs[1]:
                                        MatmulLadder.reordered(m: m, n: n, k: n, a: aRows, b: y, c: cRows)
                                    default: MatmulLadder.packed(m: m, n: n, k: n, a: aRows, b: y, c: cRows, threads: 1)
                                    }
                                    rows += m
                                    seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                                } while rows < n && seconds < secondsPerPass
                                let rate = 2 * Double(rows) * Double(n) * Double(n) / seconds / 1e9
                                if rate > gflops[rung] ?? 0 { (gflops[rung], rowsTimed[rung]) = (rate, rows) }
                            }
                        }
                    }
                }
            }
            return SizePoint(size: n, gflops: gflops, rowsTimed: rowsTimed)
        }
    }
    // end snippet: tensors-exercise-2

    /// For each cache size in bytes, the largest multiple of 16 whose three n x n matrices
    /// (3 * n * n * 4 bytes) fit in it; then twice the last of those sides, whose matrices are
    /// four times the largest cache. No size exceeds `largest`.
    public static func sizesAroundCaches(_ cacheBytes: [Int], largest: Int = 4096) -> [Int] {
        let fits = cacheBytes.map { bytes in max(16, Int((Double(bytes) / 12).squareRoot()) / 16 * 16) }
        let beyond = 2 * (fits.max() ?? 16)
        return Array(Set((fits + [beyond]).map { min($0, largest) })).sorted()
    }

    // MARK: 3. Transposing B

    /// What the transposed-B experiment measured.
    public struct TransposedB: Sendable {
        public let size: Int
        public let naiveSeconds: Double
        /// The transpose itself, then the product with both inner walks contiguous.
        public let transposeSeconds: Double, transposedSeconds: Double
        /// Largest |difference| between the two products (same sums, same order: 0).
        public let difference: Float
        public var speedUp: Double { naiveSeconds / (transposeSeconds + transposedSeconds) }
    }

    /// c[i][j] = sum over p of a[i][p] * bt[j][p], with bt = B transposed: both inner walks run
    /// along rows, so each cache line of A and of bt serves 16 multiply-adds.
    public static func naiveTransposed(
        n: Int, a: UnsafePointer<Float>, bt: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<n {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<n { sum += a[i * n + p] * bt[j * n + p] }
                c[i * n + j] = sum
            }
        }
    }

    // snippet: tensors-exercise-3
    /// Exercise 3. What does transposing B before the naive multiply change, and why? The
    /// naive loop reads B down a column, one new cache line per multiply-add; reading the
    /// transposed copy along its rows instead uses every line whole. The sums and their order
    /// are unchanged, so the results are identical; the transpose costs n^2 moves against n^3
    /// multiply-adds.
    public static func transposingB(size n: Int, seed: UInt64 = 0) -> TransposedB {
        var generator = SeededGenerator(seed: seed)
        let a = Array(Tensor(uniform: [n, n], in: -1...1, generator: &generator).scalars)
        let b = Array(Tensor(uniform: [n, n], in: -1...1, generator: &generator).scalars)
        var plain = [Float](repeating: 0, count: n * n), viaTranspose = plain, bt = plain
        let naiveSeconds = bestTime(repeats: 1) { MatmulLadder.naive(m: n, n: n, k: n, a: a, b: b, c: &plain) }
        let transposeSeconds = bestTime(repeats: 3) {
            for p in 0..<n { for j in 0..<n { bt[j * n + p] = b[p * n + j] } }
        }
        let transposedSeconds = bestTime(repeats: 1) { naiveTransposed(n: n, a: a, bt: bt, c: &viaTranspose) }
        let difference = zip(plain, viaTranspose).map { abs($0 - $1) }.max() ?? 0
        return TransposedB(
            size: n, naiveSeconds: naiveSeconds, transposeSeconds: transposeSeconds,
            transposedSeconds: transposedSeconds, difference: difference)
    }
    // end snippet: tensors-exercise-3
}
