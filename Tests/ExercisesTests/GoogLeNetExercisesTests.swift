// GoogLeNetExercisesTests.swift: chapter 07's computed answers against hand arithmetic from the
// paper's channel table, and the smallest input against a forward pass.

import Exercises
import ModernCNN
import Testing

@Test("each Inception block's branches are priced as the paper's channels give them, by hand")
func googLeNetBlockCosts() throws {
    let blocks = try GoogLeNetExercises.blockCosts()
    #expect(blocks.map(\.name) == ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"])
    #expect(blocks.map(\.side) == [12, 12, 6, 6, 6, 6, 6, 3, 3])
    #expect(blocks.map(\.inputChannels) == [192, 256, 480, 512, 512, 512, 528, 832, 832])
    // Block 3a at 12x12: out * (in * k * k + 1) parameters, plane * out * in * k * k multiply-adds.
    let a = blocks[0]
    #expect(a.branchParameters == [64 * 193, 96 * 193 + 128 * (96 * 9 + 1), 16 * 193 + 32 * (16 * 25 + 1), 32 * 193])
    #expect(
        a.branchMultiplyAdds
            == [144 * 64 * 192, 144 * (96 * 192 + 128 * 96 * 9), 144 * (16 * 192 + 32 * 16 * 25), 144 * 32 * 192])
    // The nine blocks and the stem and head make the whole network.
    let stemAndHead = 64 * (49 + 1) + 64 * 65 + 192 * (64 * 9 + 1) + 10 * 1025
    #expect(blocks.reduce(0) { $0 + $1.parameters } + stemAndHead == 5_977_530)
    // Without reductions, 3a's 3x3 and 5x5 read all 192 channels.
    let plain = GoogLeNetExercises.withoutReductions(a)
    #expect(plain.parameters == 64 * 193 + 128 * (192 * 9 + 1) + 32 * (192 * 25 + 1) + 32 * 193)
    #expect(plain.multiplyAdds == 144 * 192 * (64 + 128 * 9 + 32 * 25 + 32))
}

@Test("GoogLeNet takes inputs down to 1 px (every window padded), and its last stage sees 1x1 planes up to 32 px")
func googLeNetSmallestInput() throws {
    let (smallest, onePixel) = GoogLeNetExercises.smallestInputs()
    #expect(smallest == 1)
    #expect(try GoogLeNet.model().forward(Tensor(zeros: [1, 1, 1, 1]), training: false).shape == [1, 10])
    // Halvings before the last stage: conv /2, then three pools /2 (ceil each time): 32 -> 16 -> 8 -> 4 -> 2 -> 1.
    #expect(onePixel == 32)
    #expect(try Sequential(Array(GoogLeNet.model().layers.prefix(4))).outputShape(for: [1, 1, 33, 33])[2] == 2)
}

@Test("four networks side by side: dense parameters where they are, GoogLeNet's independent of the input size")
func googLeNetSideBySide() throws {
    let splits = try GoogLeNetExercises.sideBySide()
    #expect(splits.map(\.name) == ["AlexNet (d2l)", "VGG-11", "NiN (d2l)", "GoogLeNet (d2l)", "GoogLeNet at 224"])
    #expect(splits[0].parameters == 46_764_746 && splits[1].parameters == 128_806_154)
    #expect(splits[2].parameters == 1_992_166 && splits[2].denseParameters == 0)
    #expect(splits[3].parameters == 5_977_530 && splits[3].denseParameters == 10_250)
    #expect(splits[4].parameters == splits[3].parameters)
    // The work grows with the plane: 224 px against 96 px, a little under (224 / 96)^2 because
    // of the padded borders' rounding.
    let ratio = Double(splits[4].multiplyAdds) / Double(splits[3].multiplyAdds)
    #expect(ratio > 4 && ratio < (224.0 / 96) * (224.0 / 96) * 1.2)
}
