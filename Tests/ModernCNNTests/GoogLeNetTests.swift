// GoogLeNetTests.swift: GoogLeNet against d2l's parameter count and per-stage shapes, its
// parameter names against d2l's state_dict, and an Inception block against its four branches
// run one by one and stacked by hand.

import Testing

@testable import ModernCNN

@Test("GoogLeNet has d2l's 5,977,530 parameters and the stage shapes d2l prints at 96 px")
func googLeNetCountAndTrace() throws {
    let model = GoogLeNet.model()
    #expect(model.parameterCount == 5_977_530)
    var shape = [1, 1, 96, 96]
    var trace: [[Int]] = []
    for layer in model.layers {
        shape = try layer.outputShape(for: shape)
        trace.append(shape)
    }
    #expect(
        trace == [[1, 64, 24, 24], [1, 192, 12, 12], [1, 480, 6, 6], [1, 832, 3, 3], [1, 1024], [1, 10]])
    // Counted by hand from the paper's table: a k x k convolution has out * (in * k * k + 1).
    func conv(_ inputs: Int, _ outputs: Int, _ k: Int) -> Int { outputs * (inputs * k * k + 1) }
    func inception(_ inputs: Int, _ c1: Int, _ c2: (Int, Int), _ c3: (Int, Int), _ c4: Int) -> Int {
        conv(inputs, c1, 1) + conv(inputs, c2.0, 1) + conv(c2.0, c2.1, 3) + conv(inputs, c3.0, 1)
            + conv(c3.0, c3.1, 5) + conv(inputs, c4, 1)
    }
    let byHand =
        conv(1, 64, 7) + conv(64, 64, 1) + conv(64, 192, 3)
        + inception(192, 64, (96, 128), (16, 32), 32) + inception(256, 128, (128, 192), (32, 96), 64)
        + inception(480, 192, (96, 208), (16, 48), 64) + inception(512, 160, (112, 224), (24, 64), 64)
        + inception(512, 128, (128, 256), (24, 64), 64) + inception(512, 112, (144, 288), (32, 64), 64)
        + inception(528, 256, (160, 320), (32, 128), 128) + inception(832, 256, (160, 320), (32, 128), 128)
        + inception(832, 384, (192, 384), (48, 128), 128) + 1024 * 10 + 10
    #expect(byHand == 5_977_530)
}

@Test("GoogLeNet's parameter names are d2l's state_dict keys")
func googLeNetParameterNames() {
    let names = GoogLeNet.model().namedParameters.map(\.name)
    #expect(names.prefix(6) == ["0.0.weight", "0.0.bias", "1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"])
    #expect(
        names[6..<18]
            == [
                "2.0.p1_1.weight", "2.0.p1_1.bias", "2.0.p2_1.weight", "2.0.p2_1.bias", "2.0.p2_2.weight",
                "2.0.p2_2.bias", "2.0.p3_1.weight", "2.0.p3_1.bias", "2.0.p3_2.weight", "2.0.p3_2.bias",
                "2.0.p4_2.weight", "2.0.p4_2.bias",
            ])
    #expect(names.suffix(4) == ["4.1.p4_2.weight", "4.1.p4_2.bias", "5.weight", "5.bias"])
    #expect(names.count == 6 + 9 * 12 + 2)
    // The course note's stage 2 has no ReLUs: the same weights, named 1.0 and 1.1.
    let seed = GoogLeNet.model(GoogLeNet.Design(stageTwoReLU: false))
    #expect(seed.parameterCount == 5_977_530)
    #expect(seed.namedParameters.map(\.name)[2..<6] == ["1.0.weight", "1.0.bias", "1.1.weight", "1.1.bias"])
}

@Test("GoogLeNet with batch norm: one BatchNorm2d per convolution, with PyTorch's buffer names")
func googLeNetBatchNorm() throws {
    let model = GoogLeNet.model(GoogLeNet.Design(batchNorm: true))
    let convolutions = model.allLayers.filter { $0 is Conv2d } as! [Conv2d]
    let norms = model.allLayers.filter { $0 is BatchNorm2d } as! [BatchNorm2d]
    #expect(convolutions.count == 3 + 9 * 6 && norms.count == convolutions.count)
    #expect(zip(convolutions, norms).allSatisfy { $0.outputChannels == $1.channels })
    let extra = norms.reduce(0) { $0 + 2 * $1.channels }
    #expect(model.parameterCount == 5_977_530 + extra)
    let buffers = model.namedBuffers.map(\.name)
    #expect(buffers.prefix(3) == ["0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked"])
    #expect(buffers.contains("2.0.p2_2_bn.running_var"))
    #expect(try model.outputShape(for: [2, 1, 96, 96]) == [2, 10])
}

