// ChannelsLastTests.swift: the channels-last kernels against the channels-first ones they stand
// in for: convolution and its backward (dx, dw, db; lowered and Winograd) against the direct
// definition, max pooling and its backward against the plane loop's (NaNs and ties included),
// global average pooling against adaptive average pooling, and the layout transposes against
// index arithmetic.

import Testing

@testable import Kernels

/// [N, C, H*W] -> [N, H*W, C] by index arithmetic, the transposes' oracle.
private func channelsLast(_ x: [Float], batch: Int, channels: Int, plane: Int) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    for n in 0..<batch {
        for c in 0..<channels {
            for i in 0..<plane { y[(n * plane + i) * channels + c] = x[(n * channels + c) * plane + i] }
        }
    }
    return y
}

private let channelsLastGeometries: [ConvolutionGeometry] = [
    .init(3, 20, 6, 6, k: 24, kernel: (1, 1)),  // pointwise: the input is the matrix
    .init(2, 17, 6, 6, k: 33, kernel: (3, 3), padding: (1, 1)),  // channels not a multiple of 16
    .init(2, 16, 3, 3, k: 8, kernel: (5, 5), padding: (2, 2)),  // a 5x5 on a 3x3 plane: mostly padding
    .init(2, 5, 7, 9, k: 6, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),  // strided, not square
    .init(20, 128, 6, 6, k: 16, kernel: (5, 5), padding: (2, 2)),  // 720 rows in chunks of 327
    // Winograd F(2x2, 3x3) too: odd planes (tiles cut at the edge), no padding, padding 2, and
    // more images than one chunk holds.
    .init(3, 16, 3, 5, k: 20, kernel: (3, 3), padding: (1, 1)),
    .init(2, 16, 8, 8, k: 16, kernel: (3, 3)),
    .init(1, 18, 5, 4, k: 17, kernel: (3, 3), padding: (2, 2)),
    .init(40, 1024, 6, 6, k: 16, kernel: (3, 3), padding: (1, 1)),
]

@Test(
    "a channels-last convolution computes the definition, into a channel slice of wider rows, with bias and ReLU",
    arguments: channelsLastGeometries)
func channelsLastConvolutionMatches(g: ConvolutionGeometry) {
    let x = testValues(g.inputCount, seed: 41), w = testValues(g.weightCount, seed: 42)
    let b = testValues(g.outputChannels, seed: 43)
    // Input rows with 3 floats after each position's channels; output rows with 2 channels
    // before this convolution's and 1 after, holding a sentinel that must survive.
    let (inputStride, before, outputStride) = (g.inputChannels + 3, 2, g.outputChannels + 3)
    var input = [Float](repeating: .nan, count: g.batch * g.inputPlane * inputStride)
    let dense = channelsLast(x, batch: g.batch, channels: g.inputChannels, plane: g.inputPlane)
    for row in 0..<(g.batch * g.inputPlane) {
        for c in 0..<g.inputChannels { input[row * inputStride + c] = dense[row * g.inputChannels + c] }
    }
    let algorithms: [ChannelsLastAlgorithm] = g.supportsChannelsLastWinograd ? [.lowered, .winograd] : [.lowered]
    let workspace = ChannelsLastWorkspace(for: algorithms.map { (g, $0) }, workers: 2)
    for algorithm in algorithms {
        for (bias, activation) in [(nil, FusedActivation.none), (b, .relu)] {
            let sentinel: Float = 777
            var y = [Float](repeating: sentinel, count: g.batch * g.outputPlane * outputStride)
            y.withUnsafeMutableBufferPointer { output in
                bias.withUnsafeBufferPointerIfPresent { biasPointer in
                    channelsLastConvolutionForward(
                        g, algorithm: algorithm, input: input, inputRowStride: inputStride, weight: w,
                        bias: biasPointer,
                        output: output.baseAddress! + before, outputRowStride: outputStride, activation: activation,
                        workspace: workspace)
                }
            }
            let reference = channelsLast(
                ConvolutionReference.forward(g, input: x, weight: w, bias: bias).map {
                    activation == .relu ? max(0, $0) : $0
                },
                batch: g.batch, channels: g.outputChannels, plane: g.outputPlane)
            var ours: [Float] = []
            var outside: [Float] = []
            for row in 0..<(g.batch * g.outputPlane) {
                let start = row * outputStride
                ours += y[(start + before)..<(start + before + g.outputChannels)]
                outside += y[start..<(start + before)] + y[(start + before + g.outputChannels)..<(start + outputStride)]
            }
            #expect(outside.allSatisfy { $0 == sentinel }, "\(g) \(algorithm): wrote outside its channels")
            expectClose(
                ours, reference, terms: g.patchLength, algorithm: algorithm == .winograd ? .winograd : .im2col,
                "\(g) channels-last \(algorithm), bias \(bias != nil)")
        }
    }
}

