// LaneConvolutionTests.swift: the lane-layout kernels (16 images per vector) against the seven-
// loop oracle and the NCHW pooling: forward with each activation, backward-data with the turned
// filters, the filter and bias gradients, and average pooling both ways, on shapes that take
// every tile (3 x 7, 4 x 5, single sums), their overlapping last blocks, and short last groups.

import Foundation
import Testing

@testable import Kernels

/// n images of c x h x w, k filters of r x r, padding p.
struct LaneCase: CustomStringConvertible, Sendable {
    let n: Int, c: Int, h: Int, w: Int, k: Int, r: Int, p: Int
    var geometry: ConvolutionGeometry { .init(n, c, h, w, k: k, kernel: (r, r), padding: (p, p)) }
    var description: String { "\(n)x\(c)x\(h)x\(w) -> \(k), \(r)x\(r) pad \(p)" }
}

let laneCases: [LaneCase] = [
    .init(n: 1, c: 1, h: 5, w: 5, k: 1, r: 3, p: 0),  // single sums
    .init(n: 16, c: 1, h: 28, w: 28, k: 6, r: 5, p: 2),  // LeNet's conv1: 3 x 7 tiles
    .init(n: 16, c: 6, h: 14, w: 14, k: 16, r: 5, p: 0),  // LeNet's conv2: 4 x 5 tiles
    .init(n: 19, c: 2, h: 7, w: 9, k: 5, r: 3, p: 1),  // a short second group; overlapping blocks
    .init(n: 5, c: 3, h: 6, w: 13, k: 7, r: 5, p: 2),
    .init(n: 3, c: 4, h: 4, w: 4, k: 2, r: 3, p: 1),  // fewer channels than any tile
    .init(n: 17, c: 5, h: 10, w: 10, k: 9, r: 1, p: 0),  // 1 x 1 filters: 5 taps
    .init(n: 2, c: 1, h: 8, w: 8, k: 4, r: 5, p: 4),  // padding as wide as the filter allows
]

/// x ([N, C, H, W]) in the lane layout: every group, zero borders.
func laned(_ x: [Float], images n: Int, layout: LanePlanes) -> [Float] {
    var groups = [Float](repeating: 0, count: LanePlanes.groups(for: n) * layout.groupFloats)
    groups.withUnsafeMutableBufferPointer { target in
        for group in 0..<LanePlanes.groups(for: n) {
            laneInterleave(
                x, first: group * 16, count: min(16, n - group * 16), layout: layout,
                into: target.baseAddress! + group * layout.groupFloats)
        }
    }
    return groups
}

/// The inverse: the groups' lanes back into [N, C, H, W].
func unlaned(_ groups: [Float], images n: Int, layout: LanePlanes) -> [Float] {
    var x = [Float](repeating: .nan, count: n * layout.channels * layout.height * layout.width)
    groups.withUnsafeBufferPointer { source in
        for group in 0..<LanePlanes.groups(for: n) {
            laneDeinterleave(
                source.baseAddress! + group * layout.groupFloats, layout: layout, first: group * 16,
                count: min(16, n - group * 16), into: &x)
        }
    }
    return x
}

@Test("interleaving into lanes and back is exact; missing images read as zeros")
func laneRoundTrip() {
    let layout = LanePlanes(channels: 3, height: 5, width: 7, border: 2)
    let x = testValues(21 * 3 * 5 * 7, seed: 40)
    let groups = laned(x, images: 21, layout: layout)
    #expect(unlaned(groups, images: 21, layout: layout) == x)
    // Image 21 onwards (lanes 5 ... 15 of the second group) and every border are zero.
    let second = Array(groups[layout.groupFloats...])
    #expect(second[layout.vector(channel: 1, row: 2, column: 3) * 16 + 5] == 0)
    #expect(second[layout.vector(channel: 1, row: -2, column: -1) * 16] == 0)
    #expect(groups.count == 2 * layout.groupFloats)
}

