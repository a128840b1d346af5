// NiNTests.swift: NiN against d2l's parameter count and shape trace, its parameter names against
// d2l's state_dict, and a 1x1 convolution against a dense layer applied at every pixel.

import Testing

@testable import ModernCNN

@Test("NiN has d2l's 1,992,166 parameters and the trace d2l prints, ten lines ending [1, 10]")
func ninCountAndTrace() throws {
    let model = NiN.d2l()
    #expect(model.parameterCount == 1_992_166)
    var shape = [1, 1, 224, 224]
    var trace: [[Int]] = []
    for layer in model.layers {
        shape = try layer.outputShape(for: shape)
        trace.append(shape)
    }
    #expect(
        trace == [
            [1, 96, 54, 54], [1, 96, 26, 26], [1, 256, 26, 26], [1, 256, 12, 12], [1, 384, 12, 12], [1, 384, 5, 5],
            [1, 384, 5, 5], [1, 10, 5, 5], [1, 10, 1, 1], [1, 10],
        ])
    // Counted by hand, block by block: a k x k convolution and two 1x1, weights and biases.
    func block(_ inputs: Int, _ outputs: Int, _ k: Int) -> Int {
        outputs * inputs * k * k + outputs + 2 * (outputs * outputs + outputs)
    }
    #expect(block(1, 96, 11) + block(96, 256, 5) + block(256, 384, 3) + block(384, 10, 3) == 1_992_166)
    #expect(!model.allLayers.contains { $0 is Linear }, "NiN has no dense layer")
}

@Test("NiN's parameter names are d2l's state_dict keys")
func ninParameterNames() {
    let names = NiN.d2l().namedParameters.map(\.name)
    #expect(names.prefix(4) == ["0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias"])
    #expect(names.suffix(2) == ["7.4.weight", "7.4.bias"] && names.count == 4 * 3 * 2)
}

@Test("a 1x1 convolution is a dense layer applied to the channels of every pixel")
func oneByOneIsDense() throws {
    var g = SeededGenerator(seed: 3)
    let conv = Conv2d(inputChannels: 8, outputChannels: 5, kernelSize: 1, generator: &g)
    let dense = Linear(inputFeatures: 8, outputFeatures: 5, generator: &g)
    dense.weight.value = try conv.weight.value.reshaped([5, 8])
    dense.bias!.value = conv.bias!.value
    let x = Tensor(uniform: [2, 8, 6, 7], in: -1...1, generator: &g)
    let y = try conv.forward(x, training: false).scalars
    let values = x.scalars
    for n in 0..<2 {
        for pixel in 0..<42 {
            let channels = (0..<8).map { values[(n * 8 + $0) * 42 + pixel] }
            let out = try dense.forward(Tensor(shape: [1, 8], values: channels), training: false).scalars
            for k in 0..<5 { #expect(abs(out[k] - y[(n * 5 + k) * 42 + pixel]) < 1e-5) }
        }
    }
}

@Test("NiN's design variants have the layers and parameters they claim, counted by hand")
func ninDesigns() throws {
    let d2l = NiN.d2l().parameterCount
    // One 1x1 per block instead of two: each block loses one C x C + C.
    let one = NiN.model(NiN.Design(pointwiseLayers: 1)).parameterCount
    #expect(d2l - one == [96, 256, 384, 10].reduce(0) { $0 + $1 * $1 + $1 })
    // 3x3 instead of 1x1: each of the two per-pixel layers gains 8 C^2 weights.
    let wide = NiN.model(NiN.Design(pointwiseKernel: 3)).parameterCount
    #expect(wide - d2l == [96, 256, 384, 10].reduce(0) { $0 + 2 * 8 * $1 * $1 })
    #expect(try NiN.model(NiN.Design(pointwiseKernel: 3)).outputShape(for: [2, 1, 224, 224]) == [2, 10])
    // Without the last ReLU the class block ends in its convolution.
    let open = NiN.model(NiN.Design(finalReLU: false))
    #expect((open.layers[7] as! Sequential).layers.last is Conv2d)
    #expect(((NiN.d2l().layers[7]) as! Sequential).layers.last is ReLU)
    // A dense head on the 10 x 5 x 5 class maps: 250 x 10 + 10 more parameters.
    let dense = NiN.model(NiN.Design(head: .dense), inputSize: 224)
    #expect(dense.parameterCount - d2l == 250 * 10 + 10)
    #expect(try dense.outputShape(for: [2, 1, 224, 224]) == [2, 10])
    #expect(try NiN.model(NiN.Design(head: .dense), inputSize: 67).outputShape(for: [2, 1, 67, 67]) == [2, 10])
}

@Test("the class maps' side and the smallest input, against the shape inference")
func ninInputSizes() throws {
    #expect(NiN.classMapSide(inputSize: 224) == 5)
    #expect(NiN.minimumInputSize == 67)
    for size in [67, 80, 96, 224] {
        let side = NiN.classMapSide(inputSize: size)
        #expect(try NiN.d2l().layers.prefix(8).reduce([1, 1, size, size]) { try $1.outputShape(for: $0) }[2] == side)
    }
    #expect(NiN.classMapSide(inputSize: 66) == 0)
    #expect(throws: (any Error).self) { try NiN.d2l().outputShape(for: [1, 1, 66, 66]) }
}

@Test("the NiN family: [1, 1, 1] is d2l's network weight for weight; deeper members counted by hand")
func ninFamily() throws {
    let stages = NiN.model(stages: NiN.stages(blocks: [1, 1, 1]), seed: 4)
    let d2l = NiN.d2l(seed: 4)
    #expect(stages.namedParameters.map(\.name) == d2l.namedParameters.map(\.name))
    #expect(
        zip(stages.namedParameters, d2l.namedParameters).allSatisfy {
            $0.parameter.value.scalars == $1.parameter.value.scalars
        })
    // An extra block of C channels: a 3x3 C -> C convolution and two 1x1, weights and biases.
    func extra(_ c: Int) -> Int { c * c * 9 + c + 2 * (c * c + c) }
    let eighteen = NiN.model(stages: NiN.stages(blocks: [1, 2, 2]))
    #expect(eighteen.parameterCount == d2l.parameterCount + extra(256) + extra(384))
    #expect(eighteen.allLayers.filter { $0 is Conv2d }.count == 18)
    #expect(try eighteen.outputShape(for: [1, 1, 224, 224]) == [1, 10])
}

@Test("Kaiming uniform weights lie within sqrt(6 / fan-in) and have variance near 2 / fan-in")
func kaimingUniform() {
    var g = SeededGenerator(seed: 5)
    let conv = Conv2d(
        inputChannels: 64, outputChannels: 64, kernelSize: 3, initialization: .kaimingUniform, generator: &g)
    let fanIn = 64.0 * 9, values = conv.weight.value.scalars.map(Double.init)
    let bound = (6 / fanIn).squareRoot()
    #expect(values.allSatisfy { abs($0) <= bound })
    let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
    #expect(abs(variance / (2 / fanIn) - 1) < 0.05)
    #expect(conv.bias!.value.scalars.allSatisfy { $0 == 0 })
}