@Test("the chunked channels-last cases run in several chunks, im2col rows and Winograd tiles")
func channelsLastChunks() {
    #expect(channelsLastGeometries.contains { $0.batch * $0.outputPlane > 2 * ChannelsLastWorkspace.rowsPerChunk($0) })
    #expect(
        channelsLastGeometries.contains {
            $0.supportsChannelsLastWinograd && $0.batch > 2 * $0.channelsLastWinogradImagesPerChunk
        })
}

@Test(
    "channels-last max pooling gives the plane loop's values, NaNs included; global average pooling the adaptive pool's",
    arguments: [
        PoolingGeometry(2, 35, 6, 6, window: 3, stride: 1, padding: 1),  // Inception's pool branch
        PoolingGeometry(3, 16, 6, 6, window: 3, stride: 2, padding: 1),  // GoogLeNet's 6 -> 3
        PoolingGeometry(1, 7, 5, 4, window: 2, stride: 2),
    ])
func channelsLastPoolingMatches(p: PoolingGeometry) {
    var x = testValues(p.inputCount, seed: 44)
    x[5] = .nan
    x[p.inputCount - 17] = -.infinity
    var expected = [Float](repeating: 0, count: p.outputCount), winners = [Int32](repeating: 0, count: p.outputCount)
    maxPoolForward(p, input: x, output: &expected, argmax: &winners)
    let input = channelsLast(x, batch: p.batch, channels: p.channels, plane: p.inputPlane)
    var y = [Float](repeating: 0, count: p.outputCount)
    channelsLastMaxPool(p, input: input, output: &y, workers: 2)
    let reference = channelsLast(expected, batch: p.batch, channels: p.channels, plane: p.outputPlane)
    #expect(y.map(\.isNaN) == reference.map(\.isNaN) && y.contains { $0.isNaN })
    #expect(zip(y, reference).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(p)")

    let finite = testValues(p.inputCount, seed: 45)
    var mean = [Float](repeating: 0, count: p.planes)
    adaptiveAveragePoolForward(
        planes: p.planes, inputHeight: p.inputHeight, inputWidth: p.inputWidth, outputHeight: 1, outputWidth: 1,
        input: finite, output: &mean)
    var ours = [Float](repeating: 0, count: p.planes)
    channelsLastGlobalAveragePool(
        channelsLast(finite, batch: p.batch, channels: p.channels, plane: p.inputPlane), into: &ours,
        batch: p.batch, plane: p.inputPlane, channels: p.channels, workers: 2)
    #expect(zip(ours, mean).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(p): global average")
}

@Test(
    "the layout transposes turn [N, C, H*W] into [N, H*W, C] and back",
    arguments: [(2, 35, 36), (1, 16, 9), (3, 3, 50)])
func channelsLastTransposes(batch: Int, channels: Int, plane: Int) {
    let x = testValues(batch * channels * plane, seed: 46)
    var y = [Float](repeating: 0, count: x.count), back = [Float](repeating: 0, count: x.count)
    transposeChannels(x, into: &y, batch: batch, channels: channels, plane: plane, toChannelsLast: true, workers: 2)
    #expect(y == channelsLast(x, batch: batch, channels: channels, plane: plane))
    transposeChannels(y, into: &back, batch: batch, channels: channels, plane: plane, toChannelsLast: false, workers: 2)
    #expect(back == x)
}

@Test(
    "a channels-last convolution's backward gives the definition's dx, dw and db, from input rows of a wider tensor",
    arguments: channelsLastGeometries + [.init(3, 32, 12, 12, k: 96, kernel: (5, 5), padding: (2, 2))])
