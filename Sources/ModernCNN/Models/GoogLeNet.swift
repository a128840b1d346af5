// GoogLeNet.swift: GoogLeNet (Szegedy et al., 2014) as d2l writes it for 1x96x96 Fashion-MNIST.
// Its unit is the Inception block: four branches read the same input and their outputs are
// stacked on the channel axis,
//   p1: 1x1                       c1 channels
//   p2: 1x1 -> 3x3                c2.reduce -> c2.out
//   p3: 1x1 -> 5x5                c3.reduce -> c3.out
//   p4: 3x3 max pool stride 1 -> 1x1   c4
// every convolution followed by ReLU. The 1x1 convolutions before the 3x3 and 5x5 cut their
// input channels (192 -> 96 before the first block's 3x3), which is what makes the wide
// windows affordable. Five stages: a 7x7 stem, a 1x1 + 3x3 stage, then 2, 5 and 2 Inception
// blocks, with 3x3 stride-2 max pools between stages, global average pooling and one dense layer.
//
// Parameter names follow d2l's PyTorch modules: "0.0.weight" is the stem convolution,
// "2.0.p2_2.weight" the first Inception block's 3x3, "5.weight" the dense layer, so that PyTorch
// loads our checkpoint into d2l's network unchanged.

public enum GoogLeNet {
    /// The channels of one Inception block: c1 for the 1x1 branch, (reduce, out) for the 3x3 and
    /// 5x5 branches, c4 for the pool branch's 1x1. Output channels: c1 + c2.out + c3.out + c4.
    public struct Channels: Sendable, Equatable {
        public let c1: Int, c2: (reduce: Int, out: Int), c3: (reduce: Int, out: Int), c4: Int
        public init(_ c1: Int, _ c2: (Int, Int), _ c3: (Int, Int), _ c4: Int) {
            (self.c1, self.c2, self.c3, self.c4) = (c1, (c2.0, c2.1), (c3.0, c3.1), c4)
        }
        public var output: Int { c1 + c2.out + c3.out + c4 }
        public static func == (a: Channels, b: Channels) -> Bool {
            a.c1 == b.c1 && a.c2 == b.c2 && a.c3 == b.c3 && a.c4 == b.c4
        }
    }

    /// What a variant changes from d2l's GoogLeNet. The default builds d2l's network exactly.
    public struct Design: Sendable, Equatable {
        /// Whether stage 2's two convolutions are followed by ReLU (d2l: yes; the course note's
        /// code leaves them out, which makes the 1x1 and the 3x3 one linear map).
        public var stageTwoReLU = true
        /// Batch normalisation after every convolution, before its ReLU (an exercise).
        public var batchNorm = false
        /// The 5x5 branch reshaped as two 3x3 convolutions that see the same 5x5 window (Inception
        /// v3's factorisation; an exercise): p3_2 a 3x3 keeping the reduced channels r, p3_3 a 3x3
        /// from r to the branch's output o, 9r² + 9ro weights where the 5x5 has 25ro.
        public var factorizedFiveByFive = false
        /// Each Inception block's output plus its input (through a 1x1 convolution where the
        /// channel counts differ): a residual connection (an exercise).
        public var residual = false
        /// A stem for 28x28 images: a 3x3 convolution at stride 1 and the pool (28 -> 14 px), where
        /// d2l's 7x7 stride-2 convolution and pool take 96 px to 24 (an exercise).
        public var smallImageStem = false
        public var initialization: WeightInitialization = .xavierUniform

        public init(
            stageTwoReLU: Bool = true, batchNorm: Bool = false, factorizedFiveByFive: Bool = false,
            residual: Bool = false, smallImageStem: Bool = false, initialization: WeightInitialization = .xavierUniform
        ) {
            (self.stageTwoReLU, self.batchNorm, self.initialization) = (stageTwoReLU, batchNorm, initialization)
            (self.factorizedFiveByFive, self.residual, self.smallImageStem) =
                (factorizedFiveByFive, residual, smallImageStem)
        }
    }

    /// d2l's nine Inception blocks, by stage (3, 4, 5), as the paper's table 1 gives them.
    public static let stages: [[Channels]] = [
        [Channels(64, (96, 128), (16, 32), 32), Channels(128, (128, 192), (32, 96), 64)],
        [
            Channels(192, (96, 208), (16, 48), 64), Channels(160, (112, 224), (24, 64), 64),
            Channels(128, (128, 256), (24, 64), 64), Channels(112, (144, 288), (32, 64), 64),
            Channels(256, (160, 320), (32, 128), 128),
        ],
        [Channels(256, (160, 320), (32, 128), 128), Channels(384, (192, 384), (48, 128), 128)],
    ]

