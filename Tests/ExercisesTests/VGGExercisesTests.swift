// VGGExercisesTests.swift: chapter 05's answers. The parameter and work splits against hand
// arithmetic, the trace lines against VGG-11's layers, the heads and input sizes against their
// own shapes and what their short runs reported, and 5.5's cost against the profiles.

import Foundation
import ModernCNN
import Notebook
import Testing

@testable import Exercises

@Test("exercises 1 and 2: the split of parameters and work between convolutions and dense layers, by hand")
func vggSplitAnswer() throws {
    let splits = try VGGExercises.alexNetAgainstVGG11()
    #expect(splits.map(\.name) == ["AlexNet (d2l)", "VGG-11", "VGG (small)"])
    #expect(splits.map(\.parameters) == [46_764_746, 128_806_154, 43_093_322])
    let vgg = splits[1]
    // Dense: 25,088 -> 4096 -> 4096 -> 10, weights and biases; one multiply-add per weight.
    #expect(vgg.denseParameters == 25_088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 10 + 10)
    #expect(vgg.denseMultiplyAdds == 25_088 * 4096 + 4096 * 4096 + 4096 * 10)
    // Convolutions: per layer, out x (in x 3 x 3) x positions, planes 224, 112, 56, 56, 28, 28, 14, 14.
    let layers = [
        (1, 64, 224), (64, 128, 112), (128, 256, 56), (256, 256, 56), (256, 512, 28), (512, 512, 28),
        (512, 512, 14), (512, 512, 14),
    ]
    #expect(vgg.convolutionMultiplyAdds == layers.reduce(0) { $0 + $1.1 * $1.0 * 9 * $1.2 * $1.2 })
    #expect(vgg.convolutionParameters == layers.reduce(0) { $0 + $1.1 * $1.0 * 9 + $1.1 })
}

@Test("exercise 4: VGG-11's trace has 13 lines holding 11 weight layers, 8 of them in the 5 blocks")
func vggTraceLinesAnswer() {
    let lines = VGGExercises.traceLines(of: VGG.Variant.vgg11.model())
    #expect(lines.count == 13)
    #expect(lines.map(\.weightLayers) == [1, 1, 2, 2, 2, 0, 1, 0, 0, 1, 0, 0, 1])
    #expect(lines[0].module == "0 Sequential" && lines[6].module == "6 Linear")
}

@Test("exercise 3: the heads have the layers they claim, and the short runs report what they trained")
func vggHeadsAnswer() throws {
    let pooled = VGGExercises.smallVGG(head: .globalAveragePooling, inputSize: 56)
    let blocks = VGG.Variant.small.model().layers.prefix(5).reduce(0) { $0 + $1.parameterCount }
    #expect(pooled.parameterCount == blocks + 128 * 10 + 10)
    // The same blocks, weight for weight, as the dense-headed network from the same seed.
    let dense = VGG.Variant.small.model(inputSize: 56)
    for (ours, theirs) in zip(pooled.layers.prefix(5), dense.layers.prefix(5)) {
        #expect(
            ours.namedParameters.map { $0.parameter.value.scalars }
                == theirs.namedParameters.map {
                    $0.parameter.value.scalars
                })
    }
    #expect(try pooled.outputShape(for: [2, 1, 56, 56]) == [2, 10])
    #expect(try pooled.outputShape(for: [2, 1, 224, 224]) == [2, 10])
    let narrow = VGGExercises.smallVGG(head: .dense(hidden: 512), inputSize: 224)
    #expect(narrow.parameterCount == blocks + 6272 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10)

    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let recipe = Recipe(epochs: 1, batchSize: 32, learningRate: 0.001, imageSize: 32, trainLimit: 128, testLimit: 64)
    let runs = try VGGExercises.cheaperHeads(data: data, recipe: recipe)
    #expect(runs.map(\.name) == ["two dense layers of 4096", "two dense layers of 512", "global average pooling"])
    for run in runs {
        #expect(run.history.count == 1 && run.imagesPerSecond > 0 && run.firstBatchLoss.isFinite)
    }
    #expect(runs[2].parameterCount == VGGExercises.smallVGG(head: .globalAveragePooling, inputSize: 32).parameterCount)
}

@Test("exercise 6: one run per input size, each network sized for its input")
func vggInputSizesAnswer() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let recipe = Recipe(epochs: 1, batchSize: 32, learningRate: 0.001, imageSize: 224, trainLimit: 96, testLimit: 32)
    let runs = try VGGExercises.inputSizes([32, 64], data: data, recipe: recipe)
    #expect(runs.map(\.name) == ["32 px", "64 px"])
    // The dense layer takes 128 x 1 x 1 at 32 px and 128 x 2 x 2 at 64 px.
    #expect(runs[1].parameterCount - runs[0].parameterCount == 128 * 3 * 4096)
    #expect(runs.allSatisfy { $0.history.count == 1 && $0.finalTestAccuracy.isFinite })
}

@Test("5.5: the cost table's counts are the profiles', and both networks were timed")
func vggCostAnswer() throws {
    let rows = try VGGExercises.costAgainstAlexNet(batchSize: 1)
    #expect(rows.map(\.name) == ["AlexNet (d2l)", "VGG (small)"])
    #expect(rows.map(\.parameters) == [46_764_746, 43_093_322])
    #expect(rows[0].multiplyAdds == (try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])).model.multiplyAdds)
    #expect(rows.allSatisfy { $0.trainingSeconds > 0 && $0.inferenceSeconds > 0 && $0.activationBytes > 0 })
}