func channelsLastBackwardMatches(g: ConvolutionGeometry) {
    let x = testValues(g.inputCount, seed: 47), w = testValues(g.weightCount, seed: 48)
    let dy = testValues(g.outputCount, seed: 49)
    // Input rows with 3 floats after each position's channels, as a branch's slice would be.
    let inputStride = g.inputChannels + 3
    var input = [Float](repeating: .nan, count: g.batch * g.inputPlane * inputStride)
    let dense = channelsLast(x, batch: g.batch, channels: g.inputChannels, plane: g.inputPlane)
    for row in 0..<(g.batch * g.inputPlane) {
        for c in 0..<g.inputChannels { input[row * inputStride + c] = dense[row * g.inputChannels + c] }
    }
    let gradient = channelsLast(dy, batch: g.batch, channels: g.outputChannels, plane: g.outputPlane)
    let (weight, bias) = ConvolutionReference.backwardFilter(g, input: x, outputGradient: dy)
    let reference = ConvolutionReference.backwardData(g, outputGradient: dy, weight: w)
    let algorithms: [ChannelsLastAlgorithm] = g.supportsChannelsLastWinograd ? [.lowered, .winograd] : [.lowered]
    let workspace = ChannelsLastWorkspace(for: algorithms.map { (g, $0) }, backward: true, workers: 2)
    for algorithm in algorithms {
        // The weight and bias gradients are added to: start them from a known value.
        var dw = [Float](repeating: 1, count: g.weightCount), db = [Float](repeating: 1, count: g.outputChannels)
        var dx = [Float](repeating: .nan, count: dense.count)
        channelsLastConvolutionBackward(
            g, algorithm: algorithm, input: input, inputRowStride: inputStride, weight: w, outputGradient: gradient,
            inputGradient: &dx, weightGradient: &dw, biasGradient: &db, workspace: workspace)
        let terms = g.batch * g.outputPlane
        expectClose(dw, weight.map { $0 + 1 }, terms: terms, "\(g) \(algorithm): dw")
        expectClose(db, bias.map { $0 + 1 }, terms: terms, "\(g) \(algorithm): db")
        expectClose(
            dx, channelsLast(reference, batch: g.batch, channels: g.inputChannels, plane: g.inputPlane),
            terms: g.outputChannels * g.kernelHeight * g.kernelWidth,
            algorithm: algorithm == .winograd ? .winograd : .im2col, "\(g) \(algorithm): dx")
    }
}

@Test(
    "channels-last max pooling sends each gradient to its window's winner, as the plane loop's backward does; global average pooling spreads it evenly",
    arguments: [
        PoolingGeometry(2, 35, 6, 6, window: 3, stride: 1, padding: 1),
        PoolingGeometry(3, 16, 12, 12, window: 3, stride: 2, padding: 1),
    ])
func channelsLastPoolingBackwardMatches(p: PoolingGeometry) {
    // Ties (zeros, as after a ReLU) go to the first position of the window, as channels-first.
    let x = testValues(p.inputCount, seed: 50).map { max(0, $0) }
    let dy = testValues(p.outputCount, seed: 51)
    var y = [Float](repeating: 0, count: p.outputCount), argmax = [Int32](repeating: 0, count: p.outputCount)
    maxPoolForward(p, input: x, output: &y, argmax: &argmax)
    var expected = [Float](repeating: 0, count: p.inputCount)
    maxPoolBackward(p, outputGradient: dy, argmax: argmax, inputGradient: &expected)
    var ours = [Float](repeating: 0, count: p.outputCount), winners = [Int32](repeating: -1, count: p.outputCount)
    channelsLastMaxPool(
        p, input: channelsLast(x, batch: p.batch, channels: p.channels, plane: p.inputPlane), output: &ours,
        winners: &winners, workers: 2)
    var dx = [Float](repeating: .nan, count: p.inputCount)
    channelsLastMaxPoolBackward(
        p, outputGradient: channelsLast(dy, batch: p.batch, channels: p.channels, plane: p.outputPlane),
        winners: winners, inputGradient: &dx, workers: 2)
    #expect(dx == channelsLast(expected, batch: p.batch, channels: p.channels, plane: p.inputPlane), "\(p)")

    let mean = testValues(p.planes, seed: 52)
    var spread = [Float](repeating: .nan, count: p.inputCount)
    channelsLastGlobalAveragePoolBackward(
        mean, into: &spread, batch: p.batch, plane: p.inputPlane, channels: p.channels, workers: 2)
    for (i, value) in spread.enumerated() {
        #expect(
            abs(value - mean[(i / (p.inputPlane * p.channels)) * p.channels + i % p.channels] / Float(p.inputPlane))
                <= 1e-7)
    }
}
