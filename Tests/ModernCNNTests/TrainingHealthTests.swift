// TrainingHealthTests.swift: the health readings against direct computations on a small batch,
// and the stall warning on a constructed stalled run and not on a healthy one.

import Foundation
import Testing

@testable import ModernCNN

@Test("dead units: the share of a ReLU's units zero for every image, against counting by hand")
func deadUnitsByHand() throws {
    var g = SeededGenerator(seed: 1)
    let conv = Conv2d(inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1, generator: &g)
    // Channel 0 always negative (dead), channel 1 always positive, channel 2 the identity tap.
    conv.weight.value = try Tensor(
        shape: [3, 1, 3, 3],
        values: [Float](repeating: 0, count: 9) + [Float](repeating: 0, count: 9)
            + [0, 0, 0, 0, 1, 0, 0, 0, 0])
    conv.bias!.value = try Tensor(shape: [3], values: [-1, 1, 0])
    let model = Sequential(Sequential(conv, ReLU()), Flatten())
    // Two 4x4 images in [0, 1] whose pixel (0, 0) is 0 in both: channel 2 is dead there only.
    var x = Tensor(uniform: [2, 1, 4, 4], in: 0.1...1, generator: &g)
    x.withUnsafeMutableBufferPointer {
        $0[0] = 0; $0[16] = 0
    }
    let readings = try TrainingHealth.deadUnits(of: model, on: x)
    #expect(readings.map(\.path) == ["0.1"])
    // 48 units: channel 0's 16 dead, channel 1's none, channel 2's one.
    #expect(abs(readings[0].share - 17.0 / 48.0) < 1e-12)
}

@Test("update ratios: |after - before| / |before| per parameter, by hand")
func updateRatiosByHand() throws {
    let parameter = Parameter(name: "w", value: try Tensor(shape: [2], values: [3, 4]))
    let before = [(name: "w", values: Array(parameter.value.scalars))]
    parameter.value = try Tensor(shape: [2], values: [3.3, 4.4])  // moved by (0.3, 0.4): |0.5| / |5|
    let ratios = TrainingHealth.updateRatios(before: before, after: [("w", parameter)])
    #expect(ratios.map(\.name) == ["w"] && abs(ratios[0].ratio - 0.1) < 1e-6)
}

@Test("the stall warning fires on a run that cannot learn and not on one that does")
func stallWarning() throws {
    let data = try FashionMNISTSplits(directory: FashionMNIST.defaultDirectory)
    func run(learningRate: Float, stalled: Bool) throws -> TrainingHealth {
        var g = SeededGenerator(seed: 2)
        // A ReLU network whose last layer can only output zeros when its input is dead: with
        // the dense layer's bias pushed far negative, every unit is dead and every logit equal.
        let hidden = Linear(inputFeatures: 784, outputFeatures: 32, generator: &g)
        if stalled { hidden.bias!.value = try Tensor(shape: [32], values: [Float](repeating: -1000, count: 32)) }
        let model = Sequential(
            Flatten(), hidden, ReLU(), Linear(inputFeatures: 32, outputFeatures: 10, bias: false, generator: &g))
        var configuration = TrainingConfiguration(
            epochs: 1, batchSize: 64, seed: 3, trainLimit: 1024, testLimit: 128)
        configuration.monitorsHealth = true
        let trainer = try Trainer(
            model: model, optimizer: SGD(learningRate: learningRate), train: data.train, test: data.test,
            configuration: configuration)
        _ = try trainer.run()
        return try #require(trainer.health.last)
    }
    let stalled = try run(learningRate: 0.1, stalled: true)
    #expect(stalled.stalled && stalled.deadUnits.map(\.share) == [1.0])
    #expect(
        stalled.warning?.contains("not learning") == true && stalled.warning?.contains("100% of its units dead") == true
    )
    // No gradient reaches the hidden layer, and the last layer's weights see only zeros.
    #expect(stalled.updateRatios.allSatisfy { $0.ratio == 0 })
    let healthy = try run(learningRate: 0.1, stalled: false)
    #expect(!healthy.stalled && healthy.warning == nil && healthy.epoch == 1)
    #expect(healthy.updateRatios.allSatisfy { $0.ratio > 0 && $0.ratio < 1 })
}
