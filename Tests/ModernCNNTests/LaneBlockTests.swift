// LaneBlockTests.swift: a plan that runs a network's convolution stages and the dense layers
// after them with the batch in the vector lanes computes what the same layers compute one by one:
// outputs, every parameter's gradient and the input gradient, on both LeNets and on an odd
// network, for batches that are not multiples of 16; and it only takes the runs of layers it can.

import Kernels
import Testing

@testable import ModernCNN

/// The same network twice (same seed, so the same weights): one to run by a plan with lane
/// blocks, one to run layer by layer (the model's own forward and backward).
private func pair(_ make: () -> Sequential) -> (lanes: Sequential, layers: Sequential) {
    (make(), make())
}

/// Largest difference, relative to the largest magnitude in the reference.
private func relativeDifference(_ ours: Tensor, _ reference: Tensor) -> Float {
    #expect(ours.shape == reference.shape)
    let (a, b) = (ours.scalars, reference.scalars)
    let scale = max(b.map(abs).max() ?? 0, 1e-20)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

private func values(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return try! Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float.random(in: 0..<1, using: &g) })
}

/// Runs a training forward and backward through both networks, the first by a plan with lane
/// blocks made for `planned` images (default: the input's), and compares everything.
/// `layers`: how many layers the lane block should take (on a processor with AVX-512).
@discardableResult
private func expectSameTraining(
    _ networks: (lanes: Sequential, layers: Sequential), input: Tensor, layers: Int,
    planned: Int? = nil, _ what: String
) throws -> ExecutionPlan {
    let imageGradient = (networks.layers.layers[0] as! Conv2d).computesInputGradient
    let plan = try ExecutionPlan(
        networks.lanes, inputShape: [planned ?? input.shape[0]] + input.shape.dropFirst(),
        engine: .auto, firstLayerNeedsGradient: imageGradient)
    if GemmBlocking.wideTile {
        #expect(
            LaneBlock.layerCount(networks.lanes.layers, from: 0, inputShape: input.shape) == layers,
            "\(what): the lane block should take \(layers) layers")
        #expect(plan.steps.first?.layers == 0..<layers, "\(what): the plan's first block")
    }
    let (y, reference) = (try plan.forward(input, training: true), try networks.layers.forward(input, training: true))
    #expect(relativeDifference(y, reference) <= 1e-5, "\(what): outputs")
    let dOut = values(y.shape, seed: 9)
    let (dx, dxReference) = (plan.backward(dOut), networks.layers.backward(dOut))
    #expect(relativeDifference(dx, dxReference) <= 1e-4, "\(what): input gradient")
    for (ours, theirs) in zip(networks.lanes.namedParameters, networks.layers.namedParameters) {
        #expect(
            relativeDifference(ours.parameter.gradient, theirs.parameter.gradient) <= 1e-4,
            "\(what): gradient of \(ours.name)")
    }
    return plan
}

@Test("LeNet trains the same with its batch in the lanes as layer by layer", arguments: [37, 64])
func laneLeNetMatchesLayers(batch: Int) throws {
    let networks = pair { LeNet.d2l(seed: 4) }
    try expectSameTraining(networks, input: values([batch, 1, 28, 28], seed: 5), layers: 12, "LeNet, batch \(batch)")
}

@Test("the modern LeNet (ReLU, max pooling) trains the same in lanes as layer by layer")
func laneModernLeNetMatchesLayers() throws {
    let networks = pair { LeNet.modern(seed: 14) }
    try expectSameTraining(networks, input: values([23, 1, 28, 28], seed: 15), layers: 12, "modern LeNet")
}

/// Smooth on purpose (sigmoids, average pools): with a ReLU or a max pool, a weight's step of
/// 0.01 moves some units across a kink or changes some windows' winners, and central differences stop
/// measuring the gradient on either path. Those two are checked against the layers run one by
/// one above, whose own backward passes are checked against central differences.
@Test("through a two-stage lane block, every gradient matches central differences")
func laneBlockGradients() throws {
    var generator = SeededGenerator(seed: 16)
    let network = Sequential(
        Conv2d(inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1, generator: &generator), Sigmoid(),
        AvgPool2d(kernelSize: 2),
        Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, generator: &generator), Sigmoid(),
        AvgPool2d(kernelSize: 2), Flatten(),
        // 13 rows: a 12-row tile and an overlapping one; 3 rows: one row at a time.
        Linear(inputFeatures: 16, outputFeatures: 13, generator: &generator), Sigmoid(),
        Linear(inputFeatures: 13, outputFeatures: 3, generator: &generator))
    let x = try distinct([3, 1, 8, 8], seed: 17)
    if GemmBlocking.wideTile {
        #expect(LaneBlock.layerCount(network.layers, from: 0, inputShape: x.shape) == 10)
    }
    try checkGradients(network, input: x)
}

