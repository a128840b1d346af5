// LayerGradientTests.swift: every layer's backward against central differences of its forward.
// The loss is L = sum(y * dy) for a fixed random dy, so dL/dx is exactly what backward(dy)
// must return, and dL/dparameter what it must add to each gradient. Sums run in Double.

import Foundation
import Kernels
import Testing

@testable import ModernCNN

/// Checks backward against finite differences at up to `samples` positions of the input and of
/// every parameter. `input` avoids kinks (ReLU at 0, max-pool ties) by construction.
///
/// The numeric side perturbs an evaluation forward, where the output is a function of the input
/// alone; `perturbsInTraining` perturbs training forwards instead, for a layer whose training
/// output is a different function (batch norm: the batch's own statistics).
func checkGradients(
    _ layer: any Layer, input x: Tensor, step h: Float = 1e-2, samples: Int = 40, perturbsInTraining: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var generator = SeededGenerator(seed: 99)
    let y = try layer.forward(x, training: true)
    let dy = Tensor(uniform: y.shape, in: -1...1, generator: &generator)
    for (_, parameter) in layer.namedParameters { parameter.zeroGradient() }
    let dx = layer.backward(dy)
    #expect(dx.shape == x.shape, sourceLocation: sourceLocation)

    func loss() throws -> Double {
        let output = try layer.forward(x, training: perturbsInTraining)
        return zip(output.scalars, dy.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    func expectMatches(_ analytic: Float, _ numeric: Double, _ what: String) {
        #expect(
            abs(numeric - Double(analytic)) <= 2e-3 + 2e-3 * abs(numeric),
            "\(layer) \(what): numeric \(numeric), backward \(analytic)", sourceLocation: sourceLocation)
    }

    var input = x
    for i in stride(from: 0, to: x.count, by: max(1, x.count / samples)) {
        let original = input.scalars[i]
        func evaluate(_ value: Float) throws -> Double {
            input.withUnsafeMutableBufferPointer { $0[i] = value }
            let output = try layer.forward(input, training: perturbsInTraining)
            return zip(output.scalars, dy.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let numeric = (try evaluate(original + h) - evaluate(original - h)) / Double(2 * h)
        input.withUnsafeMutableBufferPointer { $0[i] = original }
        expectMatches(dx.scalars[i], numeric, "dInput[\(i)]")
    }
    for (name, parameter) in layer.namedParameters {
        let gradient = parameter.gradient.scalars
        for i in stride(from: 0, to: parameter.value.count, by: max(1, parameter.value.count / samples)) {
            let original = parameter.value.scalars[i]
            parameter.value.withUnsafeMutableBufferPointer { $0[i] = original + h }
            let plus = try loss()
            parameter.value.withUnsafeMutableBufferPointer { $0[i] = original - h }
            let minus = try loss()
            parameter.value.withUnsafeMutableBufferPointer { $0[i] = original }
            expectMatches(gradient[i], (plus - minus) / Double(2 * h), "\(name)[\(i)]")
        }
    }
}

/// Values in [-1, 1] kept at least `margin` away from 0 (ReLU's kink).
func awayFromZero(_ shape: [Int], margin: Float = 0.05, seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor(uniform: shape, in: -1...1, generator: &generator).mapped { $0 >= 0 ? $0 + margin : $0 - margin }
}

/// Distinct values (no ties for max pooling), spaced 0.1 apart, in a seeded order.
func distinct(_ shape: [Int], seed: UInt64) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let values = (0..<shape.reduce(1, *)).map { Float($0) * 0.1 - 1 }.shuffled(using: &generator)
    return try Tensor(shape: shape, values: values)
}

@Test(
    "Conv2d backward: input, weight and bias gradients",
    arguments: [
        (3, 4, 3, 1, 1, 1), (3, 4, 3, 2, 0, 1), (4, 6, 3, 1, 1, 2), (2, 3, 1, 1, 0, 1), (1, 2, 5, 1, 2, 1),
        (16, 16, 3, 1, 1, 1),  // wide enough for Winograd
    ])
func conv2dGradients(config: (c: Int, k: Int, kernel: Int, stride: Int, padding: Int, groups: Int)) throws {
    var generator = SeededGenerator(seed: 1)
    let layer = Conv2d(
        inputChannels: config.c, outputChannels: config.k, kernelSize: config.kernel,
        stride: config.stride, padding: config.padding, groups: config.groups, generator: &generator)
    try checkGradients(layer, input: Tensor(uniform: [2, config.c, 5, 5], in: -1...1, generator: &generator))
}

@Test("Linear backward, with and without bias", arguments: [true, false])
func linearGradients(bias: Bool) throws {
    var generator = SeededGenerator(seed: 2)
    let layer = Linear(inputFeatures: 7, outputFeatures: 5, bias: bias, generator: &generator)
    try checkGradients(layer, input: Tensor(uniform: [3, 7], in: -1...1, generator: &generator))
}

@Test("activation backwards")
func activationGradients() throws {
    try checkGradients(ReLU(), input: awayFromZero([2, 3, 4, 4], seed: 3))
    var generator = SeededGenerator(seed: 4)
    try checkGradients(Sigmoid(), input: Tensor(uniform: [2, 3, 4, 4], in: -3...3, generator: &generator))
}

@Test("pooling backwards")
func poolingGradients() throws {
    try checkGradients(MaxPool2d(kernelSize: 2), input: try distinct([2, 3, 6, 6], seed: 5))
    try checkGradients(MaxPool2d(kernelSize: 3, stride: 2), input: try distinct([2, 2, 7, 7], seed: 6))
    var generator = SeededGenerator(seed: 7)
    try checkGradients(
        AvgPool2d(kernelSize: 3, stride: 2, padding: 1),
        input: Tensor(uniform: [2, 3, 7, 6], in: -1...1, generator: &generator))
    try checkGradients(
        AdaptiveAvgPool2d(outputSize: (2, 3)),
        input: Tensor(uniform: [2, 3, 5, 7], in: -1...1, generator: &generator))
    // Global average pooling, NiN's head: every position gets 1 / (H W) of its channel's gradient.
    try checkGradients(
        AdaptiveAvgPool2d(outputSize: (1, 1)),
        input: Tensor(uniform: [2, 3, 5, 5], in: -1...1, generator: &generator))
}

@Test("a small network end to end: every parameter's gradient through Sequential")
func sequentialGradients() throws {
    var generator = SeededGenerator(seed: 8)
    let network = Sequential(
        Conv2d(inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1, generator: &generator), Sigmoid(),
        AvgPool2d(kernelSize: 2), Flatten(), Linear(inputFeatures: 12, outputFeatures: 4, generator: &generator))
    try checkGradients(network, input: Tensor(uniform: [2, 1, 4, 4], in: -1...1, generator: &generator))
    #expect(network.namedParameters.map(\.name) == ["0.weight", "0.bias", "4.weight", "4.bias"])
}

@Test("parameter gradients accumulate across backward calls until zeroed")
func gradientsAccumulate() throws {
    var generator = SeededGenerator(seed: 9)
    let layers: [any Layer] = [
        Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, generator: &generator),
        Linear(inputFeatures: 6, outputFeatures: 4, generator: &generator),
    ]
    let inputs = [
        Tensor(uniform: [2, 2, 4, 4], in: -1...1, generator: &generator),
        Tensor(uniform: [3, 6], in: -1...1, generator: &generator),
    ]
    for (layer, x) in zip(layers, inputs) {
        let y = try layer.forward(x, training: true)
        let dy = Tensor(uniform: y.shape, in: -1...1, generator: &generator)
        for (_, parameter) in layer.namedParameters { parameter.zeroGradient() }
        _ = layer.backward(dy)
        let once = layer.namedParameters.map { $0.parameter.gradient }
        _ = layer.backward(dy)
        for ((name, parameter), single) in zip(layer.namedParameters, once) {
            #expect(
                parameter.gradient.isApproximatelyEqual(
                    to: single * 2, relativeTolerance: 1e-5, absoluteTolerance: 1e-6),
                "\(layer) \(name) should hold the sum of both backward passes")
        }
    }
}

