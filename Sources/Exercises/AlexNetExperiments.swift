// AlexNetExperiments.swift: chapter 04's exercises 3, 4, 8 and 9: the bytes each layer moves per
// multiply-add, longer training beside LeNet's, making AlexNet overfit, and what later networks
// bought. Exercises 1, 2 and 5-7 are in AlexNet.swift.

import Foundation
import Kernels
import ModernCNN
import Notebook

extension AlexNetExercises {
    // MARK: 3. Bytes per multiply-add

    /// One layer's traffic, counted as if every tensor crossed memory once: the weights once per
    /// batch, each image's input and output once.
    public struct LayerTraffic: Sendable {
        public let layer: String
        /// Per image.
        public let multiplyAdds: Int
        public let weightBytes: Int
        /// Input and output of one image.
        public let activationBytes: Int

        /// Bytes moved per multiply-add at batch size `batch`.
        public func bytesPerMultiplyAdd(batch: Int) -> Double {
            (Double(weightBytes) + Double(batch) * Double(activationBytes)) / (Double(batch) * Double(multiplyAdds))
        }
    }

    // snippet: alexnet-exercise-3
    /// Exercise 3. How do memory bandwidth and size bear on training against inference? For each
    /// layer that multiplies (d2l's AlexNet, 224x224), the bytes it must move per multiply-add:
    /// at batch 1 (inference on one image) a dense layer reads every weight for one image; at
    /// batch 128 (training) the same weights serve 128 images.
    public static func trafficPerLayer() throws -> [LayerTraffic] {
        let profile = try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])
        return profile.leaves.filter { $0.multiplyAdds > 0 }.map { entry in
            LayerTraffic(
                layer: "\(entry.path) \(entry.layer.description)", multiplyAdds: entry.multiplyAdds,
                weightBytes: entry.parameterCount * 4,
                activationBytes: (entry.inputShape.reduce(1, *) + entry.outputShape.reduce(1, *)) * 4)
        }
    }
    // end snippet: alexnet-exercise-3

    /// This machine's balance: bytes of memory traffic it can afford per multiply-add at full
    /// speed, from a measured copy bandwidth (a 256 MB copy, best of three) and the FMA probe's
    /// peak on all threads. A layer that needs more bytes per multiply-add than this is bound by
    /// memory, one that needs fewer by arithmetic.
    public struct MachineBalance: Sendable {
        public let bytesPerSecond: Double
        public let multiplyAddsPerSecond: Double
        public var bytesPerMultiplyAdd: Double { bytesPerSecond / multiplyAddsPerSecond }
    }

    public static func measureBalance() -> MachineBalance {
        let count = 64 << 20  // floats: 256 MB, far past any cache
        let source = AlignedBuffer(count: count), target = AlignedBuffer(count: count)
        source.pointer.update(repeating: 1, count: count)
        target.pointer.update(repeating: 0, count: count)
        let seconds = bestTime(repeats: 3) { target.pointer.update(from: source.pointer, count: count) }
        // A copy reads and writes every byte.
        return MachineBalance(
            bytesPerSecond: 2 * Double(count * 4) / seconds,
            multiplyAddsPerSecond: PeakProbe.flopsPerSecond(threads: Parallel.threadCount) / 2)
    }

    // MARK: 4. More epochs, beside LeNet

    // snippet: alexnet-exercise-4
    /// Exercise 4. With more epochs, how do AlexNet's curves differ from LeNet's, and why? Trains
    /// the 28x28 AlexNet (exercise 5's, so that both see the same images at the same size) and
    /// d2l's LeNet on the same images for the same epochs, each with its own recipe (SGD with
    /// momentum 0.9 at lr 0.01 for AlexNet; d2l's lr 0.9 for LeNet), and returns both runs.
    public static func longerTraining(
        data: FashionMNISTSplits, epochs: Int, images: Int, testImages: Int, seed: UInt64 = 0
    ) throws -> (alexNet: ShortRun, leNet: ShortRun) {
        let recipe = Recipe(
            epochs: epochs, batchSize: 64, learningRate: 0.01, trainLimit: images, testLimit: testImages)
        let alexNet = try shortRun(
            "AlexNet (28x28)", model: alexNetFor28(seed: seed), optimizer: SGD(learningRate: 0.01, momentum: 0.9),
            recipe: recipe, data: data, seed: seed)
        let leNet = try shortRun(
            "LeNet (d2l)", model: LeNet.d2l(seed: seed), optimizer: SGD(learningRate: 0.9), recipe: recipe,
            data: data, seed: seed)
        return (alexNet, leNet)
    }
    // end snippet: alexnet-exercise-4

    // MARK: 8. Overfitting

    // snippet: alexnet-exercise-8
    /// Exercise 8. Make AlexNet overfit: what must go? Our training uses no augmentation, so the
    /// two defences left are dropout and data. Three runs of the 28x28 AlexNet with Adam (lr
    /// 0.001, which fits a small set within a few dozen steps), each seeing the same number of
    /// images in all, `images` x `epochs`: as built (dropout 0.5) on `images` training images,
    /// without dropout on the same images, and without dropout on four times as many for a
    /// quarter of the epochs. Overfitting shows as the gap between the last epoch's training
    /// accuracy and the test accuracy.
    public static func overfitting(
        data: FashionMNISTSplits, images: Int, epochs: Int, batchSize: Int, testImages: Int, seed: UInt64 = 0
    ) throws -> [ShortRun] {
        let variants: [(String, Sequential, Int, Int)] = [
            ("dropout 0.5, \(images) images x \(epochs)", alexNetFor28(seed: seed), images, epochs),
            ("no dropout, \(images) images x \(epochs)", alexNetFor28(dropout: 0, seed: seed), images, epochs),
            (
                "no dropout, \(4 * images) images x \(max(epochs / 4, 1))", alexNetFor28(dropout: 0, seed: seed),
                4 * images, max(epochs / 4, 1)
            ),
        ]
        return try variants.map { name, model, count, epochs in
            try shortRun(
                name, model: model, optimizer: Adam(learningRate: 0.001),
                recipe: Recipe(
                    epochs: epochs, batchSize: batchSize, learningRate: 0.001, trainLimit: count,
                    testLimit: testImages),
                data: data, seed: seed, testingEveryEpoch: false)
        }
    }
    // end snippet: alexnet-exercise-8

    // MARK: 9. Why AlexNet is no longer a benchmark

    /// The paper's AlexNet as our model computes it, beside the published ImageNet entries.
    public struct BenchmarkComparison: Sendable {
        /// Of one 3x227x227 image (the paper's network, grouped convolutions).
        public let multiplyAdds: Int
        public let parameters: Int
        public let published: [PublishedResults.ImageNetModel]
    }

    // snippet: alexnet-exercise-9
    /// Exercise 9. Why does nobody benchmark on AlexNet any more? Its compute and parameters,
    /// counted from our model of the 2012 network, beside what later ImageNet winners report:
    /// error, multiply-adds and parameters (PublishedResults, each with its source).
    public static func benchmarkComparison() throws -> BenchmarkComparison {
        let paper = AlexNet.paper()
        let profile = try ModelProfile(paper, inputShape: [1, 3, 227, 227])
        return BenchmarkComparison(
            multiplyAdds: profile.model.multiplyAdds, parameters: paper.parameterCount,
            published: PublishedResults.imageNetModels)
    }
    // end snippet: alexnet-exercise-9
}
