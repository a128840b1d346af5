// PeakProbe.swift: how many FLOP/s can this machine do at best? Measured rather than looked up,
// because a cloud vCPU's clock and vector width are not what the spec sheet says.

import Dispatch

public enum PeakProbe {
    /// Peak single-precision FLOP/s on `threads` workers, from a loop of independent fused
    /// multiply-adds that never touches memory, in enough independent chains to keep both FMA
    /// units busy through the FMA's latency, so the figure is the ceiling our kernels could
    /// reach: six SIMD16<Float> with AVX2 (twelve registers, as in the 6 x 16 tile), twelve with
    /// AVX-512 (one register each; six chains there measured 75% of this). Best of five short
    /// runs: on a shared virtual machine one vCPU can stall for tens of milliseconds, longer
    /// than one run.
    public static func flopsPerSecond(threads: Int, iterations: Int = 4_000_000) -> Double {
        let wide = GemmBlocking.wideTile
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEachWorker(threads) { _ in
                blackHole(wide ? twelveChains(iterations / 2) : sixChains(iterations))
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let flopsPerIteration = 6.0 * 16 * 2
        return Double(threads) * Double(iterations) * flopsPerIteration / best
    }

    /// Six dependency chains of x = x * m + s; |m| < 1 keeps them finite forever.
    @inline(never)
    static func sixChains(_ iterations: Int) -> Float {
        typealias V = SIMD16<Float>
        let m = V(repeating: 0.999_9), s = V(repeating: 1e-4)
        var x0 = V(repeating: 0.1), x1 = V(repeating: 0.2), x2 = V(repeating: 0.3)
        var x3 = V(repeating: 0.4), x4 = V(repeating: 0.5), x5 = V(repeating: 0.6)
        for _ in 0..<iterations {
            x0 = s.addingProduct(x0, m); x1 = s.addingProduct(x1, m); x2 = s.addingProduct(x2, m)
            x3 = s.addingProduct(x3, m); x4 = s.addingProduct(x4, m); x5 = s.addingProduct(x5, m)
        }
        return (x0 + x1 + x2 + x3 + x4 + x5).sum()
    }

    /// Twelve chains: as many multiply-adds per iteration as two of sixChains'.
    @inline(never)
    static func twelveChains(_ iterations: Int) -> Float {
        typealias V = SIMD16<Float>
        let m = V(repeating: 0.999_9), s = V(repeating: 1e-4)
        var x0 = V(repeating: 0.1), x1 = V(repeating: 0.2), x2 = V(repeating: 0.3)
        var x3 = V(repeating: 0.4), x4 = V(repeating: 0.5), x5 = V(repeating: 0.6)
        var x6 = V(repeating: 0.7), x7 = V(repeating: 0.8), x8 = V(repeating: 0.9)
        var x9 = V(repeating: 1.0), x10 = V(repeating: 1.1), x11 = V(repeating: 1.2)
        for _ in 0..<iterations {
            x0 = s.addingProduct(x0, m); x1 = s.addingProduct(x1, m); x2 = s.addingProduct(x2, m)
            x3 = s.addingProduct(x3, m); x4 = s.addingProduct(x4, m); x5 = s.addingProduct(x5, m)
            x6 = s.addingProduct(x6, m); x7 = s.addingProduct(x7, m); x8 = s.addingProduct(x8, m)
            x9 = s.addingProduct(x9, m); x10 = s.addingProduct(x10, m); x11 = s.addingProduct(x11, m)
        }
        return (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11).sum()
    }

    @inline(never)
    static func blackHole(_ value: Float) {
        if value == 42.4242 { print("") }  // never true; keeps the result alive
    }
}
