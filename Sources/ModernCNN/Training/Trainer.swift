// Trainer.swift: the training loop every chapter uses.
//
// An epoch visits the training batches in an order fixed by (seed, epoch); after each batch the
// optimizer steps; after each epoch the model is evaluated on the test set, the epoch's metrics
// are recorded and a checkpoint is written. Everything random is a function of (seed, epoch,
// batch), the kernels are deterministic for a thread count, and a checkpoint stores the position
// within the epoch and the running sums, so a run resumed from any checkpoint ends exactly where
// the uninterrupted run does. An interrupt (Ctrl-C) finishes the current batch, saves, and stops.

import Foundation
import Kernels
import Synchronization

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

    public init(epochs: Int, batchSize: Int, imageSize: Int = FashionMNIST.side, seed: UInt64 = 42,
                trainLimit: Int? = nil, testLimit: Int? = nil, checkpointPath: String? = nil, metricsPath: String? = nil) {
        (self.epochs, self.batchSize, self.imageSize, self.seed) = (epochs, batchSize, imageSize, seed)
        (self.trainLimit, self.testLimit, self.checkpointPath) = (trainLimit, testLimit, checkpointPath)
        self.metricsPath = metricsPath
    }
}

/// One finished epoch, what d2l's Animator plots.
public struct EpochMetrics: Sendable, Codable, Equatable {
    public let epoch: Int
    public let trainLoss: Float
    public let trainAccuracy: Float
    public let testAccuracy: Float
    public let imagesPerSecond: Double

    public init(epoch: Int, trainLoss: Float, trainAccuracy: Float, testAccuracy: Float, imagesPerSecond: Double) {
        (self.epoch, self.trainLoss, self.trainAccuracy) = (epoch, trainLoss, trainAccuracy)
        (self.testAccuracy, self.imagesPerSecond) = (testAccuracy, imagesPerSecond)
    }
}

/// What the trainer reports while it works, for a progress bar.
public enum TrainingEvent: Sendable {
    /// Running loss and accuracy of the epoch so far, its speed, the seconds the epoch has left,
    /// and the seconds the whole run has left at this speed (test evaluation not included).
    case batch(epoch: Int, batch: Int, of: Int, loss: Float, accuracy: Float, imagesPerSecond: Double,
               secondsLeft: Double, runSecondsLeft: Double)
    case epoch(EpochMetrics)
    case checkpoint(path: String)
    case interrupted(path: String?)
}

/// Set by SIGINT; checked between batches.
let interruptRequested = Atomic<Bool>(false)

public final class Trainer {
    public let model: any Layer
    public let optimizer: any Optimizer
    public let configuration: TrainingConfiguration
    let trainPlan: BatchPlan
    let testPlan: BatchPlan
    public private(set) var history: [EpochMetrics] = []
    /// Where training stands: the next epoch and batch to run, and the running sums of the epoch.
    private var epoch = 0, batch = 0
    private var lossSum = 0.0, correct = 0, seen = 0
    private var stopRequested = false

    public init(model: any Layer, optimizer: any Optimizer, train: FashionMNIST, test: FashionMNIST,
                configuration: TrainingConfiguration) {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
        Self.skipImageGradient(of: model)
        trainPlan = BatchPlan(dataset: train, batchSize: configuration.batchSize, imageSize: configuration.imageSize,
                              seed: configuration.seed, limit: configuration.trainLimit)
        testPlan = BatchPlan(dataset: test, batchSize: configuration.batchSize, imageSize: configuration.imageSize,
                             seed: configuration.seed, limit: configuration.testLimit)
    }

    /// The layer that sees the images first, following first children down Sequentials: its
    /// input gradient is never used, so its backward can skip computing it.
    static func firstLayer(of model: any Layer) -> (any Layer)? {
        guard let sequential = model as? Sequential else { return model.children.isEmpty ? model : nil }
        return sequential.layers.first.flatMap(firstLayer)
    }

    /// Turns off the input gradient of `model`'s first layer when it is a convolution, as every
    /// training run does (and benchmarks of training, to measure the same work).
    public static func skipImageGradient(of model: any Layer) {
        (firstLayer(of: model) as? Conv2d)?.computesInputGradient = false
    }

    /// Training and test images actually used (quick runs use fewer).
    public var trainingImages: Int { trainPlan.limit }
    public var testImages: Int { testPlan.limit }

    /// Asks the loop to stop after the current batch, save, and return (what Ctrl-C does).
    public func requestStop() { stopRequested = true }

    /// Installs the Ctrl-C handler: the first interrupt asks the loop to stop after the batch.
    public static func stopOnInterrupt() {
        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
    }

