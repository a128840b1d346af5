// TrainerTests.swift: training on real Fashion-MNIST images lowers the loss, and a run stopped
// mid-epoch and resumed from its checkpoint ends exactly where an uninterrupted run ends.

import Foundation
import Testing

@testable import ModernCNN

/// A small modern LeNet (ReLU, max pooling, dropout) for quick runs.
func smallNetwork(seed: UInt64) -> Sequential {
    var g = SeededGenerator(seed: seed)
    return Sequential(
        Conv2d(
            inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2, initialization: .xavierUniform,
            generator: &g),
        ReLU(), MaxPool2d(kernelSize: 2),
        Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5, initialization: .xavierUniform, generator: &g),
        ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
        Linear(inputFeatures: 400, outputFeatures: 84, initialization: .xavierUniform, generator: &g), ReLU(),
        Dropout(probability: 0.2),
        Linear(inputFeatures: 84, outputFeatures: 10, initialization: .xavierUniform, generator: &g))
}

@Test("training on a few hundred real images lowers the loss")
func trainingLowersLoss() throws {
    let train = try FashionMNIST(split: .train), test = try FashionMNIST(split: .test)
    let trainer = try Trainer(
        model: smallNetwork(seed: 3), optimizer: SGD(learningRate: 0.1, momentum: 0.9),
        train: train, test: test,
        configuration: TrainingConfiguration(epochs: 3, batchSize: 32, trainLimit: 512, testLimit: 256))
    var firstBatchLoss: Float?
    try trainer.run { event in
        if case let .batch(_, batch, _, loss, _, _, _, _) = event, batch == 1, firstBatchLoss == nil {
            firstBatchLoss = loss
        }
    }
    let history = trainer.history
    #expect(history.count == 3)
    #expect(history[2].trainLoss < history[0].trainLoss, "\(history)")
    #expect(history[2].trainLoss < firstBatchLoss! * 0.8)
    #expect(history[2].testAccuracy > 0.5, "after 3 short epochs on 512 images: \(history[2].testAccuracy)")
}

@Test("stopping mid-epoch and resuming gives the same weights and history as an uninterrupted run")
func resumeEqualsUninterrupted() throws {
    let train = try FashionMNIST(split: .train), test = try FashionMNIST(split: .test)
    let folder = try temporaryFolder()
    func configuration(_ name: String) -> TrainingConfiguration {
        TrainingConfiguration(
            epochs: 2, batchSize: 32, seed: 7, trainLimit: 256, testLimit: 64,
            checkpointPath: "\(folder)/\(name).safetensors")
    }
    var straightConfiguration = configuration("straight")
    straightConfiguration.metricsPath = "\(folder)/metrics.json"
    let straight = try Trainer(
        model: smallNetwork(seed: 1), optimizer: SGD(learningRate: 0.05, momentum: 0.9),
        train: train, test: test, configuration: straightConfiguration)
    #expect(try straight.run())
    let recorded = try JSONDecoder().decode(
        [EpochMetrics].self,
        from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/metrics.json")))
    #expect(recorded == straight.history && recorded.count == 2)

    let interrupted = try Trainer(
        model: smallNetwork(seed: 1), optimizer: SGD(learningRate: 0.05, momentum: 0.9),
        train: train, test: test, configuration: configuration("resumed"))
    let finished = try interrupted.run { event in
        if case let .batch(epoch, batch, _, _, _, _, _, _) = event, epoch == 1, batch == 3 { interrupted.requestStop() }
    }
    #expect(!finished)
    // A fresh process would start from different weights; the checkpoint must replace all of it.
    let resumed = try Trainer(
        model: smallNetwork(seed: 99), optimizer: SGD(learningRate: 0.05, momentum: 0.9),
        train: train, test: test, configuration: configuration("resumed"))
    try resumed.resume(from: "\(folder)/resumed.safetensors")
    #expect(try resumed.run())

    for ((name, a), (_, b)) in zip(straight.model.namedParameters, resumed.model.namedParameters) {
        #expect(a.value == b.value, "\(name) differs after resuming")
    }
    #expect(straight.history.map(\.trainLoss) == resumed.history.map(\.trainLoss))
    #expect(straight.history.map(\.testAccuracy) == resumed.history.map(\.testAccuracy))
}

@Test("resuming with another seed is refused with the reason")
func resumeWithWrongSeed() throws {
    let train = try FashionMNIST(split: .test)
    let path = try temporaryFolder() + "/seeded.safetensors"
    let first = try Trainer(
        model: smallNetwork(seed: 1), optimizer: SGD(learningRate: 0.05), train: train, test: train,
        configuration: TrainingConfiguration(
            epochs: 1, batchSize: 64, seed: 1, trainLimit: 64,
            testLimit: 64, checkpointPath: path))
    try first.run()
    let other = try Trainer(
        model: smallNetwork(seed: 1), optimizer: SGD(learningRate: 0.05), train: train, test: train,
        configuration: TrainingConfiguration(epochs: 1, batchSize: 64, seed: 2, trainLimit: 64, testLimit: 64))
    #expect(throws: CheckpointError.self) { try other.resume(from: path) }
}

@Test("a run starts by resuming, from nothing, or by replacing a checkpoint it names")
func trainerStarts() throws {
    let data = try FashionMNIST(split: .test)
    let folder = try temporaryFolder()
    func trainer(_ checkpoint: String?) throws -> Trainer {
        var configuration = TrainingConfiguration(epochs: 1, batchSize: 32, seed: 5, trainLimit: 64, testLimit: 32)
        configuration.checkpointPath = checkpoint
        configuration.modelName = "small"
        return try Trainer(
            model: smallNetwork(seed: 2), optimizer: SGD(learningRate: 0.05), train: data, test: data,
            configuration: configuration)
    }
    let path = "\(folder)/start.safetensors"
    #expect(try trainer(nil).start(resuming: true) == .nothingToResume)
    #expect(try trainer(path).start(resuming: false) == .fresh)
    #expect(try trainer(path).start(resuming: true) == .nothingToResume)
    try trainer(path).run()
    #expect(try trainer(path).start(resuming: false) == .replacing(model: "small", epochs: 1))
    let resumed = try trainer(path)
    #expect(try resumed.start(resuming: true) == .resumed(epochsDone: 1) && resumed.history.count == 1)
    // An unreadable file is still named as the one a fresh run replaces.
    try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: path))
    #expect(try trainer(path).start(resuming: false) == .replacing(model: nil, epochs: nil))
    #expect(throws: CheckpointError.self) { try trainer(path).start(resuming: true) }
}

@Test("a batch that would not fit in memory is refused before the plan allocates it")
func trainingMemoryIsChecked() throws {
    // LeNet (d2l): 61,706 parameters held four times, and per image 15,002 floats of outputs
    // (6x28x28 twice, 6x14x14, 16x10x10 twice, 16x5x5 twice, 120 twice, 84 twice, 10), twice.
    let bytes = try MemoryBudget.trainingBytes(LeNet.d2l(), inputShape: [1, 28, 28], batchSize: 256)
    #expect(bytes == 16 * 61_706 + 8 * 15_002 * 256)
    let data = try FashionMNIST(split: .test)
    for batch in [100_000_000, Int.max] {
        #expect {
            try Trainer(
                model: LeNet.d2l(), optimizer: SGD(learningRate: 0.1), train: data, test: data,
                configuration: TrainingConfiguration(epochs: 1, batchSize: batch))
        } throws: { error in
            "\(error)".contains("training at batch \(batch) needs")
                && "\(error)".contains("choose a smaller --batch-size")
        }
    }
}