@Test("lane forward matches the direct definition, with each activation", arguments: laneCases)
func laneForward(test: LaneCase) {
    let g = test.geometry
    let x = testValues(g.inputCount, seed: 41), w = testValues(g.weightCount, seed: 42)
    let b = testValues(g.outputChannels, seed: 43)
    let input = LanePlanes(channels: test.c, height: test.h, width: test.w, border: test.p)
    let correlation = LaneCorrelation(
        input: input, outputChannels: test.k, kernelHeight: test.r, kernelWidth: test.r,
        padding: test.p)
    var packed = [Float](repeating: 0, count: correlation.packedCount)
    packed.withUnsafeMutableBufferPointer { target in
        correlation.pack(into: target.baseAddress!) { o, i, r, s in w[((o * test.c + i) * test.r + r) * test.r + s] }
    }
    let reference = ConvolutionReference.forward(g, input: x, weight: w, bias: b)
    let groups = laned(x, images: test.n, layout: input)
    for activation in [FusedActivation.none, .relu, .sigmoid] {
        var out = [Float](repeating: .nan, count: LanePlanes.groups(for: test.n) * correlation.output.groupFloats)
        out.withUnsafeMutableBufferPointer { target in
            for group in 0..<LanePlanes.groups(for: test.n) {
                correlation.run(
                    input: groups.withUnsafeBufferPointer { $0.baseAddress! } + group * input.groupFloats,
                    packedFilters: packed, bias: b,
                    output: target.baseAddress! + group * correlation.output.groupFloats, activation: activation)
            }
        }
        let expected = reference.map { value -> Float in
            switch activation {
            case .none: value
            case .relu: max(0, value)
            case .sigmoid: 1 / (1 + exp(-value))
            }
        }
        expectClose(
            unlaned(out, images: test.n, layout: correlation.output), expected, terms: g.patchLength,
            "\(test) \(activation)")
    }
}

@Test("lane backward-data, the correlation with turned filters, matches the definition", arguments: laneCases)
func laneBackwardData(test: LaneCase) {
    let g = test.geometry
    let dy = testValues(g.outputCount, seed: 44), w = testValues(g.weightCount, seed: 45)
    let q = test.r - 1 - test.p
    let gradient = LanePlanes(channels: test.k, height: g.outputHeight, width: g.outputWidth, border: q)
    // The row tile where it fits (LeNet's conv2), the register tiles elsewhere.
    let correlation = LaneCorrelation(
        input: gradient, outputChannels: test.c, kernelHeight: test.r,
        kernelWidth: test.r, padding: q,
        rowTile: LaneCorrelation.rowTileFits(inputWidth: g.outputWidth, kernelWidth: test.r, padding: q))
    #expect(correlation.output.height == test.h && correlation.output.width == test.w)
    var packed = [Float](repeating: 0, count: correlation.packedCount)
    packed.withUnsafeMutableBufferPointer { target in
        correlation.pack(into: target.baseAddress!) { c, k, r, s in
            w[((k * test.c + c) * test.r + (test.r - 1 - r)) * test.r + (test.r - 1 - s)]
        }
    }
    let groups = laned(dy, images: test.n, layout: gradient), zeros = [Float](repeating: 0, count: test.c)
    var out = [Float](repeating: .nan, count: LanePlanes.groups(for: test.n) * correlation.output.groupFloats)
    out.withUnsafeMutableBufferPointer { target in
        for group in 0..<LanePlanes.groups(for: test.n) {
            correlation.run(
                input: groups.withUnsafeBufferPointer { $0.baseAddress! } + group * gradient.groupFloats,
                packedFilters: packed, bias: zeros,
                output: target.baseAddress! + group * correlation.output.groupFloats, activation: .none)
        }
    }
    expectClose(
        unlaned(out, images: test.n, layout: correlation.output),
        ConvolutionReference.backwardData(g, outputGradient: dy, weight: w),
        terms: test.k * test.r * test.r, "\(test)")
}

