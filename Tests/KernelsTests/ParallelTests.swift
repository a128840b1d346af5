// ParallelTests.swift: the worker pool splits work completely and without overlap.

import Kernels
import Testing

@Test("chunks tile 0..<count exactly, in order", arguments: [(1, 1), (2, 1), (2, 7), (3, 10), (4, 4), (8, 3)])
func chunksPartition(split: (workers: Int, count: Int)) {
    let chunks = (0..<split.workers).map { Parallel.chunk($0, of: split.workers, splitting: split.count) }
    #expect(chunks.flatMap { Array($0) } == Array(0..<split.count))
    let sizes = chunks.map(\.count)
    #expect(sizes.max()! - sizes.min()! <= 1, "chunks should differ by at most one: \(sizes)")
}

@Test("parallelFor visits every index exactly once", arguments: [1, 2, 3])
func parallelForVisitsAll(workers: Int) {
    let count = 1000
    // Each index belongs to one worker, so plain counters suffice; an overlap would show as 2.
    var visits = [Int](repeating: 0, count: count)
    visits.withUnsafeMutableBufferPointer { counters in
        let counters = counters
        Parallel.parallelFor(count, workers: workers) { i in counters[i] += 1 }
    }
    #expect(visits.allSatisfy { $0 == 1 })
}

@Test(
    "forEachItem runs every item once; with two workers, worker 0 has a prefix and worker 1 the rest",
    arguments: [0, 1, 2, 63, 64, 65, 130, 1000])
func forEachItemSplitsIntoPrefixAndSuffix(count: Int) {
    for workers in [1, 2, 3] {
        // Which worker ran each item, and how often each ran; an overlap shows as a visit of 2.
        var owner = [Int](repeating: -1, count: count), visits = [Int](repeating: 0, count: count)
        owner.withUnsafeMutableBufferPointer { owner in
            visits.withUnsafeMutableBufferPointer { visits in
                let (owner, visits) = (owner, visits)
                Parallel.forEachItem(count, workers: workers) { worker, item in
                    owner[item] = worker
                    visits[item] += 1
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 }, "\(workers) workers")
        #expect(owner.allSatisfy { (0..<workers).contains($0) })
        // Each worker's items are one contiguous run (its end of the range, or its chunk), so
        // neighbouring items share a core's caches: the owners never go back down.
        #expect(zip(owner, owner.dropFirst()).allSatisfy { $0 <= $1 }, "\(workers) workers: \(owner)")
    }
}

@Test(
    "forEachClaim covers every item once, in contiguous claims that shrink from largest to smallest",
    arguments: [(0, 4, 1), (1, 24, 2), (7, 3, 5), (171, 24, 2), (1000, 128, 8), (4097, 64, 64)])
func claimsShrinkAndCover(example: (count: Int, largest: Int, smallest: Int)) {
    let (count, largest, smallest) = example
    for workers in [1, 2, 3] {
        // claimLength[start] is the length of the claim that starts at `start` (0 elsewhere).
        var visits = [Int](repeating: 0, count: count), claimLength = visits
        visits.withUnsafeMutableBufferPointer { visits in
            claimLength.withUnsafeMutableBufferPointer { claimLength in
                let (visits, claimLength) = (visits, claimLength)
                Parallel.forEachClaim(of: count, workers: workers, largest: largest, smallest: smallest) { _, range in
                    claimLength[range.lowerBound] = range.count
                    for item in range { visits[item] += 1 }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 }, "\(workers) workers")
        var claims: [Range<Int>] = []
        var start = 0
        while start < count, claimLength[start] > 0 {
            claims.append(start..<(start + claimLength[start]))
            start += claimLength[start]
        }
        #expect(start == count, "claims must tile 0..<\(count): \(claims)")
        let floor = min(smallest, largest)
        #expect(
            claims.allSatisfy { $0.count <= largest && $0.count >= min(floor, count - $0.lowerBound) },
            "\(workers) workers: \(claims.map(\.count))")
        #expect(
            zip(claims, claims.dropFirst()).allSatisfy { $0.count >= $1.count },
            "claims should shrink: \(claims.map(\.count))")
    }
}

@Test("a nested call runs inline instead of deadlocking, and still visits everything")
func nestedCalls() {
    let outer = 4, inner = 50
    var visits = [Int](repeating: 0, count: outer * inner)
    visits.withUnsafeMutableBufferPointer { counters in
        let counters = counters
        Parallel.forEachWorker(outer) { o in
            Parallel.parallelFor(inner, workers: 2) { i in counters[o * inner + i] += 1 }
        }
    }
    #expect(visits.allSatisfy { $0 == 1 })
}

@Test("more workers than pool threads: each worker runs exactly once", arguments: [3, 5, 16])
func moreWorkersThanThreads(workers: Int) {
    var runs = [Int](repeating: 0, count: workers)
    runs.withUnsafeMutableBufferPointer { counters in
        let counters = counters
        Parallel.forEachWorker(workers) { w in counters[w] += 1 }
    }
    #expect(runs == [Int](repeating: 1, count: workers))
}

@Test("concurrent callers on different threads all get complete, correct results")
func concurrentCallers() async {
    let results = await withTaskGroup(of: Bool.self) { group in
        for caller in 0..<6 {
            group.addTask {
                let count = 2000 + caller
                var sums = [Int](repeating: 0, count: count)
                sums.withUnsafeMutableBufferPointer { values in
                    let values = values
                    for _ in 0..<20 { Parallel.parallelFor(count, workers: 2) { i in values[i] += i } }
                }
                return sums.enumerated().allSatisfy { $0.element == 20 * $0.offset }
            }
        }
        return await group.reduce(into: [Bool]()) { $0.append($1) }
    }
    #expect(results.count == 6 && results.allSatisfy { $0 })
}
