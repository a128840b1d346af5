// ConvolutionTests.swift: the SGEMM-lowered convolution against the direct seven-loop oracle, on
// odd sizes with stride, padding, groups, rectangular kernels and the pointwise fast path; and
// backward-data against the adjoint identity <conv(x), dy> = <x, conv^T(dy)>, which needs no oracle.

import Testing

@testable import Kernels

extension ConvolutionGeometry {
    /// (N, C, H, W) in, K out, kernel (R, S), stride (sh, sw), padding (ph, pw), G groups.
    init(
        _ n: Int, _ c: Int, _ h: Int, _ w: Int, k: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), groups: Int = 1
    ) {
        self.init(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k,
            kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: stride.0, strideWidth: stride.1,
            paddingHeight: padding.0, paddingWidth: padding.1, groups: groups)
    }

    var inputCount: Int { batch * inputChannels * inputPlane }
    var outputCount: Int { batch * outputChannels * outputPlane }
}

let geometries: [ConvolutionGeometry] = [
    .init(1, 1, 5, 5, k: 1, kernel: (3, 3)),
    .init(2, 3, 7, 7, k: 4, kernel: (3, 3), padding: (1, 1)),
    .init(2, 4, 9, 8, k: 6, kernel: (5, 5), stride: (2, 2), padding: (2, 2), groups: 2),
    .init(1, 1, 23, 23, k: 5, kernel: (11, 11), stride: (4, 4), padding: (1, 1)),  // AlexNet conv1's arithmetic
    .init(1, 2, 8, 8, k: 3, kernel: (3, 5), stride: (3, 4), padding: (0, 1)),  // d2l's exercise shape
    .init(2, 6, 5, 7, k: 8, kernel: (1, 1)),  // pointwise
    .init(1, 6, 5, 7, k: 4, kernel: (1, 1), groups: 2),  // pointwise, grouped
    .init(1, 4, 9, 9, k: 6, kernel: (1, 1), stride: (2, 2)),  // 1x1 but strided: im2col
    .init(1, 6, 6, 6, k: 6, kernel: (3, 3), padding: (1, 1), groups: 6),  // depthwise
    .init(3, 5, 13, 11, k: 7, kernel: (3, 3), stride: (2, 1), padding: (2, 0)),
    .init(1, 2, 4, 4, k: 3, kernel: (4, 4), padding: (3, 3)),  // padding as wide as the kernel
    .init(1, 16, 12, 12, k: 33, kernel: (3, 3), padding: (1, 1)),  // tile edges in M and N
    // Products above ConvolutionGeometry.imageParallelThreshold: images one by one, each GEMM
    // threaded (the small geometries above split the batch over the workers instead).
    .init(1, 64, 16, 16, k: 64, kernel: (3, 3), padding: (1, 1)),
    .init(2, 64, 16, 16, k: 144, kernel: (3, 3), padding: (1, 1), groups: 2),
    // Small planes: several images' products side by side in one GEMM, 5 + 2 here.
    .init(7, 32, 20, 20, k: 48, kernel: (3, 3), padding: (1, 1)),
    // Side by side although the products are small enough to split the batch, because the
    // weights are many: pointwise (NiN's 1x1 layers), pointwise grouped, and 3x3 on a 3x3 plane.
    .init(9, 128, 5, 7, k: 128, kernel: (1, 1)),
    .init(3, 64, 4, 4, k: 512, kernel: (1, 1), groups: 2),
    .init(5, 64, 3, 3, k: 64, kernel: (3, 3), padding: (1, 1)),
    // Winograd's edges: padding 0 and 2, planes that are not whole 4x4 blocks, and batches of
    // several chunks (64 blocks per image, 4 images per chunk), the last one short.
    .init(2, 16, 9, 10, k: 20, kernel: (3, 3), padding: (2, 0)),
    .init(9, 3, 30, 29, k: 5, kernel: (3, 3), padding: (2, 1)),
    // F(2x2, 5x5): padding 2 and the extremes 4 and 0, odd planes, and one image per chunk.
    .init(2, 16, 11, 9, k: 20, kernel: (5, 5), padding: (2, 1)),
    .init(2, 3, 13, 12, k: 4, kernel: (5, 5), padding: (4, 0)),
    .init(3, 2, 40, 40, k: 3, kernel: (5, 5), padding: (2, 2)),
    // Direct: a rectangular kernel, and more than one channel block (6) in both directions;
    // padding wider than the kernel.
    .init(3, 7, 9, 11, k: 10, kernel: (3, 5), padding: (2, 1)),
    .init(2, 3, 5, 6, k: 4, kernel: (2, 3), padding: (3, 4)),
    // LeNet's conv2 at an odd batch: forward and filter gradient with a vector of 16 output
    // channels, backward-data on flat rows.
    .init(3, 6, 14, 14, k: 16, kernel: (5, 5)),
    // The other way round: backward-data with 20 channels to a vector, the last one part-filled.
    .init(2, 20, 7, 6, k: 5, kernel: (3, 3), padding: (1, 2)),
]

