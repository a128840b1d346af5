// ParallelTests.swift: the worker pool splits work completely and without overlap.

import Testing
import Kernels

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
