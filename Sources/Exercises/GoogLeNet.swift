// GoogLeNet.swift: chapter 07's computed answers: how each Inception block spends its channels,
// parameters and multiply-adds branch by branch (7.1, 7.3), what the 1x1 reductions save, the
// smallest input GoogLeNet takes, and the four networks' parameters and work side by side.
// ExercisesTests checks them against independent computations.

import ModernCNN
import Notebook

public enum GoogLeNetExercises {
    /// The paper's names for the nine Inception blocks, in order (stage 3: 3a, 3b; 4: 4a-4e; 5: 5a, 5b).
    public static let blockNames = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]

    /// One Inception block as it runs in d2l's GoogLeNet: its channels, plane and cost by branch.
    public struct BlockCost: Sendable {
        public let name: String
        public let inputChannels: Int
        public let channels: GoogLeNet.Channels
        /// The side of its square input and output planes.
        public let side: Int
        /// Per branch (1x1; 1x1 -> 3x3; 1x1 -> 5x5; pool -> 1x1), per image.
        public let branchParameters: [Int], branchMultiplyAdds: [Int]
        public var parameters: Int { branchParameters.reduce(0, +) }
        public var multiplyAdds: Int { branchMultiplyAdds.reduce(0, +) }
    }

    // snippet: googlenet-allocation
    /// Every Inception block of d2l's GoogLeNet on one 1 x `inputSize` x `inputSize` image: its
    /// four branches' parameters and multiply-adds, read from the model's profile.
    public static func blockCosts(inputSize: Int = 96) throws -> [BlockCost] {
        let profile = try ModelProfile(GoogLeNet.model(), inputShape: [1, 1, inputSize, inputSize])
        let blocks = profile.entries.filter { $0.layer is Concat }
        let channels = GoogLeNet.stages.flatMap { $0 }
        return zip(blocks, channels).enumerated().map { index, pair in
            let (block, c) = pair
            let branches = profile.entries.filter { $0.depth == block.depth + 1 && $0.path.hasPrefix(block.path + ".") }
            return BlockCost(
                name: blockNames[index], inputChannels: block.inputShape[1], channels: c, side: block.inputShape[2],
                branchParameters: branches.map(\.parameterCount), branchMultiplyAdds: branches.map(\.multiplyAdds))
        }
    }
    // end snippet: googlenet-allocation

    /// What one block would cost with its 3x3 and 5x5 convolutions reading the block's input
    /// directly, without the 1x1 reductions before them (the same output channels).
    public static func withoutReductions(_ block: BlockCost) -> (parameters: Int, multiplyAdds: Int) {
        let (c, inputs, plane) = (block.channels, block.inputChannels, block.side * block.side)
        func conv(_ i: Int, _ o: Int, _ k: Int) -> (Int, Int) { (o * (i * k * k + 1), plane * o * i * k * k) }
        let parts = [
            conv(inputs, c.c1, 1), conv(inputs, c.c2.out, 3), conv(inputs, c.c3.out, 5), conv(inputs, c.c4, 1),
        ]
        return (parts.reduce(0) { $0 + $1.0 }, parts.reduce(0) { $0 + $1.1 })
    }

    // MARK: exercise 1: four variants, measured

    /// One variant of exercise 1: what it changes from d2l's network, how it is built and trained.
    public struct Variant: Sendable {
        public let name: String
        public let design: GoogLeNet.Design
        /// Label smoothing of the loss (0: plain cross-entropy).
        public let labelSmoothing: Float

        /// d2l's network, the four changes the exercise asks about, each alone, and the course
        /// note's network (stage 2 without its ReLUs), all with `initialization` (the quick run's
        /// He initialisation).
        public static func exerciseOne(initialization: WeightInitialization) -> [Variant] {
            let base = GoogLeNet.Design(initialization: initialization)
            func changed(_ change: (inout GoogLeNet.Design) -> Void) -> GoogLeNet.Design {
                var design = base
                change(&design)
                return design
            }
            return [
                Variant(name: "d2l's GoogLeNet", design: base, labelSmoothing: 0),
                Variant(name: "batch normalisation", design: changed { $0.batchNorm = true }, labelSmoothing: 0),
                Variant(name: "5x5 as two 3x3", design: changed { $0.factorizedFiveByFive = true }, labelSmoothing: 0),
                Variant(name: "label smoothing 0.1", design: base, labelSmoothing: 0.1),
                Variant(name: "residual blocks", design: changed { $0.residual = true }, labelSmoothing: 0),
                Variant(name: "stage 2 without ReLUs", design: changed { $0.stageTwoReLU = false }, labelSmoothing: 0),
            ]
        }
    }

    /// A variant's short run beside its size and work per image at the run's input size.
    public struct VariantRun: Sendable {
        public let variant: Variant
        public let run: ShortRun
        public let parameters: Int
        public let multiplyAdds: Int
    }

    // snippet: googlenet-exercise-1
    /// Exercise 1. Each variant trained from the same seed on the same images with Adam, and
    /// what it costs: parameters and multiply-adds per image at the recipe's input size.
    public static func variants(
        _ variants: [Variant], data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0
    ) throws -> [VariantRun] {
        try variants.map { variant in
            let model = GoogLeNet.model(variant.design, seed: seed)
            let profile = try ModelProfile(model, inputShape: [1, 1, recipe.imageSize, recipe.imageSize])
            let run = try shortRun(
                variant.name, model: model, optimizer: Adam(learningRate: recipe.learningRate), recipe: recipe,
                data: data, seed: seed, testingEveryEpoch: false, labelSmoothing: variant.labelSmoothing)
            return VariantRun(
                variant: variant, run: run, parameters: model.parameterCount, multiplyAdds: profile.model.multiplyAdds)
        }
    }
    // end snippet: googlenet-exercise-1

    // MARK: exercise 3: a GoogLeNet for 28x28 images

    /// A network for exercise 3 and the input size it runs at.
    public struct SizedNetwork: Sendable {
        public let name: String
        public let design: GoogLeNet.Design
        public let imageSize: Int
    }

    /// d2l's network at its 96 px and at `quickSize` (both upscaled from 28), and the small-image
    /// stem at the images' own 28 px.
    public static func sizedNetworks(initialization: WeightInitialization, quickSize: Int) -> [SizedNetwork] {
        let d2l = GoogLeNet.Design(initialization: initialization)
        var small = d2l
        small.smallImageStem = true
        return [
            SizedNetwork(name: "d2l's stem at 96 px", design: d2l, imageSize: 96),
            SizedNetwork(name: "d2l's stem at \(quickSize) px", design: d2l, imageSize: quickSize),
            SizedNetwork(name: "3x3 stem at 28 px", design: small, imageSize: FashionMNIST.side),
        ]
    }

    /// Each network's plane side entering stages 3, 4 and 5 (from its profile) and its
    /// multiply-adds per image.
    public static func stagePlanes(_ network: SizedNetwork) throws -> (sides: [Int], multiplyAdds: Int) {
        let model = GoogLeNet.model(network.design)
        let profile = try ModelProfile(model, inputShape: [1, 1, network.imageSize, network.imageSize])
        let stages = profile.entries(toDepth: 0)
        return (stages[2...4].map { $0.inputShape[2] }, profile.model.multiplyAdds)
    }

    // snippet: googlenet-exercise-3
    /// Exercise 3. The networks of `sizedNetworks` trained on the same images, each at its own
    /// input size, with the recipe's optimizer settings.
    public static func smallImages(
        _ networks: [SizedNetwork], data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0
    ) throws -> [ShortRun] {
        try networks.map { network in
            var own = recipe
            own.imageSize = network.imageSize
            return try shortRun(
                network.name, model: GoogLeNet.model(network.design, seed: seed),
                optimizer: Adam(learningRate: recipe.learningRate), recipe: own, data: data, seed: seed,
                testingEveryEpoch: false)
        }
    }
    // end snippet: googlenet-exercise-3

    // MARK: exercise 2: the smallest input

    /// The smallest square input GoogLeNet's shapes allow, found by shape inference from 1 px up,
    /// and the largest input whose last stage sees planes of 1x1 (where its 3x3 and 5x5
    /// convolutions see nothing but padding around one value).
    public static func smallestInputs() -> (smallest: Int, lastStageOnePixelUpTo: Int) {
        let model = GoogLeNet.model()
        let smallest = (1...96).first { (try? model.outputShape(for: [1, 1, $0, $0])) != nil }!
        let stagesBeforeLast = Sequential(Array(model.layers.prefix(4)))
        let onePixel = (1...96).last { (try? stagesBeforeLast.outputShape(for: [1, 1, $0, $0]))?[2] == 1 }!
        return (smallest, onePixel)
    }

    // MARK: exercises 4 and 5: four networks side by side

    // snippet: googlenet-side-by-side
    /// d2l's AlexNet, VGG-11, NiN (each at 224 px) and GoogLeNet (at 96 px, d2l's size):
    /// parameters and multiply-adds split between convolutions and dense layers.
    public static func sideBySide() throws -> [VGGExercises.Split] {
        try [
            VGGExercises.split("AlexNet (d2l)", AlexNet.d2l(), inputShape: [1, 1, 224, 224]),
            VGGExercises.split("VGG-11", VGG.Variant.vgg11.model(), inputShape: [1, 1, 224, 224]),
            VGGExercises.split("NiN (d2l)", NiN.d2l(), inputShape: [1, 1, 224, 224]),
            VGGExercises.split("GoogLeNet (d2l)", GoogLeNet.model(), inputShape: [1, 1, 96, 96]),
            VGGExercises.split("GoogLeNet at 224", GoogLeNet.model(), inputShape: [1, 1, 224, 224]),
        ]
    }
    // end snippet: googlenet-side-by-side
}
