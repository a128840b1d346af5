// ProgressBarTests.swift: the training progress line, and how often it prints into a log.

import ModernCNN
import Testing

@testable import Notebook

@Test("a progress line shows epoch, bar, batch, speed, loss, accuracy and ETA")
func progressLine() {
    let line = ProgressBar.line(
        epoch: 1, of: 10, batch: 105, of: 235, loss: 0.51234, accuracy: 0.8123,
        imagesPerSecond: 6012.4, secondsLeft: 81.4)
    #expect(line == "epoch 2/10 [########............] 105/235  6,012 img/s  loss 0.5123  acc 0.812  ETA 1:21")
    // With later epochs to come, the whole run's remaining time too, in hours when it is long.
    let long = ProgressBar.line(
        epoch: 0, of: 10, batch: 1, of: 469, loss: 2.3, accuracy: 0.1, imagesPerSecond: 14,
        secondsLeft: 4281, runSecondsLeft: 42_810)
    #expect(long.hasSuffix("ETA 1:11:21  (run 11:53:30)"))
    let last = ProgressBar.line(
        epoch: 9, of: 10, batch: 1, of: 469, loss: 2.3, accuracy: 0.1, imagesPerSecond: 14,
        secondsLeft: 4281, runSecondsLeft: 4281)
    #expect(last.hasSuffix("ETA 1:11:21"))
}

@Test("in a log, one line per epoch; the checkpoint is named by runTraining, not per epoch")
func logMode() {
    var lines: [String] = []
    let bar = ProgressBar(epochs: 2, interactive: false) { lines.append($0) }
    for epoch in 0..<2 {
        for batch in 1...235 {
            bar.show(
                .batch(
                    epoch: epoch, batch: batch, of: 235, loss: 1, accuracy: 0.5, imagesPerSecond: 1000,
                    secondsLeft: 1, runSecondsLeft: 1))
        }
        bar.show(
            .epoch(
                EpochMetrics(
                    epoch: epoch + 1, trainLoss: 0.5, trainAccuracy: 0.8, testAccuracy: 0.79, imagesPerSecond: 6000)))
        bar.show(.checkpoint(path: "output/03-lenet/checkpoint.safetensors"))
    }
    #expect(
        lines == [
            "epoch 1: train loss 0.5000, train acc 0.800, test acc 0.790, 6,000 img/s\n",
            "epoch 2: train loss 0.5000, train acc 0.800, test acc 0.790, 6,000 img/s\n",
        ])
    bar.show(.interrupted(path: "output/03-lenet/checkpoint.safetensors"))
    #expect(lines.last!.contains("output/03-lenet/checkpoint.safetensors") && lines.last!.contains("--resume"))
}

@Test("on a terminal, the line is redrawn in place")
func terminalMode() {
    var written = ""
    let bar = ProgressBar(epochs: 2, interactive: true) { written += $0 }
    bar.show(
        .batch(
            epoch: 0, batch: 1, of: 4, loss: 2, accuracy: 0.1, imagesPerSecond: 10, secondsLeft: 3, runSecondsLeft: 3))
    bar.show(
        .batch(
            epoch: 0, batch: 2, of: 4, loss: 1.5, accuracy: 0.2, imagesPerSecond: 10, secondsLeft: 2, runSecondsLeft: 6)
    )
    #expect(written.hasPrefix("\repoch 1/2") && !written.contains("\n"))
    #expect(written.components(separatedBy: "\r").count == 3)
}

@Test("grouping thousands")
func grouping() {
    #expect(grouped(6012) == "6,012" && grouped(97800) == "97,800" && grouped(12) == "12" && grouped(-1234) == "-1,234")
}
