// LeNetExercisesTests.swift: chapter 03's answers. The variants against hand-counted parameters
// and their output shapes, the short runs against what they produced, and the activation maps
// against the convolution's seven-loop definition and an explicit 2x2 mean.

import Foundation
import Kernels
import ModernCNN
import Notebook
import Testing

@testable import Exercises

let tinyRecipe = Recipe(epochs: 2, batchSize: 64, learningRate: 0, trainLimit: 2048, testLimit: 512)

@Test("exercise 1: the modernised LeNet learns, and faster than d2l's on the same short budget")
func modernisedAnswer() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let runs = try LeNetExercises.modernised(data: data, recipe: tinyRecipe)
    #expect(runs.map(\.name) == ["sigmoid, average pool", "ReLU, max pool"])
    for run in runs {
        #expect(run.history.count == 2 && run.parameterCount == 61_706)
        #expect(run.lastBatchLoss < run.firstBatchLoss, "\(run.name) did not learn")
    }
    #expect(runs[1].finalTestAccuracy > runs[0].finalTestAccuracy)
}

@Test("exercise 2: each variant has the layers it claims, and the grid reports each run as it went")
func exploreAnswer() throws {
    let variants = LeNetExercises.variants(epochs: 1)
    #expect(variants.count == 10 && variants[0].name == "modern LeNet")
    // Parameters counted by hand: conv weights + biases, then each dense layer's.
    func dense(_ sizes: [Int]) -> Int { zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 } }
    let expected = [
        "modern LeNet": 6 * 25 + 6 + 16 * 6 * 25 + 16 + dense([400, 120, 84, 10]),
        "3x3 kernels": 6 * 9 + 6 + 16 * 6 * 9 + 16 + dense([16 * 6 * 6, 120, 84, 10]),
        "twice the channels (12, 32)": 12 * 25 + 12 + 32 * 12 * 25 + 32 + dense([32 * 25, 120, 84, 10]),
        "one dense layer (no 120, 84)": 6 * 25 + 6 + 16 * 6 * 25 + 16 + dense([400, 10]),
        // conv1 and its pool give 6 maps of 14x14; a third convolution keeps 5x5 with 32 maps.
        "one convolution (6)": 6 * 25 + 6 + dense([6 * 14 * 14, 120, 84, 10]),
        "three convolutions (6, 16, 32)": 6 * 25 + 6 + 16 * 6 * 25 + 16 + 32 * 16 * 25 + 32
            + dense([32 * 5 * 5, 120, 84, 10]),
    ]
    #expect(expected["modern LeNet"] == 61_706)
    for variant in variants {
        let model = variant.model(seed: 1)
        #expect(try model.outputShape(for: [3, 1, 28, 28]) == [3, 10], "\(variant.name)")
        if let count = expected[variant.name] { #expect(model.parameterCount == count, "\(variant.name)") }
    }
    #expect(
        variants.last!.epochs == 2 && variants.filter { $0.learningRate != 0.1 }.map(\.name) == ["lr 0.03", "lr 0.3"])

    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let chosen = [variants[0], variants[4], variants[9]]
    let runs = try LeNetExercises.explore(chosen, data: data, recipe: tinyRecipe)
    #expect(runs.map(\.name) == chosen.map(\.name))
    for (variant, run) in zip(chosen, runs) {
        #expect(run.history.count == variant.epochs)
        #expect(run.parameterCount == variant.model(seed: 0).parameterCount)
        #expect(run.lastBatchLoss < run.firstBatchLoss, "\(run.name) did not learn")
    }
}

@Test("exercise 3: the activation maps are sigmoid(conv1(x)) and sigmoid(conv2(mean-pooled maps)), by definition")
func activationMapsAnswer() throws {
    let lenet = LeNet.d2l(seed: 4)
    let image = LeNetExercises.noise(seed: 9)
    #expect(image.count == 784 && image.allSatisfy { $0 >= 0 && $0 <= 1 })
    let maps = try LeNetExercises.activationMaps(of: lenet, image: image)
    #expect(maps.first.shape == [6, 28, 28] && maps.second.shape == [16, 10, 10])

    func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }
    let conv1 = lenet.layers[0] as! Conv2d, conv2 = lenet.layers[3] as! Conv2d
    let g1 = ConvolutionGeometry(
        batch: 1, inputChannels: 1, inputHeight: 28, inputWidth: 28, outputChannels: 6,
        kernelHeight: 5, kernelWidth: 5, paddingHeight: 2, paddingWidth: 2)
    let first = ConvolutionReference.forward(
        g1, input: image, weight: Array(conv1.weight.value.scalars),
        bias: conv1.bias.map { Array($0.value.scalars) }
    ).map(sigmoid)
    #expect(zip(first, maps.first.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    // The 2x2 mean of each map, then conv2 by its definition.
    var pooled = [Float](repeating: 0, count: 6 * 14 * 14)
    for c in 0..<6 {
        for p in 0..<14 {
            for q in 0..<14 {
                let at = { (h: Int, w: Int) in first[(c * 28 + h) * 28 + w] }
                pooled[(c * 14 + p) * 14 + q] =
                    (at(2 * p, 2 * q) + at(2 * p, 2 * q + 1) + at(2 * p + 1, 2 * q)
                        + at(2 * p + 1, 2 * q + 1)) / 4
            }
        }
    }
    let g2 = ConvolutionGeometry(
        batch: 1, inputChannels: 6, inputHeight: 14, inputWidth: 14, outputChannels: 16,
        kernelHeight: 5, kernelWidth: 5)
    let second = ConvolutionReference.forward(
        g2, input: pooled, weight: Array(conv2.weight.value.scalars),
        bias: conv2.bias.map { Array($0.value.scalars) }
    ).map(sigmoid)
    #expect(zip(second, maps.second.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
}
