// TrainingOptions.swift: the training flags every training chapter shares, and the recipe they
// resolve to. A chapter states two recipes, its quick default (fits the chapter budget) and
// `--full` (d2l's recipe); single flags then override either.

import ArgumentParser
import ModernCNN

extension Recipe {
    /// "10 epochs over all 60,000 training images at 28x28, batch 256, lr 0.9; ..." (what a
    /// chapter says it ran on `data`).
    public func summary(for data: FashionMNISTSplits) -> String {
        let (trainCount, testCount) = (data.train.count, data.test.count)
        let train =
            trainLimit.map { "the first \(grouped(min($0, trainCount))) of \(grouped(trainCount))" }
            ?? "all \(grouped(trainCount))"
        let test = testLimit.map { "the first \(grouped(min($0, testCount)))" } ?? "all \(grouped(testCount))"
        return "\(epochs) epoch\(epochs == 1 ? "" : "s") over \(train) training images at \(imageSize)x\(imageSize), "
            + "batch \(batchSize), lr \(learningRate); tested on \(test) test images"
    }
}

public struct TrainingOptions: ParsableArguments {
    @Flag(help: "Train with d2l's full recipe (all epochs, all data); may take long on a CPU.")
    public var full = false

    @Option(help: "Epochs (overrides the recipe).")
    public var epochs: Int?

    @Option(help: "Mini-batch size (overrides the recipe).")
    public var batchSize: Int?

    @Option(help: "Learning rate (overrides the recipe).")
    public var lr: Float?

    @Option(help: "Train on only the first N training images (overrides the recipe).")
    public var trainLimit: Int?

    @Option(help: "Evaluate on only the first N test images (overrides the recipe).")
    public var testLimit: Int?

    @Flag(help: "Continue from the chapter's last checkpoint (same flags, seed and threads).")
    public var resume = false

    @Flag(
        inversion: .prefixedNo,
        help: "Write a checkpoint after every epoch (AlexNet's is hundreds of MB); --no-checkpoint skips it.")
    public var checkpoint = true

    @Option(help: "Folder with Fashion-MNIST's four *-ubyte.gz files.")
    public var dataDir: String = FashionMNIST.defaultDirectory

    @Flag(
        help:
            "Measure where the training time goes: each plan block forward and backward, and what surrounds the steps.")
    public var profile = false

    @Flag(
        help:
            "Watch the training's health each epoch: every ReLU's dead units and every weight's |update| / |weight|, with a warning when the loss stalls at a uniform guess's or a layer dies."
    )
    public var health = false

    @Option(
        help:
            "How the model runs: auto, layers (one layer at a time), fused (convolution, activation and pool in one pass) or lanes (16 images per AVX-512 vector)."
    )
    public var engine: Engine = .auto

    public init() {}

    public func validate() throws {
        if let reason = engine.unavailableReason { throw ValidationError("--engine \(engine.rawValue): \(reason)") }
        for (flag, value) in [
            ("--epochs", epochs), ("--batch-size", batchSize), ("--train-limit", trainLimit),
            ("--test-limit", testLimit),
        ] {
            if let value, value < 1 { throw ValidationError("\(flag) must be at least 1, got \(value)") }
        }
        // Epoch counts feed the progress bar's arithmetic; a million years of epochs would overflow it.
        if let epochs, epochs > 100_000 {
            throw ValidationError("--epochs \(epochs) is more than 100,000; choose fewer")
        }
        if resume && !checkpoint {
            throw ValidationError("--resume continues from a checkpoint, so it cannot go with --no-checkpoint")
        }
        if let lr, !(lr > 0 && lr.isFinite) {
            throw ValidationError("--lr must be a finite positive number, got \(lr)")
        }
    }

    /// `quick` or, with --full, `full`, with any single flag given applied on top.
    public func recipe(quick: Recipe, full fullRecipe: Recipe) -> Recipe {
        var recipe = full ? fullRecipe : quick
        if let epochs { recipe.epochs = epochs }
        if let batchSize { recipe.batchSize = batchSize }
        if let lr { recipe.learningRate = lr }
        if let trainLimit { recipe.trainLimit = trainLimit }
        if let testLimit { recipe.testLimit = testLimit }
        return recipe
    }

    /// Whether the user changed the recipe by hand (the chapter then says so).
    public var overridesRecipe: Bool {
        epochs != nil || batchSize != nil || lr != nil || trainLimit != nil || testLimit != nil
    }
}

extension Engine: ExpressibleByArgument {}