@Test("lane filter and bias gradients match the definition, summed over groups and workers", arguments: laneCases)
func laneFilterGradient(test: LaneCase) {
    let g = test.geometry
    let x = testValues(g.inputCount, seed: 46), dy = testValues(g.outputCount, seed: 47)
    let input = LanePlanes(channels: test.c, height: test.h, width: test.w, border: test.p)
    let (xs, groups) = (laned(x, images: test.n, layout: input), LanePlanes.groups(for: test.n))
    // dy without a border, as LaneBlock keeps it, and inside one, which the kernel also takes.
    for border in [0, 2] {
        let gradient = LanePlanes(channels: test.k, height: g.outputHeight, width: g.outputWidth, border: border)
        let kernel = LaneFilterGradient(
            input: input, gradient: gradient, kernelHeight: test.r, kernelWidth: test.r,
            padding: test.p)
        let dys = laned(dy, images: test.n, layout: gradient)
        // Two workers' sums, groups split between them as LaneBlock splits them.
        var sums = [Float](repeating: 0, count: 2 * kernel.sumCount * 16)
        sums.withUnsafeMutableBufferPointer { target in
            for group in 0..<groups {
                kernel.accumulate(
                    input: xs.withUnsafeBufferPointer { $0.baseAddress! } + group * input.groupFloats,
                    outputGradient: dys.withUnsafeBufferPointer { $0.baseAddress! } + group * gradient.groupFloats,
                    into: target.baseAddress! + (group % 2) * kernel.sumCount * 16)
            }
        }
        var dw = [Float](repeating: 0, count: g.weightCount), db = [Float](repeating: 0, count: test.k)
        laneSumsReduce(sums, vectorsPerWorker: kernel.sumCount, workers: 2, count: g.weightCount, into: &dw)
        sums.withUnsafeBufferPointer { source in
            laneSumsReduce(
                source.baseAddress! + g.weightCount * 16, vectorsPerWorker: kernel.sumCount, workers: 2,
                count: test.k, into: &db)
        }
        let reference = ConvolutionReference.backwardFilter(g, input: x, outputGradient: dy)
        let terms = test.n * g.outputPlane
        expectClose(dw, reference.weight, terms: terms, "\(test) weights, dy border \(border)")
        expectClose(db, reference.bias, terms: terms, "\(test) bias, dy border \(border)")
    }
}

/// (n, c, h, w, window, stride)
let lanePoolings: [(Int, Int, Int, Int, Int, Int)] = [
    (16, 6, 28, 28, 2, 2),  // LeNet's
    (19, 2, 5, 7, 2, 2),  // floor rounding drops the last row and column
    (3, 3, 7, 7, 3, 2),  // overlapping windows
    (2, 1, 8, 8, 2, 3),  // gaps between windows
]

@Test(
    "lane pooling (average and max) and its backward (times the activation's slope) match NCHW pooling",
    arguments: lanePoolings.indices, [LanePool.Kind.average, .max])
func lanePooling(index: Int, kind: LanePool.Kind) {
    let (n, c, h, w, window, stride) = lanePoolings[index]
    let g = PoolingGeometry(n, c, h, w, window: window, stride: stride)
    // A ReLU's outputs, so that max pooling meets ties (zeros) and the first one must win.
    let a = testValues(g.inputCount, seed: 48).map { max(0, $0) }
    let dOut = testValues(g.outputCount, seed: 49)
    let input = LanePlanes(channels: c, height: h, width: w)
    // Pooled into the border of 1 a next convolution's padding would want.
    let pool = LanePool(kind, input: input, window: window, stride: stride, outputBorder: 1)
    let groups = LanePlanes.groups(for: n)
    let activations = laned(a, images: n, layout: input)
    var pooled = [Float](repeating: 0, count: groups * pool.output.groupFloats)
    var winners = [Float](repeating: .nan, count: max(1, groups * pool.winnerFloats))
    pooled.withUnsafeMutableBufferPointer { target in
        winners.withUnsafeMutableBufferPointer { won in
            for group in 0..<groups {
                pool.forward(
                    input: activations.withUnsafeBufferPointer { $0.baseAddress! } + group * input.groupFloats,
                    output: target.baseAddress! + group * pool.output.groupFloats,
                    winners: won.baseAddress! + group * pool.winnerFloats)
            }
        }
    }
    var expected = [Float](repeating: 0, count: g.outputCount), argmax = [Int32](repeating: -1, count: g.outputCount)
    switch kind {
    case .average: averagePoolForward(g, input: a, output: &expected)
    case .max: maxPoolForward(g, input: a, output: &expected, argmax: &argmax)
    }
    expectClose(unlaned(pooled, images: n, layout: pool.output), expected, terms: window * window, "forward \(kind)")
    #expect(pooled[pool.output.vector(channel: 0, row: -1, column: 0) * 16] == 0, "the border stays zero")

    let dOutLayout = LanePlanes(channels: c, height: pool.output.height, width: pool.output.width)
    let gradient = LanePlanes(channels: c, height: h, width: w, border: 2)
    let dOuts = laned(dOut, images: n, layout: dOutLayout)
    for activation in [FusedActivation.sigmoid, .relu, .none] {
        var dx = [Float](repeating: 0, count: groups * gradient.groupFloats)
        dx.withUnsafeMutableBufferPointer { target in
            for group in 0..<groups {
                pool.backward(
                    outputGradient: dOuts.withUnsafeBufferPointer { $0.baseAddress! } + group * dOutLayout.groupFloats,
                    layout: dOutLayout,
                    winners: winners.withUnsafeBufferPointer { $0.baseAddress! } + group * pool.winnerFloats,
                    activationOutput: activations.withUnsafeBufferPointer { $0.baseAddress! } + group
                        * input.groupFloats,
                    activation, gradient: gradient, into: target.baseAddress! + group * gradient.groupFloats)
            }
        }
        var expectedDx = [Float](repeating: .nan, count: g.inputCount)
        a.withUnsafeBufferPointer { output in
            let through = ActivationOutput(activation, output: output.baseAddress!)
            switch kind {
            case .average: averagePoolBackward(g, outputGradient: dOut, inputGradient: &expectedDx, through: through)
            case .max:
                maxPoolBackward(g, outputGradient: dOut, argmax: argmax, inputGradient: &expectedDx, through: through)
            }
        }
        expectClose(
            unlaned(dx, images: n, layout: gradient), expectedDx, terms: window * window,
            "backward \(kind) \(activation)")
    }
}

