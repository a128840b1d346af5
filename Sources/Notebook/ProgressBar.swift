// ProgressBar.swift: what a chapter shows while it trains. On a terminal, one line redrawn in
// place; in a log or a pipe (CI, `make chapters > file`), one line per epoch.
//
//   epoch 2/10 [#########...........] 105/235  6,012 img/s  loss 0.5123  acc 0.812  ETA 0:21

import Foundation
import ModernCNN

public final class ProgressBar {
    let epochs: Int
    let interactive: Bool
    private let write: (String) -> Void

    /// `interactive` defaults to whether standard output is a terminal.
    public init(
        epochs: Int, interactive: Bool = isatty(STDOUT_FILENO) != 0,
        write: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
    ) {
        self.epochs = epochs
        self.interactive = interactive
        self.write = write
    }

    /// Renders one trainer event.
    public func show(_ event: TrainingEvent) {
        switch event {
        case let .batch(epoch, batch, total, loss, accuracy, imagesPerSecond, secondsLeft, runSecondsLeft):
            let line = Self.line(
                epoch: epoch, of: epochs, batch: batch, of: total, loss: loss, accuracy: accuracy,
                imagesPerSecond: imagesPerSecond, secondsLeft: secondsLeft,
                runSecondsLeft: runSecondsLeft)
            if interactive { write("\r" + line) }
        case let .epoch(metrics):
            write((interactive ? "\n" : "") + Self.epochLine(metrics) + "\n")
        case .checkpoint:
            // runTraining names the checkpoint (and its size) once, before the first epoch.
            break
        case let .interrupted(path):
            write(
                "\nstopped after the current batch"
                    + (path.map {
                        "; the checkpoint is \(displayPath($0)). Continue with the same flags plus --resume."
                    } ?? " (no checkpoint was configured).") + "\n")
        }
    }

    /// The line that closes an epoch.
    public static func epochLine(_ metrics: EpochMetrics) -> String {
        String(
            format: "epoch %d: train loss %.4f, train acc %.3f, test acc %.3f, %@ img/s", metrics.epoch,
            metrics.trainLoss, metrics.trainAccuracy, metrics.testAccuracy, grouped(rounding: metrics.imagesPerSecond))
    }

    /// One progress line; `secondsLeft` is what remains of this epoch at the measured speed and
    /// `runSecondsLeft` of the whole run (shown when later epochs remain).
    static func line(
        epoch: Int, of epochs: Int, batch: Int, of total: Int, loss: Float, accuracy: Float,
        imagesPerSecond: Double, secondsLeft: Double, runSecondsLeft: Double? = nil
    ) -> String {
        let width = 20, filled = total == 0 ? width : batch * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let run = runSecondsLeft.flatMap { epoch + 1 < epochs ? "  (run \(clock($0)))" : nil } ?? ""
        return String(
            format: "epoch %d/%d [%@] %d/%d  %@ img/s  loss %.4f  acc %.3f  ETA %@",
            epoch + 1, epochs, bar, batch, total, grouped(rounding: imagesPerSecond), loss, accuracy,
            clock(secondsLeft)) + run
    }

    /// 81.4 -> "1:21"; 11_530 -> "3:12:10".
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total % 3600 / 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
