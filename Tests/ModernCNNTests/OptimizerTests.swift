// OptimizerTests.swift: updates against values worked out by hand from PyTorch's documented
// rules, convergence on a quadratic, the schedules, and state that survives a save and restore.

import Testing

@testable import ModernCNN

/// Runs `steps` updates of one scalar parameter starting at 1 under a constant gradient of 0.5.
func trajectory(_ optimizer: any Optimizer, steps: Int) -> [Float] {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], repeating: 1))
    return (0..<steps).map { _ in
        parameter.gradient = Tensor(shape: [1], repeating: 0.5)
        optimizer.step([("w", parameter)])
        return parameter.value.scalars[0]
    }
}

@Test("SGD: plain, with weight decay, with momentum (hand-computed)")
func sgdUpdates() {
    // w = 1 - 0.1 * 0.5 = 0.95, then 0.90, 0.85.
    #expect(zip(trajectory(SGD(learningRate: 0.1), steps: 3), [0.95, 0.90, 0.85]).allSatisfy { abs($0 - $1) < 1e-6 })
    // Decay adds 0.1 * w to the gradient: 1 - 0.1 * (0.5 + 0.1) = 0.94.
    #expect(abs(trajectory(SGD(learningRate: 0.1, weightDecay: 0.1), steps: 1)[0] - 0.94) < 1e-6)
    // v = 0.5, 0.95, 1.355; w = 0.95, 0.855, 0.7195.
    let momentum = trajectory(SGD(learningRate: 0.1, momentum: 0.9), steps: 3)
    #expect(zip(momentum, [0.95, 0.855, 0.7195]).allSatisfy { abs($0 - $1) < 1e-6 })
}

@Test("Adam: with a constant gradient the bias-corrected step is the learning rate")
func adamUpdates() {
    // m/(1-beta1^t) = g and v/(1-beta2^t) = g^2 exactly, so each step moves lr * g/|g| = 0.1.
    let path = trajectory(Adam(learningRate: 0.1), steps: 3)
    #expect(zip(path, [0.9, 0.8, 0.7]).allSatisfy { abs($0 - $1) < 1e-5 })
}

@Test("both optimizers minimise a quadratic", arguments: [0, 1])
func convergence(which: Int) {
    // L = sum((w - target)^2) / 2, gradient w - target.
    let target: [Float] = [3, -2, 0.5]
    let parameter = Parameter(name: "w", value: Tensor(zeros: [3]))
    let optimizer: any Optimizer = which == 0 ? SGD(learningRate: 0.1, momentum: 0.9) : Adam(learningRate: 0.1)
    for _ in 0..<300 {
        parameter.gradient = try! Tensor(shape: [3], values: zip(parameter.value.scalars, target).map { $0 - $1 })
        optimizer.step([("w", parameter)])
    }
    #expect(zip(parameter.value.scalars, target).allSatisfy { abs($0 - $1) < 1e-2 }, "\(parameter.value)")
}

@Test("optimizer state restored into a new optimizer continues the same trajectory", arguments: [0, 1])
func stateRoundTrip(which: Int) {
    func make() -> any Optimizer { which == 0 ? SGD(learningRate: 0.1, momentum: 0.9) : Adam(learningRate: 0.1) }
    let original = make(), parameter = Parameter(name: "w", value: Tensor(shape: [2], repeating: 1))
    func step(_ optimizer: any Optimizer, _ p: Parameter, gradient: Float) {
        p.gradient = Tensor(shape: [2], repeating: gradient)
        optimizer.step([("w", p)])
    }
    step(original, parameter, gradient: 0.5)
    step(original, parameter, gradient: -0.3)
    let restored = make()
    restored.state = original.state
    let copy = Parameter(name: "w", value: parameter.value)
    step(original, parameter, gradient: 0.2)
    step(restored, copy, gradient: 0.2)
    #expect(parameter.value == copy.value)
}

@Test("step schedule divides the rate every stepSize epochs")
func stepSchedule() {
    let schedule = StepSchedule(initialRate: 0.1, stepSize: 3)
    let rates = (0..<7).map { schedule.rate(epoch: $0) }
    #expect(zip(rates, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001]).allSatisfy { abs($0 - $1) < 1e-7 })
}

@Test("plateau schedule cuts the rate after more than `patience` epochs without improvement")
func plateauSchedule() {
    var schedule = PlateauSchedule(initialRate: 0.1, patience: 1)
    let rates = [1, 0.9, 0.95, 0.95, 0.8, 0.85].map { schedule.record(loss: Float($0)) }
    #expect(zip(rates, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01]).allSatisfy { abs($0 - $1) < 1e-7 })
}
