// Exercises.swift: section 6.6, d2l's exercises for NiN answered from the Exercises module,
// every figure computed or measured in this run.

import Exercises
import Foundation
import ModernCNN
import Notebook

struct NiNChapterExercises {
    let book: Notebook
    let data: FashionMNISTSplits
    let seed: UInt64
    let skipExperiments: Bool
    /// --full: the experiments on more images.
    let explore: Bool
    /// 6.4's runs and 6.5's health readings, for exercise 5.
    let stalls: [NiNExercises.StallRun]
    let health: [TrainingHealth]

    /// The short runs' recipe: the quick default's size, optimizer and batch, one epoch.
    var experimentRecipe: Recipe {
        var recipe = Recipes.quick
        (recipe.trainLimit, recipe.testLimit) = explore ? (20_000, 10_000) : (Recipes.exerciseImages, 1_000)
        return recipe
    }

    func run() throws {
        let perPixel = try perPixelLayers()
        try heads(d2l: perPixel?[1])
        try resources()
        oneStep()
        try family()
    }

    // MARK: 1, 2

    /// Exercises 1 and 2; the short runs (d2l's design second), or nil when skipped.
    func perPixelLayers() throws -> [NiNExercises.VariantRun]? {
        let recipe = experimentRecipe
        book.say(
            """
            1 and 2. What do the per-pixel layers buy? NiN with one, two (d2l's) or three 1x1 \
            convolutions per block, and with the two 1x1 replaced by 3x3 convolutions (padding 1), \
            each trained from the same seed on the same \(grouped(recipe.trainLimit ?? 0)) images \
            for one epoch at \(recipe.imageSize) px with Adam and without the last ReLU (the quick \
            default's recipe) and tested on \(grouped(recipe.testLimit ?? 0)); sizes counted at 224 px:
            """)
        book.code("nin-exercise-1-2", from: "Sources/Exercises/NiN.swift")
        let variants = NiNExercises.perPixelVariants()
        var table = TextTable(
            headers: ["blocks", "parameters", "multiply-adds", "train img/s", "test accuracy"],
            alignments: [.left, .right, .right, .right, .right])
        guard !skipExperiments else {
            for (name, design) in variants {
                let model = NiN.model(design)
                let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
                table.append([
                    name, grouped(model.parameterCount),
                    formatted(Double(profile.model.multiplyAdds) / 1e9, digits: 2) + " G", "-", "-",
                ])
            }
            book.show(table)
            book.say("(The short runs are skipped with --skip-experiments.)")
            return nil
        }
        let runs = try NiNExercises.train(variants, data: data, recipe: recipe, lastReLU: false, seed: seed)
        for run in runs {
            table.append([
                run.run.name, grouped(run.parametersAt224),
                formatted(Double(run.multiplyAddsAt224) / 1e9, digits: 2) + " G",
                grouped(rounding: run.run.imagesPerSecond), run.run.testAccuracyText,
            ])
        }
        book.show(table)
        let (one, two, three, wide) = (runs[0], runs[1], runs[2], runs[3])
        let tested = recipe.testLimit ?? 0
        func compare(_ a: NiNExercises.VariantRun, _ b: NiNExercises.VariantRun) -> String {
            let (x, y) = (Double(a.run.finalTestAccuracy), Double(b.run.finalTestAccuracy))
            guard x.isFinite && y.isFinite else { return "cannot be compared (a run diverged)" }
            guard differenceIsBeyondNoise(x, y, samples: tested) else {
                return "reached the same accuracy within the noise of \(grouped(tested)) test images "
                    + "(\(formatted(x, digits: 3)) against \(formatted(y, digits: 3)))"
            }
            return x > y
                ? "did better (\(formatted(x, digits: 3)) against \(formatted(y, digits: 3)))"
                : "did worse (\(formatted(x, digits: 3)) against \(formatted(y, digits: 3)))"
        }
        book.say(
            """
            Each 1x1 layer adds little: three per block cost \
            \(percent(three.parametersAt224 - one.parametersAt224, of: one.parametersAt224)) more \
            parameters than one and \
            \(formatted(Double(three.multiplyAddsAt224) / Double(one.multiplyAddsAt224), digits: 2))x the \
            work. On this budget one per block \(compare(one, two)) than d2l's two, and three \
            \(compare(three, two)). The 3x3 version has \
            \(formatted(Double(wide.parametersAt224) / Double(two.parametersAt224), digits: 1))x the \
            parameters and \(formatted(Double(wide.multiplyAddsAt224) / Double(two.multiplyAddsAt224), digits: 1))x \
            the work of d2l's, trains at \
            \(formatted(wide.run.imagesPerSecond / max(two.run.imagesPerSecond, 1e-9), digits: 2))x its \
            speed, and \(compare(wide, two)): each of its layers sees its neighbours, which makes it \
            a deeper VGG-like network rather than a NiN. \((recipe.trainLimit ?? 0) / recipe.batchSize) steps \
            measure the cost reliably, but their accuracies say which variant leaves the starting \
            plateau sooner, not which ends better; `--full` runs them on more images.
            """)
        return runs
    }

