// LeNet.swift: LeNet-5 (LeCun et al., 1998) as d2l writes it for 28x28 Fashion-MNIST, and the
// "modern" variant d2l's exercises suggest. d2l deviates from the 1998 network: no Gaussian
// output layer and no sparse connection table between conv1 and conv2, and a padded first
// convolution so that 28x28 inputs give the 1998 network's 32x32 geometry.

/// The two LeNets of chapter 03, both [N, 1, 28, 28] -> [N, 10] with 61,706 parameters.
public enum LeNet {
    // snippet: lenet
    /// d2l's network: sigmoid activations and 2x2 average pooling, Xavier-uniform weights.
    public static func d2l(seed: UInt64 = 0) -> Sequential {
        layers(activation: Sigmoid.init, pool: { AvgPool2d(kernelSize: 2, stride: 2) }, seed: seed)
    }

    /// The same layers with what later networks use instead: ReLU and 2x2 max pooling.
    public static func modern(seed: UInt64 = 0) -> Sequential {
        layers(activation: ReLU.init, pool: { MaxPool2d(kernelSize: 2, stride: 2) }, seed: seed)
    }

    /// [N, 1, 28, 28] -> conv 6@5x5 pad 2 -> [N, 6, 28, 28] -> pool -> [N, 6, 14, 14]
    /// -> conv 16@5x5 -> [N, 16, 10, 10] -> pool -> [N, 16, 5, 5] -> 400 -> 120 -> 84 -> 10.
    private static func layers(activation: () -> any Layer, pool: () -> any Layer, seed: UInt64) -> Sequential {
        var g = SeededGenerator(seed: seed)
        return Sequential(
            Conv2d(
                inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2, initialization: .xavierUniform,
                generator: &g), activation(), pool(),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5, initialization: .xavierUniform, generator: &g),
            activation(), pool(),
            Flatten(),
            Linear(inputFeatures: 16 * 5 * 5, outputFeatures: 120, initialization: .xavierUniform, generator: &g),
            activation(),
            Linear(inputFeatures: 120, outputFeatures: 84, initialization: .xavierUniform, generator: &g), activation(),
            Linear(inputFeatures: 84, outputFeatures: 10, initialization: .xavierUniform, generator: &g))
    }
    // end snippet: lenet

    /// LeNet's shape with its knobs exposed, for experiments: one convolution per entry of
    /// `channels`, each followed by the activation. The first is padded to keep 28x28 and the
    /// second is not, each followed by a pool that halves the plane (LeNet's geometry); a third
    /// or later one is padded to keep its input's size, with no pool (the plane is 5x5 by then,
    /// too small to halve again). Then dense layers of `hidden` widths, each followed by the
    /// activation, and 10 outputs.
    public static func custom(
        kernelSize k: Int, channels: [Int], hidden: [Int],
        initialization: WeightInitialization, activation: () -> any Layer,
        pool: () -> any Layer, seed: UInt64
    ) -> Sequential {
        precondition(!channels.isEmpty, "LeNet.custom needs at least one convolution")
        var g = SeededGenerator(seed: seed)
        var layers: [any Layer] = []
        var (inputs, side) = (1, FashionMNIST.side)
        for (index, outputs) in channels.enumerated() {
            let padding = index == 1 ? 0 : (k - 1) / 2
            layers += [
                Conv2d(
                    inputChannels: inputs, outputChannels: outputs, kernelSize: k, padding: padding,
                    initialization: initialization, generator: &g),
                activation(),
            ]
            side = side + 2 * padding - k + 1
            if index < 2 {
                layers.append(pool())
                side /= 2
            }
            inputs = outputs
        }
        layers.append(Flatten())
        var features = inputs * side * side
        for width in hidden {
            layers += [
                Linear(
                    inputFeatures: features, outputFeatures: width, initialization: initialization,
                    generator: &g), activation(),
            ]
            features = width
        }
        layers.append(
            Linear(inputFeatures: features, outputFeatures: 10, initialization: initialization, generator: &g))
        return Sequential(layers)
    }
}
