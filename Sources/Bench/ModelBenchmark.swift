// ModelBenchmark.swift: whole-model throughput on real Fashion-MNIST batches: a training step
// (forward, backward, SGD step) and inference, in images per second.

import Foundation
import ModernCNN
import Notebook

/// d2l's LeNet (sigmoid, average pooling) as chapter 03 trains it.
func d2lLeNetForBench() -> Sequential {
    var g = SeededGenerator(seed: 0)
    return Sequential(
        Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2, initialization: .xavierUniform, generator: &g),
        Sigmoid(), AvgPool2d(kernelSize: 2, stride: 2),
        Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5, initialization: .xavierUniform, generator: &g),
        Sigmoid(), AvgPool2d(kernelSize: 2, stride: 2), Flatten(),
        Linear(inputFeatures: 400, outputFeatures: 120, initialization: .xavierUniform, generator: &g), Sigmoid(),
        Linear(inputFeatures: 120, outputFeatures: 84, initialization: .xavierUniform, generator: &g), Sigmoid(),
        Linear(inputFeatures: 84, outputFeatures: 10, initialization: .xavierUniform, generator: &g))
}

/// Best training and inference images/s of `model` on batches of `batchSize` real test images.
func benchmarkModel(_ model: any Layer, batchSize: Int, imageSize: Int, repeats: Int) throws
    -> (train: Double, infer: Double) {
    let data = try FashionMNIST(split: .test)
    let plan = BatchPlan(dataset: data, batchSize: batchSize, imageSize: imageSize, seed: 1)
    let batch = plan.batch(0, of: plan.order(epoch: 0))
    let parameters = model.namedParameters
    let optimizer = SGD(learningRate: 0.01)
    let train = bestTime(repeats: repeats) {
        for (_, parameter) in parameters { parameter.zeroGradient() }
        let logits = try! model.forward(batch.images, training: true)
        // A stand-in loss gradient of the right shape: the backward pass costs the same.
        _ = model.backward(logits * (1 / Float(batchSize)))
        optimizer.step(parameters)
    }
    let infer = bestTime(repeats: repeats) { _ = try! model.forward(batch.images, training: false) }
    return (Double(batchSize) / train, Double(batchSize) / infer)
}
