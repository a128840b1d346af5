// ShortRun.swift: the small, seeded training runs that experimental exercises answer with. A
// run trains on the first few hundred or thousand images, writes no files, and reports every
// epoch's metrics and its speed, so a test can check that the loss fell and that a table says
// exactly what the run produced.

import Foundation
import ModernCNN
import Notebook

/// What one short run produced.
public struct ShortRun: Sendable {
    public let name: String
    public let parameterCount: Int
    public let history: [EpochMetrics]
    /// Loss of the first and of the last training batch: did it learn at all?
    public let firstBatchLoss: Float
    public let lastBatchLoss: Float
    /// Every training batch's own loss, in order (the last is NaN when the run diverged).
    public let batchLosses: [Float]
    /// Where the loss became NaN or infinite (1-based epoch and step), if it did; the run
    /// stopped there and `history` holds the epochs before it.
    public let diverged: (epoch: Int, step: Int)?
    /// The trainer's health readings, one per epoch, when the run asked for them.
    public let health: [TrainingHealth]
    /// The last epoch's test accuracy; NaN when the run diverged, so no comparison counts it.
    public var finalTestAccuracy: Float { diverged == nil ? history.last?.testAccuracy ?? 0 : .nan }
    /// The final test accuracy as a table shows it, or where the run diverged.
    public var testAccuracyText: String {
        diverged.map { "diverged (epoch \($0.epoch), step \($0.step))" }
            ?? formatted(Double(finalTestAccuracy), digits: 3)
    }
    /// Best training speed over the epochs.
    public var imagesPerSecond: Double { history.map(\.imagesPerSecond).max() ?? 0 }

    /// The first step (1-based) after which the mean loss of the last `window` batches is below
    /// `threshold`, or nil if it never is: when a run left its starting plateau (at ln 10 =
    /// 2.303 for ten classes) without one lucky batch deciding it.
    public func firstStep(whereMeanLossOf window: Int, fallsBelow threshold: Float) -> Int? {
        guard window > 0, batchLosses.count >= window else { return nil }
        var sum = batchLosses[..<window].reduce(0, +)
        for end in window...batchLosses.count {
            if sum / Float(window) < threshold { return end }
            if end < batchLosses.count { sum += batchLosses[end] - batchLosses[end - window] }
        }
        return nil
    }
}

/// Trains `model` with `optimizer` on the first `recipe.trainLimit` training images and tests on
/// the first `recipe.testLimit` test images, after every epoch or only after the last.
public func shortRun(
    _ name: String, model: any Layer, optimizer: any Optimizer, recipe: Recipe,
    data: FashionMNISTSplits, seed: UInt64, engine: Engine = .auto, testingEveryEpoch: Bool = true,
    monitorsHealth: Bool = false, labelSmoothing: Float = 0
) throws -> ShortRun {
    var configuration = TrainingConfiguration(
        epochs: recipe.epochs, batchSize: recipe.batchSize,
        imageSize: recipe.imageSize, seed: seed, trainLimit: recipe.trainLimit,
        testLimit: recipe.testLimit)
    configuration.engine = engine
    configuration.evaluatesEveryEpoch = testingEveryEpoch
    configuration.monitorsHealth = monitorsHealth
    configuration.labelSmoothing = labelSmoothing
    let trainer = try Trainer(
        model: model, optimizer: optimizer, train: data.train, test: data.test,
        configuration: configuration)
    var losses: [Float] = []
    var (previousMean, previousSeen) = (Float(0), 0)
    var diverged: (epoch: Int, step: Int)?
    do {
        try trainer.run { event in
            // The trainer reports the epoch's running mean; each batch's own loss is the difference
            // of consecutive running sums.
            guard case let .batch(_, batch, _, mean, _, _, _, _) = event else { return }
            if batch == 1 { (previousMean, previousSeen) = (0, 0) }
            let seen = min(batch * recipe.batchSize, trainer.trainingImages)
            losses.append((mean * Float(seen) - previousMean * Float(previousSeen)) / Float(seen - previousSeen))
            (previousMean, previousSeen) = (mean, seen)
        }
    } catch let TrainingStopped.diverged(epoch, step, _, _, _) {
        // A variant that diverges is an answer too (too high a rate); the table says where.
        diverged = (epoch, step)
        losses.append(.nan)
    }
    return ShortRun(
        name: name, parameterCount: model.parameterCount, history: trainer.history,
        firstBatchLoss: losses.first ?? .nan, lastBatchLoss: losses.last ?? .nan, batchLosses: losses,
        diverged: diverged,
        health: trainer.health)
}

/// Whether two accuracies measured on `samples` test images each differ by more than two
/// standard errors of their difference (binomial, at their mean): a difference a run can claim.
public func differenceIsBeyondNoise(_ a: Double, _ b: Double, samples: Int) -> Bool {
    guard a.isFinite && b.isFinite && samples > 0 else { return false }
    let p = min(max((a + b) / 2, 1e-3), 1 - 1e-3)
    let standardError = (2 * p * (1 - p) / Double(samples)).squareRoot()
    return abs(a - b) > 2 * standardError
}
