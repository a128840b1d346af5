// VGG.swift: chapter 05's exercises (d2l's, in our words), each a function whose doc comment
// asks the question and whose return value is the answer, and the cost comparison of 5.5.
// ExercisesTests checks them: the counts against hand arithmetic and the built models, the
// short runs against what they produced.

import Foundation
import Kernels
import ModernCNN
import Notebook

public enum VGGExercises {
    // MARK: 5.5 The cost against AlexNet

    /// One network's size, work and measured time per image, on the input it was measured at.
    public struct Cost: Sendable {
        public let name: String
        public let parameters: Int
        public let multiplyAdds: Int
        /// Every layer's output for one image: what a training forward keeps for backward.
        public let activationBytes: Int
        /// Best of two: a training forward and backward of a batch, per image; an inference forward, per image.
        public let trainingSeconds: Double, inferenceSeconds: Double
    }

    /// `model`'s parameters, multiply-adds and activations on one image of `inputShape` ([C, H, W])
    /// counted from its profile, and a training step and an inference pass of `batchSize` images
    /// timed (best of two, after a first untimed one) through the execution plan the trainer runs.
    public static func measuredCost(
        _ name: String, _ model: any Layer, inputShape: [Int], batchSize: Int, seed: UInt64 = 0
    ) throws -> Cost {
        let profile = try ModelProfile(model, inputShape: [1] + inputShape)
        let plan = try ExecutionPlan(model, inputShape: [batchSize] + inputShape)
        var g = SeededGenerator(seed: seed)
        let images = Tensor(uniform: [batchSize] + inputShape, in: 0...1, generator: &g)
        let gradient = Tensor(
            uniform: [batchSize] + Array(profile.model.outputShape.dropFirst()), in: -0.01...0.01, generator: &g)
        let training = bestTime(repeats: 2) {
            _ = try! plan.forward(images, training: true)  // the shapes are the plan's own
            _ = plan.backward(gradient)
        }
        let inference = bestTime(repeats: 2) { _ = try! plan.forward(images, training: false) }
        return Cost(
            name: name, parameters: model.parameterCount, multiplyAdds: profile.model.multiplyAdds,
            activationBytes: profile.activationBytes, trainingSeconds: training / Double(batchSize),
            inferenceSeconds: inference / Double(batchSize))
    }

    // snippet: vgg-cost
    /// What VGG costs against AlexNet: d2l's AlexNet and small VGG on 1x224x224, their
    /// parameters, multiply-adds and activations counted from the profile, and a training step
    /// and an inference pass of `batchSize` images timed through the same execution plan the
    /// trainer runs.
    public static func costAgainstAlexNet(batchSize: Int, seed: UInt64 = 0) throws -> [Cost] {
        try [("AlexNet (d2l)", AlexNet.d2l(seed: seed)), ("VGG (small)", VGG.Variant.small.model(seed: seed))].map {
            try measuredCost($0, $1, inputShape: [1, 224, 224], batchSize: batchSize, seed: seed)
        }
    }
    // end snippet: vgg-cost

    // MARK: 1 and 2. Parameters and work, convolutions against dense layers

    /// A network's parameters and multiply-adds split between its convolutional part and its
    /// dense layers.
    public struct Split: Sendable {
        public let name: String
        public let convolutionParameters: Int, denseParameters: Int
        public let convolutionMultiplyAdds: Int, denseMultiplyAdds: Int
        public var parameters: Int { convolutionParameters + denseParameters }
        public var multiplyAdds: Int { convolutionMultiplyAdds + denseMultiplyAdds }
    }

    /// The split of `model` on `inputShape`, read from its profile's layers.
    public static func split(_ name: String, _ model: Sequential, inputShape: [Int]) throws -> Split {
        let leaves = try ModelProfile(model, inputShape: inputShape).leaves
        let convolutions = leaves.filter { $0.layer is Conv2d }, dense = leaves.filter { $0.layer is Linear }
        return Split(
            name: name, convolutionParameters: convolutions.reduce(0) { $0 + $1.parameterCount },
            denseParameters: dense.reduce(0) { $0 + $1.parameterCount },
            convolutionMultiplyAdds: convolutions.reduce(0) { $0 + $1.multiplyAdds },
            denseMultiplyAdds: dense.reduce(0) { $0 + $1.multiplyAdds })
    }