@Test("LocalResponseNorm backward (odd and even windows)", arguments: [5, 4])
func localResponseNormGradients(size: Int) throws {
    var generator = SeededGenerator(seed: 10)
    try checkGradients(
        LocalResponseNorm(size: size, alpha: 0.5, beta: 0.75, k: 2),
        input: Tensor(uniform: [2, 7, 3, 3], in: -2...2, generator: &generator))
}

@Test("Concat backward: branch gradients are split by channel and summed at the input")
func concatGradients() throws {
    var generator = SeededGenerator(seed: 11)
    let block = Concat([
        ("p1", Conv2d(inputChannels: 3, outputChannels: 2, kernelSize: 1, generator: &generator)),
        (
            "p2",
            Sequential(
                Conv2d(inputChannels: 3, outputChannels: 2, kernelSize: 1, generator: &generator), Sigmoid(),
                Conv2d(inputChannels: 2, outputChannels: 4, kernelSize: 3, padding: 1, generator: &generator))
        ),
        (
            "p4",
            Sequential(
                AvgPool2d(kernelSize: 3, stride: 1, padding: 1),
                Conv2d(inputChannels: 3, outputChannels: 1, kernelSize: 1, generator: &generator))
        ),
    ])
    #expect(try block.outputShape(for: [2, 3, 5, 5]) == [2, 7, 5, 5])
    try checkGradients(block, input: Tensor(uniform: [2, 3, 5, 5], in: -1...1, generator: &generator))
    #expect(block.namedParameters.map(\.name).prefix(3) == ["p1.weight", "p1.bias", "p2.0.weight"])
}

