// Exercises.swift: section 7.5, d2l's exercises for GoogLeNet answered from the Exercises
// module: four variants and a GoogLeNet for 28x28 images measured in short runs, the smallest
// input, the parameters of four networks side by side, and GoogLeNet's work against AlexNet's
// with what it means for memory and caches. Every figure is computed or measured here.

import Exercises
import Foundation
import ModernCNN
import Notebook

struct GoogLeNetChapterExercises {
    let book: Notebook
    let data: FashionMNISTSplits
    let seed: UInt64
    let initialization: WeightInitialization
    let skipExperiments: Bool
    /// --full: the experiments on more images, and d2l's network at 96 px in exercise 3.
    let explore: Bool

    /// The short runs' recipe: Adam at the quick run's rate, one epoch in batches of 64 at 32 px
    /// (a ninth of d2l's work per image), tested after it; with --full on more images.
    var experimentRecipe: Recipe {
        Recipe(
            epochs: 1, batchSize: 64, learningRate: Recipes.quick.learningRate, imageSize: 32,
            trainLimit: explore ? Self.exploreImages : 1_280, testLimit: explore ? 10_000 : 1_000)
    }
    /// The training images of each short run with --full.
    static let exploreImages = 12_800

    /// Steps over which the loss is averaged before it counts as having left ln 10.
    static let plateauWindow = 10
    /// The mean loss below which a run has left the plateau: 90% of ln 10.
    static let plateauExit = Float(0.9 * log(10.0))

    /// What the runs of exercise 1 gave, for the closing comparison's architecture diff.
    private(set) var variantRuns: [GoogLeNetExercises.VariantRun] = []

    mutating func run() throws {
        try variants()
        try smallestInput()
        try smallImages()
        let splits = try GoogLeNetExercises.sideBySide()
        parameters(splits)
        try compute(splits)
    }

    // MARK: 1

    /// Exercise 1: batch normalisation, a reshaped block, label smoothing, residual connections.
    mutating func variants() throws {
        let recipe = experimentRecipe
        let variants = GoogLeNetExercises.Variant.exerciseOne(initialization: initialization)
        book.say(
            """
            1. Does GoogLeNet learn better with batch normalisation after every convolution, \
            with its 5x5 branch reshaped as two 3x3 convolutions (they see the same 5x5 window; \
            the first keeps the reduced channels r, the second widens them to the branch's o, \
            9r² + 9ro weights where the 5x5 has 25ro), with label smoothing (each target keeps 0.9 of its \
            weight and spreads 0.1 over all ten classes), or with a residual connection around \
            every block (its input added to its output, through a 1x1 convolution where the \
            channel counts differ)? Each change alone, and the course note's network, whose stage 2 \
            has no ReLUs, from the same seed, on the same \
            \(grouped(recipe.trainLimit ?? 60_000)) images for one epoch at \(recipe.imageSize) px \
            in batches of \(recipe.batchSize) (\((recipe.trainLimit ?? 60_000) / recipe.batchSize) \
            steps) with Adam, tested on \(grouped(recipe.testLimit ?? 10_000)) test images. "Leaves \
            ln 10" is the first step after which the mean loss of the last \(Self.plateauWindow) \
            batches is below \(formatted(Double(Self.plateauExit), digits: 2)): when the network \
            stopped guessing uniformly.
            """)
        book.code("googlenet-exercise-1", from: "Sources/Exercises/GoogLeNet.swift")
        book.say("The residual variant wraps each block as follows (Residual adds the two paths' outputs):")
        book.code("inception-residual", from: "Sources/ModernCNN/Models/GoogLeNet.swift")
        var table = TextTable(
            headers: [
                "variant", "parameters", "mult-adds at \(recipe.imageSize) px", "train img/s", "leaves ln 10",
                "last \(Self.plateauWindow) losses", "test accuracy",
            ],
            alignments: [.left, .right, .right, .right, .right, .right, .right])
        guard !skipExperiments else {
            for variant in variants {
                let model = GoogLeNet.model(variant.design)
                let profile = try ModelProfile(model, inputShape: [1, 1, recipe.imageSize, recipe.imageSize])
                table.append([
                    variant.name, grouped(model.parameterCount),
                    formatted(Double(profile.model.multiplyAdds) / 1e6, digits: 1) + " M", "-", "-", "-", "-",
                ])
            }
            book.show(table)
            return book.say("(The short runs are skipped with --skip-experiments.)")
        }
        variantRuns = try GoogLeNetExercises.variants(variants, data: data, recipe: recipe, seed: seed)
        for result in variantRuns {
            let run = result.run
            let step = run.firstStep(whereMeanLossOf: Self.plateauWindow, fallsBelow: Self.plateauExit)
            let tail = run.batchLosses.suffix(Self.plateauWindow)
            table.append([
                run.name, grouped(result.parameters), formatted(Double(result.multiplyAdds) / 1e6, digits: 1) + " M",
                grouped(rounding: run.imagesPerSecond), step.map { "step \($0)" } ?? "not yet",
                formatted(Double(tail.reduce(0, +) / Float(max(tail.count, 1))), digits: 3), run.testAccuracyText,
            ])
        }
        book.show(table)
        book.say(variantVerdict(variantRuns, samples: recipe.testLimit ?? 10_000))
    }

