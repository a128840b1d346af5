// PoolingTests.swift: pooling against an independent route (pool an explicitly padded copy of
// the input), backward by finite differences and by the adjoint identity.

import Testing

@testable import Kernels

extension PoolingGeometry {
    init(_ n: Int, _ c: Int, _ h: Int, _ w: Int, window: Int, stride: Int, padding: Int = 0) {
        self.init(
            batch: n, channels: c, inputHeight: h, inputWidth: w, windowHeight: window, windowWidth: window,
            strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding)
    }
    var inputCount: Int { planes * inputPlane }
    var outputCount: Int { planes * outputPlane }
}

let poolings: [PoolingGeometry] = [
    .init(1, 1, 4, 4, window: 2, stride: 2),
    .init(2, 3, 13, 13, window: 3, stride: 2),  // AlexNet's overlapping 3x3 / 2
    .init(1, 2, 7, 9, window: 3, stride: 2, padding: 1),
    .init(2, 2, 28, 28, window: 2, stride: 2),  // LeNet
    .init(1, 3, 11, 6, window: 3, stride: 1, padding: 1),
    .init(1, 1, 5, 5, window: 5, stride: 5),
    // The 2x2 fast path: an odd edge no window covers, overlapping windows, and gaps.
    .init(1, 2, 7, 9, window: 2, stride: 2),
    .init(2, 1, 6, 5, window: 2, stride: 1),
    .init(1, 1, 8, 8, window: 2, stride: 3),
    // Its vector path (eight or more outputs per row): whole eights, an overlapping last eight,
    // and an odd last row and column that no window covers.
    .init(2, 1, 19, 35, window: 2, stride: 2),
    // Its short rows (four to seven outputs): LeNet's second pool (two overlapping fours), and
    // seven wide with an odd last row and column.
    .init(2, 3, 10, 10, window: 2, stride: 2),
    .init(1, 2, 9, 15, window: 2, stride: 2),
    // Stride 1 by whole rows of sixteen: Inception's pool branch at GoogLeNet's 12, 6 and 3 px,
    // a row of more than sixteen outputs, and windows of 2 and 5.
    .init(2, 3, 12, 12, window: 3, stride: 1, padding: 1),
    .init(1, 2, 3, 3, window: 3, stride: 1, padding: 1),
    .init(1, 1, 9, 37, window: 3, stride: 1, padding: 1),
    .init(1, 2, 8, 19, window: 5, stride: 1, padding: 2),
]

/// Pools by building the zero- (average) or -inf- (max) padded plane first, then sliding the
/// window with no bounds logic at all: a different route from the kernel's clipped windows.
func referencePool(_ g: PoolingGeometry, _ x: [Float], max isMax: Bool) -> [Float] {
    let (ph, pw) = (g.inputHeight + 2 * g.paddingHeight, g.inputWidth + 2 * g.paddingWidth)
    var out: [Float] = []
    for plane in 0..<g.planes {
        var padded = [Float](repeating: isMax ? -.infinity : 0, count: ph * pw)
        for h in 0..<g.inputHeight {
            for w in 0..<g.inputWidth {
                padded[(h + g.paddingHeight) * pw + w + g.paddingWidth] = x[plane * g.inputPlane + h * g.inputWidth + w]
            }
        }
        for p in 0..<g.outputHeight {
            for q in 0..<g.outputWidth {
                let window = (0..<g.windowHeight).flatMap { r in
                    (0..<g.windowWidth).map { s in padded[(p * g.strideHeight + r) * pw + q * g.strideWidth + s] }
                }
                out.append(isMax ? window.max()! : window.reduce(0, +) / Float(window.count))
            }
        }
    }
    return out
}

func maxPool(_ g: PoolingGeometry, _ x: [Float]) -> (y: [Float], argmax: [Int32]) {
    var y = [Float](repeating: 0, count: g.outputCount), argmax = [Int32](repeating: -1, count: g.outputCount)
    maxPoolForward(g, input: x, output: &y, argmax: &argmax)
    return (y, argmax)
}

@Test("max and average pooling match pooling of an explicitly padded input", arguments: poolings)
func poolingForward(g: PoolingGeometry) {
    let x = testValues(g.inputCount, seed: 21)
    let (y, argmax) = maxPool(g, x)
    #expect(y == referencePool(g, x, max: true))
    // Every argmax points at an input that holds the maximum.
    for (i, index) in argmax.enumerated() {
        #expect(x[(i / g.outputPlane) * g.inputPlane + Int(index)] == y[i])
    }
    var average = [Float](repeating: 0, count: g.outputCount)
    averagePoolForward(g, input: x, output: &average)
    let reference = referencePool(g, x, max: false)
    #expect(zip(average, reference).allSatisfy { abs($0 - $1) <= 1e-6 })
}