@Test("BatchNorm2d backward in training: input, weight and bias gradients", arguments: [(4, 3, 5, 5), (6, 4, 1, 1)])
func batchNormGradients(shape: (n: Int, c: Int, h: Int, w: Int)) throws {
    var generator = SeededGenerator(seed: 13)
    let layer = BatchNorm2d(channels: shape.c)
    layer.weight.value = Tensor(uniform: [shape.c], in: 0.5...2, generator: &generator)
    layer.bias.value = Tensor(uniform: [shape.c], in: -1...1, generator: &generator)
    try checkGradients(
        layer, input: Tensor(uniform: [shape.n, shape.c, shape.h, shape.w], in: -2...3, generator: &generator),
        step: 1e-2, perturbsInTraining: true)
}

@Test("BatchNorm2d: the batch's statistics in training, PyTorch's running updates, the running ones in evaluation")
func batchNormStatistics() throws {
    var generator = SeededGenerator(seed: 14)
    let (n, c, pixels) = (3, 2, 4 * 5)
    let layer = BatchNorm2d(channels: c)
    let x = Tensor(uniform: [n, c, 4, 5], in: -1...5, generator: &generator)
    let y = try layer.forward(x, training: true).scalars
    let values = x.scalars
    for channel in 0..<c {
        let indices = (0..<n).flatMap { image in (0..<pixels).map { (image * c + channel) * pixels + $0 } }
        let m = Double(indices.count)
        let mean = indices.reduce(0.0) { $0 + Double(values[$1]) } / m
        let variance = indices.reduce(0.0) { $0 + pow(Double(values[$1]) - mean, 2) } / m
        // Normalised output: mean 0 and variance 1 (weight 1, bias 0).
        let outMean = indices.reduce(0.0) { $0 + Double(y[$1]) } / m
        let outVariance = indices.reduce(0.0) { $0 + pow(Double(y[$1]) - outMean, 2) } / m
        #expect(abs(outMean) < 1e-5 && abs(outVariance - variance / (variance + 1e-5)) < 1e-4)
        // momentum 0.1 from mean 0 and variance 1, the variance unbiased (m - 1).
        #expect(abs(Double(layer.runningMean.value.scalars[channel]) - 0.1 * mean) < 1e-5)
        #expect(abs(Double(layer.runningVariance.value.scalars[channel]) - (0.9 + 0.1 * variance * m / (m - 1))) < 1e-5)
    }
    #expect(layer.batchesTracked.value.scalars == [1])
    // Evaluation: (x - running mean) / sqrt(running var + eps) * weight + bias, image by image.
    layer.weight.value = try Tensor(shape: [c], values: [2, -1])
    layer.bias.value = try Tensor(shape: [c], values: [0.5, 3])
    let evaluated = try layer.forward(x, training: false).scalars
    for i in values.indices {
        let channel = (i / pixels) % c
        let (mean, variance) = (layer.runningMean.value.scalars[channel], layer.runningVariance.value.scalars[channel])
        let expected =
            (values[i] - mean) / (variance + 1e-5).squareRoot() * layer.weight.value.scalars[channel]
            + layer.bias.value.scalars[channel]
        #expect(abs(evaluated[i] - expected) < 1e-5)
    }
    #expect(layer.batchesTracked.value.scalars == [1], "evaluation leaves the statistics alone")
    #expect(layer.namedBuffers.map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
    #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
    #expect(throws: ShapeError.self) { try layer.forward(Tensor(zeros: [1, c, 1, 1]), training: true) }
}

