// TensorsExercisesTests.swift: chapter 01's answers. The traffic model is checked against a
// simulation: each rung's loop nest is replayed address by address through a small LRU cache
// that counts the bytes it fetches and writes back. The experiments are checked against what
// their runs produced.

import Kernels
import ModernCNN
import Testing

@testable import Exercises

/// A fully associative cache of `capacity` 64-byte lines with least-recently-used eviction:
/// a line comes in (64 bytes) on its first touch after eviction, and a written line goes back
/// out (64 more) when it is evicted.
struct LineCache {
    let capacity: Int
    private var lines: [(line: Int, used: Int, dirty: Bool)] = []
    private var clock = 0
    private(set) var bytes = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func touch(_ address: Int, write: Bool = false) {
        let line = address >> 6
        clock += 1
        if let index = lines.firstIndex(where: { $0.line == line }) {
            lines[index].used = clock
            lines[index].dirty = lines[index].dirty || write
            return
        }
        bytes += 64
        if lines.count == capacity {
            let victim = lines.indices.min { lines[$0].used < lines[$1].used }!
            if lines[victim].dirty { bytes += 64 }
            lines.remove(at: victim)
        }
        lines.append((line, clock, write))
    }
}

/// Byte addresses of three n x n float matrices, each starting on its own far-apart line.
struct Matrices {
    let n: Int
    func a(_ i: Int, _ p: Int) -> Int { (i * n + p) * 4 }
    func b(_ p: Int, _ j: Int) -> Int { (1 << 28) + (p * n + j) * 4 }
    func c(_ i: Int, _ j: Int) -> Int { (2 << 28) + (i * n + j) * 4 }
}

/// Bytes per multiply-add of each rung's loop nest, replayed over a slice of the product (every
/// slice behaves alike) through a 32-line cache, far smaller than the matrices.
func simulatedTraffic(_ rung: String) -> Double {
    var cache = LineCache(capacity: 32)
    var multiplyAdds = 0
    switch rung {
    case "1 naive i-j-k":
        let m = Matrices(n: 256)
        for j in 0..<m.n {
            for p in 0..<m.n { cache.touch(m.a(0, p)); cache.touch(m.b(p, j)); multiplyAdds += 1 }
            cache.touch(m.c(0, j), write: true)
        }
    case "2 loop order i-k-j":
        let m = Matrices(n: 512)
        for i in 0..<2 {
            for p in 0..<m.n {
                cache.touch(m.a(i, p))
                for j in 0..<m.n { cache.touch(m.b(p, j)); cache.touch(m.c(i, j), write: true); multiplyAdds += 1 }
            }
        }
    case "4 SIMD registers (4x16 tile)":
        let m = Matrices(n: 512)
        for j0 in stride(from: 0, to: m.n, by: 16) {
            for p in 0..<m.n {
                for r in 0..<4 { cache.touch(m.a(r, p)) }
                for j in j0..<(j0 + 16) { cache.touch(m.b(p, j)) }
                multiplyAdds += 64
            }
            for r in 0..<4 { for j in j0..<(j0 + 16) { cache.touch(m.c(r, j), write: true) } }
        }
    default:  // packed: mr x k panels of A and k x nr panels of B, each contiguous, for this processor's tile
        let (n, mr, nr) = (96, GemmBlocking.mr, GemmBlocking.nr)
        let packedA = { (p: Int, r: Int) in (p * mr + r) * 4 }
        let packedB = { (panel: Int, p: Int, j: Int) in (1 << 28) + ((panel * n + p) * nr + j) * 4 }
        let c = Matrices(n: n)
        for panel in 0..<(n / nr) {
            for p in 0..<n {
                for r in 0..<mr { cache.touch(packedA(p, r)) }
                for j in 0..<nr { cache.touch(packedB(panel, p, j)) }
                multiplyAdds += mr * nr
            }
            for r in 0..<mr { for j in 0..<nr { cache.touch(c.c(r, panel * nr + j), write: true) } }
        }
    }
    return Double(cache.bytes) / Double(multiplyAdds)
}

@Test("exercise 1: bytes per multiply-add of each rung agree with a cache simulation of its loops")
func trafficAnswer() {
    for size in [96, 256, 512] {
        let answer = TensorsExercises.trafficPerMultiplyAdd(size: size)
        #expect(
            answer.map(\.rung) == [
                "1 naive i-j-k", "2 loop order i-k-j", "4 SIMD registers (4x16 tile)",
                TensorsExercises.packedRung,
            ])
        #expect(zip(answer, answer.dropFirst()).allSatisfy { $0.bytesPerMultiplyAdd > $1.bytesPerMultiplyAdd })
    }
    // Each simulation at the size it replays.
    for (rung, size) in [
        ("1 naive i-j-k", 256), ("2 loop order i-k-j", 512), ("4 SIMD registers (4x16 tile)", 512),
        (TensorsExercises.packedRung, 96),
    ] {
        let modelled = TensorsExercises.trafficPerMultiplyAdd(size: size).first { $0.rung == rung }!.bytesPerMultiplyAdd
        let simulated = simulatedTraffic(rung)
        #expect(abs(modelled - simulated) <= 0.05 * simulated, "\(rung): model \(modelled), simulation \(simulated)")
    }
}