@Test("an Inception block is its four branches run one by one and stacked on channels, both ways")
func inceptionIsItsBranches() throws {
    var g = SeededGenerator(seed: 5)
    let channels = GoogLeNet.Channels(3, (4, 5), (2, 3), 2)
    let block = GoogLeNet.inception(inputChannels: 6, channels, generator: &g)
    let x = Tensor(uniform: [2, 6, 7, 7], in: -1...1, generator: &g)
    let y = try block.forward(x, training: true)
    #expect(y.shape == [2, 13, 7, 7])
    let dy = Tensor(uniform: y.shape, in: -1...1, generator: &g)
    for (_, parameter) in block.namedParameters { parameter.zeroGradient() }
    let dx = block.backward(dy).scalars
    let blockGradients = block.namedParameters.map(\.parameter.gradient.scalars)

    // Each branch alone: its output must be the block's channel slice, and the block's input
    // gradient the sum of the branches' for their slices of dy.
    let plane = 49
    var offset = 0
    var summed = [Float](repeating: 0, count: x.count)
    for (_, parameter) in block.namedParameters { parameter.zeroGradient() }
    for (_, branch) in block.branches {
        let alone = try branch.forward(x, training: true)
        let k = alone.shape[1]
        var slice = [Float]()
        for n in 0..<2 {
            let start = (n * 13 + offset) * plane
            #expect(
                Array(y.scalars[start..<(start + k * plane)])
                    == Array(alone.scalars[(n * k * plane)..<((n + 1) * k * plane)]))
            slice += dy.scalars[start..<(start + k * plane)]
        }
        let branchGradient = branch.backward(try Tensor(shape: alone.shape, values: slice)).scalars
        for i in summed.indices { summed[i] += branchGradient[i] }
        offset += k
    }
    #expect(offset == 13)
    #expect(zip(summed, dx).allSatisfy { abs($0 - $1) <= 1e-5 })
    #expect(block.namedParameters.map(\.parameter.gradient.scalars) == blockGradients)
    #expect(block.namedParameters.map(\.name).first == "p1_1.weight")
}

@Test("GoogLeNet's exercise variants: two 3x3 for the 5x5, residual shortcuts, a 28 px stem, counted by hand")
func googLeNetVariants() throws {
    func conv(_ inputs: Int, _ outputs: Int, _ k: Int) -> Int { outputs * (inputs * k * k + 1) }
    let blocks = GoogLeNet.stages.flatMap { $0 }
    let inputs = [192] + blocks.dropLast().map(\.output)
    // Two 3x3 instead of the 5x5: reduce -> reduce at 3x3, then reduce -> out at 3x3.
    let factorized = GoogLeNet.model(GoogLeNet.Design(factorizedFiveByFive: true))
    let saved = blocks.reduce(0) { total, c in
        total + conv(c.c3.reduce, c.c3.out, 5) - conv(c.c3.reduce, c.c3.reduce, 3) - conv(c.c3.reduce, c.c3.out, 3)
    }
    #expect(saved > 0 && factorized.parameterCount == 5_977_530 - saved)
    #expect(factorized.namedParameters.map(\.name).contains("2.0.p3_3.weight"))
    #expect(try factorized.outputShape(for: [2, 1, 96, 96]) == [2, 10])
    // Residual: a 1x1 shortcut wherever a block changes the channel count; 4b and 4c (512 -> 512)
    // and 5a (832 -> 832) keep the identity.
    let residual = GoogLeNet.model(GoogLeNet.Design(residual: true))
    let shortcuts = zip(inputs, blocks).filter { $0.0 != $0.1.output }
    #expect(shortcuts.count == 6)
    #expect(residual.parameterCount == 5_977_530 + shortcuts.reduce(0) { $0 + conv($1.0, $1.1.output, 1) })
    #expect(residual.namedParameters.map(\.name).contains("2.0.body.p1_1.weight"))
    #expect(residual.namedParameters.map(\.name).contains("2.0.shortcut.weight"))
    // The 28 px stem: a 3x3 convolution at stride 1 and the pool; the blocks see 7, 4 and 2.
    let small = GoogLeNet.model(GoogLeNet.Design(smallImageStem: true))
    #expect(small.parameterCount == 5_977_530 - conv(1, 64, 7) + conv(1, 64, 3))
    var shape = [1, 1, 28, 28]
    var trace: [[Int]] = []
    for layer in small.layers {
        shape = try layer.outputShape(for: shape)
        trace.append(shape)
    }
    #expect(trace == [[1, 64, 14, 14], [1, 192, 7, 7], [1, 480, 4, 4], [1, 832, 2, 2], [1, 1024], [1, 10]])
}