@Test("Concat refuses branches whose spatial sizes differ")
func concatShapeMismatch() {
    let block = Concat([("same", ReLU()), ("halved", MaxPool2d(kernelSize: 2))])
    #expect(throws: ShapeError.self) { try block.outputShape(for: [1, 3, 8, 8]) }
}

@Test("Dropout: one mask for forward and backward, rate p, scale 1/(1-p), identity at inference")
func dropout() throws {
    var generator = SeededGenerator(seed: 12)
    let x = Tensor(uniform: [4, 8, 16, 16], in: 1...2, generator: &generator)
    let layer = Dropout(probability: 0.3, seed: 7)
    let y = try layer.forward(x, training: true)
    let dy = Tensor(uniform: x.shape, in: 1...2, generator: &generator)
    let dx = layer.backward(dy)
    let (xs, ys, dys, dxs) = (x.scalars, y.scalars, dy.scalars, dx.scalars)
    var dropped = 0
    for i in xs.indices {
        let kept = ys[i] != 0
        #expect(kept == (dxs[i] != 0), "forward and backward must use the same mask")
        if kept {
            #expect(abs(ys[i] / xs[i] - 1 / 0.7) < 1e-5 && abs(dxs[i] / dys[i] - 1 / 0.7) < 1e-5)
        } else {
            dropped += 1
        }
    }
    let rate = Double(dropped) / Double(xs.count)
    #expect(abs(rate - 0.3) < 0.02, "dropped \(rate) of the activations")
    #expect(try layer.forward(x, training: false) == x)
    #expect(try Dropout(probability: 0.3, seed: 7).forward(x, training: true) == y, "same seed, same mask")
}

@Test("a first layer that skips its input gradient still gets the same weight gradients")
func firstLayerSkipsInputGradient() throws {
    var g = SeededGenerator(seed: 21)
    let x = Tensor(uniform: [3, 2, 7, 7], in: -1...1, generator: &g)
    let dy = Tensor(uniform: [3, 4, 7, 7], in: -1...1, generator: &g)
    func gradients(skipping: Bool) throws -> (dx: Tensor, dw: Tensor, db: Tensor) {
        var seed = SeededGenerator(seed: 4)
        let conv = Conv2d(inputChannels: 2, outputChannels: 4, kernelSize: 3, padding: 1, generator: &seed)
        conv.computesInputGradient = !skipping
        _ = try conv.forward(x, training: true)
        let dx = conv.backward(dy)
        return (dx, conv.weight.gradient, conv.bias!.gradient)
    }
    let full = try gradients(skipping: false), skipped = try gradients(skipping: true)
    #expect(full.dw.scalars == skipped.dw.scalars && full.db.scalars == skipped.db.scalars)
    #expect(skipped.dx.scalars.allSatisfy { $0 == 0 } && full.dx.scalars.contains { $0 != 0 })
    // A plan finds the layer that sees the images, through nested Sequentials, and turns its
    // input gradient off.
    let nested = Sequential(named: [
        (
            "conv",
            Sequential(
                Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 3, generator: &g),
                ReLU())
        ), ("flatten", Flatten()),
    ])
    #expect(ExecutionPlan.firstLayer(of: nested) === nested.layers[0].children[0].layer)
    _ = try ExecutionPlan(nested, inputShape: [2, 1, 6, 6])
    #expect((nested.layers[0].children[0].layer as! Conv2d).computesInputGradient == false)
}

