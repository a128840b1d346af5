// NiN.swift: Network in Network (Lin, Chen and Yan, 2013) as d2l writes it for 1x224x224
// Fashion-MNIST. Each block is a convolution followed by two 1x1 convolutions, every one with a
// ReLU: a small multilayer perceptron applied at every pixel. There is no dense layer: the last
// block has one output channel per class, and global average pooling turns each channel's
// plane into that class's score. Parameter names follow d2l's nn.Sequential: "0.0.weight" is
// the first block's convolution, "7.4.bias" the last block's second 1x1 convolution.
//
// `Design` holds what chapter 06's experiment and exercises change (the number and size of the
// per-pixel convolutions, the initialisation, the last ReLU, the head); its default is d2l's.

public enum NiN {
    /// What a NiN variant changes from d2l's. The default builds d2l's network exactly.
    public struct Design: Sendable, Equatable {
        /// Convolutions after each block's first one (d2l: two).
        public var pointwiseLayers = 2
        /// Their kernel size: 1 in NiN; 3 turns each block into a stack of 3x3s (exercise 2).
        public var pointwiseKernel = 1
        public var initialization: WeightInitialization = .xavierUniform
        /// Whether the class block's last convolution is followed by ReLU, as in d2l. With it, a
        /// class whose channel dies scores 0 for every image; without it, scores can be negative.
        public var finalReLU = true
        public var head: Head = .globalAveragePooling
        /// The dropout probability before the class block (d2l: 0.5; 0 leaves dropout out).
        public var dropout: Float = 0.5

        public init(
            pointwiseLayers: Int = 2, pointwiseKernel: Int = 1, initialization: WeightInitialization = .xavierUniform,
            finalReLU: Bool = true, head: Head = .globalAveragePooling, dropout: Float = 0.5
        ) {
            precondition(pointwiseLayers >= 0 && pointwiseKernel % 2 == 1, "NiN needs odd per-pixel kernels")
            (self.pointwiseLayers, self.pointwiseKernel, self.initialization) =
                (pointwiseLayers, pointwiseKernel, initialization)
            (self.finalReLU, self.head, self.dropout) = (finalReLU, head, dropout)
        }
    }

    /// How the network turns its last maps into class scores.
    public enum Head: Sendable, Equatable {
        /// d2l's: a last block with one channel per class, each channel's plane averaged.
        case globalAveragePooling
        /// The same last block, its class maps flattened into a dense layer (exercise 3: global
        /// average pooling replaced by a fully connected layer).
        case dense
    }

    // snippet: nin-block
    /// One NiN block: a `kernelSize` convolution with the given stride and padding, then
    /// `pointwiseLayers` 1x1 convolutions (d2l: two), each of them followed by ReLU. The 1x1
    /// convolutions mix the channels at each pixel without looking at its neighbours.
    public static func ninBlock(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int, padding: Int,
        pointwiseLayers: Int = 2, pointwiseKernel: Int = 1, initialization: WeightInitialization = .xavierUniform,
        finalReLU: Bool = true, generator g: inout SeededGenerator
    ) -> Sequential {
        var layers: [any Layer] = [
            Conv2d(
                inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
                padding: padding, initialization: initialization, generator: &g), ReLU(),
        ]
        for _ in 0..<pointwiseLayers {
            layers += [
                Conv2d(
                    inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: pointwiseKernel,
                    padding: pointwiseKernel / 2, initialization: initialization, generator: &g), ReLU(),
            ]
        }
        if !finalReLU { layers.removeLast() }
        return Sequential(layers)
    }
    // end snippet: nin-block

    // snippet: nin
    /// d2l's NiN: AlexNet's convolution sizes (11x11 stride 4, 5x5, 3x3) as NiN blocks, 3x3
    /// max pools with stride 2 between them, dropout, and a last block with one channel per
    /// class, averaged over its plane. [N, 1, 224, 224] -> [N, classes], 1,992,166 parameters.
    public static func d2l(classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        model(Design(), classes: classes, seed: seed)
    }