/// Every geometry with every algorithm that can run it (all three passes alike), and the mixed
/// passes the plan's rules choose (a 5x5 layer's Winograd forward with im2col backward).
let algorithmCases: [(ConvolutionGeometry, ConvolutionPasses)] = geometries.flatMap { g in
    let uniform = ConvolutionAlgorithm.allCases.filter { g.supports($0) }.map(ConvolutionPasses.init)
    let mixed = ConvolutionPasses(forward: .winograd, backwardData: .im2col, filterGradient: .im2col)
    return (uniform + (g.supports(mixed) && g.kernelHeight == 5 ? [mixed] : [])).map { (g, $0) }
}

@Test("the sweep covers every algorithm: Winograd 3x3 and 5x5, direct with several channel blocks")
func algorithmCoverage() {
    let winograd = ConvolutionPasses(.winograd)
    #expect(algorithmCases.filter { $0.1 == winograd && $0.0.kernelHeight == 3 }.count >= 6)
    #expect(algorithmCases.filter { $0.1 == winograd && $0.0.kernelHeight == 5 }.count >= 3)
    #expect(algorithmCases.filter { $0.1 != winograd && $0.1.forward == .winograd }.count >= 3)
    // Direct: more than one channel block (6) forward and back, rectangular kernels, and
    // padding from 0 to past the kernel.
    let direct = algorithmCases.filter { $0.1 == ConvolutionPasses(.direct) }.map(\.0)
    #expect(direct.contains { $0.outputChannels > 6 && $0.inputChannels > 6 })
    #expect(direct.contains { $0.kernelHeight != $0.kernelWidth })
    #expect(direct.contains { $0.paddingHeight == $0.kernelHeight - 1 } && direct.contains { $0.paddingWidth == 0 })
    #expect(direct.contains { $0.paddingHeight > $0.kernelHeight && $0.paddingWidth > $0.kernelWidth })
    // Both layouts of the direct kernels: vectors along the flat rows (few output channels) and
    // along the channels (16 or more), the latter with a part-filled last vector, forward and back.
    for problem in [DirectProblem.init(forward:), DirectProblem.init(backwardData:)] {
        #expect(direct.contains { !problem($0).vectorsAlongChannels })
        #expect(direct.contains { problem($0).vectorsAlongChannels && problem($0).outputChannels % 16 != 0 })
    }
    // The flat filter gradient with a part-filled register tile in both directions: spare
    // channels and spare taps (3 x 5 with AVX-512, 2 x 3 without).
    #expect(
        direct.map(DirectProblem.init(forward:)).contains {
            !$0.vectorsAlongChannels && $0.outputChannels % FilterGradientTile.channels != 0
                && $0.taps % FilterGradientTile.taps != 0
        })
}

@Test("the test table covers both ways of running a convolution")
func bothPathsCovered() {
    let threshold = ConvolutionGeometry.imageParallelThreshold
    #expect(geometries.contains { $0.batch > 1 && $0.multiplyAddsPerImageGroup * $0.groups < threshold })
    #expect(geometries.contains { $0.batch > 1 && $0.multiplyAddsPerImageGroup * $0.groups >= threshold })
    // Side by side, grouped, and with a last product holding fewer images than the others;
    // pointwise, and where the batch would otherwise be split over the workers.
    #expect(geometries.contains { $0.imagesPerProduct(workers: 2) > 1 && $0.groups > 1 })
    #expect(geometries.contains { $0.imagesPerProduct(workers: 2) > 1 && $0.isPointwise && $0.groups > 1 })
    #expect(geometries.contains { $0.imagesPerProduct(workers: 2) > 1 && $0.splitsBatch(workers: 2) })
    #expect(
        geometries.contains { g in
            let images = g.imagesPerProduct(workers: 2)
            return images > 1 && g.batch % images != 0
        })
}

