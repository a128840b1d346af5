// FiveNetworks.swift: the book's five networks as d2l builds them, each at the input size d2l
// trains it at, for the closing comparison of chapter 07: their size and work counted from the
// profile, their speed measured through the execution plan (VGGExercises.measuredCost), and the
// chapter whose folder holds each one's last training run.

import ModernCNN
import Notebook

public enum FiveNetworks {
    /// One network of the comparison.
    public struct Network: Sendable {
        public let name: String
        /// The chapter's output folder ("03-lenet"), where its checkpoint is.
        public let chapter: String
        /// The side of the square input d2l trains it at.
        public let inputSize: Int
        /// The design idea it introduced, in a few words.
        public let idea: String
        public let build: @Sendable (_ seed: UInt64) -> Sequential
    }

    public static let networks: [Network] = [
        Network(
            name: "LeNet", chapter: "03-lenet", inputSize: 28,
            idea: "convolutions share weights across positions", build: { LeNet.d2l(seed: $0) }),
        Network(
            name: "AlexNet", chapter: "04-alexnet", inputSize: 224,
            idea: "depth, ReLU and dropout at ImageNet scale", build: { AlexNet.d2l(seed: $0) }),
        Network(
            name: "VGG (small)", chapter: "05-vgg", inputSize: 224,
            idea: "one rule repeated: blocks of 3x3 convolutions", build: { VGG.Variant.small.model(seed: $0) }),
        Network(
            name: "NiN", chapter: "06-nin", inputSize: 224,
            idea: "1x1 convolutions and global average pooling instead of dense layers",
            build: { NiN.d2l(seed: $0) }),
        Network(
            name: "GoogLeNet", chapter: "07-googlenet", inputSize: 96,
            idea: "parallel branches of several window sizes, made cheap by 1x1 reductions",
            build: { GoogLeNet.model(seed: $0) }),
    ]

    // snippet: five-networks
    /// Every network's parameters, multiply-adds and activations per image at its own input size,
    /// and a training step and an inference pass of `batchSize` images timed in this process.
    public static func costs(batchSize: Int, seed: UInt64 = 0) throws -> [VGGExercises.Cost] {
        try networks.map { network in
            try VGGExercises.measuredCost(
                network.name, network.build(seed), inputShape: [1, network.inputSize, network.inputSize],
                batchSize: batchSize, seed: seed)
        }
    }
    // end snippet: five-networks
}
