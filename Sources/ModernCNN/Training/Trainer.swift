// Trainer.swift: the training loop every chapter uses.
//
// An epoch visits the training batches in an order fixed by (seed, epoch); after each batch the
// optimizer steps; after each epoch the model is evaluated on the test set, the epoch's metrics
// are recorded and a checkpoint is written. Everything random is a function of (seed, epoch,
// batch), the kernels are deterministic for a thread count, and a checkpoint stores the position
// within the epoch and the running sums, so a run resumed from any checkpoint ends exactly where
// the uninterrupted run does. An interrupt (Ctrl-C) finishes the current batch, saves, and stops.
//
// What a run leaves on disk: the checkpoint is written first and the metrics after it, each to a
// temporary file renamed over the old one, so metrics.json is never ahead of the checkpoint. A
// loss that becomes NaN or infinite stops the run at that step, before anything is saved from
// it. A fresh run (no --resume) moves the checkpoint it replaces to <name>.prev.safetensors at its
// first save, so a good checkpoint is never lost to a run started by mistake.

import Foundation
import Kernels

public struct TrainingConfiguration: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var imageSize: Int
    public var seed: UInt64
    /// Train on only the first N training images (quick runs say so); nil for all 60,000.
    public var trainLimit: Int?
    /// Evaluate on only the first N test images; nil for all 10,000.
    public var testLimit: Int?
    /// Where to write the checkpoint (nil: no checkpoints).
    public var checkpointPath: String?
    /// Where to write every finished epoch's metrics as a JSON array (nil: nowhere).
    public var metricsPath: String?
    /// Which model this is ("LeNet (d2l)"), stored in the checkpoint and checked on resume.
    public var modelName: String?
    /// How the model runs (ExecutionPlan); every engine computes the same function.
    public var engine: Engine = .auto
    /// Whether every epoch ends with a test evaluation, or only the last (the others' test
    /// accuracy is then NaN, null in the metrics): short experiments of many small epochs.
    public var evaluatesEveryEpoch = true
    /// Whether each epoch's last step is also measured for TrainingHealth: every ReLU's dead
    /// units on its batch and every parameter's |update| / |weight| (one copy of the weights
    /// and one layer-by-layer forward per epoch).
    public var monitorsHealth = false
    /// The share of each target spread evenly over all classes (0: plain cross-entropy; see
    /// Kernels/Elementwise/SoftmaxCrossEntropy.swift). The reported training loss is this loss.
    public var labelSmoothing: Float = 0

    public init(
        epochs: Int, batchSize: Int, imageSize: Int = FashionMNIST.side, seed: UInt64 = 42,
        trainLimit: Int? = nil, testLimit: Int? = nil, checkpointPath: String? = nil, metricsPath: String? = nil,
        modelName: String? = nil
    ) {
        (self.epochs, self.batchSize, self.imageSize, self.seed) = (epochs, batchSize, imageSize, seed)
        (self.trainLimit, self.testLimit, self.checkpointPath) = (trainLimit, testLimit, checkpointPath)
        (self.metricsPath, self.modelName) = (metricsPath, modelName)
    }
}

/// What the trainer reports while it works, for a progress bar.
public enum TrainingEvent: Sendable {
    /// Running loss and accuracy of the epoch so far, its speed, the seconds the epoch has left,
    /// and the seconds the whole run has left at this speed (test evaluation not included).
    case batch(
        epoch: Int, batch: Int, of: Int, loss: Float, accuracy: Float, imagesPerSecond: Double,
        secondsLeft: Double, runSecondsLeft: Double)
    case epoch(EpochMetrics)
    case checkpoint(path: String)
    case interrupted(path: String?)
}

