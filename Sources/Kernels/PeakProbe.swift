// PeakProbe.swift: how many FLOP/s can this machine do at best? Measured rather than looked up,
// because a cloud vCPU's clock and vector width are not what the spec sheet says.

import Dispatch

public enum PeakProbe {
    /// Peak single-precision FLOP/s on `threads` workers, from a loop of independent fused
    /// multiply-adds that never touches memory: six SIMD16<Float> chains, the microkernel's
    /// shape, so the figure is the ceiling our kernels could reach. Best of five short runs: on a
    /// shared virtual machine one vCPU can stall for tens of milliseconds, longer than one run.
    public static func flopsPerSecond(threads: Int, iterations: Int = 4_000_000) -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEachWorker(threads) { _ in blackHole(fmaChains(iterations)) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let flopsPerIteration = 6.0 * 16 * 2
        return Double(threads) * Double(iterations) * flopsPerIteration / best
    }

    /// Six dependency chains of x = x * m + s; |m| < 1 keeps them finite forever.
    @inline(never)
    static func fmaChains(_ iterations: Int) -> Float {
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

    @inline(never)
    static func blackHole(_ value: Float) {
        if value == 42.4242 { print("") }  // never true; keeps the result alive
    }
}
