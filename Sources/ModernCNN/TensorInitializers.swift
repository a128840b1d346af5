// TensorInitializers.swift: seeded random tensors. Weight initialisation decides whether a deep
// network trains at all, so each scheme says where its scale comes from.

extension Tensor {
    /// Uniform samples in `range`.
    public init(uniform shape: [Int], in range: ClosedRange<Float>, generator: inout SeededGenerator) {
        self.init(zeros: shape)
        let width = range.upperBound - range.lowerBound
        withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = range.lowerBound + width * generator.nextUnitFloat() }
        }
    }

    /// Normal samples with the given mean and standard deviation (the AlexNet paper: N(0, 0.01)).
    public init(
        normal shape: [Int], mean: Float = 0, standardDeviation: Float,
        generator: inout SeededGenerator
    ) {
        self.init(zeros: shape)
        withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = mean + standardDeviation * generator.nextNormal() }
        }
    }

    /// Xavier (Glorot & Bengio 2010) uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)), which
    /// keeps the variance of activations and of gradients roughly equal from layer to layer.
    /// d2l initialises its CNNs this way. For a conv weight [K, C, R, S], fanIn = C*R*S and
    /// fanOut = K*R*S; for a linear weight [out, in], fanIn = in and fanOut = out.
    public init(xavierUniform shape: [Int], generator: inout SeededGenerator) {
        let (fanIn, fanOut) = Tensor.fans(of: shape)
        let bound = (6 / Float(fanIn + fanOut)).squareRoot()
        self.init(uniform: shape, in: -bound...bound, generator: &generator)
    }

    /// Fan-in and fan-out of a weight shape [out, in, kernel...] as PyTorch computes them.
    public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fans need a weight of rank 2 or more, got \(shape)")
        let receptiveField = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptiveField, shape[0] * receptiveField)
    }
}
