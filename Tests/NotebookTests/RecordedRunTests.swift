// RecordedRunTests.swift: a chapter's last run read back from its checkpoint's header, and the
// clear errors for a missing file, a file that is not a checkpoint, and missing or bad facts.

import Foundation
import ModernCNN
import Testing

@testable import Notebook

private func checkpoint(_ metadata: [String: String], in folder: URL) throws -> String {
    let path = folder.appendingPathComponent("checkpoint.safetensors").path
    try SafeTensors.write([(name: "w", tensor: Tensor(zeros: [2]))], metadata: metadata, to: path)
    return path
}

private let history = String(
    decoding: EpochMetrics.json([
        EpochMetrics(epoch: 1, trainLoss: 1.2, trainAccuracy: 0.5, testAccuracy: 0.61, imagesPerSecond: 100),
        EpochMetrics(epoch: 2, trainLoss: 0.8, trainAccuracy: 0.7, testAccuracy: 0.74, imagesPerSecond: 110),
    ]), as: UTF8.self)

@Test("a recorded run: the model, what it trained on and the last epoch's test accuracy")
func recordedRunReadsTheHeader() throws {
    let folder = try temporaryFolder("recorded")
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = try checkpoint(
        [
            "model": "NiN (d2l)", "history": history, "train_images": "19200", "image_size": "48",
            "batch_size": "128", "optimizer": "Adam(lr 0.001)",
        ], in: folder)
    let run = try RecordedRun(checkpoint: path)
    #expect(run.model == "NiN (d2l)" && run.optimizer == "Adam(lr 0.001)")
    #expect(run.epochs == 2 && run.trainImages == 19_200 && run.imageSize == 48 && run.batchSize == 128)
    #expect(run.testAccuracy == 0.74)
    #expect(run.trainedOn == "2 epochs over 19,200 images at 48 px")
}

@Test("a recorded run refuses a missing file, a file that is not a checkpoint, and missing or bad facts")
func recordedRunErrors() throws {
    let folder = try temporaryFolder("recorded-bad")
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(throws: CheckpointError.self) {
        try RecordedRun(checkpoint: folder.appendingPathComponent("none.safetensors").path)
    }
    let text = folder.appendingPathComponent("text.safetensors")
    try Data("not a checkpoint".utf8).write(to: text)
    #expect(throws: CheckpointError.self) { try RecordedRun(checkpoint: text.path) }
    let facts = ["train_images": "60000", "image_size": "224", "batch_size": "128"]
    #expect(throws: CheckpointError.self) { try RecordedRun(checkpoint: try checkpoint(facts, in: folder)) }
    var empty = facts
    empty["history"] = "[]"
    #expect(throws: CheckpointError.self) { try RecordedRun(checkpoint: try checkpoint(empty, in: folder)) }
    var bad = facts
    (bad["history"], bad["image_size"]) = (history, "-3")
    #expect(throws: CheckpointError.self) { try RecordedRun(checkpoint: try checkpoint(bad, in: folder)) }
    var missing = facts
    (missing["history"], missing["batch_size"]) = (history, nil)
    #expect(throws: CheckpointError.self) { try RecordedRun(checkpoint: try checkpoint(missing, in: folder)) }
}
