// GoogLeNetExercisesTests.swift: chapter 07's computed answers against hand arithmetic from the
// paper's channel table, and the smallest input against a forward pass.

import ModernCNN
import Notebook
import Testing

@testable import Exercises

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

@Test("exercise 1: five variants, each one change, trained from the same seed; label smoothing in the loss")
func googLeNetVariantsAnswer() throws {
    let variants = GoogLeNetExercises.Variant.exerciseOne(initialization: .kaimingUniform)
    #expect(
        variants.map(\.name)
            == [
                "d2l's GoogLeNet", "batch normalisation", "5x5 as two 3x3", "label smoothing 0.1", "residual blocks",
                "stage 2 without ReLUs",
            ])
    #expect(variants.filter { $0.design != variants[0].design }.count == 4)
    #expect(variants.map(\.labelSmoothing) == [0, 0, 0, 0.1, 0, 0])
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let recipe = Recipe(epochs: 1, batchSize: 16, learningRate: 0.001, imageSize: 32, trainLimit: 48, testLimit: 32)
    let runs = try GoogLeNetExercises.variants(
        [variants[0], variants[3]], data: data, recipe: recipe)
    #expect(runs.map(\.run.batchLosses.count) == [3, 3])
    #expect(runs.allSatisfy { $0.run.history.count == 1 && $0.parameters == 5_977_530 })
    // The same seed, the same weights and the same first batch: the smoothed loss differs from
    // the plain one only by its targets (ε/K on every class), so a little, near ln 10.
    let (plain, smoothed) = (runs[0].run.firstBatchLoss, runs[1].run.firstBatchLoss)
    #expect(plain.isFinite && smoothed.isFinite && plain != smoothed)
    #expect(abs(plain - smoothed) < 0.2)
    #expect(
        runs[0].multiplyAdds == (try ModelProfile(GoogLeNet.model(), inputShape: [1, 1, 32, 32])).model.multiplyAdds)
}

@Test("a run leaves ln 10 at the first step whose trailing mean loss falls below the line")
func plateauExitStep() {
    func run(_ losses: [Float]) -> ShortRun {
        ShortRun(
            name: "", parameterCount: 0, history: [], firstBatchLoss: losses.first ?? .nan,
            lastBatchLoss: losses.last ?? .nan, batchLosses: losses, diverged: nil, health: [])
    }
    let losses: [Float] = [2.3, 2.3, 2.3, 2.2, 1.9, 1.6, 1.5]
    // Trailing means of 3, steps 3-7: 2.3, 2.267, 2.133, 1.9 (step 6), 1.667.
    #expect(run(losses).firstStep(whereMeanLossOf: 3, fallsBelow: 2.0) == 6)
    #expect(run(losses).firstStep(whereMeanLossOf: 1, fallsBelow: 2.0) == 5)
    #expect(run(losses).firstStep(whereMeanLossOf: 3, fallsBelow: 1.0) == nil)
    #expect(run(Array(losses.prefix(2))).firstStep(whereMeanLossOf: 3, fallsBelow: 3) == nil)
    #expect(run(losses).firstStep(whereMeanLossOf: 7, fallsBelow: 2.1) == 7)
}

@Test(
    "exercise 3: the 28 px stem gives the blocks 7, 4 and 2 px planes; d2l's at 96 and 48 px give 12, 6, 3 and 6, 3, 2")
func googLeNetSmallImagesAnswer() throws {
    let networks = GoogLeNetExercises.sizedNetworks(initialization: .kaimingUniform, quickSize: 48)
    #expect(networks.map(\.imageSize) == [96, 48, 28])
    let planes = try networks.map { try GoogLeNetExercises.stagePlanes($0) }
    #expect(planes.map(\.sides) == [[12, 6, 3], [6, 3, 2], [7, 4, 2]])
    // The work of the small stem's network at 28 px against d2l's at 96, from the profiles.
    let d2l = try ModelProfile(GoogLeNet.model(), inputShape: [1, 1, 96, 96]).model.multiplyAdds
    #expect(planes[0].multiplyAdds == d2l)
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let recipe = Recipe(epochs: 1, batchSize: 16, learningRate: 0.001, imageSize: 48, trainLimit: 32, testLimit: 16)
    let runs = try GoogLeNetExercises.smallImages(Array(networks.suffix(1)), data: data, recipe: recipe)
    #expect(runs.map(\.name) == ["3x3 stem at 28 px"])
    #expect(runs[0].history.count == 1 && runs[0].finalTestAccuracy.isFinite)
}

@Test("the closing comparison's five networks have their published parameter counts, each at d2l's input size")
func fiveNetworks() throws {
    #expect(FiveNetworks.networks.map(\.inputSize) == [28, 224, 224, 224, 96])
    let counts = FiveNetworks.networks.map { $0.build(0).parameterCount }
    #expect(counts == [61_706, 46_764_746, 43_093_322, 1_992_166, 5_977_530])
    #expect(FiveNetworks.networks.map(\.chapter) == ["03-lenet", "04-alexnet", "05-vgg", "06-nin", "07-googlenet"])
}