public final class Trainer {
    public let model: any Layer
    /// How the model runs: its blocks and algorithms, made for this batch size and image size.
    public let plan: ExecutionPlan
    public let optimizer: any Optimizer
    public let configuration: TrainingConfiguration
    let trainBatches: BatchPlan
    let testBatches: BatchPlan
    public private(set) var history: [EpochMetrics] = []
    /// One reading per epoch of this run when `monitorsHealth` is set, made before the epoch
    /// is reported (so that a report of `.epoch` can read it as `health.last`).
    public private(set) var health: [TrainingHealth] = []
    /// Where training stands: the next epoch and batch to run, and the running sums of the epoch.
    private var epoch = 0, batch = 0
    private var lossSum = 0.0, correct = 0, seen = 0
    private var stopRequested = false
    /// The epoch's last step as TrainingHealth reads it: update ratios and the batch's images.
    private var lastHealthStep: (ratios: [TrainingHealth.UpdateRatio], images: Tensor)?
    /// Where the time goes, when set (--profile): the plan's blocks and what surrounds them.
    public var profile: TrainingProfile?
    /// The learning rate the run was started with (a schedule may change the optimizer's).
    private let learningRate: Float
    /// Epochs done in the last checkpoint this run wrote or resumed from (for a divergence report).
    private var savedEpochs = 0
    /// Whether the checkpoint file, if any, is this run's own (written or resumed by it).
    private var ownsCheckpoint = false

    /// Throws NotEnoughMemory when training at this batch size would not fit in memory,
    /// EngineError when this processor cannot run `configuration.engine`, or the model's
    /// ShapeError when it cannot take the configured images.
    public init(
        model: any Layer, optimizer: any Optimizer, train: FashionMNIST, test: FashionMNIST,
        configuration: TrainingConfiguration
    ) throws {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
        learningRate = optimizer.learningRate
        // Before the plan allocates anything batch-sized.
        let bytes = try MemoryBudget.trainingBytes(
            model, inputShape: [1, configuration.imageSize, configuration.imageSize],
            batchSize: configuration.batchSize)
        try MemoryBudget.require(
            bytes < 9e18 ? Int(bytes) : nil, for: "training at batch \(configuration.batchSize)",
            fix: "choose a smaller --batch-size")
        plan = try ExecutionPlan(
            model,
            inputShape: [
                configuration.batchSize, 1, configuration.imageSize,
                configuration.imageSize,
            ], engine: configuration.engine)
        trainBatches = BatchPlan(
            dataset: train, batchSize: configuration.batchSize, imageSize: configuration.imageSize,
            seed: configuration.seed, limit: configuration.trainLimit)
        testBatches = BatchPlan(
            dataset: test, batchSize: configuration.batchSize, imageSize: configuration.imageSize,
            seed: configuration.seed, limit: configuration.testLimit)
    }

    /// Training and test images actually used (quick runs use fewer).
    public var trainingImages: Int { trainBatches.limit }
    public var testImages: Int { testBatches.limit }

    /// Asks the loop to stop after the current batch, save, and return (what Ctrl-C does).
    public func requestStop() { stopRequested = true }

    /// Trains until `configuration.epochs` are done (returns true) or `requestStop()` stops it
    /// (saves, returns false). Ctrl-C saves and throws `TrainingStopped.interrupted`; a loss that
    /// is not finite throws `TrainingStopped.diverged` and saves nothing from that step on.
    @discardableResult
    public func run(report: (TrainingEvent) -> Void = { _ in }) throws -> Bool {
        guard let profile else { return try Interrupt.listening { try train(report: report) } }
        let start = ContinuousClock.now
        plan.blockTimer = { [unowned profile] in profile.addBlock($0, backward: $1, seconds: $2) }
        defer {
            plan.blockTimer = nil
            profile.addWall(since: start)
        }
        return try Interrupt.listening { try train(report: report) }
    }

    /// `body`'s result, its time added to the profile's `phase` when there is a profile.
    private func timed<Result>(_ phase: TrainingProfile.Phase, _ body: () throws -> Result) rethrows -> Result {
        guard let profile else { return try body() }
        let start = ContinuousClock.now
        defer { profile.add(phase, since: start) }
        return try body()
    }