@Test(
    "exercise 2: the sweep reports every rung at every size, times a slice of C's rows when time runs out, and picks sizes around each cache"
)
func sizeSweepAnswer() {
    let points = TensorsExercises.sizeSweep(sizes: [16, 48], repeats: 1, secondsPerPass: 10)
    #expect(points.map(\.size) == [16, 48])
    for point in points {
        #expect(Set(point.gflops.keys) == Set(TensorsExercises.sweptRungs))
        #expect(point.gflops.values.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(point.rowsTimed.values.allSatisfy { $0 == point.size }, "small products finish within the time")
    }
    // With no time at all, each pass stops after its first slice: one row for the loops, the
    // packed rung's slice of 4 * mc rows, and the rate is taken over those rows.
    let sliced = TensorsExercises.sizeSweep(sizes: [640], repeats: 1, secondsPerPass: 0)[0]
    #expect(
        sliced.rowsTimed == [
            "1 naive i-j-k": 1, "2 loop order i-k-j": 1, "5 packing + microkernel": min(640, 4 * GemmBlocking.mc),
        ])
    #expect(sliced.gflops.values.allSatisfy { $0.isFinite && $0 > 0 })

    // 32 KB, 512 KB and 32 MB caches: each size is the largest multiple of 16 whose three
    // matrices fit (the next multiple of 16 does not), then twice the last, whose three matrices
    // are four times the largest cache; no size above `largest`.
    let caches = [32 << 10, 512 << 10, 32 << 20]
    let sizes = TensorsExercises.sizesAroundCaches(caches)
    #expect(sizes.count == 4 && sizes == sizes.sorted())
    for (bytes, n) in zip(caches, sizes) {
        #expect(n % 16 == 0 && 3 * n * n * 4 <= bytes && 3 * (n + 16) * (n + 16) * 4 > bytes, "\(bytes): \(n)")
    }
    #expect(sizes[3] == 2 * sizes[2] && 3 * sizes[3] * sizes[3] * 4 > caches[2])
    #expect(TensorsExercises.sizesAroundCaches(caches, largest: 1024) == [48, 208, 1024])
}

@Test("exercise 3: the transposed-B product gives the same bits, and its speed-up agrees with a timing of our own")
func transposedBAnswer() {
    // 512: B's columns are 2 KB apart, so the naive walk thrashes the caches' sets and the
    // transposed product wins by a wide margin (2.8x in chapter 01's run), wide enough that two
    // cores shared with the other tests cannot turn it around.
    let n = 512
    // The better of two runs, as a benchmark would take it: a test shares its cores.
    let answer = [TensorsExercises.transposingB(size: n), TensorsExercises.transposingB(size: n)]
        .max { $0.speedUp < $1.speedUp }!
    #expect(answer.size == n && answer.difference == 0)
    #expect(answer.naiveSeconds > 0 && answer.transposeSeconds > 0 && answer.transposedSeconds > 0)

    // An independent measurement of the same two kernels (the ladder's naive rung, and the
    // exercise's product on a transposed copy plus the transpose), timed here with
    // ContinuousClock as the best of three each. Both must find the transposed product faster
    // and agree on by how much within a factor of three: a wrong timing (a swapped operand, the
    // transpose left out of one side, seconds for milliseconds) moves it further. (Loops written
    // over Swift arrays instead ran at another speed: their bounds checks hid the cache misses.)
    var generator = SeededGenerator(seed: 5)
    let a = (0..<(n * n)).map { _ in Float.random(in: -1...1, using: &generator) }
    let b = (0..<(n * n)).map { _ in Float.random(in: -1...1, using: &generator) }
    var c = [Float](repeating: 0, count: n * n), bt = c
    func best(_ body: () -> Void) -> Duration {
        (0..<3).map { _ in ContinuousClock().measure(body) }.min()!
    }
    let naive = best { MatmulLadder.naive(m: n, n: n, k: n, a: a, b: b, c: &c) }
    let transposed = best {
        for p in 0..<n { for j in 0..<n { bt[j * n + p] = b[p * n + j] } }
        TensorsExercises.naiveTransposed(n: n, a: a, bt: bt, c: &c)
    }
    let ours = naive / transposed
    #expect(answer.speedUp > 1 && ours > 1, "exercise \(answer.speedUp)x, ours \(ours)x")
    #expect(answer.speedUp > ours / 3 && answer.speedUp < ours * 3, "exercise \(answer.speedUp)x, ours \(ours)x")
}
