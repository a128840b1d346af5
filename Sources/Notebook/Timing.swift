// Timing.swift: wall-clock measurement for chapters and benchmarks. These machines are shared,
// so a single timing is noise; the best of several runs is the closest estimate of what the code
// itself costs (the other runs were slowed by something else).

import Dispatch

/// The shortest wall-clock time, in seconds, of `repeats` runs of `body`, after one warm-up run
/// when `warmUp` is set (first runs pay for page faults and cold caches), repeated until
/// `warmUpSeconds` have passed: a training step's heap can take several steps to settle.
public func bestTime(repeats: Int, warmUp: Bool = true, warmUpSeconds: Double = 0, _ body: () -> Void) -> Double {
    if warmUp {
        let start = DispatchTime.now().uptimeNanoseconds
        repeat { body() } while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < warmUpSeconds
    }
    var best = Double.infinity
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}
