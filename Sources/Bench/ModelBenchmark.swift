// ModelBenchmark.swift: whole-model throughput on real Fashion-MNIST batches: a training step
// (forward, backward, SGD step) and inference, in images per second.

import Foundation
import ModernCNN
import Notebook

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