/// Relative-to-scale closeness for sums of `terms` unit-sized products. Winograd's transforms
/// (entries up to 8, and 1/24) amplify rounding: 4.5x the GEMM's worst case was measured on these
/// cases, so it gets 10x; a wrong transform is off by whole units, not by 1e-4.
func expectClose(
    _ ours: [Float], _ reference: [Float], terms: Int, algorithm: ConvolutionAlgorithm = .im2col,
    _ what: String
) {
    #expect(ours.count == reference.count)
    let worst = zip(ours, reference).map { abs($0 - $1) }.max() ?? 0
    let allowed = tolerance(k: terms) * (algorithm == .winograd ? 10 : 1)
    #expect(worst <= allowed, "\(what): max difference \(worst)")
}

@Test("forward matches the direct definition", arguments: algorithmCases)
func convolutionForwardMatches(g: ConvolutionGeometry, passes: ConvolutionPasses) {
    let x = testValues(g.inputCount, seed: 1), w = testValues(g.weightCount, seed: 2)
    let b = testValues(g.outputChannels, seed: 3)
    let workspace = ConvolutionWorkspace(g, workers: 2, passes: passes)
    for bias in [nil, b] {
        var y = [Float](repeating: .nan, count: g.outputCount)
        let biasPointer = bias.map { Array($0) }
        biasPointer.withUnsafeBufferPointerIfPresent { bp in
            convolutionForward(g, input: x, weight: w, bias: bp, output: &y, workspace: workspace)
        }
        expectClose(
            y, ConvolutionReference.forward(g, input: x, weight: w, bias: bias), terms: g.patchLength,
            algorithm: passes.forward, "\(g) \(passes) bias \(bias != nil)")
    }
}

@Test(
    "forward into channels of a wider output (a concatenation's branch) writes only there, with its activation",
    arguments: algorithmCases)
func convolutionForwardIntoChannels(g: ConvolutionGeometry, passes: ConvolutionPasses) {
    // The output has 2 channels before this convolution's K and 1 after, per image; the others
    // hold a sentinel that must survive.
    let (before, after, plane) = (2, 1, g.outputPlane)
    let sentinel: Float = 777
    let total = before + g.outputChannels + after
    let wide = g.writing(intoImagesOf: total)
    #expect(wide.outputImageStride == total * plane)
    let x = testValues(g.inputCount, seed: 13), w = testValues(g.weightCount, seed: 14)
    let b = testValues(g.outputChannels, seed: 15)
    var y = [Float](repeating: sentinel, count: g.batch * total * plane)
    y.withUnsafeMutableBufferPointer { output in
        convolutionForward(
            wide, input: x, weight: w, bias: b, output: output.baseAddress! + before * plane, activation: .relu,
            workspace: ConvolutionWorkspace(g, workers: 2, passes: passes))
    }
    let reference = ConvolutionReference.forward(g, input: x, weight: w, bias: b).map { max(0, $0) }
    let size = g.outputChannels * plane
    var ours: [Float] = []
    for n in 0..<g.batch {
        let start = (n * total + before) * plane
        ours += y[start..<(start + size)]
        let outside = y[(n * total * plane)..<start] + y[(start + size)..<((n + 1) * total * plane)]
        #expect(outside.allSatisfy { $0 == sentinel }, "\(g) \(passes): image \(n) wrote outside its channels")
    }
    expectClose(ours, reference, terms: g.patchLength, algorithm: passes.forward, "\(g) \(passes) into channels")
}

@Test("backward-data matches the direct definition and overwrites stale gradients", arguments: algorithmCases)
func convolutionBackwardDataMatches(g: ConvolutionGeometry, passes: ConvolutionPasses) {
    let dy = testValues(g.outputCount, seed: 4), w = testValues(g.weightCount, seed: 5)
    var dx = [Float](repeating: 123, count: g.inputCount)
    convolutionBackwardData(
        g, outputGradient: dy, weight: w, inputGradient: &dx,
        workspace: ConvolutionWorkspace(g, workers: 2, passes: passes))
    expectClose(
        dx, ConvolutionReference.backwardData(g, outputGradient: dy, weight: w),
        terms: g.outputChannelsPerGroup * g.kernelHeight * g.kernelWidth,
        algorithm: passes.backwardData, "\(g) \(passes)")
}