    /// The verdicts on exercise 1's table, each from its numbers.
    func variantVerdict(_ runs: [GoogLeNetExercises.VariantRun], samples: Int) -> String {
        let base = runs[0].run
        let baseStep = base.firstStep(whereMeanLossOf: Self.plateauWindow, fallsBelow: Self.plateauExit)
        func against(_ run: ShortRun) -> String {
            let (a, b) = (Double(run.finalTestAccuracy), Double(base.finalTestAccuracy))
            guard a.isFinite && b.isFinite else { return "cannot be compared (a run diverged)" }
            let difference = formatted(abs(a - b), digits: 3)
            guard differenceIsBeyondNoise(a, b, samples: samples) else {
                return "is within noise of d2l's (\(run.testAccuracyText) against \(base.testAccuracyText))"
            }
            return a > b ? "is \(difference) better than d2l's" : "is \(difference) worse than d2l's"
        }
        var lines: [String] = []
        if let norm = runs.first(where: { $0.variant.design.batchNorm })?.run {
            let step = norm.firstStep(whereMeanLossOf: Self.plateauWindow, fallsBelow: Self.plateauExit)
            let start: String
            switch (step, baseStep) {
            case let (s?, b?) where s < b: start = "left ln 10 sooner (step \(s) against \(b))"
            case let (s?, b?) where s > b: start = "left ln 10 later (step \(s) against \(b))"
            case (_?, _?): start = "left ln 10 at the same step"
            case let (s?, nil): start = "left ln 10 at step \(s) where d2l's network had not by the end"
            case let (nil, b?): start = "had not left ln 10 by the end where d2l's network did at step \(b)"
            case (nil, nil): start = "had not left ln 10 by the end, nor had d2l's network"
            }
            lines.append(
                "With batch normalisation the network \(start), and its test accuracy \(against(norm)): each "
                    + "layer's input is rescaled to zero mean and unit variance per channel, so no layer "
                    + "waits for the ones below it to settle on a useful scale.")
        }
        if let factorized = runs.first(where: { $0.variant.design.factorizedFiveByFive }) {
            let saved = runs[0].parameters - factorized.parameters
            let size =
                saved >= 0
                ? "save \(grouped(saved)) parameters (\(percent(saved, of: runs[0].parameters)) of the network)"
                : "add \(grouped(-saved)) parameters"
            lines.append(
                "Two 3x3 convolutions for the 5x5 \(size) and put a ReLU between them; the accuracy "
                    + "\(against(factorized.run)).")
        }
        if let smoothed = runs.first(where: { $0.variant.labelSmoothing > 0 }) {
            let e = Double(smoothed.variant.labelSmoothing)
            let floor = -(1 - e + e / 10) * log(1 - e + e / 10) - 9 * (e / 10) * log(e / 10)
            lines.append(
                "Label smoothing's accuracy \(against(smoothed.run)). Its losses are not comparable with the "
                    + "others': a smoothed target can at best be matched, not predicted with certainty, so its "
                    + "loss cannot fall below the target's entropy, \(formatted(floor, digits: 3)). What it is for "
                    + "is a network less sure of itself late in a long run, when plain cross-entropy keeps pushing "
                    + "the right class's score up; \(runs[0].run.batchLosses.count) steps cannot show that.")
        }
        if let residual = runs.first(where: { $0.variant.design.residual }) {
            let projected = GoogLeNet.model(residual.variant.design).allLayers
                .filter { ($0 as? Residual)?.shortcut != nil }.count
            let start = residual.run.firstBatchLoss
            let blocks = GoogLeNet.stages.joined().count
            let startNote =
                start > 2 * Float(log(10.0))
                ? " Its loss started at \(formatted(Double(start), digits: 1)), far above ln 10: each block adds its "
                    + "input to its output, so without normalisation the activations grow block after block "
                    + "(\(blocks) of them) and the first logits are large; its first steps go into shrinking them, "
                    + "which the loss columns show."
                : ""
            lines.append(
                "Residual connections add \(grouped(residual.parameters - runs[0].parameters)) parameters "
                    + "(the 1x1 shortcuts of the \(projected) blocks that change their channel count) and their "
                    + "accuracy \(against(residual.run)); a gradient reaching a block's output flows straight to "
                    + "its input as well, which is what let ResNet (He et al., 2015) go to 152 layers.\(startNote)")
        }
        if let linear = runs.first(where: { !$0.variant.design.stageTwoReLU }) {
            lines.append(
                "The course note's code leaves out stage 2's two ReLUs (the sixth row): with the same "
                    + "\(grouped(linear.parameters)) parameters, its 1x1 and 3x3 convolutions compose into one "
                    + "linear map, a 3x3 from 64 to 192 channels passing through 64, so the stem has one "
                    + "nonlinearity fewer to shape features with; its accuracy \(against(linear.run)).")
        }
        let best = runs.filter { $0.run.diverged == nil }.max { $0.run.finalTestAccuracy < $1.run.finalTestAccuracy }
        lines.append(
            "The best here was \(best?.variant.name ?? "none"). A difference counts above only when it is more "
                + "than two standard errors of the test sample (up to "
                + "\(formatted(2 * (0.5 * 0.5 * 2 / Double(samples)).squareRoot(), digits: 3)) on "
                + "\(grouped(samples)) test images); one seed and one short run say which change starts faster, "
                + "not which network ends better. `--full` runs these on \(grouped(Self.exploreImages)) images and tests on all 10,000."
        )
        return lines.joined(separator: " ")
    }

