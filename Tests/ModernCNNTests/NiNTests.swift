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
