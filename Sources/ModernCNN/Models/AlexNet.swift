// AlexNet.swift: AlexNet (Krizhevsky, Sutskever & Hinton, 2012) as d2l adapts it to 1x224x224
// Fashion-MNIST: one input channel, ten classes, both GPU halves merged into single wider layers,
// no local response normalisation. Layers, sizes and dropout otherwise follow the paper.

public enum AlexNet {
    /// d2l's network: 46,764,746 parameters, [N, 1, 224, 224] -> [N, 10].
    public static func d2l(classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        let dropoutSeed = seed &+ 1
        return Sequential(
            // 224 -> 54: a large 11x11 window with stride 4 shrinks the image fast.
            Conv2d(inputChannels: 1, outputChannels: 96, kernelSize: 11, stride: 4, padding: 1,
                   initialization: .xavierUniform, generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: 96, outputChannels: 256, kernelSize: 5, padding: 2, initialization: .xavierUniform,
                   generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: 256, outputChannels: 384, kernelSize: 3, padding: 1, initialization: .xavierUniform,
                   generator: &g), ReLU(),
            Conv2d(inputChannels: 384, outputChannels: 384, kernelSize: 3, padding: 1, initialization: .xavierUniform,
                   generator: &g), ReLU(),
            Conv2d(inputChannels: 384, outputChannels: 256, kernelSize: 3, padding: 1, initialization: .xavierUniform,
                   generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2), Flatten(),
            // 256 x 5 x 5 = 6400 features; the two hidden layers hold 90% of the parameters.
            Linear(inputFeatures: 6400, outputFeatures: 4096, initialization: .xavierUniform, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: dropoutSeed),
            Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: .xavierUniform, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: dropoutSeed &+ 1),
            Linear(inputFeatures: 4096, outputFeatures: classes, initialization: .xavierUniform, generator: &g))
    }
}