    /// Trains until `configuration.epochs` are done or an interrupt arrives; returns true when done.
    @discardableResult
    public func run(report: (TrainingEvent) -> Void = { _ in }) throws -> Bool {
        let parameters = model.namedParameters
        while epoch < configuration.epochs {
            let batches = BatchPrefetcher(plan: trainPlan, order: trainPlan.order(epoch: epoch))
            let started = DispatchTime.now().uptimeNanoseconds
            let startImages = seen
            while batch < trainPlan.batchesPerEpoch {
                let data = batches.batch(batch)
                for layer in model.allLayers {
                    (layer as? Dropout)?.reseed(configuration.seed &* 1_000_003 &+ UInt64(epoch * 100_000 + batch))
                }
                for (_, parameter) in parameters { parameter.zeroGradient() }
                let logits = try model.forward(data.images, training: true)
                let (loss, right, gradient) = Self.loss(logits, labels: data.labels)
                _ = model.backward(gradient)
                optimizer.step(parameters)
                lossSum += Double(loss) * Double(data.labels.count)
                correct += right
                seen += data.labels.count
                batch += 1
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                let batchesDone = Double(seen - startImages) / Double(configuration.batchSize)
                report(.batch(epoch: epoch, batch: batch, of: trainPlan.batchesPerEpoch, loss: Float(lossSum / Double(seen)),
                              accuracy: Float(correct) / Float(seen), imagesPerSecond: Double(seen - startImages) / seconds,
                              secondsLeft: seconds / batchesDone * Double(trainPlan.batchesPerEpoch - batch),
                              runSecondsLeft: seconds / batchesDone * Double(trainPlan.batchesPerEpoch - batch
                                  + (configuration.epochs - epoch - 1) * trainPlan.batchesPerEpoch)))
                if stopRequested || interruptRequested.load(ordering: .relaxed) {
                    stopRequested = false
                    try saveCheckpoint(report: report)
                    report(.interrupted(path: configuration.checkpointPath))
                    return false
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let metrics = EpochMetrics(epoch: epoch + 1, trainLoss: Float(lossSum / Double(seen)),
                                       trainAccuracy: Float(correct) / Float(seen), testAccuracy: try evaluate(),
                                       imagesPerSecond: Double(seen - startImages) / seconds)
            history.append(metrics)
            (epoch, batch, lossSum, correct, seen) = (epoch + 1, 0, 0, 0, 0)
            report(.epoch(metrics))
            try saveMetrics()
            try saveCheckpoint(report: report)
        }
        return true
    }

    /// Accuracy on the test images, in inference mode (dropout off).
    public func evaluate() throws -> Float {
        let batches = BatchPrefetcher(plan: testPlan, order: Array(0..<testPlan.limit))
        var right = 0
        for index in 0..<testPlan.batchesPerEpoch {
            let data = batches.batch(index)
            right += Self.loss(try model.forward(data.images, training: false), labels: data.labels).correct
        }
        return Float(right) / Float(testPlan.limit)
    }

    /// Mean softmax cross-entropy of a batch, how many it got right, and dL/dlogits.
    public static func loss(_ logits: Tensor, labels: [Int32]) -> (loss: Float, correct: Int, gradient: Tensor) {
        var gradient = Tensor(zeros: logits.shape)
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        let (loss, correct) = logits.withUnsafeBufferPointer { z in
            gradient.withUnsafeMutableBufferPointer { dz in
                labels.withUnsafeBufferPointer { y in
                    softmaxCrossEntropy(logits: z.baseAddress!, labels: y.baseAddress!, rows: rows, classes: classes,
                                        logitGradient: dz.baseAddress!)
                }
            }
        }
        return (loss, correct, gradient)
    }

    // MARK: metrics and checkpoints

    /// The whole history so far, rewritten atomically each epoch (so a resumed run's file is
    /// complete too).
    private func saveMetrics() throws {
        guard let path = configuration.metricsPath else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SafeTensors.writeAtomically([UInt8](try encoder.encode(history)), to: path)
    }

    private func saveCheckpoint(report: (TrainingEvent) -> Void) throws {
        guard let path = configuration.checkpointPath else { return }
        let optimizerState = optimizer.state.sorted { $0.key < $1.key }.map { (name: "optimizer.\($0.key)", tensor: $0.value) }
        let history = String(decoding: try JSONEncoder().encode(self.history), as: UTF8.self)
        try SafeTensors.write(model.stateDict + optimizerState, metadata: [
            "epoch": "\(epoch)", "batch": "\(batch)", "seed": "\(configuration.seed)",
            "batch_size": "\(configuration.batchSize)", "image_size": "\(configuration.imageSize)",
            "train_images": "\(trainPlan.limit)",
            "loss_sum": "\(lossSum)", "correct": "\(correct)", "seen": "\(seen)", "history": history,
        ], to: path)
        report(.checkpoint(path: path))
    }

    /// Continues from the checkpoint at `path`: weights, optimizer state, position and history.
    public func resume(from path: String) throws {
        let (tensors, metadata) = try SafeTensors.read(from: path)
        func number<T: LosslessStringConvertible>(_ key: String) throws -> T {
            guard let text = metadata[key], let value = T(text) else {
                throw CheckpointError.badHeader(path: path, detail: "metadata has no valid \"\(key)\"; not a training checkpoint")
            }
            return value
        }
        let seed: UInt64 = try number("seed")
        guard seed == configuration.seed else {
            throw CheckpointError.badHeader(path: path, detail: "it was trained with --seed \(seed); resume with the same seed")
        }
        // The position inside an epoch only means something for the same batches.
        for (key, flag, expected) in [("batch_size", "--batch-size", configuration.batchSize),
                                      ("image_size", "an image size of", configuration.imageSize),
                                      ("train_images", "--train-limit", trainPlan.limit)] {
            let saved: Int = try number(key)
            guard saved == expected else {
                throw CheckpointError.badHeader(path: path, detail: "it was trained with \(flag) \(saved), this run uses "
                                                    + "\(expected); resume with the same flags")
            }
        }
        try model.loadStateDict(tensors, from: path, ignoringPrefixes: ["optimizer."])
        optimizer.state = Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("optimizer.") }
            .map { (String($0.key.dropFirst("optimizer.".count)), $0.value) })
        (epoch, batch) = (try number("epoch"), try number("batch"))
        (lossSum, correct, seen) = (try number("loss_sum"), try number("correct"), try number("seen"))
        history = try JSONDecoder().decode([EpochMetrics].self, from: Data((metadata["history"] ?? "[]").utf8))
    }
}