@Test("max-pool backward equals finite differences of <maxpool(x), dy>", arguments: poolings)
func maxPoolGradient(g: PoolingGeometry) {
    // Distinct half-integers keep every window's winner unique (the max is locally linear), and
    // with a step of 0.25 every perturbed input and pooled output is exact in Float, so the
    // finite difference carries no rounding of its own.
    var x = (0..<g.inputCount).map { Float($0) * 0.5 }
    var generator = LCG(seed: 5)
    x.shuffle(using: &generator)
    let dy = testValues(g.outputCount, seed: 22)
    let (_, argmax) = maxPool(g, x)
    var dx = [Float](repeating: .nan, count: g.inputCount)
    maxPoolBackward(g, outputGradient: dy, argmax: argmax, inputGradient: &dx)
    let h: Float = 0.25  // half the gap between values: no winner changes
    for i in stride(from: 0, to: g.inputCount, by: max(1, g.inputCount / 60)) {
        var plus = x, minus = x
        plus[i] += h
        minus[i] -= h
        let loss = { (input: [Float]) in zip(maxPool(g, input).y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
        #expect(abs(numeric - Double(dx[i])) <= 1e-6, "d/dx[\(i)]: numeric \(numeric), kernel \(dx[i])")
    }
}

@Test(
    "max pooling by rows of sixteen at stride 1 and 2 gives the plane loop's values and winners, ties, NaNs and -inf included",
    arguments: [
        (12, 12, 3, 1, 1), (6, 6, 3, 1, 1), (3, 3, 3, 1, 1), (1, 1, 3, 1, 1), (7, 33, 3, 1, 1), (8, 19, 5, 2, 1),
        (5, 17, 2, 0, 1),
        // Stride 2: AlexNet's and NiN's 3x3 pools (54 and 26 wide, no padding), GoogLeNet's
        // (48, 24, 12 and 6 wide, padding 1), rows of more than sixteen outputs, and odd sizes.
        (54, 54, 3, 0, 2), (13, 26, 3, 0, 2), (48, 48, 3, 1, 2), (6, 6, 3, 1, 2), (9, 71, 3, 1, 2), (7, 5, 3, 0, 2),
    ])
func rowMaxPool(shape: (h: Int, w: Int, window: Int, padding: Int, stride: Int)) {
    let g = PoolingGeometry(1, 1, shape.h, shape.w, window: shape.window, stride: shape.stride, padding: shape.padding)
    #expect(rowMaxPoolFits(g))
    // Few distinct values (ties everywhere), a NaN, and a corner of -infinity.
    var x = testValues(g.inputCount, seed: 25).map { ($0 * 3).rounded() }
    x[0] = -.infinity
    if x.count > 1 { x[1] = -.infinity }
    // Without a NaN the rows decide every window; with one, the plane loop takes the plane.
    for withNaN in [false, true] {
        if withNaN && x.count > 5 { x[x.count / 2] = .nan }
        expectPlaneLoopResults(g, x, from: rowMaxPoolPlane)
    }
}

@Test(
    "2x2 max pooling at stride 2 by eights gives the plane loop's values and winners, ties, NaNs and -inf included; without winners the same values",
    arguments: [(2, 16), (4, 17), (6, 33), (7, 35), (5, 31), (3, 48), (9, 15), (224, 224)])
func maxPool2x2ByEights(shape: (h: Int, w: Int)) {
    let g = PoolingGeometry(1, 1, shape.h, shape.w, window: 2, stride: 2)
    // Few distinct values (ties everywhere), NaNs in every position of a window, -infinity.
    var x = testValues(g.inputCount, seed: 31).map { ($0 * 3).rounded() }
    for (i, offset) in [0, 1, shape.w, shape.w + 1].enumerated() where 4 * i + offset < x.count {
        x[4 * i + offset] = .nan
    }
    x[x.count - 1] = .nan
    x[x.count / 2] = -.infinity
    x[x.count / 2 + 1] = -.infinity
    expectPlaneLoopResults(g, x, from: maxPool2x2Plane)
}

/// A faster max-pool plane kernel against the plane loop on one plane x: the same values (NaN
/// where it has NaN) and the same winners, and, run without winners, the same values again.
func expectPlaneLoopResults(
    _ g: PoolingGeometry, _ x: [Float],
    from kernel: (PoolingGeometry, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>?) ->
        Void
) {
    var (y, winners) = ([Float](repeating: 0, count: g.outputCount), [Int32](repeating: -1, count: g.outputCount))
    var (yPlane, winnersPlane, yAlone) = (y, winners, y)
    kernel(g, x, &y, &winners)
    maxPoolPlane(g, input: x, output: &yPlane, winners: &winnersPlane)
    kernel(g, x, &yAlone, nil)
    let same = { (a: [Float], b: [Float]) in zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } }
    #expect(same(y, yPlane))
    #expect(winners == winnersPlane)
    #expect(same(yAlone, yPlane))
}

@Test("overlapping windows that share a winner add their gradients")
func sharedWinner() {
    // 1 x 1 x 3 x 5 input, 3x3 windows at stride 2: columns 0-2 and 2-4 overlap in column 2.
    let g = PoolingGeometry(1, 1, 3, 5, window: 3, stride: 2)
    var x = [Float](repeating: 0, count: 15)
    x[1 * 5 + 2] = 9
    let (y, argmax) = maxPool(g, x)
    #expect(y == [9, 9] && argmax == [7, 7])
    var dx = [Float](repeating: 0, count: 15)
    maxPoolBackward(g, outputGradient: [0.25, 0.5], argmax: argmax, inputGradient: &dx)
    #expect(dx[7] == 0.75 && dx.reduce(0, +) == 0.75)
}

@Test("a NaN in a window wins, as in PyTorch")
func nanPropagates() {
    let g = PoolingGeometry(1, 1, 2, 4, window: 2, stride: 2)
    let (y, _) = maxPool(g, [1, .nan, 3, 4, 5, 6, 7, 8])
    #expect(y[0].isNaN && y[1] == 8)
}

@Test("average-pool backward is the adjoint of forward", arguments: poolings)
func averagePoolAdjoint(g: PoolingGeometry) {
    let x = testValues(g.inputCount, seed: 23), dy = testValues(g.outputCount, seed: 24)
    var y = [Float](repeating: 0, count: g.outputCount), dx = [Float](repeating: 0, count: g.inputCount)
    averagePoolForward(g, input: x, output: &y)
    averagePoolBackward(g, outputGradient: dy, inputGradient: &dx)
    let left = zip(y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let right = zip(x, dx).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(left - right) <= 1e-4)
}

@Test("adaptive pooling regions follow PyTorch's floor/ceil rule")
func adaptiveRegions() {
    // 5 rows into 3: [0, 2), [1, 4), [3, 5); 7 into 2: [0, 4), [3, 7). 6 into 2: [0, 3), [3, 6).
    #expect((0..<3).map { adaptiveRange($0, inputSize: 5, outputSize: 3) } == [0..<2, 1..<4, 3..<5])
    #expect((0..<2).map { adaptiveRange($0, inputSize: 7, outputSize: 2) } == [0..<4, 3..<7])
    #expect((0..<2).map { adaptiveRange($0, inputSize: 6, outputSize: 2) } == [0..<3, 3..<6])
}

@Test("global average pooling is the plane mean; adaptive backward is the adjoint")
func adaptivePooling() {
    let (planes, h, w) = (6, 5, 7)
    let x = testValues(planes * h * w, seed: 25)
    var means = [Float](repeating: 0, count: planes)
    adaptiveAveragePoolForward(
        planes: planes, inputHeight: h, inputWidth: w, outputHeight: 1, outputWidth: 1,
        input: x, output: &means)
    for plane in 0..<planes {
        let mean = x[(plane * h * w)..<((plane + 1) * h * w)].reduce(0, +) / Float(h * w)
        #expect(abs(means[plane] - mean) <= 1e-6)
    }
    let (oh, ow) = (3, 2)
    let dy = testValues(planes * oh * ow, seed: 26)
    var y = [Float](repeating: 0, count: planes * oh * ow), dx = [Float](repeating: 0, count: x.count)
    adaptiveAveragePoolForward(
        planes: planes, inputHeight: h, inputWidth: w, outputHeight: oh, outputWidth: ow,
        input: x, output: &y)
    adaptiveAveragePoolBackward(
        planes: planes, inputHeight: h, inputWidth: w, outputHeight: oh, outputWidth: ow,
        outputGradient: dy, inputGradient: &dx)
    let left = zip(y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let right = zip(x, dx).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(left - right) <= 1e-4)
}