    // MARK: 3

    /// Exercise 3: a GoogLeNet for 28x28 inputs, against d2l's on upscaled images.
    func smallImages() throws {
        let recipe = experimentRecipe
        let all = GoogLeNetExercises.sizedNetworks(initialization: initialization, quickSize: recipe.imageSize)
        let planes = try all.map { try GoogLeNetExercises.stagePlanes($0) }
        func sides(_ index: Int) -> String { planes[index].sides.map(String.init).joined(separator: ", ") }
        book.say(
            """
            3. A GoogLeNet for Fashion-MNIST's own 28x28 images. d2l's stem (a 7x7 convolution at \
            stride 2 and a stride-2 pool) divides the side by 4 before stage 2, which is why d2l \
            upscales the images to 96. For 28 px the stem becomes a 3x3 convolution at stride 1 \
            followed by the same pool, dividing the side by 2 only; the pools between stages stay, \
            so the blocks see planes of \(sides(2)) where d2l's see \(sides(0)) (and \(sides(1)) at \
            \(recipe.imageSize) px); the head (global average pooling, one dense layer) is \
            unchanged, since it takes any plane. Planes entering stages 3, 4 and 5, and the work \
            per image:
            """)
        book.code("googlenet-exercise-3", from: "Sources/Exercises/GoogLeNet.swift")
        var table = TextTable(
            headers: ["network", "input", "stage 3, 4, 5 planes", "mult-adds / image", "train img/s", "test accuracy"],
            alignments: [.left, .right, .right, .right, .right, .right])
        // d2l's own 96 px costs minutes a run, so only --full trains it; d2l's network at the short
        // runs' size is exercise 1's first run, on the same images, not trained twice.
        let baseline = variantRuns.first { $0.variant.design == all[1].design && $0.variant.labelSmoothing == 0 }
        let trained = all.enumerated().filter { index, _ in
            (index != 0 || explore) && (index != 1 || baseline == nil)
        }.map(\.element)
        var runs: [String: ShortRun] = [:]
        if !skipExperiments {
            for run in try GoogLeNetExercises.smallImages(trained, data: data, recipe: recipe, seed: seed) {
                runs[run.name] = run
            }
            if let baseline { runs[all[1].name] = baseline.run }
        }
        for (network, plane) in zip(all, planes) {
            let run = runs[network.name]
            table.append([
                network.name, "\(network.imageSize) px", plane.sides.map(String.init).joined(separator: ", "),
                formatted(Double(plane.multiplyAdds) / 1e6, digits: 1) + " M",
                run.map { grouped(rounding: $0.imagesPerSecond) } ?? "-", run?.testAccuracyText ?? "-",
            ])
        }
        book.show(table)
        let note =
            skipExperiments
            ? "(The short runs are skipped with --skip-experiments.)"
            : explore ? "" : "(d2l's network at 96 px trains only with --full: it costs minutes a run here.)"
        if !note.isEmpty { book.say(note) }
        let (d2l96, small) = (planes[0].multiplyAdds, planes[2].multiplyAdds)
        var verdict =
            "At 28 px the small-image stem does \(formatted(Double(small) / Double(d2l96), digits: 2))x the work "
            + "of d2l's network at 96 px per image, and its blocks work on the images' own pixels, not on "
            + "pixels interpolated by upscaling."
        if let reduced = runs[all[1].name], let native = runs[all[2].name] {
            let (a, b) = (Double(native.finalTestAccuracy), Double(reduced.finalTestAccuracy))
            let samples = recipe.testLimit ?? 10_000
            let outcome =
                !(a.isFinite && b.isFinite)
                ? "cannot be compared with it (a run diverged)"
                : !differenceIsBeyondNoise(a, b, samples: samples)
                    ? "is within noise of it (\(native.testAccuracyText) against \(reduced.testAccuracyText))"
                    : a > b
                        ? "beats it by \(formatted(a - b, digits: 3))" : "trails it by \(formatted(b - a, digits: 3))"
            verdict +=
                " On the same \(grouped(recipe.trainLimit ?? 60_000)) images, the 28 px network's accuracy "
                + "\(outcome), at \(formatted(native.imagesPerSecond / max(reduced.imagesPerSecond, 1), digits: 2))x "
                + "the training speed of d2l's stem on \(recipe.imageSize) px upscaled images."
        }
        book.say(verdict)
    }