    // MARK: 3

    /// Exercise 3; `d2l` is exercise 1's run of d2l's design, the same network and recipe as
    /// the pooled head's, so it is not trained twice.
    func heads(d2l: NiNExercises.VariantRun?) throws {
        let recipe = experimentRecipe
        book.say(
            """
            3. What if global average pooling is replaced by a dense layer on the class block's \
            maps (10 x 5 x 5 = 250 features at 224 px)? Same training as above; inference timed \
            on batches of \(recipe.batchSize) at \(recipe.imageSize) px through the execution plan (the two in \
            turn, three rounds, each its best):
            """)
        book.code("nin-exercise-3", from: "Sources/Exercises/NiN.swift")
        let heads = NiNExercises.heads()
        var table = TextTable(
            headers: ["head", "parameters at 224", "train img/s", "infer ms/image", "test accuracy"],
            alignments: [.left, .right, .right, .right, .right])
        let inference = try NiNExercises.inferenceSeconds(
            heads.map { NiN.model($0.design, inputSize: recipe.imageSize, seed: seed) }, imageSize: recipe.imageSize,
            batchSize: recipe.batchSize, seed: seed)
        guard !skipExperiments else {
            for ((name, design), seconds) in zip(heads, inference) {
                table.append([
                    name, grouped(NiN.model(design).parameterCount), "-", formatted(seconds * 1e3, digits: 2), "-",
                ])
            }
            book.show(table)
            return book.say("(The short runs are skipped with --skip-experiments.)")
        }
        let pooledRun =
            try d2l ?? NiNExercises.train([heads[0]], data: data, recipe: recipe, lastReLU: false, seed: seed)[0]
        let runs =
            [pooledRun] + (try NiNExercises.train([heads[1]], data: data, recipe: recipe, lastReLU: false, seed: seed))
        for ((name, _), (run, seconds)) in zip(heads, zip(runs, inference)) {
            table.append([
                name, grouped(run.parametersAt224), grouped(rounding: run.run.imagesPerSecond),
                formatted(seconds * 1e3, digits: 2), run.run.testAccuracyText,
            ])
        }
        book.show(table)
        let (pooled, dense) = (runs[0], runs[1])
        let (a, b) = (Double(pooled.run.finalTestAccuracy), Double(dense.run.finalTestAccuracy))
        let accuracy =
            !(a.isFinite && b.isFinite)
            ? "cannot be compared (a run diverged)"
            : !differenceIsBeyondNoise(a, b, samples: recipe.testLimit ?? 0)
                ? "is the same within the noise of this test (\(formatted(a, digits: 3)) and \(formatted(b, digits: 3)))"
                : a > b
                    ? "favours the average (\(formatted(a, digits: 3)) against \(formatted(b, digits: 3)))"
                    : "favours the dense layer (\(formatted(b, digits: 3)) against \(formatted(a, digits: 3)))"
        let speed = inference[1] / max(inference[0], 1e-12)
        book.say(
            """
            The dense layer adds \(grouped(dense.parametersAt224 - pooled.parametersAt224)) parameters at \
            224 px (the class maps' size x 10 outputs; it grows with the input's area, and it ties \
            the network to one input size, where the average takes any). Inference takes \
            \(formatted(speed, digits: 2))x as long per image: \
            \(abs(speed - 1) < 0.1 ? "no measurable difference, since both heads are a tiny part of the work" : speed > 1 ? "the dense layer's extra work shows" : "the average's pass costs more than the dense product here"). \
            The accuracy after this short run \(accuracy). What the average buys is not speed but \
            structure: every class score is the mean of one map, so each map must itself say \
            where its class is, and the network takes inputs of any size.
            """)
    }

