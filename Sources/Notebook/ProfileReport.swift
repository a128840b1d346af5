// ProfileReport.swift: a training run's measured profile (--profile) as a chapter shows it: the
// time of each plan block per step with its GFLOP/s and share of the step, what surrounds the
// steps, and the architecture diagram shaded by measured time beside the one shaded by
// multiply-adds.

import Foundation
import ModernCNN

public struct ProfileReport {
    public let profile: TrainingProfile
    public let plan: ExecutionPlan
    public let model: ModelProfile

    /// `model` profiles one input ([1, C, H, W]): its multiply-adds are per image.
    public init(_ profile: TrainingProfile, plan: ExecutionPlan, model: ModelProfile) {
        (self.profile, self.plan, self.model) = (profile, plan, model)
    }

    /// Seconds of the training steps themselves: every block both ways, the loss and the update.
    public var stepSeconds: Double {
        profile.blocks.reduce(0) { $0 + $1.forward + $1.backward }
            + (profile.phases[.loss] ?? 0) + (profile.phases[.update] ?? 0)
    }

    /// The model's top-level layer index of each profiled layer (its path's first component).
    private var topLevelIndex: [String: Int] {
        Dictionary(uniqueKeysWithValues: plan.model.children.enumerated().map { ($0.element.name, $0.offset) })
    }

    /// The leaf layers (paths) of a block, with their multiply-adds per image.
    private func leaves(of layers: Range<Int>) -> [(path: String, multiplyAdds: Int)] {
        let index = topLevelIndex
        return model.leaves.filter { entry in
            let top = entry.path.split(separator: ".").first.map(String.init) ?? entry.path
            return index[top].map(layers.contains) ?? false
        }.map { ($0.path, $0.multiplyAdds) }
    }

    /// One row per block and one per surrounding phase.
    public func table() -> TextTable {
        let steps = Double(max(profile.steps, 1)), perImage = Double(profile.images) / steps
        let total = max(stepSeconds, 1e-12)
        var table = TextTable(
            headers: ["layers", "block", "forward ms", "backward ms", "GFLOP/s", "share of step"],
            alignments: [.left, .left, .right, .right, .right, .right])
        for block in profile.blocks {
            let macs = Double(leaves(of: block.layers).reduce(0) { $0 + $1.multiplyAdds })
            // Forward 2 flops per multiply-add; backward about twice the forward (data and filter).
            let flops = 6 * macs * perImage, seconds = block.forward + block.backward
            let label = plan.steps.first { $0.layers == block.layers }?.kind ?? ""
            table.append([
                rangeText(block.layers), label, formatted(block.forward / steps * 1e3, digits: 2),
                formatted(block.backward / steps * 1e3, digits: 2),
                macs > 0 && seconds > 0 ? formatted(flops * steps / seconds / 1e9, digits: 1) : "-",
                percent(seconds / total),
            ])
        }
        for phase in [TrainingProfile.Phase.loss, .update] {
            let seconds = profile.phases[phase] ?? 0
            table.append([
                "", phase.rawValue, formatted(seconds / steps * 1e3, digits: 2), "", "", percent(seconds / total),
            ])
        }
        return table
    }

    /// What surrounds the steps, in seconds for the whole run and as a share of its wall time.
    public func surroundings() -> TextTable {
        var table = TextTable(
            headers: ["part of the run", "seconds", "share of the run"],
            alignments: [.left, .right, .right])
        let wall = max(profile.seconds, 1e-12)
        table.append([
            "training steps (the table above)", formatted(stepSeconds, digits: 3), percent(stepSeconds / wall),
        ])
        for phase in [TrainingProfile.Phase.batch, .evaluation, .saving] {
            let seconds = profile.phases[phase] ?? 0
            table.append([phase.rawValue, formatted(seconds, digits: 3), percent(seconds / wall)])
        }
        let accounted =
            stepSeconds
            + [TrainingProfile.Phase.batch, .evaluation, .saving]
            .reduce(0) { $0 + (profile.phases[$1] ?? 0) }
        table.append([
            "the rest (progress, bookkeeping)", formatted(max(wall - accounted, 0), digits: 3),
            percent(max(wall - accounted, 0) / wall),
        ])
        return table
    }

    /// How fast the steps ran: the first (which allocates every layer's workspace), the median
    /// and the fastest step's seconds, and the mean over all steps, in images per second.
    public struct StepSpeeds {
        public let first: Double, median: Double, fastest: Double
        public let imagesPerStep: Double, meanImagesPerSecond: Double
        public var medianImagesPerSecond: Double { imagesPerStep / median }
        public var fastestImagesPerSecond: Double { imagesPerStep / fastest }
    }

    /// nil when no step was timed.
    public var stepSpeeds: StepSpeeds? {
        let times = profile.stepSeconds
        guard let first = times.first, let fastest = times.min() else { return nil }
        let sorted = times.sorted(), total = times.reduce(0, +)
        return StepSpeeds(
            first: first, median: sorted[sorted.count / 2], fastest: fastest,
            imagesPerStep: Double(profile.images) / Double(times.count),
            meanImagesPerSecond: Double(profile.images) / max(total, 1e-12))
    }

    /// Each leaf layer's share of the measured step time: its block's share, split over the
    /// block's layers by their multiply-adds (evenly where they have none).
    public func measuredShares() -> [String: Double] {
        let total = max(stepSeconds, 1e-12)
        var shares: [String: Double] = [:]
        for block in profile.blocks {
            let layers = leaves(of: block.layers)
            let macs = Double(layers.reduce(0) { $0 + $1.multiplyAdds })
            let share = (block.forward + block.backward) / total
            for layer in layers {
                shares[layer.path] = share * (macs > 0 ? Double(layer.multiplyAdds) / macs : 1 / Double(layers.count))
            }
        }
        return shares
    }

    private func rangeText(_ layers: Range<Int>) -> String {
        layers.count == 1 ? "\(layers.lowerBound)" : "\(layers.lowerBound)-\(layers.upperBound - 1)"
    }

}
