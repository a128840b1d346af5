// ModelTests.swift: the published models' parameter names and counts, and predictions.

import Testing

@testable import ModernCNN

@Test("the CPU AlexNet carries the note's PyTorch names and 29,983,434 parameters; the paper's 60,965,224")
func alexNetVariants() throws {
    let cpu = AlexNet.cpu()
    #expect(cpu.parameterCount == 29_983_434)
    #expect(
        cpu.namedParameters.map(\.name) == [
            "conv.0.weight", "conv.0.bias", "conv.3.weight", "conv.3.bias",
            "conv.6.weight", "conv.6.bias", "conv.8.weight", "conv.8.bias",
            "conv.10.weight", "conv.10.bias", "fc.0.weight", "fc.0.bias",
            "fc.3.weight", "fc.3.bias",
        ])
    #expect(try cpu.outputShape(for: [1, 1, 224, 224]) == [1, 10])
    #expect(AlexNet.paper().parameterCount == 60_965_224 && AlexNet.paper(groups: 1).parameterCount == 62_378_344)
    #expect(try AlexNet.paper().outputShape(for: [1, 3, 227, 227]) == [1, 1000])
}

@Test("predicted classes are the row-wise argmax of the logits, in the order asked")
func predictions() throws {
    let logits = try Tensor(shape: [3, 4], values: [0, 2, 1, -1, 5, 4, 3, 2, -3, -2, -1, 0.5])
    #expect(argmaxRows(logits) == [1, 0, 3])
    let data = try FashionMNIST(split: .test)
    let model = LeNet.d2l(seed: 2)
    let indices = [9, 3, 700, 4, 12]
    let predicted = try predictedClasses(of: model, on: data, indices: indices, batchSize: 2)
    let plan = BatchPlan(dataset: data, batchSize: indices.count, seed: 0)
    #expect(predicted == argmaxRows(try model.forward(plan.batch(0, of: indices).images, training: false)))
}

@Test("LeNet spelled out layer by layer is the same network as LeNet.custom with d2l's knobs")
func lenetSpelledOutMatchesCustom() throws {
    let spelled = LeNet.d2l(seed: 9)
    let custom = LeNet.custom(
        kernelSize: 5, channels: [6, 16], hidden: [120, 84], initialization: .xavierUniform,
        activation: Sigmoid.init, pool: { AvgPool2d(kernelSize: 2, stride: 2) }, seed: 9)
    #expect(spelled.layers.map(\.description) == custom.layers.map(\.description))
    let (a, b) = (spelled.namedParameters, custom.namedParameters)
    #expect(a.map(\.name) == b.map(\.name))
    for (x, y) in zip(a, b) { #expect(x.parameter.value.scalars == y.parameter.value.scalars, "\(x.name)") }
}