    // MARK: 4

    func resources() throws {
        let result = try NiNExercises.resources(
            batchSize: Recipes.resourceBatch, seed: seed, executable: NiNChapter.executablePath)
        book.say(
            """
            4. What does NiN need? Counted for one 1x224x224 image, and memory at batch \
            \(result.batchSize) counted from the layers and measured as the resident memory one \
            pass through the execution plan added to a fresh process (this program, started \
            again for each pass):
            """)
        book.code("nin-exercise-4", from: "Sources/Exercises/NiN.swift")
        var table = TextTable(
            headers: ["", "counted", "measured"], alignments: [.left, .right, .right])
        table.append(["parameters", grouped(result.parameters), ""])
        table.append(["multiply-adds per image", formatted(Double(result.multiplyAdds) / 1e9, digits: 2) + " G", ""])
        table.append([
            "training memory (SGD), batch \(result.batchSize)", byteCount(result.estimate.training),
            result.measuredTraining.map(byteCount) ?? "-",
        ])
        table.append([
            "inference memory, batch \(result.batchSize)", byteCount(result.estimate.inference),
            result.measuredInference.map(byteCount) ?? "-",
        ])
        book.show(table)
        guard let measured = result.measuredTraining, let measuredInference = result.measuredInference else {
            return book.say("(This system does not report resident memory, so only the counts are shown.)")
        }
        let ratio = Double(measured) / Double(result.estimate.training)
        book.say(
            """
            The weights are \(byteCount(result.parameters * 4)); everything else is activations. \
            Training keeps every layer's output for the backward pass, so its memory grows with \
            the batch; prediction needs only the widest layer's input and output at a time. The \
            measured training step used \(formatted(ratio, digits: 2))x the count: \
            \(ratio < 0.9
                ? "less, because the plan fuses each convolution with its ReLU and keeps one tensor where the count has two"
                : ratio <= 1.25
                    ? "the count is a good model of it"
                    : "more, for the plan's workspaces (im2col and transform buffers) that the count leaves out"). \
            Inference measured \(byteCount(measuredInference)) against \
            \(byteCount(result.estimate.inference)) counted\
            \(Double(measuredInference) > 1.25 * Double(result.estimate.inference)
                ? ", the plan holding every block's output buffer for the next batch rather than only the widest pair"
                : ""). 
            """)
    }

    // MARK: 5

    func oneStep() {
        book.say(
            """
            5. What is wrong with going from 384 x 5 x 5 to 10 x 5 x 5 in one step? The class \
            block's 3x3 convolution compresses \(grouped(384 * 25)) values to \(grouped(250)) with \
            \(grouped(384 * 10 * 9 + 10)) weights, and every layer after it has only 10 channels: \
            one per class, each followed by a ReLU. In a wide layer a dead channel is one of \
            hundreds; here it is a whole class whose score is 0 for every image.
            """)
        var table = TextTable(
            headers: ["run", "ReLU", "dead units", "its weight's |update| / |weight|"],
            alignments: [.left, .left, .right, .right])
        var rows: [(run: String, reading: TrainingHealth)] = []
        if let last = health.last { rows.append(("6.5's training, epoch \(last.epoch)", last)) }
        if let dead = stalls.first(where: \.classBlockDied), let reading = dead.run.health.last {
            rows.append(("6.4, \(dead.setting), seed \(dead.seed) (dead)", reading))
        }
        for (run, reading) in rows {
            // The last ReLU of each of the four blocks, and the convolution before it.
            for block in ["0", "2", "4", "7"] {
                guard let dead = reading.deadUnits.last(where: { $0.path.hasPrefix(block + ".") }) else { continue }
                let index = Int(dead.path.split(separator: ".").last!)! - 1
                let update = reading.updateRatios.first { $0.name == "\(block).\(index).weight" }
                table.append([
                    run, dead.path, percent(dead.share), update.map { String(format: "%.1e", $0.ratio) } ?? "-",
                ])
            }
        }
        guard !rows.isEmpty else {
            return book.say("(No health readings: the training runs were skipped.)")
        }
        book.show(table)
        let classDead = rows[0].reading.deadUnits.last { $0.path.hasPrefix("7.") }?.share ?? 0
        let widestDead = rows[0].reading.deadUnits.filter { !$0.path.hasPrefix("7.") }.map(\.share).max() ?? 0
        book.say(
            """
            In 6.5's run the class block's ReLU nearest the scores ended \(percent(classDead)) dead, against at \
            most \(percent(widestDead)) in the wide blocks\
            \(classDead > widestDead
                ? ": the narrow end is where units die"
                : ": in this run the narrow end stayed as alive as the wide blocks"). \
            \(deadRunText(rows)) \
            Going down in two steps (384 to, say, 64 with a 1x1 convolution, then 64 to 10), \
            or leaving the last convolution without a ReLU, keeps a path for the gradient: \
            6.4's last setting measures the second.
            """)
    }

