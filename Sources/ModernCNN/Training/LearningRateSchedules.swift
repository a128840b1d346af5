// LearningRateSchedules.swift: how the learning rate changes between epochs.

/// Multiply the rate by `factor` every `stepSize` epochs (PyTorch's StepLR): the AlexNet paper
/// divided by 10 a few times during training.
public struct StepSchedule: Sendable {
    public let initialRate: Float, stepSize: Int, factor: Float
    public init(initialRate: Float, stepSize: Int, factor: Float = 0.1) {
        precondition(stepSize >= 1, "step size must be at least 1")
        (self.initialRate, self.stepSize, self.factor) = (initialRate, stepSize, factor)
    }

    /// The rate for a 0-based epoch.
    public func rate(epoch: Int) -> Float {
        var rate = initialRate
        for _ in 0..<(epoch / stepSize) { rate *= factor }
        return rate
    }
}

/// Multiply the rate by `factor` when a monitored loss has not improved for more than `patience`
/// epochs (PyTorch's ReduceLROnPlateau, mode "min", relative threshold 1e-4): the AlexNet paper's
/// "divide by 10 when the validation error stops improving".
public struct PlateauSchedule: Sendable {
    public private(set) var rate: Float
    public let factor: Float, patience: Int, threshold: Float
    private var best = Float.infinity
    private var badEpochs = 0

    public init(initialRate: Float, factor: Float = 0.1, patience: Int = 10, threshold: Float = 1e-4) {
        (rate, self.factor, self.patience, self.threshold) = (initialRate, factor, patience, threshold)
    }

    /// Reports an epoch's loss; returns the rate for the next epoch.
    public mutating func record(loss: Float) -> Float {
        if loss < best * (1 - threshold) {
            best = loss
            badEpochs = 0
        } else {
            badEpochs += 1
            if badEpochs > patience {
                rate *= factor
                badEpochs = 0
            }
        }
        return rate
    }
}
