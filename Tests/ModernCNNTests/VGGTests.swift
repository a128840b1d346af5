// VGGTests.swift: the VGG networks against the published parameter counts and d2l's shape trace,
// their parameter names against d2l's state_dict, the paper's table counted two ways, and
// receptive fields from the recurrence against brute force (which input pixels move an output).

import Testing

@testable import ModernCNN

@Test("VGG-11, d2l's small VGG and the course note's CPU VGG have the published parameter counts and d2l's shapes")
func vggCountsAndShapes() throws {
    #expect(VGG.Variant.vgg11.model().parameterCount == 128_806_154)
    #expect(VGG.Variant.small.model().parameterCount == 43_093_322)
    // The course note's network: channels / 8, dense layers of 512 from 64 x 7 x 7 = 3,136 features.
    let cpu = VGG.Variant.cpu.model()
    #expect(cpu.parameterCount == 2_018_346)
    #expect((cpu.layers[6] as? Linear)?.weight.value.shape == [512, 3136])
    // d2l's trace: each block halves the plane; 224 / 32 = 7.
    var shape = [1, 1, 224, 224]
    var blockShapes: [[Int]] = []
    let small = VGG.Variant.small.model()
    for layer in small.layers.prefix(5) {
        shape = try layer.outputShape(for: shape)
        blockShapes.append(shape)
    }
    #expect(
        blockShapes == [[1, 16, 112, 112], [1, 32, 56, 56], [1, 64, 28, 28], [1, 128, 14, 14], [1, 128, 7, 7]])
    #expect(try small.outputShape(for: [2, 1, 224, 224]) == [2, 10])
    // Smaller inputs: the dense layer takes what the blocks leave (96 -> 3, 64 -> 2).
    #expect(try VGG.Variant.small.model(inputSize: 96).outputShape(for: [1, 1, 96, 96]) == [1, 10])
    #expect((VGG.Variant.small.model(inputSize: 64).layers[6] as? Linear)?.weight.value.shape == [4096, 128 * 2 * 2])
}

@Test("VGG's parameter names are d2l's state_dict keys: block.layer within blocks, then the classifier")
func vggParameterNames() {
    let names = VGG.Variant.cpu.model().namedParameters.map(\.name)
    #expect(names.prefix(4) == ["0.0.weight", "0.0.bias", "1.0.weight", "1.0.bias"])
    #expect(names.contains("2.2.weight") && names.contains("4.2.bias"))
    #expect(names.suffix(6) == ["6.weight", "6.bias", "9.weight", "9.bias", "12.weight", "12.bias"])
    #expect(names.count == 2 * (8 + 3))
}

@Test("the paper's table: weight layers per column, and parameters counted from it equal the built networks'")
func vggPaperTable() {
    let table = VGG.paperConfigurations
    #expect(table.map(\.name) == ["A", "A-LRN", "B", "C", "D", "E"])
    #expect(table.map(\.weightLayers) == [11, 11, 13, 16, 16, 19])
    // torchvision's vgg11, vgg16 and vgg19 state_dicts hold these counts.
    let counts = Dictionary(uniqueKeysWithValues: table.map { ($0.name, $0.parameterCount) })
    #expect(counts["A"] == 132_863_336 && counts["A-LRN"] == 132_863_336)
    #expect(counts["D"] == 138_357_544 && counts["E"] == 143_667_240)
    // The paper's Table 2 in millions: 133, 133, 133, 134, 138, 144.
    #expect(table.map { Int((Double($0.parameterCount) / 1e6).rounded()) } == [133, 133, 133, 134, 138, 144])
    #expect(table[3].layers(ofBlock: 2) == ["conv3-256", "conv3-256", "conv1-256"])
    #expect(table[1].layers(ofBlock: 0) == ["conv3-64", "LRN"])
}

@Test(
    "VGG-16 and VGG-19 built from the architecture data have the counts of the paper's table", .timeLimit(.minutes(2)))
