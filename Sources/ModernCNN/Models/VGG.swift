// VGG.swift: the networks of Simonyan and Zisserman's "Very Deep Convolutional Networks for
// Large-Scale Image Recognition" (2014), built from one repeated block, as d2l writes them:
// - vgg11: configuration A of the paper (8 convolutions + 3 dense layers) on 1x224x224,
//   10 classes;
// - small: d2l's trainable version, every convolution with a quarter of the channels;
// - cpu: a course note's version with an eighth of the channels and dense layers of 512;
// - the paper's whole family (A to E, 11 to 19 layers) as data, for counting.
// Parameter names follow d2l's nn.Sequential(*blocks, Flatten, Linear, ...): "0.0.weight" is
// the first block's first convolution, "6.weight" the first dense layer.

public enum VGG {
    /// A VGG network's convolutional part: per block, how many 3x3 convolutions and their
    /// output channels. Every block ends in a 2x2 max pool that halves the plane.
    public typealias Architecture = [(convolutions: Int, outputChannels: Int)]

    /// Configuration A of the paper, VGG-11: 8 convolutions in 5 blocks, then 3 dense layers.
    public static let vgg11: Architecture = [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)]
    /// Configuration D, VGG-16: 13 convolutions.
    public static let vgg16: Architecture = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]
    /// Configuration E, VGG-19: 16 convolutions.
    public static let vgg19: Architecture = [(2, 64), (2, 128), (4, 256), (4, 512), (4, 512)]

    // snippet: vgg-block
    /// One VGG block: `convolutions` 3x3 convolutions with padding 1 (the plane keeps its size),
    /// each followed by ReLU, then a 2x2 max pool with stride 2 (the plane halves).
    /// [N, inputChannels, H, W] -> [N, outputChannels, H / 2, W / 2].
    public static func vggBlock(
        convolutions: Int, inputChannels: Int, outputChannels: Int, generator g: inout SeededGenerator
    ) -> Sequential {
        var layers: [any Layer] = []
        for index in 0..<convolutions {
            layers += [
                Conv2d(
                    inputChannels: index == 0 ? inputChannels : outputChannels, outputChannels: outputChannels,
                    kernelSize: 3, padding: 1, initialization: .xavierUniform, generator: &g),
                ReLU(),
            ]
        }
        return Sequential(layers + [MaxPool2d(kernelSize: 2, stride: 2)])
    }
    // end snippet: vgg-block

    // snippet: vgg
    /// VGG's convolutional part: one block per entry of `architecture`, every channel count
    /// divided by `channelDivisor`, each block's input the last one's output.
    public static func blocks(
        architecture: Architecture, channelDivisor: Int = 1, inputChannels: Int = 1,
        generator g: inout SeededGenerator
    ) -> [Sequential] {
        var channels = inputChannels
        return architecture.map { convolutions, outputChannels in
            defer { channels = outputChannels / channelDivisor }
            return vggBlock(
                convolutions: convolutions, inputChannels: channels, outputChannels: outputChannels / channelDivisor,
                generator: &g)
        }
    }

    /// A VGG network: its blocks, then d2l's classifier: two hidden dense layers of `hidden`
    /// units with ReLU and dropout 0.5, and `classes` outputs. The first dense layer's width is
    /// whatever the blocks leave: channels x (side / 32)^2, 512 x 7 x 7 = 25,088 for VGG-11 at 224.
    public static func vgg(
        architecture: Architecture, channelDivisor: Int = 1, hidden: Int = 4096, classes: Int = 10,
        inputChannels: Int = 1, inputSize: Int = 224, seed: UInt64 = 0
    ) -> Sequential {
        var g = SeededGenerator(seed: seed)
        let features = blocks(
            architecture: architecture, channelDivisor: channelDivisor, inputChannels: inputChannels, generator: &g)
        // Each block's pool halves the side, rounding down.
        let (channels, side) = (architecture.last!.outputChannels / channelDivisor, inputSize >> architecture.count)
        return Sequential(
            features + [
                Flatten(),
                Linear(
                    inputFeatures: channels * side * side, outputFeatures: hidden, initialization: .xavierUniform,
                    generator: &g), ReLU(), Dropout(probability: 0.5, seed: seed &+ 1),
                Linear(inputFeatures: hidden, outputFeatures: hidden, initialization: .xavierUniform, generator: &g),
                ReLU(), Dropout(probability: 0.5, seed: seed &+ 2),
                Linear(inputFeatures: hidden, outputFeatures: classes, initialization: .xavierUniform, generator: &g),
            ])
    }
    // end snippet: vgg

    /// One column of the paper's Table 1: a configuration's convolutions per block, as kernel
    /// sizes (configuration C puts a 1x1 convolution at the end of its last three blocks), and
    /// whether LRN follows the first convolution (A-LRN). Channels per block are 64, 128, 256,
    /// 512, 512 in every column; the three dense layers (4096, 4096, 1000) are the same too.
    public struct PaperConfiguration: Sendable {
        public let name: String
        public let kernels: [[Int]]
        public let localResponseNormalization: Bool
        public static let channels = [64, 128, 256, 512, 512]

        /// Convolutions plus the three dense layers: the "11" of VGG-11.
        public var weightLayers: Int { kernels.joined().count + 3 }

        /// One block's cell of the table, a layer a line: "conv3-256", "conv1-512", "LRN".
        public func layers(ofBlock block: Int) -> [String] {
            var names = kernels[block].map { "conv\($0)-\(Self.channels[block])" }
            if localResponseNormalization && block == 0 { names.insert("LRN", at: 1) }
            return names
        }

        /// Parameters for 3x224x224 inputs and 1,000 classes, counted from the layers: each
        /// convolution's k x k x inputs x outputs weights and outputs biases, then the dense
        /// layers from 512 x 7 x 7 = 25,088 features (224 halved five times is 7).
        public var parameterCount: Int {
            var (count, inputs) = (0, 3)
            for (block, kernels) in kernels.enumerated() {
                for k in kernels {
                    count += k * k * inputs * Self.channels[block] + Self.channels[block]
                    inputs = Self.channels[block]
                }
            }
            let widths = [inputs * 7 * 7, 4096, 4096, 1000]
            return zip(widths, widths.dropFirst()).reduce(count) { $0 + $1.0 * $1.1 + $1.1 }
        }
    }

    /// The paper's Table 1, columns A to E.
    public static let paperConfigurations: [PaperConfiguration] = [
        .init(name: "A", kernels: [[3], [3], [3, 3], [3, 3], [3, 3]], localResponseNormalization: false),
        .init(name: "A-LRN", kernels: [[3], [3], [3, 3], [3, 3], [3, 3]], localResponseNormalization: true),
        .init(name: "B", kernels: [[3, 3], [3, 3], [3, 3], [3, 3], [3, 3]], localResponseNormalization: false),
        .init(
            name: "C", kernels: [[3, 3], [3, 3], [3, 3, 1], [3, 3, 1], [3, 3, 1]], localResponseNormalization: false),
        .init(
            name: "D", kernels: [[3, 3], [3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]], localResponseNormalization: false),
        .init(
            name: "E", kernels: [[3, 3], [3, 3], [3, 3, 3, 3], [3, 3, 3, 3], [3, 3, 3, 3]],
            localResponseNormalization: false),
    ]

    /// The networks the chapter trains: VGG-11 at full width, d2l's quarter-width version, and
    /// the course note's eighth-width version with dense layers of 512.
    public enum Variant: String, CaseIterable, Sendable {
        case vgg11, small, cpu

        public var channelDivisor: Int {
            switch self {
            case .vgg11: 1
            case .small: 4
            case .cpu: 8
            }
        }
        public var hidden: Int { self == .cpu ? 512 : 4096 }

        public func model(inputSize: Int = 224, seed: UInt64 = 0) -> Sequential {
            vgg(
                architecture: VGG.vgg11, channelDivisor: channelDivisor, hidden: hidden, inputSize: inputSize,
                seed: seed)
        }
    }
}
