// Timing.swift: wall-clock measurement for chapters and benchmarks. These machines are shared,
// so a single timing is noise; the best of several runs is the closest estimate of what the code
// itself costs (the other runs were slowed by something else).

import Dispatch

/// The shortest wall-clock time, in seconds, of `repeats` runs of `body`, after one warm-up run
/// when `warmUp` is set (first runs pay for page faults and cold caches), repeated until
/// `warmUpSeconds` have passed: a training step's heap can take several steps to settle. With
/// `timedSeconds`, the timed runs go on past `repeats` until that long has passed, so that a
/// short body (a LeNet step takes milliseconds) is sampled over as long a stretch of the
/// machine's load as a long one.
public func bestTime(
    repeats: Int, warmUp: Bool = true, warmUpSeconds: Double = 0, timedSeconds: Double = 0,
    _ body: () -> Void
) -> Double {
    func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    if warmUp {
        let start = DispatchTime.now().uptimeNanoseconds
        repeat { body() } while seconds(since: start) < warmUpSeconds
    }
    var best = Double.infinity
    var runs = 0
    let start = DispatchTime.now().uptimeNanoseconds
    while runs < max(1, repeats) || seconds(since: start) < timedSeconds {
        let runStart = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, seconds(since: runStart))
        runs += 1
    }
    return best
}