    /// Exercise 2: the smallest input, by shape inference, checked by running it.
    func smallestInput() throws {
        let (smallest, onePixel) = GoogLeNetExercises.smallestInputs()
        let model = GoogLeNet.model()
        let scores = try model.forward(Tensor(zeros: [1, 1, smallest, smallest]), training: false)
        book.say(
            """
            2. What is the smallest input GoogLeNet still works on? Every convolution and pool \
            in it is padded so that a window always fits: shape inference from 1 px up accepts \
            \(smallest)x\(smallest), and running it gives scores of shape \(scores.shape). Working is \
            not seeing, though: up to \(onePixel)x\(onePixel) px the last stage's planes are 1x1, so \
            its 3x3 and 5x5 convolutions multiply one value by their centre weight and padding by \
            the rest, and its pool branch pools a single value. d2l's 96 px leaves 3x3 \
            planes for the last stage, the smallest on which a 3x3 window sees a neighbourhood.
            """)
    }

    /// Exercise 4: parameters side by side, and where the last two save.
    func parameters(_ splits: [VGGExercises.Split]) {
        book.say(
            """
            4. The parameters of AlexNet, VGG-11, NiN and GoogLeNet side by side (d2l's versions, \
            10 classes; GoogLeNet also at 224 px to show that its parameters do not depend on the \
            input size):
            """)
        book.code("googlenet-side-by-side", from: "Sources/Exercises/GoogLeNet.swift")
        var table = TextTable(
            headers: ["network", "parameters", "in convolutions", "in dense layers", "multiply-adds / image"],
            alignments: [.left, .right, .right, .right, .right])
        for split in splits {
            table.append([
                split.name, grouped(split.parameters), grouped(split.convolutionParameters),
                grouped(split.denseParameters), formatted(Double(split.multiplyAdds) / 1e9, digits: 2) + " G",
            ])
        }
        book.show(table)
        let (alex, vgg, nin, google) = (splits[0], splits[1], splits[2], splits[3])
        book.say(
            """
            AlexNet keeps \(percent(alex.denseParameters, of: alex.parameters)) of its parameters in \
            dense layers and VGG-11 \(percent(vgg.denseParameters, of: vgg.parameters)). NiN drops \
            them (global average pooling over class maps) and GoogLeNet keeps only one small dense \
            layer after the average (\(grouped(google.denseParameters)) parameters), which is how \
            both shrink: NiN has \(percent(nin.parameters, of: alex.parameters)) of AlexNet's \
            parameters and GoogLeNet \(percent(google.parameters, of: alex.parameters)). GoogLeNet's \
            second saving is inside its blocks, the 1x1 reductions of 7.1.
            """)
    }