@Test("backward-filter matches the direct definition and accumulates", arguments: algorithmCases)
func convolutionBackwardFilterMatches(g: ConvolutionGeometry, passes: ConvolutionPasses) {
    let x = testValues(g.inputCount, seed: 6), dy = testValues(g.outputCount, seed: 7)
    let previousW = testValues(g.weightCount, seed: 8), previousB = testValues(g.outputChannels, seed: 9)
    var dw = previousW, db = previousB
    convolutionBackwardFilter(
        g, input: x, outputGradient: dy, weightGradient: &dw, biasGradient: &db,
        workspace: ConvolutionWorkspace(g, workers: 2, passes: passes))
    let reference = ConvolutionReference.backwardFilter(g, input: x, outputGradient: dy)
    expectClose(
        dw, zip(previousW, reference.weight).map { $0 + $1 }, terms: g.batch * g.outputPlane,
        algorithm: passes.filterGradient, "\(g) \(passes) weights")
    expectClose(
        db, zip(previousB, reference.bias).map { $0 + $1 }, terms: g.batch * g.outputPlane,
        algorithm: passes.filterGradient, "\(g) \(passes) bias")
}

@Test("backward-data is the adjoint of forward: <conv(x), dy> = <x, conv^T(dy)>", arguments: algorithmCases)
func adjointIdentity(g: ConvolutionGeometry, passes: ConvolutionPasses) {
    let x = testValues(g.inputCount, seed: 10), w = testValues(g.weightCount, seed: 11)
    let dy = testValues(g.outputCount, seed: 12)
    let workspace = ConvolutionWorkspace(g, workers: 2, passes: passes)
    var y = [Float](repeating: 0, count: g.outputCount), dx = [Float](repeating: 0, count: g.inputCount)
    convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
    convolutionBackwardData(g, outputGradient: dy, weight: w, inputGradient: &dx, workspace: workspace)
    let left = zip(y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let right = zip(x, dx).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let scale = Double(max(g.outputCount, g.inputCount)).squareRoot() * Double(g.patchLength).squareRoot()
    #expect(abs(left - right) <= 1e-5 * scale, "\(g): \(left) vs \(right)")
}

@Test(
    "one workspace serves every pass in turn, batch after batch, with nothing left over from the last",
    arguments: algorithmCases)
func workspaceReuse(g: ConvolutionGeometry, passes: ConvolutionPasses) {
    // The direct kernels zero their padded borders once and rely on nothing writing there; the
    // others reuse their scratch too. Interleave the passes on new data and check each one.
    let workspace = ConvolutionWorkspace(g, workers: 2, passes: passes)
    let w = testValues(g.weightCount, seed: 20)
    for round in 0..<2 {
        let x = testValues(g.inputCount, seed: UInt64(21 + round)),
            dy = testValues(g.outputCount, seed: UInt64(31 + round))
        var y = [Float](repeating: .nan, count: g.outputCount), dx = [Float](repeating: .nan, count: g.inputCount)
        var dw = [Float](repeating: 0, count: g.weightCount), db = [Float](repeating: 0, count: g.outputChannels)
        convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
        convolutionBackwardFilter(
            g, input: x, outputGradient: dy, weightGradient: &dw, biasGradient: &db,
            workspace: workspace)
        convolutionBackwardData(g, outputGradient: dy, weight: w, inputGradient: &dx, workspace: workspace)
        expectClose(
            y, ConvolutionReference.forward(g, input: x, weight: w, bias: nil), terms: g.patchLength,
            algorithm: passes.forward, "\(g) \(passes) round \(round) forward")
        expectClose(
            dx, ConvolutionReference.backwardData(g, outputGradient: dy, weight: w),
            terms: g.outputChannelsPerGroup * g.kernelHeight * g.kernelWidth,
            algorithm: passes.backwardData, "\(g) \(passes) round \(round) backward-data")
        expectClose(
            dw, ConvolutionReference.backwardFilter(g, input: x, outputGradient: dy).weight,
            terms: g.batch * g.outputPlane, algorithm: passes.filterGradient,
            "\(g) \(passes) round \(round) weights")
    }
}

@Test(
    "output sizes follow floor((n + 2p - k) / s) + 1",
    arguments: [
        (224, 11, 4, 1, 54), (54, 3, 2, 0, 26), (26, 5, 1, 2, 26), (12, 3, 2, 0, 5), (28, 5, 1, 2, 28), (8, 3, 3, 0, 2),
    ])
func outputSize(example: (n: Int, k: Int, s: Int, p: Int, out: Int)) {
    let g = ConvolutionGeometry(
        1, 1, example.n, example.n, k: 1, kernel: (example.k, example.k),
        stride: (example.s, example.s), padding: (example.p, example.p))
    #expect(g.outputHeight == example.out && g.outputWidth == example.out)
}

@Test("im2col lays out a small example as written by hand")
func im2colByHand() {
    // x = [[0, 1, 2], [3, 4, 5], [6, 7, 8]], 2x2 kernel, stride 1: four windows, four positions each.
    let g = ConvolutionGeometry(1, 1, 3, 3, k: 1, kernel: (2, 2))
    let x: [Float] = (0..<9).map(Float.init)
    var columns = [Float](repeating: -1, count: g.columnCount)
    im2col(g, image: x, columns: &columns)
    #expect(
        columns == [
            0, 1, 3, 4,  // kernel (0, 0) over the four windows
            1, 2, 4, 5,  // kernel (0, 1)
            3, 4, 6, 7,  // kernel (1, 0)
            4, 5, 7, 8,
        ])  // kernel (1, 1)
}