@Test("lane max pooling: the first largest value wins, and a NaN wins over numbers")
func laneMaxPoolingTies() {
    // One 2x4 plane pooled 2x2: lane 0 has the values below, the other lanes zeros.
    let input = LanePlanes(channels: 1, height: 2, width: 4)
    let pool = LanePool(.max, input: input, window: 2, stride: 2)
    var x = [Float](repeating: 0, count: input.groupFloats)
    for (position, value) in [3, 1, 3, .nan, 2, 3, 7, .nan].enumerated() { x[position * 16] = Float(value) }
    var (y, winners) = (
        [Float](repeating: 0, count: pool.output.groupFloats), [Float](repeating: -1, count: pool.winnerFloats)
    )
    pool.forward(input: x, output: &y, winners: &winners)
    // Window 0 holds 3, 1 / 2, 3: the first 3 (index 0) wins. Window 1 holds 3, NaN / 7, NaN: NaN (index 1).
    #expect(y[0] == 3 && winners[0] == 0)
    #expect(y[16].isNaN && winners[16] == 1)
    #expect(y[1] == 0 && winners[1] == 0, "an all-zero window: its first position")
}

@Test(
    "a whole batch's three passes in lanes (LaneConvolutionBatch) match the definition",
    arguments: [laneCases[1], laneCases[2], laneCases[3]])
func laneConvolutionBatch(test: LaneCase) {
    let g = test.geometry
    let x = testValues(g.inputCount, seed: 50), w = testValues(g.weightCount, seed: 51)
    let dy = testValues(g.outputCount, seed: 52)
    let dyWidth = g.outputWidth, q = g.kernelWidth - 1 - g.paddingWidth
    let rowTile = LaneCorrelation.rowTileFits(inputWidth: dyWidth, kernelWidth: g.kernelWidth, padding: q)
    let layer = LaneConvolutionBatch(g, workers: 2, backwardDataRowTile: rowTile)
    layer.setInput(x)
    layer.setWeights(w)
    layer.setOutputGradient(dy)
    layer.runForward()
    layer.runBackwardData()
    var (y, dx) = ([Float](repeating: .nan, count: g.outputCount), [Float](repeating: .nan, count: g.inputCount))
    var (dw, db) = ([Float](repeating: .nan, count: g.weightCount), [Float](repeating: .nan, count: test.k))
    layer.runFilterGradient(weightGradient: &dw, biasGradient: &db)
    layer.copyOutput(into: &y)
    layer.copyInputGradient(into: &dx)
    expectClose(
        y, ConvolutionReference.forward(g, input: x, weight: w, bias: nil), terms: g.patchLength, "\(test) forward")
    expectClose(
        dx, ConvolutionReference.backwardData(g, outputGradient: dy, weight: w), terms: test.k * test.r * test.r,
        "\(test) backward-data")
    let reference = ConvolutionReference.backwardFilter(g, input: x, outputGradient: dy)
    expectClose(dw, reference.weight, terms: test.n * g.outputPlane, "\(test) weights")
    expectClose(db, reference.bias, terms: test.n * g.outputPlane, "\(test) bias")
}
