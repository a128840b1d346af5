// NiNExercisesTests.swift: chapter 06's answers. The 1x1-as-dense check on real maps, the
// dense-head split against hand arithmetic, the stall experiment's bookkeeping, the variants'
// and the family's counts by hand, and the resources against the profile.

import Foundation
import ModernCNN
import Notebook
import Testing

@testable import Exercises

@Test("6.1: NiN's first 1x1 convolution equals a dense layer on each pixel's channels")
func ninPointwiseAnswer() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let images = BatchPlan(dataset: data.test, batchSize: 2, imageSize: 96, seed: 0).batch(0, of: [0, 1]).images
    let check = try NiNExercises.pointwiseAsDense(images: images)
    // (96 - 11) / 4 + 1 = 22: two images of 22 x 22 pixels, 96 channels each.
    #expect(check.inputShape == [2, 96, 22, 22] && check.outputChannels == 96 && check.pixels == 2 * 22 * 22)
    #expect(check.largestOutput > 0.01, "the maps carry signal, so the comparison means something")
    #expect(check.largestDifference <= 1e-5 * max(check.largestOutput, 1))
}

@Test("6.3: dense parameters of AlexNet and VGG-11 by hand; NiN has none")
func ninDenseHeadsAnswer() throws {
    let splits = try NiNExercises.denseHeads()
    #expect(splits.map(\.name) == ["AlexNet (d2l)", "VGG-11", "VGG (small)", "NiN (d2l)"])
    #expect(splits[0].denseParameters == 6400 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 10 + 10)
    #expect(splits[3].denseParameters == 0 && splits[3].parameters == 1_992_166)
    // NiN's work: per layer, out x in x k x k x positions (planes 54, 26, 12, 5).
    let layers = [
        (1, 96, 11, 54), (96, 96, 1, 54), (96, 96, 1, 54), (96, 256, 5, 26), (256, 256, 1, 26), (256, 256, 1, 26),
        (256, 384, 3, 12), (384, 384, 1, 12), (384, 384, 1, 12), (384, 10, 3, 5), (10, 10, 1, 5), (10, 10, 1, 5),
    ]
    #expect(splits[3].convolutionMultiplyAdds == layers.reduce(0) { $0 + $1.0 * $1.1 * $1.2 * $1.2 * $1.3 * $1.3 })
}

@Test("6.4: one run per setting and seed, each with the monitor's reading of the class block")
func ninStallExperimentAnswer() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let recipe = Recipe(epochs: 1, batchSize: 16, learningRate: 0.1, imageSize: 67, trainLimit: 48, testLimit: 32)
    let settings = [
        NiNExercises.StallSetting(name: "d2l", learningRate: 0.1),
        NiNExercises.StallSetting(
            name: "open", design: NiN.Design(finalReLU: false), usesSGD: false, learningRate: 0.001),
    ]
    let runs = try NiNExercises.stallExperiment(settings, seeds: [0, 1], recipe: recipe, data: data)
    #expect(runs.map(\.setting) == ["d2l", "d2l", "open", "open"] && runs.map(\.seed) == [0, 1, 0, 1])
    for run in runs { #expect(run.run.health.count == 1 && run.run.history.count == 1) }
    // The class block has three ReLUs in d2l's design and two without the last one.
    #expect(runs[0].classBlockDeadShares.count == 3 && runs[2].classBlockDeadShares.count == 2)
    #expect(runs.allSatisfy { $0.firstLayerUpdateRatio.isFinite && $0.firstLayerUpdateRatio >= 0 })
    // `stalled` is the monitor's own verdict on the run's last epoch.
    #expect(runs.allSatisfy { $0.stalled == $0.run.health.last!.stalled })
}

