// RecordedRun.swift: what a chapter's last training run left in its folder, read back from the
// header of its checkpoint (the trainer writes the run's facts and history there with the
// weights): how many epochs over how many images at what size, and the test accuracy reached.
// Only the header is read; no tensor is touched. The book's closing comparison (chapter 07)
// reports other chapters' runs this way, saying which run each figure comes from.

import Foundation
import ModernCNN

public struct RecordedRun: Sendable, Equatable {
    /// The model as the chapter named it in the checkpoint ("AlexNet (d2l variant)"), when recorded.
    public let model: String?
    /// Epochs finished, and the training images per epoch, side of the input images, batch size.
    public let epochs: Int, trainImages: Int, imageSize: Int, batchSize: Int
    /// The optimizer as the trainer describes it ("Adam(lr 0.001)"), when recorded.
    public let optimizer: String?
    /// The last finished epoch's test accuracy (NaN when that epoch was not tested).
    public let testAccuracy: Float

    public init(
        model: String?, epochs: Int, trainImages: Int, imageSize: Int, batchSize: Int, optimizer: String?,
        testAccuracy: Float
    ) {
        (self.model, self.epochs, self.trainImages, self.imageSize) = (model, epochs, trainImages, imageSize)
        (self.batchSize, self.optimizer, self.testAccuracy) = (batchSize, optimizer, testAccuracy)
    }

    /// "1 epoch over 19,200 images at 48 px": what the run trained on.
    public var trainedOn: String {
        "\(epochs) epoch\(epochs == 1 ? "" : "s") over \(grouped(trainImages)) images at \(imageSize) px"
    }

    /// The run recorded in the checkpoint at `path`. Throws CheckpointError when the file is
    /// missing, is not a checkpoint, or lacks a fact or a finished epoch.
    public init(checkpoint path: String) throws {
        let header = try SafeTensorsFile(path: path).header
        func integer(_ key: String) throws -> Int {
            guard let text = header.metadata[key] else {
                throw CheckpointError.badMetadata(path: path, key: key, detail: "is missing")
            }
            guard let value = Int(text), value >= 0 else {
                throw CheckpointError.badMetadata(path: path, key: key, detail: "is not a count: \(text)")
            }
            return value
        }
        let history = try EpochMetrics.history(from: header.metadata["history"] ?? "[]", path: path, key: "history")
        guard let last = history.last else {
            throw CheckpointError.badMetadata(path: path, key: "history", detail: "holds no finished epoch")
        }
        (epochs, trainImages) = (last.epoch, try integer("train_images"))
        (imageSize, batchSize) = (try integer("image_size"), try integer("batch_size"))
        (model, optimizer) = (header.metadata["model"], header.metadata["optimizer"])
        testAccuracy = last.testAccuracy
    }
}
