// LeNet.swift: chapter 03's exercises (d2l's, in our words), each a function whose
// doc comment asks the question in our words and whose return value is the answer.
// ExercisesTests checks them: the variants against their own shapes and counts, the short runs
// against what they produced, the activation maps against the convolution's definition.

import Foundation
import Kernels
import ModernCNN
import Notebook

public enum LeNetExercises {
    // MARK: 1. A modern LeNet

    // snippet: lenet-exercise-1
    /// Exercise 1. Does LeNet improve with max pooling instead of average pooling and ReLU
    /// instead of sigmoid? Two short runs on the same images: d2l's LeNet at its lr 0.9, the
    /// modern one at 0.1 (ReLU networks diverge at 0.9). Chapter 03's section 3.5 runs the
    /// longer version.
    public static func modernised(data: FashionMNISTSplits, recipe: Recipe, seed: UInt64 = 0) throws -> [ShortRun] {
        try [
            ("sigmoid, average pool", LeNet.d2l(seed: seed), Float(0.9)),
            ("ReLU, max pool", LeNet.modern(seed: seed), Float(0.1)),
        ].map { name, model, learningRate in
            var variant = recipe
            variant.learningRate = learningRate
            return try shortRun(
                name, model: model, optimizer: SGD(learningRate: learningRate), recipe: variant,
                data: data, seed: seed)
        }
    }
    // end snippet: lenet-exercise-1

    // MARK: 2. What else helps?

    /// One change to the modern LeNet (exercise 1's: ReLU and max pooling, which learns within
    /// an epoch, so a short run can tell variants apart): what it is, how to build and train it.
    public struct Variant: Sendable {
        public let name: String
        public let kernelSize: Int
        /// Output channels of each convolution, in order (d2l: 6 and 16).
        public let channels: [Int]
        /// Hidden dense layers' widths (d2l: 120 and 84).
        public let hidden: [Int]
        public let learningRate: Float
        public let initialization: WeightInitialization
        public let epochs: Int

        /// The modern LeNet (ReLU, 2x2 max pooling) with this variant's knobs.
        public func model(seed: UInt64) -> Sequential {
            LeNet.custom(
                kernelSize: kernelSize, channels: channels, hidden: hidden, initialization: initialization,
                activation: ReLU.init, pool: { MaxPool2d(kernelSize: 2, stride: 2) }, seed: seed)
        }
    }

    /// The modern LeNet, then one knob turned at a time.
    public static func variants(epochs: Int) -> [Variant] {
        let d2l = Variant(
            name: "modern LeNet", kernelSize: 5, channels: [6, 16], hidden: [120, 84], learningRate: 0.1,
            initialization: .xavierUniform, epochs: epochs)
        func changed(
            _ name: String, kernel: Int? = nil, channels: [Int]? = nil, hidden: [Int]? = nil,
            lr: Float? = nil, initialization: WeightInitialization? = nil, epochs more: Int? = nil
        ) -> Variant {
            Variant(
                name: name, kernelSize: kernel ?? d2l.kernelSize, channels: channels ?? d2l.channels,
                hidden: hidden ?? d2l.hidden, learningRate: lr ?? d2l.learningRate,
                initialization: initialization ?? d2l.initialization, epochs: more ?? d2l.epochs)
        }
        return [
            d2l,
            changed("3x3 kernels", kernel: 3),
            changed("twice the channels (12, 32)", channels: [12, 32]),
            changed("one convolution (6)", channels: [6]),
            changed("three convolutions (6, 16, 32)", channels: [6, 16, 32]),
            changed("one dense layer (no 120, 84)", hidden: []),
            changed("lr 0.03", lr: 0.03),
            changed("lr 0.3", lr: 0.3),
            changed("PyTorch's default init", initialization: .pytorchDefault),
            changed("twice the epochs", epochs: 2 * epochs),
        ]
    }

    // snippet: lenet-exercise-2
    /// Exercise 2. Which changes to LeNet improve its accuracy: the window size, the number of
    /// channels, the number of convolutions, the dense layers, the learning rate, the
    /// initialisation, the epochs? One short run per variant, each changing one thing from the
    /// modern LeNet, all on the same images.
    public static func explore(
        _ variants: [Variant], data: FashionMNISTSplits, recipe: Recipe,
        seed: UInt64 = 0
    ) throws -> [ShortRun] {
        try variants.map { variant in
            var own = recipe
            (own.learningRate, own.epochs) = (variant.learningRate, variant.epochs)
            return try shortRun(
                variant.name, model: variant.model(seed: seed),
                optimizer: SGD(learningRate: variant.learningRate), recipe: own, data: data, seed: seed)
        }
    }
    // end snippet: lenet-exercise-2

    // MARK: 3. What the layers see

    /// The activations of LeNet's two convolutions (after their sigmoid) for one image.
    public struct ActivationMaps: Sendable {
        /// [6, 28, 28] and [16, 10, 10].
        public let first: Tensor, second: Tensor
    }

    // snippet: lenet-exercise-3
    /// Exercise 3. What do LeNet's first and second layers respond to? The outputs of both
    /// convolutions (after their activation) for one 28x28 image in [0, 1]: the chapter draws
    /// them for a pullover, a coat and noise.
    public static func activationMaps(of model: Sequential, image: [Float]) throws -> ActivationMaps {
        var x = try Tensor(shape: [1, 1, 28, 28], values: image)
        var outputs: [Tensor] = []
        for layer in model.layers.prefix(5) {
            x = try layer.forward(x, training: false)
            outputs.append(x)
        }
        return ActivationMaps(
            first: try outputs[1].reshaped([6, 28, 28]), second: try outputs[4].reshaped([16, 10, 10]))
    }
    // end snippet: lenet-exercise-3

    /// The indices of the first test image of each of two classes: the `preferred` labels where
    /// the set has them, otherwise the first images of other classes; fewer than two when the set
    /// holds only one class.
    public static func twoClasses(preferring preferred: [Int32], labels: [Int32]) -> [Int] {
        var chosen: [Int] = []
        for label in preferred {
            if let index = labels.firstIndex(of: label) { chosen.append(index) }
        }
        for (index, label) in labels.enumerated() where chosen.count < 2 {
            if !chosen.contains(where: { labels[$0] == label }) { chosen.append(index) }
        }
        return Array(chosen.prefix(2))
    }

    /// A 28x28 image of uniform noise in [0, 1].
    public static func noise(seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return Array(Tensor(uniform: [784], in: 0...1, generator: &g).scalars)
    }

    /// Draws each map of `maps` ([channels, side, side]) as a grey tile, stretched from its own
    /// minimum (white) to its maximum (black), `scale` pixels per value, in one row starting at
    /// (x, y) with `gap` pixels between tiles.
    public static func draw(_ maps: Tensor, into image: inout PNGImage, x: Int, y: Int, scale: Int, gap: Int) {
        let (channels, side) = (maps.shape[0], maps.shape[1])
        let values = Array(maps.scalars)
        for c in 0..<channels {
            let plane = values[(c * side * side)..<((c + 1) * side * side)]
            let (low, high) = (plane.min() ?? 0, plane.max() ?? 1)
            let grey = plane.map { UInt8(max(0, min(255, (($0 - low) / max(high - low, 1e-12)) * 255))) }
            grey.withUnsafeBufferPointer { pixels in
                image.paste(grey: pixels, side: side, x: x + c * (side * scale + gap), y: y, scale: scale)
            }
        }
    }
}