/// Which pooling layer follows the activation in the fusion test, if any.
enum PoolAfterActivation: Sendable { case none, max3x3, average2x2, average3x3 }

@Test(
    "Conv2d then ReLU or sigmoid (then a pool) in a Sequential runs fused, with the same outputs and gradients as layer by layer",
    arguments: [
        (16, 3, 1, true, .none, 16), (3, 5, 2, true, .max3x3, 16), (16, 5, 2, false, .average2x2, 16),
        (3, 3, 1, false, .average3x3, 16), (2, 3, 1, true, .average2x2, 16), (1, 5, 2, false, .max3x3, 16),
        (1, 5, 2, false, .average2x2, 6), (6, 5, 0, false, .average2x2, 16), (2, 3, 1, true, .max3x3, 5),
    ]
        as [(Int, Int, Int, Bool, PoolAfterActivation, Int)])  // Winograd, im2col, direct (flat and channel vectors)
func fusedConvolutionActivation(
    config: (
        channels: Int, kernel: Int, padding: Int, relu: Bool,
        pool: PoolAfterActivation, outputs: Int
    )
) throws {
    func network() -> Sequential {
        var generator = SeededGenerator(seed: 9)
        let pool: [any Layer] =
            switch config.pool {
            case .none: []
            case .max3x3: [MaxPool2d(kernelSize: 3, stride: 2)]
            case .average2x2: [AvgPool2d(kernelSize: 2)]
            case .average3x3: [AvgPool2d(kernelSize: 3, stride: 2, padding: 1)]
            }
        return Sequential(
            [
                Conv2d(
                    inputChannels: config.channels, outputChannels: config.outputs, kernelSize: config.kernel,
                    padding: config.padding, generator: &generator),
                config.relu ? ReLU() : Sigmoid(),
            ] + pool + [Flatten()])
    }
    // The NCHW fusion under test; lane blocks (LaneBlockTests.swift) would take the small
    // average-pooled cases and round differently, and planes below 10x10 would train
    // channels-last (ExecutionPlanTests.swift checks those within rounding).
    let fused = network(), separate = network()
    var generator = SeededGenerator(seed: 10)
    // 11x11 planes take the general 2x2 pooling path; 19x19 ones (a last odd row and column)
    // the vectorized one.
    let size = config.channels == 2 ? 19 : 11
    let x = Tensor(uniform: [3, config.channels, size, size], in: -1...1, generator: &generator)
    let plan = try ExecutionPlan(fused, inputShape: x.shape, engine: .fused, firstLayerNeedsGradient: true)
    #expect(plan.steps.first?.layers == 0..<(config.pool == .none ? 2 : 3))
    #expect(plan.channelsLastTraining == nil)
    let y = try plan.forward(x, training: true)
    let steps = try separate.layers.reduce(x) { try $1.forward($0, training: true) }
    #expect(y.shape == steps.shape && y.scalars == steps.scalars)
    if config.relu { #expect(y.scalars.contains { $0 == 0 } && y.scalars.contains { $0 > 0 }) }
    let dy = Tensor(uniform: y.shape, in: -1...1, generator: &generator)
    let dx = plan.backward(dy)
    let dxSteps = separate.layers.reversed().reduce(dy) { $1.backward($0) }
    #expect(dx.scalars == dxSteps.scalars)
    for (a, b) in zip(fused.namedParameters, separate.namedParameters) {
        #expect(a.parameter.gradient.scalars == b.parameter.gradient.scalars, "\(a.name)")
    }
}

/// A first layer's backward (no image gradient) makes its dy from the pool's gradient straight
/// into the direct kernel's flat rows: spread through the sigmoid's slope in one pass after a 2x2
/// average pool, made plane by plane and copied after a max pool. Both must give the weight
/// gradients of the layers run one by one, bit for bit.
@Test(
    "the first convolution makes its dy from the pool's gradient as layer by layer would",
    arguments: [false, true])
func firstConvolutionMakesPooledGradient(relu: Bool) throws {
    func network() -> Sequential {
        var generator = SeededGenerator(seed: 11)
        return Sequential(
            Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2, generator: &generator),
            relu ? ReLU() : Sigmoid(),
            relu ? MaxPool2d(kernelSize: 2) : AvgPool2d(kernelSize: 2), Flatten())
    }
    let fused = network(), separate = network()
    var generator = SeededGenerator(seed: 12)
    // 16x16 planes pool to 8x8: the vectorized 2x2 path, eight outputs per row.
    let x = Tensor(uniform: [3, 1, 16, 16], in: -1...1, generator: &generator)
    let plan = try ExecutionPlan(fused, inputShape: x.shape, engine: .fused)
    let y = try plan.forward(x, training: true)
    let steps = try separate.layers.reduce(x) { try $1.forward($0, training: true) }
    #expect(y.scalars == steps.scalars)
    let dy = Tensor(uniform: y.shape, in: -1...1, generator: &generator)
    _ = plan.backward(dy)
    _ = separate.layers.reversed().reduce(dy) { $1.backward($0) }
    for (a, b) in zip(fused.namedParameters, separate.namedParameters) {
        #expect(a.parameter.gradient.scalars == b.parameter.gradient.scalars, "\(a.name)")
        #expect(a.parameter.gradient.scalars.contains { $0 != 0 }, "\(a.name)")
    }
}

