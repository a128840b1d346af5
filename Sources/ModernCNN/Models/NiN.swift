// NiN.swift: Network in Network (Lin, Chen and Yan, 2013) as d2l writes it for 1x224x224
// Fashion-MNIST. Each block is a convolution followed by two 1x1 convolutions, every one with a
// ReLU: a small multilayer perceptron applied at every pixel. There is no dense layer: the last
// block has one output channel per class, and global average pooling turns each channel's
// plane into that class's score. Parameter names follow d2l's nn.Sequential: "0.0.weight" is
// the first block's convolution, "7.4.bias" the last block's second 1x1 convolution.

public enum NiN {
    // snippet: nin-block
    /// One NiN block: a `kernelSize` convolution with the given stride and padding, then two 1x1
    /// convolutions, each of the three followed by ReLU. The 1x1 convolutions mix the channels
    /// at each pixel without looking at its neighbours.
    public static func ninBlock(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int, padding: Int,
        generator g: inout SeededGenerator
    ) -> Sequential {
        Sequential(
            Conv2d(
                inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
                padding: padding, initialization: .xavierUniform, generator: &g), ReLU(),
            Conv2d(
                inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 1,
                initialization: .xavierUniform, generator: &g), ReLU(),
            Conv2d(
                inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 1,
                initialization: .xavierUniform, generator: &g), ReLU())
    }
    // end snippet: nin-block

    // snippet: nin
    /// d2l's NiN: AlexNet's convolution sizes (11x11 stride 4, 5x5, 3x3) as NiN blocks, 3x3
    /// max pools with stride 2 between them, dropout, and a last block with one channel per
    /// class, averaged over its plane. [N, 1, 224, 224] -> [N, classes], 1,992,166 parameters.
    public static func d2l(classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        return Sequential(
            ninBlock(inputChannels: 1, outputChannels: 96, kernelSize: 11, stride: 4, padding: 0, generator: &g),
            MaxPool2d(kernelSize: 3, stride: 2),
            ninBlock(inputChannels: 96, outputChannels: 256, kernelSize: 5, stride: 1, padding: 2, generator: &g),
            MaxPool2d(kernelSize: 3, stride: 2),
            ninBlock(inputChannels: 256, outputChannels: 384, kernelSize: 3, stride: 1, padding: 1, generator: &g),
            MaxPool2d(kernelSize: 3, stride: 2),
            Dropout(probability: 0.5, seed: seed &+ 1),
            // One channel per class: each 5x5 plane, averaged, is that class's score.
            ninBlock(inputChannels: 384, outputChannels: classes, kernelSize: 3, stride: 1, padding: 1, generator: &g),
            AdaptiveAvgPool2d(outputSize: (1, 1)), Flatten())
    }
    // end snippet: nin
}
