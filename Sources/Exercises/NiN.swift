// NiN.swift: chapter 06's exercises (d2l's, in our words), each a function whose doc comment
// asks the question and whose return value is the answer, and the chapter's two measurements:
// a 1x1 convolution against a dense layer at every pixel (6.1), and the multi-seed stall
// experiment (6.4). ExercisesTests checks them against independent computations.

import Foundation
import Kernels
import ModernCNN
import Notebook

public enum NiNExercises {
    // MARK: 6.1 A 1x1 convolution is a dense layer at every pixel

    /// A 1x1 convolution and the dense layer with the same weights, compared on real maps.
    public struct PointwiseCheck: Sendable {
        /// The maps compared: [images, channels, height, width] in, channels out.
        public let inputShape: [Int], outputChannels: Int
        /// Pixels (images x height x width), each one a row through the dense layer.
        public var pixels: Int { inputShape[0] * inputShape[2] * inputShape[3] }
        /// The largest |convolution - dense| over every output, and the largest |output|.
        public let largestDifference: Float, largestOutput: Float
    }

    // snippet: nin-pointwise-dense
    /// NiN's first 1x1 convolution (96 -> 96 channels) applied to what the first convolution
    /// and its ReLU make of `images`, against a dense layer holding the same weights applied to
    /// each pixel's 96 channels as one row: [N, 96, H, W] -> [N * H * W, 96] -> dense.
    public static func pointwiseAsDense(images: Tensor, seed: UInt64 = 0) throws -> PointwiseCheck {
        let block = NiN.d2l(seed: seed).layers[0] as! Sequential
        let maps = try block.layers[1].forward(try block.layers[0].forward(images, training: false), training: false)
        let pointwise = block.layers[2] as! Conv2d
        let (n, c, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2], maps.shape[3])
        let k = pointwise.outputChannels
        var g = SeededGenerator(seed: seed)
        let dense = Linear(inputFeatures: c, outputFeatures: k, generator: &g)
        dense.weight.value = try pointwise.weight.value.reshaped([k, c])
        dense.bias!.value = pointwise.bias!.value
        // Channels last: pixel p of image i is row i * h * w + p, its c channels the features.
        let (plane, values) = (h * w, maps.scalars)
        var rows = [Float](repeating: 0, count: n * plane * c)
        for i in 0..<n {
            for channel in 0..<c {
                for p in 0..<plane { rows[(i * plane + p) * c + channel] = values[(i * c + channel) * plane + p] }
            }
        }
        let byDense = try dense.forward(Tensor(shape: [n * plane, c], values: rows), training: false).scalars
        let byConvolution = try pointwise.forward(maps, training: false).scalars
        var (largestDifference, largestOutput) = (Float(0), Float(0))
        for i in 0..<n {
            for output in 0..<k {
                for p in 0..<plane {
                    let y = byConvolution[(i * k + output) * plane + p]
                    largestDifference = max(largestDifference, abs(y - byDense[(i * plane + p) * k + output]))
                    largestOutput = max(largestOutput, abs(y))
                }
            }
        }
        return PointwiseCheck(
            inputShape: maps.shape, outputChannels: k, largestDifference: largestDifference,
            largestOutput: largestOutput)
    }
    // end snippet: nin-pointwise-dense

    // MARK: 6.3 No dense head

    // snippet: nin-dense-heads
    /// Where the parameters and the work of d2l's AlexNet, VGG-11, small VGG and NiN are, on
    /// one 1x224x224 image: convolutions against dense layers, counted layer by layer.
    public static func denseHeads() throws -> [VGGExercises.Split] {
        try [
            ("AlexNet (d2l)", AlexNet.d2l()), ("VGG-11", VGG.Variant.vgg11.model()),
            ("VGG (small)", VGG.Variant.small.model()), ("NiN (d2l)", NiN.d2l()),
        ].map { name, model in try VGGExercises.split(name, model, inputShape: [1, 1, 224, 224]) }
    }
    // end snippet: nin-dense-heads

    // MARK: 6.4 The stall experiment

    /// One setting of the stall experiment: a NiN design and an optimizer.
    public struct StallSetting: Sendable {
        public let name: String
        public let design: NiN.Design
        public let usesSGD: Bool
        public let learningRate: Float

        public init(name: String, design: NiN.Design = NiN.Design(), usesSGD: Bool = true, learningRate: Float) {
            (self.name, self.design, self.usesSGD, self.learningRate) = (name, design, usesSGD, learningRate)
        }
    }

    /// One seed of one setting, and what the monitor read after its last epoch.
    public struct StallRun: Sendable {
        public let setting: String
        public let seed: UInt64
        public let run: ShortRun
        /// The class block's ReLUs as the monitor read them: each one's share of dead units.
        public let classBlockDeadShares: [Double]
        /// The last epoch's mean loss sat within TrainingHealth.stallTolerance of ln 10.
        public var stalled: Bool { run.health.last?.stalled ?? false }
        /// Some ReLU of the class block passed nothing for any image of the monitor's batch: every
        /// path from the scores back into the network goes through it, so no gradient reaches
        /// the weights before it, and plain SGD has nothing to move them with. Permanent.
        public var classBlockDied: Bool { classBlockDeadShares.contains { $0 >= 1 } }
        /// The largest |update| / |weight| of the first block's convolution in the last step:
        /// how much the layers furthest from the loss still move.
        public let firstLayerUpdateRatio: Double
    }

    // snippet: nin-stall-experiment
    /// d2l's NiN trained from `seeds.count` seeds under each setting with the same short
    /// `recipe`, the trainer's health monitor on, so that a dead network can be told from a
    /// slow start: both sit at loss ln 10, but only the dead one's class block passes nothing.
    public static func stallExperiment(
        _ settings: [StallSetting], seeds: [UInt64], recipe: Recipe, data: FashionMNISTSplits
    ) throws -> [StallRun] {
        try settings.flatMap { setting in
            try seeds.map { seed in
                var own = recipe
                own.learningRate = setting.learningRate
                let model = NiN.model(setting.design, seed: seed)
                let optimizer: any Optimizer =
                    setting.usesSGD ? SGD(learningRate: setting.learningRate) : Adam(learningRate: setting.learningRate)
                let run = try shortRun(
                    setting.name, model: model, optimizer: optimizer, recipe: own, data: data, seed: seed,
                    testingEveryEpoch: false, monitorsHealth: true)
                let reading = run.health.last
                return StallRun(
                    setting: setting.name, seed: seed, run: run,
                    classBlockDeadShares: reading?.deadUnits.filter { $0.path.hasPrefix("7.") }.map(\.share) ?? [],
                    firstLayerUpdateRatio: reading?.updateRatios.first { $0.name == "0.0.weight" }?.ratio ?? .nan)
            }
        }
    }
    // end snippet: nin-stall-experiment

    // MARK: 1 and 2. The per-pixel layers

    // snippet: nin-exercise-1-2
    /// Exercises 1 and 2. What do the per-pixel layers buy? NiN with one, two (d2l) or three
    /// 1x1 convolutions per block, and with two 3x3 convolutions in place of the two 1x1, each
    /// trained on the same images with the same recipe.
    public static func perPixelVariants() -> [(name: String, design: NiN.Design)] {
        [
            ("one 1x1 per block", NiN.Design(pointwiseLayers: 1)),
            ("two 1x1 per block (d2l)", NiN.Design()),
            ("three 1x1 per block", NiN.Design(pointwiseLayers: 3)),
            ("two 3x3 per block", NiN.Design(pointwiseKernel: 3)),
        ]
    }
    // end snippet: nin-exercise-1-2

    /// One variant of NiN trained with Adam on `recipe`, its parameters counted at 224 px.
    public struct VariantRun: Sendable {
        public let run: ShortRun
        public let parametersAt224: Int
        public let multiplyAddsAt224: Int
    }

    /// Each design trained from the same seed on the same images, with Adam at the recipe's
    /// rate; `lastReLU: false` drops every design's last ReLU, as chapter 06's quick run does,
    /// so that a comparison is not decided by which seed happened to start dead.
    public static func train(
        _ variants: [(name: String, design: NiN.Design)], data: FashionMNISTSplits, recipe: Recipe,
        lastReLU: Bool = true, seed: UInt64 = 0
    ) throws -> [VariantRun] {
        try variants.map { name, given in
            var design = given
            design.finalReLU = lastReLU && given.finalReLU
            let full = NiN.model(design, inputSize: 224, seed: seed)
            let profile = try ModelProfile(full, inputShape: [1, 1, 224, 224])
            let run = try shortRun(
                name, model: NiN.model(design, inputSize: recipe.imageSize, seed: seed),
                optimizer: Adam(learningRate: recipe.learningRate), recipe: recipe, data: data, seed: seed,
                testingEveryEpoch: false)
            return VariantRun(
                run: run, parametersAt224: full.parameterCount, multiplyAddsAt224: profile.model.multiplyAdds)
        }
    }

    // MARK: 3. Global average pooling against a dense layer

    // snippet: nin-exercise-3
    /// Exercise 3. What does global average pooling buy over a dense layer? The same NiN with
    /// its 10 class maps averaged (d2l) or flattened into a dense layer of 10 outputs; trained
    /// on the same images, and an inference pass of a batch timed through the execution plan.
    public static func heads() -> [(name: String, design: NiN.Design)] {
        [("global average pooling (d2l)", NiN.Design()), ("dense layer on the class maps", NiN.Design(head: .dense))]
    }
    // end snippet: nin-exercise-3

    /// Seconds per image of an inference pass through each model's plan at `batchSize`: the
    /// models timed in turn, round after round, each keeping its best, so that a slow moment of
    /// the machine does not land on one model only.
    public static func inferenceSeconds(
        _ models: [Sequential], imageSize: Int, batchSize: Int, rounds: Int = 3, seed: UInt64 = 0
    ) throws -> [Double] {
        let plans = try models.map { try ExecutionPlan($0, inputShape: [batchSize, 1, imageSize, imageSize]) }
        var g = SeededGenerator(seed: seed)
        let images = Tensor(uniform: [batchSize, 1, imageSize, imageSize], in: 0...1, generator: &g)
        for plan in plans { _ = try plan.forward(images, training: false) }
        var best = [Double](repeating: .infinity, count: plans.count)
        for _ in 0..<rounds {
            for (index, plan) in plans.enumerated() {
                best[index] = min(
                    best[index], bestTime(repeats: 1, warmUp: false) { _ = try! plan.forward(images, training: false) })
            }
        }
        return best.map { $0 / Double(batchSize) }
    }

    // MARK: 4. Resources

    /// NiN's size, work and memory, counted and measured.
    public struct Resources: Sendable {
        public let parameters: Int
        public let multiplyAdds: Int
        public let batchSize: Int, imageSize: Int
        /// Counted from the profile: training with SGD (weights, gradients, saved activations)
        /// and inference (weights and the widest layer's input and output).
        public let estimate: MemoryEstimate
        /// The resident memory a training step and an inference pass added to a fresh process,
        /// or nil when not measured (no executable given, or /proc cannot say).
        public let measuredTraining: Int?, measuredInference: Int?
    }

    // snippet: nin-exercise-4
    /// Exercise 4. What does NiN need: parameters, multiply-adds per image, and memory to train
    /// and to predict at `batchSize`? Counted from the layers, then measured: `executable` (a
    /// build of chapter 06) is started once per pass and reports what that pass added to its
    /// resident memory. A fresh process, because one that has run other work keeps the memory
    /// it freed, and a later pass reuses it without growing.
    public static func resources(
        imageSize: Int = 224, batchSize: Int = 32, seed: UInt64 = 0, executable: String? = nil
    ) throws -> Resources {
        let model = NiN.d2l(seed: seed)
        let profile = try ModelProfile(model, inputShape: [1, 1, imageSize, imageSize])
        let measured = try executable.map { path in
            try [true, false].map { training in
                try peakInChild(executable: path, training: training, imageSize: imageSize, batchSize: batchSize)
            }
        }
        return Resources(
            parameters: model.parameterCount, multiplyAdds: profile.model.multiplyAdds, batchSize: batchSize,
            imageSize: imageSize, estimate: profile.memoryEstimate(batchSize: batchSize, optimizerSlots: 0),
            measuredTraining: measured?[0], measuredInference: measured?[1])
    }

    /// The child's side: the resident memory that one pass through d2l's NiN (a training step
    /// with its backward, or an inference forward) adds, plan and workspaces included; nil
    /// where /proc cannot say.
    public static func peakOfOnePass(training: Bool, imageSize: Int, batchSize: Int, seed: UInt64 = 0) throws -> Int? {
        let model = NiN.d2l(seed: seed)
        let shape = [batchSize, 1, imageSize, imageSize]
        var g = SeededGenerator(seed: seed)
        let images = Tensor(uniform: shape, in: 0...1, generator: &g)
        let gradient = Tensor(uniform: [batchSize, 10], in: -0.01...0.01, generator: &g)
        guard ResidentMemory.resetPeak(), let before = ResidentMemory.current else { return nil }
        let plan = try ExecutionPlan(model, inputShape: shape)
        _ = try plan.forward(images, training: training)
        if training { _ = plan.backward(gradient) }
        return ResidentMemory.peak - before
    }
    // end snippet: nin-exercise-4

    /// Runs `executable --memory-probe training|inference --image-size N --batch-size B` and
    /// reads the byte count it prints (nothing printed: not measurable there).
    static func peakInChild(executable: String, training: Bool, imageSize: Int, batchSize: Int) throws -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--memory-probe", training ? "training" : "inference", "--image-size", "\(imageSize)",
            "--batch-size", "\(batchSize)",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MemoryProbeFailed(executable: executable, status: process.terminationStatus)
        }
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The child that measures memory did not finish.
    public struct MemoryProbeFailed: Error, CustomStringConvertible {
        public let executable: String, status: Int32
        public var description: String {
            "the memory measurement (\(URL(fileURLWithPath: executable).lastPathComponent) --memory-probe) "
                + "exited with status \(status)"
        }
    }

    // MARK: 6. A NiN family

    /// One member of the family on 1x224x224: its stages' outputs, weight layers, size and work.
    public struct FamilyMember: Sendable {
        public let name: String
        public let blocks: [Int]
        public let weightLayers: Int
        public let stageOutputs: [[Int]]
        public let parameters: Int, multiplyAdds: Int
    }

    // snippet: nin-exercise-6
    /// Exercise 6. A NiN family in the spirit of VGG-11/16/19: more NiN blocks in the middle
    /// stages (extra blocks 3x3 with padding 1, which keep the plane), shapes traced and
    /// parameters and multiply-adds counted on 1x224x224.
    public static func family() throws -> [FamilyMember] {
        try NiN.family.map { name, blocks in
            let model = NiN.model(stages: NiN.stages(blocks: blocks))
            let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
            // Each stage's output: the entry before each pool, and the class stage's last block.
            let entries = profile.entries(toDepth: 0)
            let ends = entries.indices.filter { index in
                entries[index].layer is Sequential
                    && (index + 1 == entries.count || !(entries[index + 1].layer is Sequential))
            }
            return FamilyMember(
                name: name, blocks: blocks + [1],
                weightLayers: model.allLayers.filter { $0 is Conv2d || $0 is Linear }.count,
                stageOutputs: ends.map { entries[$0].outputShape }, parameters: model.parameterCount,
                multiplyAdds: profile.model.multiplyAdds)
        }
    }
    // end snippet: nin-exercise-6
}