    // snippet: vgg-exercise-1-2
    /// Exercises 1 and 2. How many parameters do AlexNet and VGG-11 have, and where? How much of
    /// their work is in the convolutions and how much in the dense layers? Both on 1x224x224
    /// with 10 classes (d2l's versions), counted layer by layer.
    public static func alexNetAgainstVGG11() throws -> [Split] {
        try [
            split("AlexNet (d2l)", AlexNet.d2l(), inputShape: [1, 1, 224, 224]),
            split("VGG-11", VGG.Variant.vgg11.model(), inputShape: [1, 1, 224, 224]),
            split("VGG (small)", VGG.Variant.small.model(), inputShape: [1, 1, 224, 224]),
        ]
    }
    // end snippet: vgg-exercise-1-2

    // MARK: 3. Cutting the dense layers' cost

    /// A small VGG whose classifier is `head`: d2l's (two hidden layers of `hidden`), or global
    /// average pooling straight into the 10 outputs.
    public enum Head: Sendable, Equatable {
        case dense(hidden: Int)
        case globalAveragePooling
    }

    /// The small VGG's blocks on `inputSize`-pixel inputs with the given head.
    public static func smallVGG(head: Head, inputSize: Int, seed: UInt64 = 0) -> Sequential {
        switch head {
        case .dense(let hidden):
            return VGG.vgg(architecture: VGG.vgg11, channelDivisor: 4, hidden: hidden, inputSize: inputSize, seed: seed)
        case .globalAveragePooling:
            // The blocks alone, with the weights the dense-headed networks' blocks get from the
            // same seed (their generator draws for the blocks first).
            var blockGenerator = SeededGenerator(seed: seed)
            let blocks = VGG.blocks(architecture: VGG.vgg11, channelDivisor: 4, generator: &blockGenerator)
            var g = SeededGenerator(seed: seed &+ 3)
            let channels = VGG.vgg11.last!.outputChannels / 4
            return Sequential(
                blocks + [
                    AdaptiveAvgPool2d(outputSize: (1, 1)), Flatten(),
                    Linear(inputFeatures: channels, outputFeatures: 10, initialization: .xavierUniform, generator: &g),
                ])
        }
    }

    // snippet: vgg-exercise-3
    /// Exercise 3. How can the dense layers cost less? Three heads on the same small VGG blocks,
    /// each trained with Adam on the same images: d2l's two hidden layers of 4096, hidden layers
    /// of 512, and global average pooling into the 10 outputs (NiN's idea, chapter 06), which
    /// leaves no hidden layer at all.
    public static func cheaperHeads(data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0) throws -> [ShortRun] {
        try [
            ("two dense layers of 4096", Head.dense(hidden: 4096)), ("two dense layers of 512", .dense(hidden: 512)),
            ("global average pooling", .globalAveragePooling),
        ].map { name, head in
            try shortRun(
                name, model: smallVGG(head: head, inputSize: recipe.imageSize, seed: seed),
                optimizer: Adam(learningRate: recipe.learningRate), recipe: recipe, data: data, seed: seed,
                testingEveryEpoch: false)
        }
    }
    // end snippet: vgg-exercise-3

    // MARK: 4. Eight lines for eleven layers

    /// One line of a block-level shape trace and the weight layers inside it.
    public struct TraceLine: Sendable {
        public let module: String
        public let weightLayers: Int
    }

    // snippet: vgg-exercise-4
    /// Exercise 4. Why does a block-level trace of VGG-11 show fewer lines than its 11 layers?
    /// The trace prints one line per top-level module; a VGG block is one module holding one or
    /// two convolutions, the ReLUs and the pool. Counting the weight layers (convolutions and
    /// dense layers) per line gives the 11 back.
    public static func traceLines(of model: Sequential) -> [TraceLine] {
        model.children.map { name, layer in
            TraceLine(
                module: "\(name) \(String(describing: type(of: layer)))",
                weightLayers: layer.allLayers.filter { $0 is Conv2d || $0 is Linear }.count)
        }
    }
    // end snippet: vgg-exercise-4

    // MARK: 6. Smaller inputs

    // snippet: vgg-exercise-6
    /// Exercise 6. Does the small VGG need 224-pixel inputs? The same network on the same images
    /// at each size in `sizes` (the dense layer takes what the five pools leave: 7x7 at 224,
    /// 2x2 at 84, 1x1 at 56 and 32), each trained with Adam and the same recipe, for its speed
    /// and accuracy.
    public static func inputSizes(
        _ sizes: [Int], data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0
    )
        throws -> [ShortRun]
    {
        try sizes.map { size in
            var own = recipe
            own.imageSize = size
            return try shortRun(
                "\(size) px", model: VGG.Variant.small.model(inputSize: size, seed: seed),
                optimizer: Adam(learningRate: recipe.learningRate), recipe: own, data: data, seed: seed,
                testingEveryEpoch: false)
        }
    }
    // end snippet: vgg-exercise-6
}
