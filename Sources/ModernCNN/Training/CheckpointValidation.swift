// CheckpointValidation.swift: whether a training checkpoint belongs to this run, checked on the
// file's header and bytes before any of it is copied into a model or an optimizer.
//
// A checkpoint is trusted for nothing: it must be of the same model (its "model" metadata, then
// every parameter by name and shape), hold only optimizer state this optimizer keeps, with the
// shapes of the parameters it belongs to, have been trained with the same seed and flags, stand
// at a position that exists in this run's epoch, and hold finite numbers. The order of the
// checks is the order of the diagnoses a reader needs: "another model" before "a missing tensor".
// Foundation only, so that the fuzzer (Tests/Fuzz) compiles it with SafeTensorsHeader.swift.

import Foundation

/// What a run expects of the checkpoint it resumes from.
public struct CheckpointExpectation: Sendable {
    /// A fact the checkpoint's metadata must share with this run: the metadata key, the flag that
    /// sets it (nil for one no flag sets, such as the model), and this run's value.
    public struct Fact: Sendable {
        public let key: String
        public let flag: String?
        public let value: String
        /// Checkpoints written before this key existed lack it; those skip the check.
        public let optional: Bool

        public init(key: String, flag: String?, value: String, optional: Bool = false) {
            (self.key, self.flag, self.value, self.optional) = (key, flag, value, optional)
        }
    }

    /// The model's parameters and buffers: state_dict names and shapes.
    public var parameters: [(name: String, shape: [Int])]
    /// Every optimizer tensor this optimizer may keep, by its name in the file, with its shape.
    public var optimizerState: [String: [Int]]
    /// Optimizer tensors that hold one count (Adam's steps): a whole number in 0...2^24.
    public var optimizerCounters: Set<String>
    /// Checked in order; the model first, so that another model's file is named as such.
    public var facts: [Fact]
    public var batchSize: Int
    public var batchesPerEpoch: Int
    public var trainImages: Int

    public init(
        parameters: [(name: String, shape: [Int])], optimizerState: [String: [Int]],
        optimizerCounters: Set<String> = [], facts: [Fact], batchSize: Int, batchesPerEpoch: Int,
        trainImages: Int
    ) {
        (self.parameters, self.optimizerState, self.optimizerCounters) = (parameters, optimizerState, optimizerCounters)
        (self.facts, self.batchSize, self.batchesPerEpoch, self.trainImages) = (
            facts, batchSize, batchesPerEpoch, trainImages
        )
    }
}

/// Where a checkpoint stands: the next epoch and batch to run and the running sums of that epoch.
public struct TrainingPosition: Sendable, Equatable {
    public var epoch: Int
    public var batch: Int
    public var lossSum: Double
    public var correct: Int
    public var seen: Int
    public var history: [EpochMetrics]
}

/// The prefix of optimizer tensors' names in a checkpoint ("optimizer.momentum.0.weight").
public let optimizerPrefix = "optimizer."

extension CheckpointExpectation {
    /// Checks the checkpoint `header` of the file whose bytes are `file` against this run, and
    /// returns its position. Throws a CheckpointError naming `path` and what is wrong.
    public func validate(
        _ header: SafeTensorsHeader, file: UnsafeRawBufferPointer, path: String
    ) throws
        -> TrainingPosition
    {
        let metadata = header.metadata
        for fact in facts {
            guard let saved = metadata[fact.key] else {
                if fact.optional { continue }
                throw CheckpointError.badMetadata(path: path, key: fact.key, detail: "is missing")
            }
            guard saved == fact.value else { throw Self.mismatch(fact, saved: saved, path: path) }
        }
        let known = Dictionary(uniqueKeysWithValues: header.entries.map { ($0.name, $0) })
        for (name, shape) in parameters {
            guard let entry = known[name] else { throw CheckpointError.missingParameter(path: path, name: name) }
            guard entry.shape == shape else {
                throw CheckpointError.shapeMismatch(path: path, name: name, expected: shape, found: entry.shape)
            }
        }
        let parameterNames = Set(parameters.map(\.name))
        for entry in header.entries where !parameterNames.contains(entry.name) {
            guard entry.name.hasPrefix(optimizerPrefix) else {
                throw CheckpointError.unexpectedParameter(path: path, name: entry.name)
            }
            guard let shape = optimizerState[entry.name] else {
                throw CheckpointError.mismatch(
                    path: path,
                    detail: "holds optimizer state \(entry.name), which this run's optimizer does not "
                        + "keep (was it trained with another optimizer?)")
            }
            guard entry.shape == shape else {
                throw CheckpointError.shapeMismatch(path: path, name: entry.name, expected: shape, found: entry.shape)
            }
        }
        for entry in header.entries {
            let start = header.dataStart + entry.bytes.lowerBound
            let values = UnsafeRawBufferPointer(rebasing: file[start..<(start + entry.bytes.count)])
            try Self.checkValues(of: entry, values, counter: optimizerCounters.contains(entry.name), path: path)
        }
        return try position(metadata, path: path)
    }

