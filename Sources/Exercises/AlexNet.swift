// AlexNet.swift: chapter 04's exercises (d2l 8.1), each a function whose doc comment asks the
// question in our words and whose return value is the answer. ExercisesTests checks every
// answer against an independent computation; the chapter prints them.

import Foundation
import Kernels
import ModernCNN
import Notebook

public enum AlexNetExercises {
    // MARK: 1. Memory

    /// Where AlexNet's memory goes, split at Flatten into the convolutional part and the fully
    /// connected part.
    public struct MemoryFootprint: Sendable {
        public struct Part: Sendable {
            public let parameters: Int
            /// Floats of every layer output for one image (what training keeps for backward).
            public let activationsPerImage: Int
        }
        public let convolutional: Part
        public let fullyConnected: Part
        public let batchSize: Int
        /// Training at `batchSize` with SGD and momentum, in bytes.
        public let training: MemoryEstimate
    }

    // snippet: alexnet-exercise-1
    /// Exercise 1. How much memory does AlexNet (d2l, one 224x224 image in) need: parameters and
    /// activations of the convolutions versus the fully connected layers, and all of training at
    /// batch 128 (weights, gradients, momentum, saved activations)? Which part dominates which?
    public static func memoryFootprint(batchSize: Int = 128) throws -> MemoryFootprint {
        let profile = try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])
        let flatten = profile.leaves.firstIndex { $0.layer is Flatten }!
        func part(_ leaves: ArraySlice<ModelProfile.Entry>) -> MemoryFootprint.Part {
            .init(
                parameters: leaves.reduce(0) { $0 + $1.parameterCount },
                activationsPerImage: leaves.reduce(0) { $0 + $1.outputShape.reduce(1, *) })
        }
        return MemoryFootprint(
            convolutional: part(profile.leaves[..<flatten]),
            fullyConnected: part(profile.leaves[flatten...]), batchSize: batchSize,
            training: profile.memoryEstimate(batchSize: batchSize, optimizerSlots: 1))
    }
    // end snippet: alexnet-exercise-1

    // MARK: 2. Compute

    public struct ComputeCost: Sendable {
        /// Multiply-adds of one image's forward pass, from the summary's formulas.
        public let convolutionalMultiplyAdds: Int
        public let fullyConnectedMultiplyAdds: Int
        /// The same forward pass counted by the instrumented GEMM while it really ran.
        public let countedMultiplyAdds: Int
    }

    // snippet: alexnet-exercise-2
    /// Exercise 2. How do the convolutions' multiply-adds compare with the fully connected
    /// layers'? Counted twice: by the summary's formulas, and by the instrumented SGEMM during a
    /// real forward pass of one image.
    public static func computeCost() throws -> ComputeCost {
        let model = AlexNet.d2l()
        let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
        let flatten = profile.leaves.firstIndex { $0.layer is Flatten }!
        var g = SeededGenerator(seed: 1)
        let image = Tensor(uniform: [1, 1, 224, 224], in: 0...1, generator: &g)
        let counted = try MultiplyAddCounter.counting { _ = try model.forward(image, training: false) }
        return ComputeCost(
            convolutionalMultiplyAdds: profile.leaves[..<flatten].reduce(0) { $0 + $1.multiplyAdds },
            fullyConnectedMultiplyAdds: profile.leaves[flatten...].reduce(0) { $0 + $1.multiplyAdds },
            countedMultiplyAdds: counted)
    }
    // end snippet: alexnet-exercise-2

    // MARK: 5. A simplified AlexNet

    /// AlexNet with half the channels in every convolution and one hidden layer of 1024 instead
    /// of two of 4096: about 1/4 of the convolutions' work and 1/25 of the parameters.
    public static func simplified(seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        func conv(_ c: Int, _ k: Int, _ r: Int, stride: Int = 1, padding: Int) -> Conv2d {
            Conv2d(
                inputChannels: c, outputChannels: k, kernelSize: r, stride: stride, padding: padding,
                initialization: .xavierUniform, generator: &g)
        }
        return Sequential(
            conv(1, 48, 11, stride: 4, padding: 1), ReLU(), MaxPool2d(kernelSize: 3, stride: 2),
            conv(48, 128, 5, padding: 2), ReLU(), MaxPool2d(kernelSize: 3, stride: 2),
            conv(128, 192, 3, padding: 1), ReLU(), conv(192, 192, 3, padding: 1), ReLU(),
            conv(192, 128, 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 3, stride: 2), Flatten(),
            Linear(inputFeatures: 128 * 5 * 5, outputFeatures: 1024, initialization: .xavierUniform, generator: &g),
            ReLU(), Dropout(probability: 0.5, seed: seed &+ 1),
            Linear(inputFeatures: 1024, outputFeatures: 10, initialization: .xavierUniform, generator: &g))
    }

    // snippet: alexnet-exercise-5
    /// Exercise 5. Can a simpler AlexNet train faster and keep its accuracy? Trains d2l's AlexNet
    /// and `simplified()` with the same recipe (224x224, SGD with momentum 0.9) and reports both runs.
    public static func simplifiedComparison(
        data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0
    ) throws
        -> [ShortRun]
    {
        try [("AlexNet (d2l)", AlexNet.d2l(seed: seed)), ("simplified AlexNet", simplified(seed: seed))].map {
            try shortRun(
                $0.0, model: $0.1, optimizer: SGD(learningRate: recipe.learningRate, momentum: 0.9), recipe: recipe,
                data: data, seed: seed)
        }
    }
    // end snippet: alexnet-exercise-5

    // MARK: 5. 28x28 inputs

    // snippet: alexnet-exercise-5-28x28
    /// Exercise 5, second part. An AlexNet for 28x28 Fashion-MNIST without resizing: the same five
    /// convolutions and three dense layers, but a 3x3 stride-1 first layer (an 11x11 stride-4
    /// window would shrink 28 pixels to 5 at once), 2x2 pools, and 3x3 at the end.
    /// [N, 1, 28, 28] -> 28 -> 14 -> 14 -> 7 -> 7 -> 3 -> [N, 256 * 3 * 3] -> 10.
    public static func alexNetFor28(dropout: Float = 0.5, seed: UInt64 = 0) -> Sequential {
        var g = SeededGenerator(seed: seed)
        func conv(_ c: Int, _ k: Int, _ r: Int, padding: Int) -> Conv2d {
            Conv2d(
                inputChannels: c, outputChannels: k, kernelSize: r, padding: padding, initialization: .xavierUniform,
                generator: &g)
        }
        return Sequential(
            conv(1, 96, 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2, stride: 2),
            conv(96, 256, 5, padding: 2), ReLU(), MaxPool2d(kernelSize: 2, stride: 2),
            conv(256, 384, 3, padding: 1), ReLU(), conv(384, 384, 3, padding: 1), ReLU(),
            conv(384, 256, 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 3, stride: 2), Flatten(),
            Linear(inputFeatures: 256 * 3 * 3, outputFeatures: 4096, initialization: .xavierUniform, generator: &g),
            ReLU(), Dropout(probability: dropout, seed: seed &+ 1),
            Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: .xavierUniform, generator: &g),
            ReLU(), Dropout(probability: dropout, seed: seed &+ 2),
            Linear(inputFeatures: 4096, outputFeatures: 10, initialization: .xavierUniform, generator: &g))
    }
    // end snippet: alexnet-exercise-5-28x28

    // MARK: 6. Batch size

    public struct BatchSizeRow: Sendable {
        public let batchSize: Int
        public let run: ShortRun
        /// Training memory at this batch size as the summary estimates it (weights, gradients,
        /// momentum, saved activations).
        public let estimatedBytes: Int
        /// What the run really added to the process at its peak: the resident high-water mark
        /// during the run above the resident size before it (nil where Linux cannot reset the
        /// mark). Includes the workspaces and the batches in flight, which the estimate leaves out.
        /// Meaningful when nothing else in the process allocates or frees meanwhile (a chapter).
        public let measuredBytes: Int?
    }

    // snippet: alexnet-exercise-6
    /// Exercise 6. How does the batch size change throughput, accuracy and memory? Trains the
    /// 28x28 AlexNet on the same images once per batch size (with lr scaled with the batch, as
    /// is usual), measures each run's peak memory and sets the summary's estimate beside it.
    public static func batchSizeStudy(
        batchSizes: [Int], data: FashionMNISTSplits, images: Int, testImages: Int,
        learningRatePer128: Float = 0.04, seed: UInt64 = 0
    ) throws -> [BatchSizeRow] {
        let profile = try ModelProfile(alexNetFor28(seed: seed), inputShape: [1, 1, 28, 28])
        return try batchSizes.map { batch in
            let lr = learningRatePer128 * Float(batch) / 128
            let recipe = Recipe(
                epochs: 1, batchSize: batch, learningRate: lr, trainLimit: images, testLimit: testImages)
            let before = ResidentMemory.current
            let measured = ResidentMemory.resetPeak()
            let run = try shortRun(
                "batch \(batch)", model: alexNetFor28(seed: seed),
                optimizer: SGD(learningRate: lr, momentum: 0.9), recipe: recipe, data: data, seed: seed)
            return BatchSizeRow(
                batchSize: batch, run: run,
                estimatedBytes: profile.memoryEstimate(batchSize: batch, optimizerSlots: 1).training,
                measuredBytes: measured ? before.map { ResidentMemory.peak - $0 } : nil)
        }
    }
    // end snippet: alexnet-exercise-6

    // MARK: 7. Dropout and ReLU on LeNet

    /// LeNet with a choice of activation and dropout after each hidden dense layer.
    public static func lenet(relu: Bool, dropout: Float?, seed: UInt64 = 0) -> Sequential {
        let base = relu ? LeNet.modern(seed: seed) : LeNet.d2l(seed: seed)
        guard let dropout else { return base }
        // Insert Dropout after the activations of the two hidden dense layers (indices 8 and 10).
        var layers = base.layers
        layers.insert(Dropout(probability: dropout, seed: seed &+ 2), at: 11)
        layers.insert(Dropout(probability: dropout, seed: seed &+ 1), at: 9)
        return Sequential(layers)
    }

    // snippet: alexnet-exercise-7
    /// Exercise 7. Do dropout and ReLU help LeNet? Four short runs with the same data and
    /// epochs: sigmoid (lr 0.9, d2l's), sigmoid with dropout 0.5, ReLU (lr 0.1), ReLU with dropout.
    public static func dropoutAndReLU(data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0) throws -> [ShortRun] {
        try [(false, nil), (false, 0.5), (true, nil), (true, 0.5)].map { (relu: Bool, dropout: Float?) in
            var variant = recipe
            variant.learningRate = relu ? 0.1 : 0.9
            let name = (relu ? "ReLU" : "sigmoid") + (dropout.map { " + dropout \($0)" } ?? "")
            return try shortRun(
                name, model: lenet(relu: relu, dropout: dropout, seed: seed),
                optimizer: SGD(learningRate: variant.learningRate), recipe: variant, data: data, seed: seed)
        }
    }
    // end snippet: alexnet-exercise-7
}
