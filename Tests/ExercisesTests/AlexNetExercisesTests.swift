// AlexNetExercisesTests.swift: chapter 04's answers, each checked against a computation of its
// own: parameters counted from the tensors, activations from a real forward pass, multiply-adds
// from the instrumented GEMM, and the experimental tables against the runs they report.

import Foundation
import Kernels
import ModernCNN
import Notebook
import Testing

@testable import Exercises

/// Runs the d2l AlexNet layer by layer on one image: each layer's real output size, in order.
func realOutputSizes(_ model: Sequential) throws -> [Int] {
    var g = SeededGenerator(seed: 3)
    var x = Tensor(uniform: [1, 1, 224, 224], in: 0...1, generator: &g)
    return try model.layers.map { layer in
        x = try layer.forward(x, training: false)
        return x.count
    }
}

@Test("exercise 1: memory split between convolutions and dense layers, from the real tensors")
func memoryAnswer() throws {
    let answer = try AlexNetExercises.memoryFootprint(batchSize: 128)
    let model = AlexNet.d2l()
    let flatten = model.layers.firstIndex { $0 is Flatten }!
    // Parameters counted from the tensors themselves, split by the layer index in their names.
    var convParameters = 0, denseParameters = 0
    for (name, parameter) in model.namedParameters {
        if Int(name.split(separator: ".")[0])! < flatten {
            convParameters += parameter.value.count
        } else {
            denseParameters += parameter.value.count
        }
    }
    #expect(answer.convolutional.parameters == convParameters)
    #expect(answer.fullyConnected.parameters == denseParameters)
    #expect(convParameters + denseParameters == 46_764_746)
    #expect(answer.fullyConnected.parameters > 10 * answer.convolutional.parameters)  // dense layers hold the weights
    let sizes = try realOutputSizes(model)
    #expect(answer.convolutional.activationsPerImage == sizes[..<flatten].reduce(0, +))
    #expect(answer.fullyConnected.activationsPerImage == sizes[flatten...].reduce(0, +))
    #expect(answer.convolutional.activationsPerImage > 20 * answer.fullyConnected.activationsPerImage)
    let weights = 46_764_746 * 4
    #expect(
        answer.training.weights == weights && answer.training.gradients == weights
            && answer.training.optimizerState == weights)
    #expect(answer.training.savedActivations == 128 * 4 * (224 * 224 + sizes.reduce(0, +)))
}

@Test("exercise 2: the formulas' multiply-adds equal the instrumented GEMM's, part by part")
func computeAnswer() throws {
    let answer = try AlexNetExercises.computeCost()
    #expect(answer.countedMultiplyAdds == answer.convolutionalMultiplyAdds + answer.fullyConnectedMultiplyAdds)
    // Count the convolutional part alone, in a forward pass of its own.
    let model = AlexNet.d2l()
    let flatten = model.layers.firstIndex { $0 is Flatten }!
    var g = SeededGenerator(seed: 5)
    let image = Tensor(uniform: [1, 1, 224, 224], in: 0...1, generator: &g)
    let convolutions = Sequential(Array(model.layers[..<flatten]))
    let counted = try MultiplyAddCounter.counting { _ = try convolutions.forward(image, training: false) }
    #expect(counted == answer.convolutionalMultiplyAdds)
    #expect(answer.convolutionalMultiplyAdds > 10 * answer.fullyConnectedMultiplyAdds)  // convolutions do the work
}

@Test("exercise 4: the 28x28 AlexNet keeps AlexNet's layers and ends in ten classes")
func alexNet28Shapes() throws {
    let model = AlexNetExercises.alexNetFor28()
    #expect(try model.outputShape(for: [2, 1, 28, 28]) == [2, 10])
    #expect(model.layers.filter { $0 is Conv2d }.count == 5 && model.layers.filter { $0 is Linear }.count == 3)
    #expect(throws: ShapeError.self) { try model.outputShape(for: [1, 1, 224, 224]) }
}

@Test("exercises 3 and 5: short runs train, and the tables report what the runs produced")
func experimentalAlexNetAnswers() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let runs = try AlexNetExercises.simplifiedComparison(
        data: data,
        recipe: Recipe(epochs: 1, batchSize: 32, learningRate: 0.01, imageSize: 224, trainLimit: 96, testLimit: 64))
    #expect(runs.count == 2 && runs.allSatisfy { $0.history.count == 1 })
    #expect(runs[0].parameterCount == 46_764_746 && runs[1].parameterCount < runs[0].parameterCount / 10)
    #expect(runs.allSatisfy { $0.firstBatchLoss.isFinite && $0.lastBatchLoss.isFinite })

    let rows = try AlexNetExercises.batchSizeStudy(batchSizes: [16, 64], data: data, images: 384, testImages: 128)
    #expect(rows.map(\.batchSize) == [16, 64])
    #expect(rows[1].trainingBytes > rows[0].trainingBytes)
    for row in rows {
        #expect(row.run.history.count == 1 && row.run.imagesPerSecond > 0)
        #expect(row.run.lastBatchLoss < row.run.firstBatchLoss, "batch \(row.batchSize) did not learn")
        #expect((0...1).contains(row.run.finalTestAccuracy))
    }
}

@Test("exercise 6: four LeNets with and without dropout and ReLU all learn")
func dropoutReluAnswer() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    let dropoutLeNet = AlexNetExercises.lenet(relu: true, dropout: 0.5)
    #expect(dropoutLeNet.layers.count == 14 && dropoutLeNet.layers[9] is Dropout && dropoutLeNet.layers[12] is Dropout)
    #expect(dropoutLeNet.parameterCount == 61_706)
    let runs = try AlexNetExercises.dropoutAndReLU(
        data: data, recipe: Recipe(epochs: 2, batchSize: 64, learningRate: 0, trainLimit: 2048, testLimit: 512))
    #expect(runs.map(\.name) == ["sigmoid", "sigmoid + dropout 0.5", "ReLU", "ReLU + dropout 0.5"])
    for run in runs {
        #expect(run.history.count == 2)
        #expect(run.lastBatchLoss < run.firstBatchLoss, "\(run.name) did not learn")
    }
    // ReLU learns faster than sigmoid on the same budget.
    #expect(runs[2].finalTestAccuracy > runs[0].finalTestAccuracy)
}
