// Initialization.swift: how a layer's weights start. The scheme decides whether a deep network
// trains at all, and each chapter says which one it follows.

public enum WeightInitialization: Sendable, Equatable {
    /// PyTorch's default for Conv2d and Linear: weight and bias U(-1/sqrt(fanIn), 1/sqrt(fanIn))
    /// (kaiming_uniform with a = sqrt(5) works out to that bound).
    case pytorchDefault
    /// Xavier uniform weights and zero bias, as d2l initialises its CNNs.
    case xavierUniform
    /// He (Kaiming) uniform weights for layers followed by ReLU, and zero bias: bound
    /// sqrt(6 / fanIn), twice Xavier's variance when fan-in equals fan-out, because a ReLU
    /// passes half of its input's variance on. PyTorch's kaiming_uniform_(nonlinearity="relu").
    case kaimingUniform
    /// N(0, standardDeviation) weights and a constant bias, as the AlexNet paper (0.01, and bias
    /// 1 in conv2, conv4, conv5 and the hidden fully connected layers, 0 elsewhere).
    case normal(standardDeviation: Float, bias: Float)

    /// Initial (weight, bias) for a weight of `shape` ([out, in, kernel...]) and `outputs` biases.
    func values(weightShape shape: [Int], generator: inout SeededGenerator) -> (weight: Tensor, bias: Tensor) {
        let (fanIn, _) = Tensor.fans(of: shape)
        let outputs = shape[0]
        switch self {
        case .pytorchDefault:
            let bound = 1 / Float(fanIn).squareRoot()
            return (
                Tensor(uniform: shape, in: -bound...bound, generator: &generator),
                Tensor(uniform: [outputs], in: -bound...bound, generator: &generator)
            )
        case .xavierUniform:
            return (Tensor(xavierUniform: shape, generator: &generator), Tensor(zeros: [outputs]))
        case .kaimingUniform:
            let bound = (6 / Float(fanIn)).squareRoot()
            return (Tensor(uniform: shape, in: -bound...bound, generator: &generator), Tensor(zeros: [outputs]))
        case let .normal(standardDeviation, bias):
            return (
                Tensor(normal: shape, standardDeviation: standardDeviation, generator: &generator),
                Tensor(shape: [outputs], repeating: bias)
            )
        }
    }
}