    /// What the dead run's update ratios say against the trained run's, a branch per outcome.
    func deadRunText(_ rows: [(run: String, reading: TrainingHealth)]) -> String {
        guard rows.count > 1 else { return "No run of 6.4 died, so there is no dead reading to set beside it." }
        func median(_ reading: TrainingHealth) -> Double {
            let ratios = reading.updateRatios.filter { $0.name.hasSuffix(".weight") }.map(\.ratio).sorted()
            return ratios.isEmpty ? .nan : ratios[ratios.count / 2]
        }
        let (trained, dead) = (median(rows[0].reading), median(rows[1].reading))
        guard trained.isFinite && dead.isFinite && dead > 0 else {
            return "In the dead run of 6.4 a class-block ReLU passes nothing, and its weights did not move at all."
        }
        let factor = trained / dead
        return factor >= 10
            ? "In the dead run of 6.4 a class-block ReLU passes nothing, and the weights' updates are "
                + "\(grouped(rounding: factor))x smaller (median) than in 6.5's run: almost no gradient gets past it."
            : "In the dead run of 6.4 a class-block ReLU passes nothing on the monitor's batch, yet the weights' "
                + "updates are within \(formatted(factor, digits: 1))x of 6.5's run: the step, with dropout, still found a path."
    }

    // MARK: 6

    func family() throws {
        book.say(
            """
            6. A NiN family in the spirit of VGG-11, 16 and 19: more NiN blocks in the second and \
            third stages, the extra ones 3x3 with padding 1 so that the plane is kept (VGG's \
            way), counted on 1x224x224:
            """)
        book.code("nin-exercise-6", from: "Sources/Exercises/NiN.swift")
        let members = try NiNExercises.family()
        var table = TextTable(
            headers: [
                "network", "NiN blocks per stage", "weight layers", "stage outputs", "parameters", "multiply-adds",
            ],
            alignments: [.left, .left, .right, .left, .right, .right])
        for member in members {
            table.append([
                member.name, member.blocks.map(String.init).joined(separator: ", "), "\(member.weightLayers)",
                member.stageOutputs.map { "\($0[1])x\($0[2])" }.joined(separator: ", "), grouped(member.parameters),
                formatted(Double(member.multiplyAdds) / 1e9, digits: 2) + " G",
            ])
        }
        book.show(table)
        let (small, large) = (members.first!, members.last!)
        book.say(
            """
            \(large.name) has \(formatted(Double(large.parameters) / Double(small.parameters), digits: 1))x the \
            parameters and \(formatted(Double(large.multiplyAdds) / Double(small.multiplyAdds), digits: 1))x \
            the work of \(small.name) (d2l's): like VGG's deeper columns, the added 3x3 blocks sit \
            where the planes are small and the channels many, so the depth costs work more than \
            weights. Training them is left to `NiN.model(stages:)`: 6.4's monitor would be the \
            first thing to watch.
            """)
    }
}