@Test("exercises 1-3: the variants' sizes at 224 px by hand, and one short run each")
func ninVariantsAnswer() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let recipe = Recipe(epochs: 1, batchSize: 16, learningRate: 0.001, imageSize: 67, trainLimit: 32, testLimit: 16)
    let runs = try NiNExercises.train(NiNExercises.perPixelVariants(), data: data, recipe: recipe)
    #expect(runs.count == 4 && runs.allSatisfy { $0.run.history.count == 1 && $0.run.firstBatchLoss.isFinite })
    let channels = [96, 256, 384, 10]
    #expect(runs[1].parametersAt224 == 1_992_166)
    #expect(runs[1].parametersAt224 - runs[0].parametersAt224 == channels.reduce(0) { $0 + $1 * $1 + $1 })
    #expect(runs[2].parametersAt224 - runs[1].parametersAt224 == channels.reduce(0) { $0 + $1 * $1 + $1 })
    #expect(runs[3].parametersAt224 - runs[1].parametersAt224 == channels.reduce(0) { $0 + 16 * $1 * $1 })
    // 1x1 layers at planes 54, 26, 12, 5: one more per block adds C^2 multiply-adds per position.
    let planes = [54, 26, 12, 5]
    #expect(
        runs[2].multiplyAddsAt224 - runs[1].multiplyAddsAt224
            == zip(channels, planes).reduce(0) { $0 + $1.0 * $1.0 * $1.1 * $1.1 })
    let heads = try NiNExercises.train(NiNExercises.heads(), data: data, recipe: recipe)
    #expect(heads[1].parametersAt224 - heads[0].parametersAt224 == 10 * 5 * 5 * 10 + 10)
    // The trained network is sized for 67 px, where the class maps are 1 x 1.
    #expect(heads[1].run.parameterCount - heads[0].run.parameterCount == 10 * 10 + 10)
    let seconds = try NiNExercises.inferenceSeconds(
        [NiN.d2l(), NiN.model(NiN.Design(head: .dense), inputSize: 67)], imageSize: 67, batchSize: 4)
    #expect(seconds.count == 2 && seconds.allSatisfy { $0 > 0 && $0.isFinite })
}

/// The built chapter 06, which exercise 4 starts as its child (`make test` says where).
let ninExecutable: String? = {
    let folders = (ProcessInfo.processInfo.environment["MODERNCNN_BIN"].map { [$0] } ?? []) + [".build/release"]
    return folders.map { "\($0)/nin" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

@Test("exercise 4: the counts are the profile's")
func ninResourcesCounted() throws {
    let result = try NiNExercises.resources(imageSize: 96, batchSize: 8)
    let profile = try ModelProfile(NiN.d2l(), inputShape: [1, 1, 96, 96])
    #expect(result.parameters == 1_992_166 && result.multiplyAdds == profile.model.multiplyAdds)
    #expect(result.estimate.training == profile.memoryEstimate(batchSize: 8, optimizerSlots: 0).training)
    #expect(result.measuredTraining == nil && result.measuredInference == nil, "nothing measured without a child")
}

@Test(
    "exercise 4: the child processes measure a training step above its saved activations' size",
    .enabled(if: ninExecutable != nil, "needs the built chapter (swift build -c release, or make test)"))
func ninResourcesMeasured() throws {
    let result = try NiNExercises.resources(imageSize: 96, batchSize: 16, executable: ninExecutable!)
    let (training, inference) = (try #require(result.measuredTraining), try #require(result.measuredInference))
    // A training step keeps every layer's output for 16 images (the count's saved activations,
    // less what the plan fuses away: at least the first block's 96 x 22 x 22 per image); an
    // inference pass keeps less.
    #expect(training >= 16 * 96 * 22 * 22 * 4)
    #expect(inference > 0 && inference < training)
    #expect(Double(training) < 3 * Double(result.estimate.training), "no more than the count plus workspaces")
}

@Test("exercise 6: the family's weight layers, plane sizes and parameters by hand")
func ninFamilyAnswer() throws {
    let members = try NiNExercises.family()
    #expect(members.map(\.name) == ["NiN-12", "NiN-18", "NiN-24"])
    #expect(members.map(\.weightLayers) == [12, 18, 24])
    #expect(members[0].parameters == 1_992_166)
    #expect(
        members.allSatisfy { $0.stageOutputs.map { [$0[1], $0[2]] } == [[96, 54], [256, 26], [384, 12], [10, 5]] })
    func extra(_ c: Int) -> Int { c * c * 9 + c + 2 * (c * c + c) }
    #expect(members[2].parameters - members[0].parameters == 2 * extra(256) + 2 * extra(384))
}