    // snippet: inception
    /// One Inception block on `inputChannels` channels: four branches on the same input,
    /// concatenated on channels. Each branch names its layers as d2l's module does (p2_1, p2_2).
    public static func inception(
        inputChannels: Int, _ c: Channels, design: Design = Design(), generator g: inout SeededGenerator
    ) -> Concat {
        /// A convolution named `name`, then (batch norm and) ReLU.
        func convolution(_ name: String, _ inputs: Int, _ outputs: Int, kernel: Int) -> [(String, any Layer)] {
            let conv = Conv2d(
                inputChannels: inputs, outputChannels: outputs, kernelSize: kernel, padding: kernel / 2,
                initialization: design.initialization, generator: &g)
            let norm: [(String, any Layer)] = design.batchNorm ? [("\(name)_bn", BatchNorm2d(channels: outputs))] : []
            return [(name, conv)] + norm + [("\(name)_relu", ReLU())]
        }
        let pool: [(String, any Layer)] = [("p4_1", MaxPool2d(kernelSize: 3, stride: 1, padding: 1))]
        let branches: [[(String, any Layer)]] = [
            convolution("p1_1", inputChannels, c.c1, kernel: 1),
            convolution("p2_1", inputChannels, c.c2.reduce, kernel: 1)
                + convolution("p2_2", c.c2.reduce, c.c2.out, kernel: 3),
            convolution("p3_1", inputChannels, c.c3.reduce, kernel: 1)
                + (design.factorizedFiveByFive
                    ? convolution("p3_2", c.c3.reduce, c.c3.reduce, kernel: 3)
                        + convolution("p3_3", c.c3.reduce, c.c3.out, kernel: 3)
                    : convolution("p3_2", c.c3.reduce, c.c3.out, kernel: 5)),
            pool + convolution("p4_2", inputChannels, c.c4, kernel: 1),
        ]
        return Concat(
            branches.enumerated().map { ("p\($0.offset + 1)", Sequential(named: $0.element.map { ($0.0, $0.1) })) },
            namesBranchesInState: false)
    }
    // end snippet: inception

    // snippet: googlenet
    /// d2l's GoogLeNet: [N, 1, 96, 96] -> [N, classes], 5,977,530 parameters with 10 classes.
    /// Stage 1: 7x7 stride-2 convolution to 64 channels and a pool (96 -> 24 px); stage 2: 1x1
    /// to 64 and 3x3 to 192, a pool (-> 12 px); stages 3-5: Inception blocks (the pools take
    /// 12 -> 6 -> 3 px); then global average pooling, 1024 features, and a dense layer.
    public static func model(_ design: Design = Design(), classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        func convolution(_ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, relu: Bool = true) -> [any Layer]
        {
            let conv = Conv2d(
                inputChannels: inputs, outputChannels: outputs, kernelSize: kernel, stride: stride,
                padding: kernel / 2, initialization: design.initialization, generator: &g)
            return [conv] + (design.batchNorm ? [BatchNorm2d(channels: outputs)] : []) + (relu ? [ReLU()] : [])
        }
        func pool() -> MaxPool2d { MaxPool2d(kernelSize: 3, stride: 2, padding: 1) }
        var stageList: [Sequential] = [
            Sequential(
                (design.smallImageStem ? convolution(1, 64, kernel: 3) : convolution(1, 64, kernel: 7, stride: 2))
                    + [pool()]),
            Sequential(
                convolution(64, 64, kernel: 1, relu: design.stageTwoReLU)
                    + convolution(64, 192, kernel: 3, relu: design.stageTwoReLU) + [pool()]),
        ]
        var inputs = 192
        for (index, blocks) in stages.enumerated() {
            var layers: [any Layer] = []
            for channels in blocks {
                let block = inception(inputChannels: inputs, channels, design: design, generator: &g)
                layers.append(
                    design.residual
                        ? residual(
                            block, inputChannels: inputs, outputChannels: channels.output,
                            initialization: design.initialization, generator: &g)
                        : block)
                inputs = channels.output
            }
            let isLast = index == stages.count - 1
            layers += isLast ? [AdaptiveAvgPool2d(outputSize: (1, 1)), Flatten()] : [pool()]
            stageList.append(Sequential(layers))
        }
        let head = Linear(
            inputFeatures: inputs, outputFeatures: classes, initialization: design.initialization, generator: &g)
        return Sequential(stageList + [head])
    }
    // end snippet: googlenet

    // snippet: inception-residual
    /// An Inception block plus its input: y = block(x) + x, or y = block(x) + conv1x1(x) where
    /// the block changes the channel count (six of d2l's nine blocks do; 4b, 4c and 5a do not).
    public static func residual(
        _ block: Concat, inputChannels: Int, outputChannels: Int, initialization: WeightInitialization,
        generator g: inout SeededGenerator
    ) -> Residual {
        let shortcut =
            outputChannels == inputChannels
            ? nil
            : Conv2d(
                inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1,
                initialization: initialization, generator: &g)
        return Residual(block, shortcut: shortcut)
    }
    // end snippet: inception-residual
}
