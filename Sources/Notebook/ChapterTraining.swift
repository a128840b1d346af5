// ChapterTraining.swift: how a chapter trains one model: the data, the trainer with its
// checkpoint and metrics files in the chapter's folder, --resume, Ctrl-C, and the progress bar.

import ArgumentParser
import Foundation
import ModernCNN

/// The two Fashion-MNIST splits, loaded once per chapter.
public struct FashionMNISTSplits: Sendable {
    public let train: FashionMNIST
    public let test: FashionMNIST

    /// Loads both splits from `directory`; a missing or damaged file throws a DataError that
    /// names the file and how to get it.
    public init(directory: String) throws {
        train = try FashionMNIST(split: .train, directory: directory)
        test = try FashionMNIST(split: .test, directory: directory)
    }
}

/// A finished (or resumed-and-finished) training run.
public struct TrainingOutcome {
    public let history: [EpochMetrics]
    public let checkpointPath: String
    public let metricsPath: String
    /// Wall-clock seconds of this process's part of the run.
    public let seconds: Double
    public var final: EpochMetrics? { history.last }
}

/// Trains `model` with `recipe`, writing `<stem>checkpoint.safetensors` and `<stem>metrics.json`
/// into `directory` (the chapter's main model uses the stem ""; others "modern-" and so on).
/// With `resume`, continues from that checkpoint when there is one. If Ctrl-C stops the run,
/// the progress bar says how to resume and the chapter exits with status 130.
public func runTraining(_ model: any Layer, optimizer: any Optimizer, recipe: Recipe, data: FashionMNISTSplits,
                  seed: UInt64, directory: URL, stem: String = "", resume: Bool, book: Notebook) throws -> TrainingOutcome {
    let checkpoint = directory.appendingPathComponent("\(stem)checkpoint.safetensors").path
    let metrics = directory.appendingPathComponent("\(stem)metrics.json").path
    let configuration = TrainingConfiguration(
        epochs: recipe.epochs, batchSize: recipe.batchSize, imageSize: recipe.imageSize, seed: seed,
        trainLimit: recipe.trainLimit, testLimit: recipe.testLimit, checkpointPath: checkpoint, metricsPath: metrics)
    let trainer = Trainer(model: model, optimizer: optimizer, train: data.train, test: data.test,
                          configuration: configuration)
    if resume {
        if FileManager.default.fileExists(atPath: checkpoint) {
            try trainer.resume(from: checkpoint)
            book.note("resuming from \(checkpoint) (\(trainer.history.count) of \(recipe.epochs) epochs done)")
        } else {
            book.note("no checkpoint at \(checkpoint) yet: starting this model from the beginning")
        }
    }
    Trainer.stopOnInterrupt()
    let bar = ProgressBar(epochs: recipe.epochs)
    let started = DispatchTime.now().uptimeNanoseconds
    // The page keeps the epoch lines; the live progress is for the terminal only.
    let finished = try trainer.run { event in
        bar.show(event)
        if case let .epoch(metrics) = event { book.page.append(.note(ProgressBar.epochLine(metrics))) }
    }
    guard finished else { throw ExitCode(130) }
    return TrainingOutcome(history: trainer.history, checkpointPath: checkpoint, metricsPath: metrics,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
}