    private func train(report: (TrainingEvent) -> Void) throws -> Bool {
        let parameters = model.namedParameters
        while epoch < configuration.epochs {
            let batches = BatchPrefetcher(plan: trainBatches, order: trainBatches.order(epoch: epoch))
            let started = DispatchTime.now().uptimeNanoseconds
            let startImages = seen
            while batch < trainBatches.batchesPerEpoch {
                let stepStart = ContinuousClock.now
                // snippet: training-step
                let data = timed(.batch) { batches.batch(batch) }
                for layer in model.allLayers {
                    (layer as? Dropout)?.reseed(configuration.seed &* 1_000_003 &+ UInt64(epoch * 100_000 + batch))
                }
                for (_, parameter) in parameters { parameter.zeroGradient() }
                let logits = try plan.forward(data.images, training: true)
                let (loss, right, gradient) = timed(.loss) {
                    Self.loss(logits, labels: data.labels, labelSmoothing: configuration.labelSmoothing)
                }
                guard loss.isFinite else { throw diverged("the loss became \(loss.isNaN ? "NaN" : "\(loss)")") }
                _ = plan.backward(gradient)
                // The epoch's last step, read for TrainingHealth: the weights before it.
                let healthStep = configuration.monitorsHealth && batch == trainBatches.batchesPerEpoch - 1
                let before = healthStep ? parameters.map { ($0.name, Array($0.parameter.value.scalars)) } : []
                // Weights can overflow while the loss stays finite (dead ReLUs hide them).
                guard timed(.update, { optimizer.step(parameters) }) else {
                    throw diverged("the update made weights NaN or infinite")
                }
                // end snippet: training-step
                if healthStep {
                    lastHealthStep = (
                        TrainingHealth.updateRatios(before: before, after: parameters), data.images
                    )
                }
                profile?.addStep(images: data.labels.count, since: stepStart)
                lossSum += Double(loss) * Double(data.labels.count)
                correct += right
                seen += data.labels.count
                batch += 1
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                let batchesDone = Double(seen - startImages) / Double(configuration.batchSize)
                report(
                    .batch(
                        epoch: epoch, batch: batch, of: trainBatches.batchesPerEpoch,
                        loss: Float(lossSum / Double(seen)),
                        accuracy: Float(correct) / Float(seen), imagesPerSecond: Double(seen - startImages) / seconds,
                        secondsLeft: seconds / batchesDone * Double(trainBatches.batchesPerEpoch - batch),
                        runSecondsLeft: seconds / batchesDone
                            * Double(
                                trainBatches.batchesPerEpoch - batch
                                    + (configuration.epochs - epoch - 1) * trainBatches.batchesPerEpoch)))
                if stopRequested || Interrupt.isRequested {
                    try saveCheckpoint(report: report)
                    report(.interrupted(path: configuration.checkpointPath))
                    if stopRequested {
                        stopRequested = false
                        return false
                    }
                    throw TrainingStopped.interrupted(checkpoint: configuration.checkpointPath)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let testAccuracy: Float
            do {
                // The evaluation's forward passes are not training steps: the block timer rests.
                let timer = plan.blockTimer
                plan.blockTimer = nil
                defer { plan.blockTimer = timer }
                let evaluates = configuration.evaluatesEveryEpoch || epoch == configuration.epochs - 1
                testAccuracy = evaluates ? try timed(.evaluation) { try evaluate() } : .nan
            } catch TrainingStopped.interrupted {
                // The epoch's training is done: save it, so that --resume only evaluates.
                try saveCheckpoint(report: report)
                throw TrainingStopped.interrupted(checkpoint: configuration.checkpointPath)
            }
            let metrics = EpochMetrics(
                epoch: epoch + 1, trainLoss: Float(lossSum / Double(max(seen, 1))),
                trainAccuracy: Float(correct) / Float(max(seen, 1)), testAccuracy: testAccuracy,
                imagesPerSecond: Double(seen - startImages) / seconds)
            history.append(metrics)
            if let (ratios, images) = lastHealthStep {
                health.append(
                    TrainingHealth(
                        epoch: epoch + 1, deadUnits: try TrainingHealth.deadUnits(of: model, on: images),
                        updateRatios: ratios, meanLoss: Double(metrics.trainLoss),
                        chanceLoss: log(Double(try model.outputShape(for: [1] + images.shape.dropFirst())[1]))))
                lastHealthStep = nil
            }
            (epoch, batch, lossSum, correct, seen) = (epoch + 1, 0, 0, 0, 0)
            report(.epoch(metrics))
            try timed(.saving) {
                try saveCheckpoint(report: report)
                try saveMetrics()
            }
        }
        return true
    }

    /// Divergence at the step being run, `what` saying how it showed.
    private func diverged(_ what: String) -> TrainingStopped {
        .diverged(
            epoch: epoch + 1, step: batch + 1, what: what, lastCheckpoint: configuration.checkpointPath,
            lastEpoch: savedEpochs)
    }

    /// Accuracy on the test images, in inference mode (dropout off). Ctrl-C stops it between
    /// batches with `TrainingStopped.interrupted`.
    public func evaluate() throws -> Float {
        try Interrupt.listening {
            let batches = BatchPrefetcher(plan: testBatches, order: Array(0..<testBatches.limit))
            var right = 0
            for index in 0..<testBatches.batchesPerEpoch {
                try Interrupt.check()
                let data = batches.batch(index)
                right += Self.loss(try plan.forward(data.images, training: false), labels: data.labels).correct
            }
            return Float(right) / Float(testBatches.limit)
        }
    }

    /// Mean softmax cross-entropy of a batch, how many it got right, and dL/dlogits.
    public static func loss(
        _ logits: Tensor, labels: [Int32], labelSmoothing: Float = 0
    ) -> (loss: Float, correct: Int, gradient: Tensor) {
        var gradient = Tensor(zeros: logits.shape)
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        let (loss, correct) = logits.withUnsafeBufferPointer { z in
            gradient.withUnsafeMutableBufferPointer { dz in
                labels.withUnsafeBufferPointer { y in
                    softmaxCrossEntropy(
                        logits: z.baseAddress!, labels: y.baseAddress!, rows: rows, classes: classes,
                        labelSmoothing: labelSmoothing, logitGradient: dz.baseAddress!)
                }
            }
        }
        return (loss, correct, gradient)
    }

    // MARK: metrics and checkpoints

    /// The whole history so far, rewritten atomically each epoch after the checkpoint (so a
    /// resumed run's file is complete too, and never ahead of the checkpoint).
    private func saveMetrics() throws {
        guard let path = configuration.metricsPath else { return }
        try writeFileAtomically(EpochMetrics.json(history, pretty: true), to: path)
    }

    /// What this run's checkpoint must share with the one it resumes from.
    private var facts: [CheckpointExpectation.Fact] {
        var facts: [CheckpointExpectation.Fact] = []
        if let name = configuration.modelName {
            facts.append(.init(key: "model", flag: nil, value: name, optional: true))
        }
        facts += [
            .init(key: "seed", flag: "--seed", value: "\(configuration.seed)"),
            .init(key: "batch_size", flag: "--batch-size", value: "\(configuration.batchSize)"),
            .init(key: "image_size", flag: "an image size of", value: "\(configuration.imageSize)"),
            .init(key: "train_images", flag: "--train-limit", value: "\(trainBatches.limit)"),
            .init(key: "learning_rate", flag: "--lr", value: "\(learningRate)", optional: true),
            .init(key: "optimizer", flag: "the optimizer", value: optimizer.settings, optional: true),
            .init(
                key: "label_smoothing", flag: "--label-smoothing", value: "\(configuration.labelSmoothing)",
                optional: true),
        ]
        return facts
    }

    private func saveCheckpoint(report: (TrainingEvent) -> Void) throws {
        guard let path = configuration.checkpointPath else { return }
        let optimizerState = optimizer.state.sorted { $0.key < $1.key }.map {
            (name: optimizerPrefix + $0.key, tensor: $0.value)
        }
        var metadata = [
            "epoch": "\(epoch)", "batch": "\(batch)", "loss_sum": "\(lossSum)", "correct": "\(correct)",
            "seen": "\(seen)", "history": String(decoding: EpochMetrics.json(history), as: UTF8.self),
        ]
        for fact in facts { metadata[fact.key] = fact.value }
        if !ownsCheckpoint { try keepPreviousCheckpoint(path) }
        try SafeTensors.write(model.stateDict + optimizerState, metadata: metadata, to: path)
        (ownsCheckpoint, savedEpochs) = (true, epoch)
        report(.checkpoint(path: path))
    }

    /// The path a fresh run moves an existing checkpoint to before writing its own.
    public static func previousCheckpointPath(_ path: String) -> String {
        (path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path) + ".prev.safetensors"
    }

    private func keepPreviousCheckpoint(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let previous = Self.previousCheckpointPath(path)
        guard rename(path, previous) == 0 else {
            throw CheckpointError.writeFailed(path: previous, reason: String(cString: strerror(errno)))
        }
    }

    /// How a run begins (`start(resuming:)`).
    public enum Start: Equatable, Sendable {
        /// Continued from the configured checkpoint, with this many epochs already done.
        case resumed(epochsDone: Int)
        /// Asked to resume, but there is no checkpoint yet: from the beginning.
        case nothingToResume
        /// From the beginning, with no checkpoint configured or none there yet.
        case fresh
        /// From the beginning, replacing the checkpoint there (moved to previousCheckpointPath
        /// at the first save), which holds `model` after `epochs` epochs (nil: unreadable).
        case replacing(model: String?, epochs: Int?)
    }

    /// Resumes from the configured checkpoint when `resuming` and there is one; otherwise says
    /// what a fresh run will replace. A checkpoint that does not fit this run throws (see
    /// resume(from:)) and changes nothing.
    public func start(resuming: Bool) throws -> Start {
        guard let path = configuration.checkpointPath, FileManager.default.fileExists(atPath: path) else {
            return resuming ? .nothingToResume : .fresh
        }
        if resuming {
            try resume(from: path)
            return .resumed(epochsDone: history.count)
        }
        let metadata = (try? SafeTensorsFile(path: path))?.header.metadata
        return .replacing(model: metadata?["model"], epochs: metadata?["epoch"].flatMap { Int($0) })
    }

    /// Continues from the checkpoint at `path`: weights, optimizer state, position and history.
    /// Everything is checked against this run (CheckpointExpectation) before anything is copied,
    /// so a failed resume leaves the model, the optimizer and the file as they were.
    public func resume(from path: String) throws {
        let file = try SafeTensorsFile(path: path)
        let parameters = model.namedParameters
        let shapes = parameters.map { (name: $0.name, shape: $0.parameter.value.shape) }
        let expectation = CheckpointExpectation(
            parameters: model.stateShapes,
            optimizerState: Dictionary(
                uniqueKeysWithValues: optimizer.stateShapes(for: shapes).map {
                    (optimizerPrefix + $0.key, $0.value)
                }),
            optimizerCounters: Set(optimizer.stateCounters.map { optimizerPrefix + $0 }),
            facts: facts, batchSize: configuration.batchSize, batchesPerEpoch: trainBatches.batchesPerEpoch,
            trainImages: trainBatches.limit)
        let position = try file.withBytes { try expectation.validate(file.header, file: $0, path: path) }
        file.releaseAll()
        var state: [String: Tensor] = [:]
        for entry in file.header.entries where entry.name.hasPrefix(optimizerPrefix) {
            state[String(entry.name.dropFirst(optimizerPrefix.count))] = file.tensor(entry)
        }
        model.assignState { file.tensor(file.header.entry(named: $0)!) }
        optimizer.state = state
        (epoch, batch, lossSum, correct, seen) = (
            position.epoch, position.batch, position.lossSum, position.correct,
            position.seen
        )
        history = position.history
        (ownsCheckpoint, savedEpochs) = (true, position.epoch)
    }
}