    /// One stage of NiN: `blocks` NiN blocks of `channels`, the first with the stage's kernel,
    /// stride and padding, the rest 3x3 with padding 1, which keeps the plane (VGG's way of
    /// going deeper, exercise 6); a 3x3 stride-2 max pool follows every stage but the last.
    public struct Stage: Sendable, Equatable {
        public let channels: Int, kernelSize: Int, stride: Int, padding: Int, blocks: Int
    }

    /// d2l's four stages with `blocks` NiN blocks in each of the first three (d2l: [1, 1, 1]);
    /// the class stage, one channel per class, keeps one block.
    public static func stages(blocks: [Int] = [1, 1, 1], classes: Int = 10) -> [Stage] {
        precondition(blocks.count == 3, "blocks are given for the three feature stages")
        return [
            Stage(channels: 96, kernelSize: 11, stride: 4, padding: 0, blocks: blocks[0]),
            Stage(channels: 256, kernelSize: 5, stride: 1, padding: 2, blocks: blocks[1]),
            Stage(channels: 384, kernelSize: 3, stride: 1, padding: 1, blocks: blocks[2]),
            Stage(channels: classes, kernelSize: 3, stride: 1, padding: 1, blocks: 1),
        ]
    }

    /// NiN from `stages` (d2l's by default) changed as `design` says: pools between stages,
    /// dropout before the class stage, then the head. `inputSize` matters only to a dense head,
    /// whose input is the class maps' plane.
    public static func model(
        _ design: Design = Design(), stages: [Stage]? = nil, classes: Int = 10, inputSize: Int = 224,
        seed: UInt64 = 0
    ) -> Sequential {
        let stages = stages ?? Self.stages(classes: classes)
        var g = SeededGenerator(seed: seed)
        var layers: [any Layer] = []
        var inputs = 1
        for (index, stage) in stages.enumerated() {
            let isClassStage = index == stages.count - 1
            if isClassStage { layers.append(Dropout(probability: design.dropout, seed: seed &+ 1)) }
            for block in 0..<stage.blocks {
                let first = block == 0
                layers.append(
                    ninBlock(
                        inputChannels: inputs, outputChannels: stage.channels,
                        kernelSize: first ? stage.kernelSize : 3, stride: first ? stage.stride : 1,
                        padding: first ? stage.padding : 1, pointwiseLayers: design.pointwiseLayers,
                        pointwiseKernel: design.pointwiseKernel, initialization: design.initialization,
                        finalReLU: !isClassStage || design.finalReLU, generator: &g))
                inputs = stage.channels
            }
            if !isClassStage { layers.append(MaxPool2d(kernelSize: 3, stride: 2)) }
        }
        switch design.head {
        case .globalAveragePooling:
            // One channel per class: each plane, averaged, is that class's score.
            layers += [AdaptiveAvgPool2d(outputSize: (1, 1)), Flatten()]
        case .dense:
            let side = classMapSide(inputSize: inputSize)
            layers += [
                Flatten(),
                Linear(
                    inputFeatures: inputs * side * side, outputFeatures: inputs, initialization: design.initialization,
                    generator: &g),
            ]
        }
        return Sequential(layers)
    }
    // end snippet: nin

    /// The family's members by weight layers: 12 (d2l's), 18 and 24, like VGG's A, D and E.
    public static let family: [(name: String, blocks: [Int])] = [
        ("NiN-12", [1, 1, 1]), ("NiN-18", [1, 2, 2]), ("NiN-24", [1, 3, 3]),
    ]

    /// The side of the class maps for `inputSize`-pixel inputs: the 11x11 stride-4 convolution
    /// and three 3x3 stride-2 pools (5 at 224). Below 1 the input is too small for NiN.
    public static func classMapSide(inputSize: Int) -> Int {
        guard inputSize >= 11 else { return 0 }
        var side = (inputSize - 11) / 4 + 1
        for _ in 0..<3 {
            guard side >= 3 else { return 0 }
            side = (side - 3) / 2 + 1
        }
        return side
    }

    /// The smallest input NiN accepts (67): each of the three pools needs a 3x3 plane.
    public static var minimumInputSize: Int { (11...).first { classMapSide(inputSize: $0) >= 1 }! }
}
