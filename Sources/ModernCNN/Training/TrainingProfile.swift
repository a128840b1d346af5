// TrainingProfile.swift: where a training run's time goes, measured while it trains (--profile).
//
// Each step of the plan is timed forward and backward (ExecutionPlan.blockTimer), and so is what
// surrounds the steps: waiting for the next batch (loading and resizing, which the prefetcher
// overlaps with the previous step), the loss, the optimizer's update, the evaluation after each
// epoch, and writing checkpoints and metrics. A benchmark times only the steps; the profile shows
// what else a real run pays for.

import Foundation

public final class TrainingProfile {
    /// A plan step's layers and its total forward and backward seconds.
    public struct Block {
        public let layers: Range<Int>
        public internal(set) var forward = 0.0, backward = 0.0
    }

    /// What surrounds the steps, in the order a step meets them.
    public enum Phase: String, CaseIterable, Sendable {
        case batch = "waiting for the batch (load, resize)"
        case loss = "loss and its gradient"
        case update = "optimizer update"
        case evaluation = "evaluation on the test images"
        case saving = "checkpoint and metrics"
    }

    public private(set) var blocks: [Block] = []
    public private(set) var phases: [Phase: Double] = [:]
    /// Training steps timed, and the images they took.
    public private(set) var steps = 0, images = 0
    /// Each step's wall time in seconds, batch wait to update, in order: the first pays for
    /// allocating the workspaces; the fastest is what a benchmark reports.
    public private(set) var stepSeconds: [Double] = []
    /// Wall time from the first step to the end of the run.
    public private(set) var seconds = 0.0

    public init() {}

    func addBlock(_ layers: Range<Int>, backward: Bool, seconds: Double) {
        let index =
            blocks.firstIndex { $0.layers == layers }
            ?? {
                blocks.append(Block(layers: layers))
                return blocks.count - 1
            }()
        if backward { blocks[index].backward += seconds } else { blocks[index].forward += seconds }
    }

    func add(_ phase: Phase, since start: ContinuousClock.Instant) {
        phases[phase, default: 0] += Self.seconds(since: start)
    }

    func addStep(images: Int, since start: ContinuousClock.Instant) {
        steps += 1
        self.images += images
        stepSeconds.append(Self.seconds(since: start))
    }

    func addWall(since start: ContinuousClock.Instant) { seconds += Self.seconds(since: start) }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }
}
