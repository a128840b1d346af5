// TrainingHealth.swift: signs that a network has stopped learning, measured once per epoch.
//
// A ReLU unit whose input is negative for every image passes back no gradient: it is "dead",
// and if a whole layer dies, nothing before it learns. A stalled classifier whose logits no
// longer depend on the image sits at the loss of a uniform guess, ln(classes) (2.303 for ten).
// An update far smaller than its weight (|update| / |weight| well under 1e-4) moves nothing; one
// near 1 rewrites the weight each step. The Trainer measures these on the last batch of each
// epoch when its configuration asks for it (`monitorsHealth`).

import Foundation

public struct TrainingHealth: Sendable {
    /// One ReLU: its path in the model and the share of its units (channel and position) that
    /// were zero for every image of the batch.
    public struct DeadUnits: Sendable, Equatable {
        public let path: String
        public let share: Double
    }

    /// One parameter tensor: |update| / |weight| (Euclidean norms) over one optimizer step.
    public struct UpdateRatio: Sendable, Equatable {
        public let name: String
        public let ratio: Double
    }

    public let epoch: Int
    public let deadUnits: [DeadUnits]
    public let updateRatios: [UpdateRatio]
    /// The epoch's mean training loss and ln(classes), the loss of a uniform guess.
    public let meanLoss: Double, chanceLoss: Double

    /// A layer's dead share above which the progress line warns.
    public static let deadWarningShare = 0.9
    /// How close to ln(classes) the epoch's mean loss must be to count as a stall.
    public static let stallTolerance = 0.01

    /// The loss stayed at a uniform guess's for the whole epoch: the network is not learning.
    public var stalled: Bool { abs(meanLoss - chanceLoss) <= Self.stallTolerance }

    /// The ReLUs whose dead share passes `deadWarningShare`.
    public var mostlyDead: [DeadUnits] { deadUnits.filter { $0.share > Self.deadWarningShare } }

    /// One line for the progress output, or nil when nothing is wrong.
    public var warning: String? {
        var parts: [String] = []
        if stalled {
            parts.append(
                "the loss stayed at \(String(format: "%.3f", meanLoss)), a uniform guess's ln \(Int(exp(chanceLoss).rounded())) "
                    + "= \(String(format: "%.3f", chanceLoss)): not learning")
        }
        for layer in mostlyDead {
            parts.append("ReLU \(layer.path): \(String(format: "%.0f", layer.share * 100))% of its units dead")
        }
        return parts.isEmpty ? nil : "warning, epoch \(epoch): " + parts.joined(separator: "; ")
    }

    // snippet: dead-units
    /// Each ReLU of `model` (containers opened, in order) with the share of its units that are
    /// zero for every image of `images`, from the model's own layer-by-layer forward.
    public static func deadUnits(of model: any Layer, on images: Tensor) throws -> [DeadUnits] {
        var found: [DeadUnits] = []
        _ = try forward(model, path: "", images, recording: &found)
        return found
    }

    /// `layer`'s forward (not training: dropout passes everything), opening Sequentials so that
    /// every ReLU's output can be read.
    private static func forward(
        _ layer: any Layer, path: String, _ x: Tensor, recording found: inout [DeadUnits]
    ) throws -> Tensor {
        if let sequential = layer as? Sequential {
            var value = x
            for (name, child) in sequential.children {
                value = try forward(child, path: path.isEmpty ? name : "\(path).\(name)", value, recording: &found)
            }
            return value
        }
        let y = try layer.forward(x, training: false)
        if layer is ReLU { found.append(DeadUnits(path: path, share: deadShare(y))) }
        return y
    }

    /// The share of units (every index past the batch axis) that are zero in every image.
    static func deadShare(_ y: Tensor) -> Double {
        let images = y.shape[0], units = y.count / max(images, 1)
        var alive = [Bool](repeating: false, count: units)
        y.withUnsafeBufferPointer { values in
            for n in 0..<images {
                for u in 0..<units where values[n * units + u] != 0 { alive[u] = true }
            }
        }
        return Double(alive.lazy.filter { !$0 }.count) / Double(max(units, 1))
    }
    // end snippet: dead-units

    /// |after - before| / |before| for each parameter, from copies taken before a step.
    static func updateRatios(
        before: [(name: String, values: [Float])], after parameters: [(name: String, parameter: Parameter)]
    ) -> [UpdateRatio] {
        zip(before, parameters).map { old, current in
            var (change, size) = (0.0, 0.0)
            current.parameter.value.withUnsafeBufferPointer { w in
                for i in 0..<min(w.count, old.values.count) {
                    let d = Double(w[i]) - Double(old.values[i])
                    change += d * d
                    size += Double(old.values[i]) * Double(old.values[i])
                }
            }
            return UpdateRatio(name: current.name, ratio: change.squareRoot() / max(size.squareRoot(), 1e-30))
        }
    }
}