    /// Exercise 5: GoogLeNet's compute against AlexNet's, and memory, bandwidth and caches.
    func compute(_ splits: [VGGExercises.Split]) throws {
        let (alex, google224) = (splits[0], splits[4])
        let alexProfile = try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])
        let googleProfile = try ModelProfile(GoogLeNet.model(), inputShape: [1, 1, 224, 224])
        let caches = CacheSizes.current()
        let lastLevel = caches.bytes.keys.max().flatMap { caches.bytes[$0] }
        let (alexWeights, googleWeights) = (4 * alex.parameters, 4 * google224.parameters)
        let fits = lastLevel.map { bytes in
            googleWeights <= bytes
                ? "fit in this processor's last-level cache (\(byteCount(bytes)))"
                : "do not fit in this processor's last-level cache (\(byteCount(bytes))) either"
        }
        book.say(
            """
            5. GoogLeNet against AlexNet at the same 224 px input: \
            \(formatted(Double(google224.multiplyAdds) / 1e9, digits: 2)) against \
            \(formatted(Double(alex.multiplyAdds) / 1e9, digits: 2)) billion multiply-adds per image \
            (\(formatted(Double(google224.multiplyAdds) / Double(alex.multiplyAdds), digits: 1))x), with \
            \(percent(google224.parameters, of: alex.parameters)) of the parameters. Per weight, \
            GoogLeNet does \(grouped(rounding: Double(google224.multiplyAdds) / Double(google224.parameters))) \
            multiply-adds per image and AlexNet \
            \(grouped(rounding: Double(alex.multiplyAdds) / Double(alex.parameters))): AlexNet's dense \
            layers read each of their \(byteCount(alexWeights)) of weights once per image (a matrix \
            times a vector at batch 1, bound by memory bandwidth), while GoogLeNet's \
            \(byteCount(googleWeights)) are reused across every position of a plane, \
            \(fits.map { "and \($0)" } ?? "and stay close to the cores"). The cost moves to activations: \
            one 224 px image's layer outputs take \(byteCount(googleProfile.activationBytes)) in \
            GoogLeNet against \(byteCount(alexProfile.activationBytes)) in AlexNet, and a training \
            step keeps them all for backward, so an accelerator running GoogLeNet needs memory for \
            activations rather than for weights, and bandwidth between layers rather than to a \
            weight matrix.
            """)
    }
}