/// The block timer (what `bench --layers` reports) hears of each block once per pass, as the pass
/// runs it: the whole of LeNet as one lane block of twelve layers (or, without lanes, its
/// convolutions with their sigmoid and pool as blocks of three and every other layer alone), the
/// backward pass in reverse.
@Test(
    "a plan's block timer hears every block of both passes once, fused blocks whole",
    arguments: [true, false])
func blockTimerSeesFusedBlocks(lanes: Bool) throws {
    let model = LeNet.d2l(seed: 3)
    let plan = try ExecutionPlan(model, inputShape: [2, 1, 28, 28], engine: lanes ? .auto : .fused)
    var heard: [(layers: Range<Int>, backward: Bool, seconds: Double)] = []
    plan.blockTimer = { heard.append(($0, $1, $2)) }
    var generator = SeededGenerator(seed: 13)
    let y = try plan.forward(Tensor(uniform: [2, 1, 28, 28], in: 0...1, generator: &generator), training: true)
    _ = plan.backward(Tensor(uniform: y.shape, in: -1...1, generator: &generator))
    let forward = lanes && GemmBlocking.wideTile ? [0..<12] : [0..<3, 3..<6] + (6..<12).map { $0..<($0 + 1) }
    #expect(heard.filter { !$0.backward }.map(\.layers) == forward)
    #expect(heard.filter(\.backward).map(\.layers) == forward.reversed())
    #expect(heard.allSatisfy { $0.seconds >= 0 } && heard.contains { $0.seconds > 0 })
}

@Test("Residual backward: the gradient reaches the input through the body and the shortcut", arguments: [true, false])
func residualGradients(projected: Bool) throws {
    var generator = SeededGenerator(seed: 12)
    let body = Sequential(
        Conv2d(inputChannels: 3, outputChannels: projected ? 4 : 3, kernelSize: 3, padding: 1, generator: &generator),
        Sigmoid())
    let shortcut: (any Layer)? =
        projected ? Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 1, generator: &generator) : nil
    let block = Residual(body, shortcut: shortcut)
    let x = Tensor(uniform: [2, 3, 5, 5], in: -1...1, generator: &generator)
    // The forward is the sum of the two paths run alone.
    let alone = try body.forward(x, training: false).scalars
    let other = try shortcut?.forward(x, training: false).scalars ?? x.scalars
    #expect(try block.forward(x, training: false).scalars == zip(alone, other).map { $0 + $1 })
    try checkGradients(block, input: x)
    #expect(
        block.namedParameters.map(\.name)
            == ["body.0.weight", "body.0.bias"] + (projected ? ["shortcut.weight", "shortcut.bias"] : []))
}

@Test("Residual refuses a body and shortcut that disagree on the shape")
func residualShapeMismatch() {
    var generator = SeededGenerator(seed: 13)
    let block = Residual(Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 1, generator: &generator))
    #expect(throws: ShapeError.self) { try block.outputShape(for: [1, 3, 4, 4]) }
}