@Test("without the image gradient, the lane block returns zeros for it, as Conv2d does")
func laneBlockSkipsImageGradient() throws {
    let networks = pair { LeNet.d2l(seed: 6) }
    (networks.layers.layers[0] as! Conv2d).computesInputGradient = false
    let plan = try expectSameTraining(
        networks, input: values([20, 1, 28, 28], seed: 7), layers: 12,
        "LeNet, no image gradient")
    let dx = plan.backward(values([20, 10], seed: 8))
    #expect(dx.scalars.allSatisfy { $0 == 0 })
}

@Test("an odd network (ReLU, 3x3, overlapping pools, no bias, planes that are not square) matches too")
func laneOddNetworkMatchesLayers() throws {
    let networks = pair {
        var g = SeededGenerator(seed: 10)
        return Sequential(
            Conv2d(inputChannels: 2, outputChannels: 5, kernelSize: 3, padding: 1, bias: false, generator: &g),
            ReLU(), AvgPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: 5, outputChannels: 7, kernelSize: 3, padding: 1, generator: &g),
            Sigmoid(), AvgPool2d(kernelSize: 2), Flatten(),
            Linear(inputFeatures: 7 * 2 * 3, outputFeatures: 25, bias: false, generator: &g), ReLU(),
            Linear(inputFeatures: 25, outputFeatures: 3, generator: &g))
    }
    try expectSameTraining(networks, input: values([18, 2, 11, 13], seed: 11), layers: 10, "odd network")
}

@Test("only runs of convolution, activation and pooling on small images, and dense layers after them, go into lanes")
func laneBlockEligibility() {
    let lenet = LeNet.d2l()
    if GemmBlocking.wideTile {
        #expect(LaneBlock.stageCount(lenet.layers, from: 0, inputShape: [256, 1, 28, 28]) == 2)
        #expect(LaneBlock.stageCount(LeNet.modern().layers, from: 0, inputShape: [256, 1, 28, 28]) == 2)
        #expect(LaneBlock.stageCount(lenet.layers, from: 3, inputShape: [256, 6, 14, 14]) == 1)
        // The whole of LeNet, its three dense layers included.
        #expect(LaneBlock.layerCount(lenet.layers, from: 0, inputShape: [256, 1, 28, 28]) == 12)
        #expect(LaneBlock.layerCount(lenet.layers, from: 3, inputShape: [256, 6, 14, 14]) == 9)
        // The dense layers stop before anything but an activation followed by another Linear: a
        // dropout, or an activation after the last Linear, runs on its own.
        var g = SeededGenerator(seed: 1)
        func stages() -> [any Layer] {
            [
                Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 3, generator: &g), ReLU(),
                MaxPool2d(kernelSize: 2),
                Flatten(),
            ]
        }
        let withDropout =
            stages() + [
                Linear(inputFeatures: 18, outputFeatures: 8, generator: &g), ReLU(),
                Dropout(probability: 0.5), Linear(inputFeatures: 8, outputFeatures: 2, generator: &g),
            ]
        #expect(LaneBlock.layerCount(withDropout, from: 0, inputShape: [4, 1, 8, 8]) == 5)
        let endsInSigmoid = stages() + [Linear(inputFeatures: 18, outputFeatures: 2, generator: &g), Sigmoid()]
        #expect(LaneBlock.layerCount(endsInSigmoid, from: 0, inputShape: [4, 1, 8, 8]) == 5)
        // Weights past half a megabyte would not stay in L2: such a layer keeps to SGEMM.
        let wide = stages() + [Linear(inputFeatures: 18, outputFeatures: 8_000, generator: &g)]
        #expect(LaneBlock.layerCount(wide, from: 0, inputShape: [4, 1, 8, 8]) == 3)
        let noFlatten = Array(stages().dropLast())
        #expect(LaneBlock.layerCount(noFlatten, from: 0, inputShape: [4, 1, 8, 8]) == 3)
    }
    // A 224 x 224 image is too large a plane, and dense layers are not lane stages.
    #expect(LaneBlock.stageCount(lenet.layers, from: 0, inputShape: [8, 1, 224, 224]) == 0)
    #expect(LaneBlock.stageCount(AlexNet.d2l().layers, from: 0, inputShape: [8, 1, 224, 224]) == 0)
    #expect(LaneBlock.stageCount(lenet.layers, from: 6, inputShape: [256, 16, 5, 5]) == 0)
}

@Test("training through the lane block repeats exactly for the same seed and threads")
func laneTrainingIsReproducible() throws {
    func train() throws -> [Float] {
        let network = LeNet.d2l(seed: 12)
        let plan = try ExecutionPlan(network, inputShape: [40, 1, 28, 28])
        let optimizer = SGD(learningRate: 0.5)
        for step in 0..<3 {
            let x = values([40, 1, 28, 28], seed: UInt64(20 + step))
            for (_, parameter) in network.namedParameters { parameter.zeroGradient() }
            let logits = try plan.forward(x, training: true)
            let (_, _, gradient) = Trainer.loss(logits, labels: (0..<40).map { Int32($0 % 10) })
            _ = plan.backward(gradient)
            optimizer.step(network.namedParameters)
        }
        return network.namedParameters.flatMap { $0.parameter.value.scalars }
    }
    #expect(try train() == train())
}