func vgg16And19Built() throws {
    for (architecture, count) in [(VGG.vgg16, 138_357_544), (VGG.vgg19, 143_667_240)] {
        let model = VGG.vgg(architecture: architecture, classes: 1000, inputChannels: 3)
        #expect(model.parameterCount == count)
        #expect(try model.outputShape(for: [1, 3, 224, 224]) == [1, 1000])
    }
}

/// The input pixels (along x, on the middle row) whose change moves output unit `unit` of the
/// last layer of `layers`: every weight 1 and average pooling, so no change can cancel out.
private func bruteForceField(_ layers: [any Layer], inputSize n: Int, unit: Int) throws -> ClosedRange<Int> {
    let model = Sequential(layers)
    for (_, parameter) in model.namedParameters {
        parameter.value = try Tensor(
            shape: parameter.value.shape, values: Array(repeating: 1, count: parameter.value.shape.reduce(1, *)))
    }
    let base = Tensor(zeros: [1, 1, n, n])
    let reference = try model.forward(base, training: false)
    let outputSide = reference.shape[3]
    let row = outputSide / 2
    var moved: [Int] = []
    for x in 0..<n {
        var probe = base.scalars
        probe[(n / 2) * n + x] = 1
        let output = try model.forward(Tensor(shape: [1, 1, n, n], values: probe), training: false)
        let index = (0 * output.shape[1]) * outputSide * outputSide + row * outputSide + unit
        if abs(output.scalars[index] - reference.scalars[index]) > 0 { moved.append(x) }
    }
    return moved.min()!...moved.max()!
}

@Test(
    "receptive fields from the recurrence equal brute force: a VGG stack, AlexNet's strided start, padding at the border"
)
func receptiveFieldsAgainstBruteForce() throws {
    var g = SeededGenerator(seed: 1)
    func conv(_ k: Int, stride: Int = 1, padding: Int) -> Conv2d {
        Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: k, stride: stride, padding: padding, generator: &g)
    }
    let stacks: [(String, [any Layer], Int)] = [
        ("two 3x3 = one 5x5", [conv(3, padding: 1), ReLU(), conv(3, padding: 1)], 16),
        (
            "VGG blocks",
            [
                conv(3, padding: 1), AvgPool2d(kernelSize: 2, stride: 2), conv(3, padding: 1), conv(3, padding: 1),
                AvgPool2d(kernelSize: 2, stride: 2), conv(3, padding: 1),
            ], 32
        ),
        // 65: every strided window reaches the last pixel ((65 + 2 - 11) / 4 and (15 - 3) / 2 are whole).
        (
            "AlexNet's start",
            [conv(11, stride: 4, padding: 1), AvgPool2d(kernelSize: 3, stride: 2), conv(5, padding: 2)], 65
        ),
    ]
    for (name, layers, n) in stacks {
        let field = ReceptiveField.perLayer(of: Sequential(layers)).last!.field!
        var side = n
        for layer in layers { side = try layer.outputShape(for: [1, 1, side, side])[3] }
        for unit in [0, side / 2, side - 1] {
            #expect(
                field.pixels(ofUnit: unit, inputSize: n) == (try bruteForceField(layers, inputSize: n, unit: unit)),
                "\(name), unit \(unit): \(field)")
        }
    }
    // At 67 conv1's last window ends on pixel 65 ((67 + 2 - 11) / 4 is floored), so pixel 66 is read by none:
    // the last unit's true field is the recurrence's less that pixel.
    let alexStart: [any Layer] = [
        conv(11, stride: 4, padding: 1), AvgPool2d(kernelSize: 3, stride: 2), conv(5, padding: 2),
    ]
    let recurrence = ReceptiveField.perLayer(of: Sequential(alexStart)).last!.field!.pixels(ofUnit: 6, inputSize: 67)
    #expect(
        try bruteForceField(alexStart, inputSize: 67, unit: 6) == recurrence.lowerBound...65
            && recurrence.upperBound == 66)
    // Two 3x3 convolutions see 5 pixels, three see 7; a flatten sees everything.
    let three = Sequential(conv(3, padding: 1), conv(3, padding: 1), conv(3, padding: 1), Flatten())
    #expect(ReceptiveField.perLayer(of: three).map { $0.field?.size } == [3, 5, 7, nil])
}