    private static func mismatch(_ fact: Fact, saved: String, path: String) -> CheckpointError {
        let detail =
            fact.flag.map { flag in
                "it was trained with \(flag) \(saved), this run uses \(flag) \(fact.value); resume with the same "
                    + "flags, or leave out --resume to start afresh"
            } ?? "it holds a checkpoint of \(saved), not of \(fact.value); leave out --resume to start afresh, "
            + "or give another --output"
        return .mismatch(path: path, detail: detail)
    }

    /// Every value finite; a counter one whole number in 0...2^24.
    private static func checkValues(
        of entry: SafeTensorsHeader.Entry, _ bytes: UnsafeRawBufferPointer, counter: Bool,
        path: String
    ) throws {
        let count = bytes.count / MemoryLayout<Float>.size
        for index in 0..<count {
            let value = Float(
                bitPattern: UInt32(
                    littleEndian: bytes.loadUnaligned(
                        fromByteOffset: index * MemoryLayout<Float>.size, as: UInt32.self)))
            guard value.isFinite else {
                throw CheckpointError.badTensor(
                    path: path, tensor: entry.name,
                    detail: "holds \(value) at index \(index): the run that wrote it diverged; resume from an "
                        + "earlier checkpoint or leave out --resume to start afresh")
            }
        }
        if counter {
            let value = count == 1 ? Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self))) : -1
            guard count == 1, value >= 0, value <= 16_777_216, value == value.rounded() else {
                throw CheckpointError.badTensor(
                    path: path, tensor: entry.name,
                    detail: "must hold one whole number of steps from 0 to 2^24")
            }
        }
    }

    /// The position and history in `metadata`, each in the range this run's epoch allows.
    private func position(_ metadata: [String: String], path: String) throws -> TrainingPosition {
        func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
            guard let text = metadata[key] else {
                throw CheckpointError.badMetadata(path: path, key: key, detail: "is missing")
            }
            guard let value = Int(text), range.contains(value) else {
                throw CheckpointError.badMetadata(
                    path: path, key: key,
                    detail: "is \(text), outside \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        let epoch = try integer("epoch", in: 0...1_000_000)
        let batch = try integer("batch", in: 0...batchesPerEpoch)
        // Batches before the last are full, so the images seen follow from the batch.
        let expectedSeen = min(batch * batchSize, trainImages)
        let seen = try integer("seen", in: expectedSeen...expectedSeen)
        let correct = try integer("correct", in: 0...seen)
        guard let lossText = metadata["loss_sum"], let lossSum = Double(lossText), lossSum.isFinite, lossSum >= 0 else {
            throw CheckpointError.badMetadata(path: path, key: "loss_sum", detail: "is not a finite sum of losses")
        }
        guard let historyText = metadata["history"] else {
            throw CheckpointError.badMetadata(path: path, key: "history", detail: "is missing")
        }
        let history = try EpochMetrics.history(from: historyText, path: path, key: "history")
        guard history.count == epoch, history.enumerated().allSatisfy({ $0.element.epoch == $0.offset + 1 }) else {
            throw CheckpointError.badMetadata(
                path: path, key: "history",
                detail: "holds \(history.count) epochs where \"epoch\" says \(epoch)")
        }
        return TrainingPosition(
            epoch: epoch, batch: batch, lossSum: lossSum, correct: correct, seen: seen, history: history)
    }
}
