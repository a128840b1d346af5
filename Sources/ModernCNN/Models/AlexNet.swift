// AlexNet.swift: AlexNet (Krizhevsky, Sutskever & Hinton, 2012) in three variants:
// - d2l: adapted to 1x224x224 Fashion-MNIST: one input channel, ten classes, both GPU halves
//   merged into single wider layers, no local response normalisation;
// - paper: the 2012 network, 3x227x227 in, 1000 classes, LRN, and the two-GPU split kept as
//   grouped convolutions (groups = 2) where the paper's GPUs did not talk to each other;
// - cpu: a lighter d2l network from a course note, with one hidden layer of 4096 instead of
//   two, no padding in conv1, and PyTorch module names `conv` and `fc`.

public enum AlexNet {
    // snippet: alexnet-d2l
    /// d2l's network: 46,764,746 parameters, [N, 1, 224, 224] -> [N, 10].
    public static func d2l(classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        let dropoutSeed = seed &+ 1
        return Sequential(
            // 224 -> 54: a large 11x11 window with stride 4 shrinks the image fast.
            Conv2d(
                inputChannels: 1, outputChannels: 96, kernelSize: 11, stride: 4, padding: 1,
                initialization: .xavierUniform, generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(
                inputChannels: 96, outputChannels: 256, kernelSize: 5, padding: 2, initialization: .xavierUniform,
                generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(
                inputChannels: 256, outputChannels: 384, kernelSize: 3, padding: 1, initialization: .xavierUniform,
                generator: &g), ReLU(),
            Conv2d(
                inputChannels: 384, outputChannels: 384, kernelSize: 3, padding: 1, initialization: .xavierUniform,
                generator: &g), ReLU(),
            Conv2d(
                inputChannels: 384, outputChannels: 256, kernelSize: 3, padding: 1, initialization: .xavierUniform,
                generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2), Flatten(),
            // 256 x 5 x 5 = 6400 features; the two hidden layers hold 90% of the parameters.
            Linear(inputFeatures: 6400, outputFeatures: 4096, initialization: .xavierUniform, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: dropoutSeed),
            Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: .xavierUniform, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: dropoutSeed &+ 1),
            Linear(inputFeatures: 4096, outputFeatures: classes, initialization: .xavierUniform, generator: &g))
    }
    // end snippet: alexnet-d2l

    // snippet: alexnet-paper
    /// The 2012 paper's network: 60,965,224 parameters with groups = 2 on conv2, conv4 and conv5
    /// (62,378,344 if those convolutions saw all channels). [N, 3, 227, 227] -> [N, classes].
    /// Weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden fully connected layers
    /// (so that their ReLUs start with positive inputs), 0 elsewhere.
    public static func paper(classes: Int = 1000, groups: Int = 2, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        let zeroBias = WeightInitialization.normal(standardDeviation: 0.01, bias: 0)
        let oneBias = WeightInitialization.normal(standardDeviation: 0.01, bias: 1)
        // The paper normalises b = a / (k + alpha * sum of a^2 over n channels)^beta with k = 2,
        // n = 5, alpha = 1e-4, beta = 0.75. PyTorch and Caffe divide alpha by n inside the sum's
        // coefficient, so the paper's alpha is 5 * 1e-4 in their convention (and in ours).
        // Copying alpha = 1e-4 into PyTorch, as many ports do, normalises five times more weakly.
        func lrn() -> LocalResponseNorm { LocalResponseNorm(size: 5, alpha: 5 * 1e-4, beta: 0.75, k: 2) }
        return Sequential(
            Conv2d(
                inputChannels: 3, outputChannels: 96, kernelSize: 11, stride: 4, initialization: zeroBias, generator: &g
            ),
            ReLU(), lrn(), MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(
                inputChannels: 96, outputChannels: 256, kernelSize: 5, padding: 2, groups: groups,
                initialization: oneBias, generator: &g),
            ReLU(), lrn(), MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(
                inputChannels: 256, outputChannels: 384, kernelSize: 3, padding: 1, initialization: zeroBias,
                generator: &g),
            ReLU(),
            Conv2d(
                inputChannels: 384, outputChannels: 384, kernelSize: 3, padding: 1, groups: groups,
                initialization: oneBias, generator: &g),
            ReLU(),
            Conv2d(
                inputChannels: 384, outputChannels: 256, kernelSize: 3, padding: 1, groups: groups,
                initialization: oneBias, generator: &g),
            ReLU(), MaxPool2d(kernelSize: 3, stride: 2), Flatten(),
            // Dropout on the outputs of the two hidden dense layers (fc6 and fc7), as the paper
            // places it.
            Linear(inputFeatures: 256 * 6 * 6, outputFeatures: 4096, initialization: oneBias, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: seed &+ 1),
            Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: oneBias, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: seed &+ 2),
            Linear(inputFeatures: 4096, outputFeatures: classes, initialization: zeroBias, generator: &g))
    }
    // end snippet: alexnet-paper

    // snippet: alexnet-cpu
    /// The CPU-simplified network: 29,983,434 parameters, [N, 1, 224, 224] -> [N, classes],
    /// PyTorch's default initialisation, children named `conv` and `fc` as in the note's module.
    public static func cpu(classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        let features = Sequential(
            Conv2d(inputChannels: 1, outputChannels: 96, kernelSize: 11, stride: 4, generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: 96, outputChannels: 256, kernelSize: 5, padding: 2, generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: 256, outputChannels: 384, kernelSize: 3, padding: 1, generator: &g), ReLU(),
            Conv2d(inputChannels: 384, outputChannels: 384, kernelSize: 3, padding: 1, generator: &g), ReLU(),
            Conv2d(inputChannels: 384, outputChannels: 256, kernelSize: 3, padding: 1, generator: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2))
        let classifier = Sequential(
            Linear(inputFeatures: 256 * 5 * 5, outputFeatures: 4096, generator: &g), ReLU(),
            Dropout(probability: 0.5, seed: seed &+ 1),
            Linear(inputFeatures: 4096, outputFeatures: classes, generator: &g))
        // The note's forward flattens between the two parts; Flatten has no parameters, so the
        // state_dict names stay conv.* and fc.*.
        return Sequential(named: [("conv", features), ("flatten", Flatten()), ("fc", classifier)])
    }
    // end snippet: alexnet-cpu
}