@Test("a grouped convolution equals convolving each group separately and concatenating")
func groupsAreSplits() {
    let g = ConvolutionGeometry(2, 4, 7, 6, k: 6, kernel: (3, 3), padding: (1, 1), groups: 2)
    let x = testValues(g.inputCount, seed: 13), w = testValues(g.weightCount, seed: 14)
    var grouped = [Float](repeating: 0, count: g.outputCount)
    convolutionForward(
        g, input: x, weight: w, bias: nil, output: &grouped,
        workspace: ConvolutionWorkspace(g, algorithm: .im2col))
    let half = ConvolutionGeometry(1, 2, 7, 6, k: 3, kernel: (3, 3), padding: (1, 1))
    for n in 0..<2 {
        for group in 0..<2 {
            let xs = Array(x[((n * 4 + group * 2) * 42)..<((n * 4 + group * 2 + 2) * 42)])
            let ws = Array(w[(group * 3 * half.patchLength)..<((group + 1) * 3 * half.patchLength)])
            var part = [Float](repeating: 0, count: half.outputCount)
            convolutionForward(
                half, input: xs, weight: ws, bias: nil, output: &part,
                workspace: ConvolutionWorkspace(half, algorithm: .direct))
            let start = (n * 6 + group * 3) * g.outputPlane
            #expect(Array(grouped[start..<(start + part.count)]) == part)
        }
    }
}

extension Optional where Wrapped == [Float] {
    func withUnsafeBufferPointerIfPresent<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let values): return values.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}

@Test("Winograd's backward-data is right for 5x5 too, called directly (the plan runs im2col there)")
func winogradBackwardData5x5() {
    let g = ConvolutionGeometry(3, 6, 11, 10, k: 20, kernel: (5, 5), padding: (2, 1))
    let dy = testValues(g.outputCount, seed: 17), w = testValues(g.weightCount, seed: 18)
    var dx = [Float](repeating: 123, count: g.inputCount)
    let workspace = ConvolutionWorkspace(g, workers: 2, algorithm: .winograd)
    runWinograd(
        g, WinogradProblem(backwardData: g), rotatingFilters: true, input: dy, weight: w, bias: nil,
        output: &dx, activation: .none, workspace: workspace)
    expectClose(
        dx, ConvolutionReference.backwardData(g, outputGradient: dy, weight: w),
        terms: g.outputChannels * 25, algorithm: .winograd, "\(g)")
}

@Test("Winograd's filter gradient is right for 5x5 too, called directly (the plan runs im2col there)")
func winogradFilterGradient5x5() {
    let g = ConvolutionGeometry(3, 4, 11, 10, k: 6, kernel: (5, 5), padding: (2, 1))
    let x = testValues(g.inputCount, seed: 15), dy = testValues(g.outputCount, seed: 16)
    var dw = [Float](repeating: 0, count: g.weightCount), db = [Float](repeating: 0, count: g.outputChannels)
    let workspace = ConvolutionWorkspace(g, workers: 2, algorithm: .winograd)
    winogradFilterGradient(
        WinogradProblem(forward: g), input: x, outputGradient: dy, weightGradient: &dw,
        biasGradient: &db, buffers: workspace.winograd,
        packingSpace: workspace.gemm.storage.pointer, workers: 2)
    let reference = ConvolutionReference.backwardFilter(g, input: x, outputGradient: dy)
    expectClose(dw, reference.weight, terms: g.batch * g.outputPlane, algorithm: .winograd, "weights")
    expectClose(db, reference.bias, terms: g.batch * g.outputPlane, algorithm: .winograd, "bias")
}
