// ModelProfileTests.swift: the walk behind shape traces and summaries, against published
// parameter counts and an independent count of multiply-adds.

import ModernCNN
import Testing

@testable import Notebook

/// Multiply-adds of a convolution counted by visiting every (output, tap) pair that a naive
/// loop would multiply, skipping none: independent of the closed formula in ModelProfile.
func countedConvolutionMACs(channels: Int, outputs: Int, size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
    var count = 0
    var y = -padding
    while y + kernel <= size + padding {
        var x = -padding
        while x + kernel <= size + padding {
            for _ in 0..<outputs {
                for _ in 0..<channels { for _ in 0..<kernel { for _ in 0..<kernel { count += 1 } } }
            }
            x += stride
        }
        y += stride
    }
    return count
}

@Test("LeNet's profile: 61,706 parameters and multiply-adds equal to an independent count")
func lenetProfile() throws {
    let profile = try ModelProfile(LeNet.d2l(), inputShape: [1, 1, 28, 28])
    #expect(profile.model.parameterCount == 61_706)
    let expected =
        countedConvolutionMACs(channels: 1, outputs: 6, size: 28, kernel: 5, stride: 1, padding: 2)
        + countedConvolutionMACs(channels: 6, outputs: 16, size: 14, kernel: 5, stride: 1, padding: 0)
        + 400 * 120 + 120 * 84 + 84 * 10
    #expect(profile.model.multiplyAdds == expected)
    #expect(profile.leaves.count == 12)
    #expect(profile.leaves.map(\.parameterCount).reduce(0, +) == 61_706)
    // A batch of 4 costs four times one image.
    #expect(try ModelProfile(LeNet.d2l(), inputShape: [4, 1, 28, 28]).model.multiplyAdds == 4 * expected)
}

@Test("the shape trace prints d2l's lines with the output-size arithmetic")
func shapeTraceText() throws {
    let trace = try ModelProfile(LeNet.d2l(), inputShape: [1, 1, 28, 28]).shapeTrace(arithmetic: true)
    let lines = trace.split(separator: "\n").map(String.init)
    #expect(lines.count == 12)
    #expect(lines[0].hasPrefix("Conv2d output shape: [1, 6, 28, 28]") && lines[0].hasSuffix("28 + 2*2 - 5 + 1 = 28"))
    #expect(lines[2].hasPrefix("AvgPool2d output shape: [1, 6, 14, 14]") && lines[2].hasSuffix("(28 - 2) / 2 + 1 = 14"))
    #expect(lines[6] == "Flatten output shape: [1, 400]")
    #expect(lines[11] == "Linear output shape: [1, 10]")
}

@Test("the trace by name prints the course note's NiN lines: the module's name, then its output")
func shapeTraceByName() throws {
    let trace = try ModelProfile(NiN.d2l(), inputShape: [1, 1, 224, 224]).shapeTrace(byName: true)
    let lines = trace.split(separator: "\n").map(String.init)
    #expect(lines.count == 10)
    #expect(lines[0] == "0 output shape: [1, 96, 54, 54]")
    #expect(lines[7] == "7 output shape: [1, 10, 5, 5]")
    #expect(lines[9] == "9 output shape: [1, 10]")
}

@Test("nested blocks fold by depth; Concat branches all see the block's input")
func nestedProfile() throws {
    var g = SeededGenerator(seed: 0)
    let block = Concat([
        ("p1", Conv2d(inputChannels: 8, outputChannels: 4, kernelSize: 1, generator: &g)),
        (
            "p2",
            Sequential(
                Conv2d(inputChannels: 8, outputChannels: 2, kernelSize: 1, generator: &g), ReLU(),
                Conv2d(inputChannels: 2, outputChannels: 6, kernelSize: 3, padding: 1, generator: &g))
        ),
    ])
    let model = Sequential(Conv2d(inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1, generator: &g), block)
    let profile = try ModelProfile(model, inputShape: [1, 1, 6, 6])
    #expect(profile.model.outputShape == [1, 10, 6, 6])
    #expect(profile.entries(toDepth: 0).map(\.path) == ["0", "1"])
    #expect(profile.entries(toDepth: 1).map(\.path) == ["0", "1.p1", "1.p2"])
    #expect(profile.entries(toDepth: 5).map(\.path) == ["0", "1.p1", "1.p2.0", "1.p2.1", "1.p2.2"])
    let inner = try #require(profile.entries.first { $0.path == "1.p2.0" })
    #expect(inner.inputShape == [1, 8, 6, 6])
    // The block's MACs are its branches' sums: 36 * (4*8 + 2*8 + 6*2*9).
    #expect(profile.entries.first { $0.path == "1" }?.multiplyAdds == 36 * (32 + 16 + 108))
    #expect(profile.summaryTable(depth: 0).rows.count == 3)  // two rows and the total
}

@Test("memory estimate: weights, gradients and optimizer state scale with parameters, activations with batch")
func memoryEstimate() throws {
    let profile = try ModelProfile(LeNet.d2l(), inputShape: [1, 1, 28, 28])
    let one = profile.memoryEstimate(batchSize: 1, optimizerSlots: 1)
    let many = profile.memoryEstimate(batchSize: 256, optimizerSlots: 2)
    #expect(one.weights == 61_706 * 4 && one.gradients == one.weights && one.optimizerState == one.weights)
    #expect(many.optimizerState == 2 * many.weights)
    #expect(many.savedActivations == 256 * one.savedActivations)
    #expect(one.savedActivations == 4 * (784 + profile.leaves.reduce(0) { $0 + $1.outputShape.reduce(1, *) }))
    #expect(many.training > many.inference)
}

@Test("a model that does not fit the input fails with the layer's shape error")
func profileShapeError() {
    #expect(throws: ShapeError.self) { try ModelProfile(LeNet.d2l(), inputShape: [1, 1, 32, 32]) }
}

@Test("AlexNet's summary: 46,764,746 parameters in the total row, and a memory table at batch 128")
func alexnetSummary() throws {
    let profile = try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])
    let table = profile.summaryTable()
    let total = try #require(table.rows.last)
    #expect(total[0] == "Total" && total[3] == "46,764,746" && total[2] == "[1, 10]")
    #expect(table.rows.count == 21 + 1)
    let memory = profile.memoryTable(batchSize: 128, optimizerSlots: 1, optimizer: "SGD with momentum")
    #expect(
        memory.rows.map { $0[0] } == ["weights", "gradients", "optimizer state", "activations (saved / live)", "total"])
    #expect(memory.rows[0][1] == byteCount(46_764_746 * 4) && memory.rows[2][2] == "-")
}
