// Chapter 06: NiN, networks without dense layers.
//
// The chapter shows that a 1x1 convolution is a dense layer applied at every pixel, traces and
// summarises d2l's NiN, sets its parameters against AlexNet's and VGG's dense heads, measures
// how often d2l's recipe stalls and why (with the trainer's health monitor), trains NiN, and
// answers d2l's exercises from the Exercises module.

import ArgumentParser
import Exercises
import Foundation
import Kernels
import ModernCNN
import Notebook

enum RecipeChoice: String, ExpressibleByArgument, CaseIterable {
    case d2l, cpu
}

struct NiNChapter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nin",
        abstract: "Chapter 06: NiN (1x1 convolutions, global average pooling, a training-health monitor).")

    @OptionGroup var options: ChapterOptions
    @OptionGroup var training: TrainingOptions

    @Option(help: "Training recipe: d2l (SGD lr 0.1, batch 128) or cpu (the course note's Adam lr 0.002).")
    var recipe: RecipeChoice = .d2l

    @Option(help: "Side of the square input images (the quick default's reduction; d2l uses 224; at least 67).")
    var imageSize: Int?

    @Flag(help: "Skip the stall experiment and the exercises' training runs (computed answers are still printed).")
    var skipExperiments = false

    @Flag(
        inversion: .prefixedNo,
        help:
            "Keep the ReLU after NiN's last convolution, as d2l does (default: dropped in the quick run, kept with --full)."
    )
    var lastReLU: Bool?

    /// Exercise 4's child process: one pass (training or inference) at --image-size and
    /// --batch-size, printing the resident bytes it added.
    @Option(help: .hidden)
    var memoryProbe: String?

    func validate() throws {
        if let memoryProbe, !["training", "inference"].contains(memoryProbe) {
            throw ValidationError("--memory-probe is training or inference, got \(memoryProbe)")
        }
        if let imageSize, !(NiN.minimumInputSize...448).contains(imageSize) {
            throw ValidationError(
                "--image-size must be between \(NiN.minimumInputSize) (three 3x3 pools need a plane) and 448, "
                    + "got \(imageSize)")
        }
    }

    func run() throws {
        options.applyThreads()
        if let memoryProbe {
            let bytes = try NiNExercises.peakOfOnePass(
                training: memoryProbe == "training", imageSize: imageSize ?? 224, batchSize: training.batchSize ?? 32)
            return print(bytes.map { "\($0)" } ?? "")
        }
        try runChapter(chapter)
    }

    /// This program's own path, for exercise 4's child processes.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func chapter() throws {
        let book = Notebook()
        let folder = try options.outputDirectory(chapter: "06-nin")
        book.title("Chapter 06 · NiN")
        let data = try FashionMNISTSplits(directory: training.dataDir)
        try pointwise(book, data: data)
        let profile = try network(book, folder: folder)
        try noDenseHead(book, ninProfile: profile)
        let stalls = try stallExperiment(book, data: data)
        let outcome = try train(book, data: data, folder: folder)
        try exercises(book, data: data, stalls: stalls, outcome: outcome)
        try summary(book, profile: profile, outcome: outcome)
        book.note(
            "This chapter's files (diagrams, curves, checkpoint, metrics, index.html) are in \(displayPath(folder.path))."
        )
        try book.page.write(to: folder, chapter: "06-nin")
    }

    // MARK: 6.1

    func pointwise(_ book: Notebook, data: FashionMNISTSplits) throws {
        book.section("6.1 A small network at every pixel")
        book.say(
            """
            LeNet, AlexNet and VGG share one plan: convolutions find features where they are, \
            then dense layers, which see the whole flattened map at once, decide the class. Lin, \
            Chen and Yan's Network in Network (2013) keeps the decision inside the convolutional \
            part. After each ordinary convolution come two 1x1 convolutions, each with a ReLU: \
            at every pixel, the vector of channels passes through a small two-layer perceptron, \
            the same one at every position. That is the NiN block:
            """)
        book.code("nin-block", from: "Sources/ModernCNN/Models/NiN.swift")
        book.say(
            """
            A 1x1 convolution does three things the course notes list: it sets the number of \
            channels to whatever the next layer needs (more or fewer), it adds a nonlinearity \
            (its ReLU) without changing the plane, and it does so with few weights: C_in x C_out \
            plus C_out biases, whatever the plane's size. It looks at no neighbour: on each pixel \
            it is exactly a dense layer from C_in to C_out features. Checked here on real maps, \
            the first block's first 1x1 convolution applied to what its 11x11 convolution and \
            ReLU make of eight test images, against a dense layer holding the same weights, fed \
            one pixel's channels per row:
            """)
        book.code("nin-pointwise-dense", from: "Sources/Exercises/NiN.swift")
        let images = BatchPlan(dataset: data.test, batchSize: 8, imageSize: 224, seed: 0).batch(0, of: Array(0..<8))
            .images
        let check = try NiNExercises.pointwiseAsDense(images: images, seed: options.seed)
        let (c, h) = (check.inputShape[1], check.inputShape[2])
        // Agreement to float rounding: the two sum the same products in different orders.
        let agree = check.largestDifference <= 1e-5 * max(check.largestOutput, 1)
        book.show(
            "1x1 convolution against dense",
            "\(grouped(check.pixels)) pixels (8 images x \(h) x \(h)), \(c) -> \(check.outputChannels) channels: "
                + (agree
                    ? "every output equal within 1e-5 of the largest (float rounding)"
                    : "largest difference \(String(format: "%.1e", check.largestDifference)), beyond float rounding"))
        book.say(
            agree
                ? """
                The two agree on all \(grouped(check.pixels)) pixels: the 1x1 convolution is the \
                dense layer, run \(grouped(h * h)) times per image with the same \
                \(grouped(c * check.outputChannels + check.outputChannels)) parameters. A dense layer \
                on the flattened map would need \(grouped(c * h * h)) inputs for each of its outputs.
                """
                : """
                The two differ by more than float rounding: something in the convolution's path \
                is wrong, and the tests in NiNTests would say what.
                """)
    }

    // MARK: 6.2

    func network(_ book: Notebook, folder: URL) throws -> ModelProfile {
        book.section("6.2 d2l's NiN")
        book.say(
            """
            d2l's NiN keeps AlexNet's convolution sizes (11x11 with stride 4 and 96 channels, \
            5x5 with 256, 3x3 with 384), each turned into a NiN block, with AlexNet's 3x3 \
            max pools of stride 2 between them. Where AlexNet flattens into dense layers, NiN \
            has a fourth block with one output channel per class, and global average pooling \
            turns each channel's plane into its class's score:
            """)
        book.code("nin", from: "Sources/ModernCNN/Models/NiN.swift")
        let model = NiN.d2l(seed: options.seed)
        let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
        book.say(
            """
            The trace of one 1x224x224 image, one line per module named as PyTorch's \
            named_children() names them (the course note prints exactly these ten), with each \
            size worked out; a 1x1 convolution keeps the plane (n - 1 + 1 = n):
            """)
        book.show(profile.shapeTrace(arithmetic: true, byName: true))
        let classMaps = profile.entries(toDepth: 0)[7].outputShape
        book.say(
            """
            The last block leaves \(classMaps[1]) maps of \(classMaps[2])x\(classMaps[3]); \
            averaging each gives the \(classMaps[1]) scores. The summary, with the receptive field \
            of every layer (chapter 05's recurrence):
            """)
        book.show(profile.summaryTable(receptiveFields: true))
        book.show(profile.memoryTable(batchSize: 128, optimizerSlots: 0, optimizer: "SGD"))
        book.show(
            "parameter names (d2l's state_dict)",
            model.namedParameters.prefix(2).map(\.name).joined(separator: ", ") + ", ..., "
                + model.namedParameters.suffix(2).map(\.name).joined(separator: ", "))
        book.diagram(
            ArchitectureDiagram(profile, title: "NiN (d2l), one 1x224x224 image"), in: folder, name: "nin",
            caption: "NiN unfolded: every layer, blocks as clusters, shaded by their share of the multiply-adds. "
                + "The classifier is the last block and an average: no dense layer anywhere.")
        book.diagram(
            ArchitectureDiagram(profile, title: "NiN by block", style: .folded), in: folder, name: "nin-blocks",
            caption: "The same network folded: one node per NiN block, shapes on the edges; the class scores "
                + "come from the last block's 10 maps, averaged.")
        return profile
    }

    // MARK: 6.3

    /// 6.3; `ninProfile` is d2l's NiN on one 1x224x224 image (6.2).
    func noDenseHead(_ book: Notebook, ninProfile: ModelProfile) throws {
        book.section("6.3 What dropping the dense head saves")
        let splits = try NiNExercises.denseHeads()
        var table = TextTable(
            headers: [
                "network (1x224x224)", "parameters", "in dense layers", "multiply-adds", "multiply-adds per weight",
            ],
            alignments: [.left, .right, .right, .right, .right])
        for split in splits {
            table.append([
                split.name, grouped(split.parameters), grouped(split.denseParameters),
                formatted(Double(split.multiplyAdds) / 1e9, digits: 2) + " G",
                grouped(rounding: Double(split.multiplyAdds) / Double(split.parameters)),
            ])
        }
        book.code("nin-dense-heads", from: "Sources/Exercises/NiN.swift")
        book.show(table)
        let (alex, vgg, nin) = (splits[0], splits[1], splits[splits.count - 1])
        book.say(
            """
            AlexNet's dense layers alone hold \(grouped(alex.denseParameters)) parameters, \
            \(formatted(Double(alex.denseParameters) / Double(nin.parameters), digits: 0))x all of NiN's \
            \(grouped(nin.parameters)); VGG-11's, \(formatted(Double(vgg.denseParameters) / Double(nin.parameters), digits: 0))x. \
            The work does not shrink with them: NiN does \
            \(formatted(Double(nin.multiplyAdds) / Double(alex.multiplyAdds), digits: 1))x AlexNet's \
            multiply-adds per image with \(percent(nin.parameters, of: alex.parameters)) of its \
            parameters, because its 1x1 layers run at every position of large planes. \
            Each of its weights is used \(grouped(rounding: Double(nin.multiplyAdds) / Double(nin.parameters))) \
            times per image against AlexNet's \(grouped(rounding: Double(alex.multiplyAdds) / Double(alex.parameters))): \
            a small model that computes a lot is what a cache-friendly kernel wants, and what a \
            memory-bound dense layer is not. Without dense layers there is also less to overfit, \
            which is why d2l keeps a single dropout, before the class block.
            """)
    }

    // MARK: 6.4

    func stallExperiment(_ book: Notebook, data: FashionMNISTSplits) throws -> [NiNExercises.StallRun] {
        book.section("6.4 When training stalls: a health monitor")
        let (lowest, median, highest) = PublishedResults.d2lNiNTestAccuracy
        book.say(
            """
            d2l trains NiN with plain SGD at lr 0.1. Across the many builds of its book the final \
            test accuracy ranged from \(lowest) to \(highest) (median \(median)); about one build in \
            four ended below 0.70, and some sat at loss 2.303 and accuracy 0.10 for all ten epochs. \
            2.303 is ln 10, the loss of a uniform guess over ten classes: those networks never \
            started. The class block ends in a ReLU, so a class whose channel is negative \
            everywhere scores exactly 0 for every image; if all ten do, every score is 0, the \
            softmax is uniform, and no gradient flows back through a ReLU that passed nothing. \
            Plain SGD has no momentum to carry a weight out of that state: it is permanent.
            """)
        book.say(
            """
            A loss curve cannot tell that from a slow start, so the trainer can watch for it \
            (`--health`, always on in this chapter): after each epoch it runs the last batch \
            through the model layer by layer and reports, for every ReLU, the share of its units \
            that were 0 for every image of the batch, and for every weight the size of the last \
            update against the weight's own size. It warns when a layer is more than \
            \(Int(TrainingHealth.deadWarningShare * 100))% dead or the epoch's loss stayed within \
            \(TrainingHealth.stallTolerance) of ln 10:
            """)
        book.code("dead-units", from: "Sources/ModernCNN/Training/TrainingHealth.swift")
        let recipe = Recipes.stall
        let settings = Recipes.stallSettings
        book.say(
            """
            The experiment: d2l's NiN from \(Recipes.stallSeeds.count) seeds under \(settings.count) \
            settings, each run one epoch of the first \(grouped(recipe.trainLimit ?? 0)) images \
            (\((recipe.trainLimit ?? 0) / recipe.batchSize) steps) at \(recipe.imageSize) px in batches of \
            \(recipe.batchSize) (the quick default's input size, 6.5), tested on \
            \(grouped(recipe.testLimit ?? 0)) images. After so few steps every run's loss is still \
            near ln 10, so the loss alone cannot say which runs will never learn. The monitor can: \
            a run is dead when one of the class block's ReLUs passed nothing for any image of its \
            last batch. The remedy tried is the smallest change that removes the trap: no ReLU \
            after the last convolution, so that a score can be negative and always passes its \
            gradient back.
            """)
        book.code("nin-stall-experiment", from: "Sources/Exercises/NiN.swift")
        guard !skipExperiments else {
            book.say("(The experiment is skipped with --skip-experiments.)")
            return []
        }
        let runs = try NiNExercises.stallExperiment(
            settings, seeds: Recipes.stallSeeds, recipe: recipe, data: data)
        var table = TextTable(
            headers: ["setting", "dead", "class block ReLUs dead, each seed", "first conv's last update, each seed"],
            alignments: [.left, .right, .left, .left])
        for setting in settings {
            let own = runs.filter { $0.setting == setting.name }
            table.append([
                setting.name, "\(own.filter(\.classBlockDied).count) of \(own.count)",
                own.map { $0.classBlockDeadShares.map { formatted($0 * 100, digits: 0) }.joined(separator: "/") + "%" }
                    .joined(separator: "  "),
                own.map { String(format: "%.0e", $0.firstLayerUpdateRatio) }.joined(separator: " "),
            ])
        }
        book.show(table)
        // How far from a uniform guess the runs got: the epoch's mean loss against ln 10.
        let farthest = runs.compactMap { $0.run.history.last.map { abs(Double($0.trainLoss) - log(10)) } }.max() ?? 0
        book.say(
            """
            (Each run's mean loss over its \((recipe.trainLimit ?? 0) / recipe.batchSize) steps was within \
            \(String(format: "%.0e", farthest)) of ln 10; "first conv's last update" is |update| / |weight| of \
            `0.0.weight` in the last step, "class block ReLUs dead" the share of units of 7.1, 7.3 \
            and 7.5 that passed nothing.)
            """)
        book.say(stallVerdict(runs, settings: settings))
        return runs
    }

    /// What the experiment's table shows, a branch per outcome.
    func stallVerdict(_ runs: [NiNExercises.StallRun], settings: [NiNExercises.StallSetting]) -> String {
        let counts = settings.map { setting in
            (setting, runs.filter { $0.setting == setting.name && $0.classBlockDied }.count)
        }
        let listed = counts.map { "\($0.1) of \(Recipes.stallSeeds.count) at \($0.0.name)" }.joined(separator: ", ")
        let dead = runs.filter(\.classBlockDied), alive = runs.filter { !$0.classBlockDied }
        guard !dead.isEmpty else {
            return """
                No run died here (\(listed)). Death is a matter of chance per seed, so a few seeds \
                may all escape it; d2l's builds show it about one time in four.
                """
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.filter(\.isFinite).sorted()
            return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        }
        let deadUpdate = median(dead.map(\.firstLayerUpdateRatio)),
            aliveUpdate = median(alive.map(\.firstLayerUpdateRatio))
        let updates =
            deadUpdate.isFinite && aliveUpdate.isFinite
            ? " In the dead runs the first convolution's last update was \(String(format: "%.0e", deadUpdate)) of its "
                + "weight (median), against \(String(format: "%.0e", aliveUpdate)) in the others: "
                + (deadUpdate < aliveUpdate / 10
                    ? "almost nothing reaches it any more."
                    : "it still moved in that last step (the step ran with dropout, the monitor's forward without), "
                        + "so a run this short cannot say whether it would have recovered.")
            : ""
        let remedy = counts.first { !$0.0.design.finalReLU }
        let d2l = counts.first { $0.0.design.finalReLU && $0.0.usesSGD && $0.0.learningRate == 0.1 }
        let remedyText: String
        if let remedy, let d2l {
            remedyText =
                remedy.1 < d2l.1
                ? " Without the last ReLU \(remedy.1 == 0 ? "no run died" : "fewer runs died") (\(remedy.1) against \(d2l.1))."
                : remedy.1 == d2l.1
                    ? " Without the last ReLU as many runs died (\(remedy.1)): the earlier ReLUs of the 10-channel block can die too."
                    : " Without the last ReLU more runs died here (\(remedy.1) against \(d2l.1)): the earlier ReLUs of the 10-channel block can die too."
        } else {
            remedyText = ""
        }
        return "Dead: \(listed).\(updates)\(remedyText) \(Recipes.stallSeeds.count) seeds per setting are a small "
            + "sample: the counts show the mechanism, not its rate."
    }

    // MARK: 6.5

    func train(_ book: Notebook, data: FashionMNISTSplits, folder: URL) throws -> TrainingOutcome {
        book.section("6.5 Training")
        let full = recipe == .cpu ? Recipes.cpuFull : Recipes.d2lFull
        var chosen = training.recipe(quick: Recipes.quick, full: full)
        if let imageSize { chosen.imageSize = imageSize }
        // The quick default drops the last ReLU (6.4's remedy); --full trains d2l's network as it is.
        let keepsLastReLU = lastReLU ?? training.full
        let model = NiN.model(NiN.Design(finalReLU: keepsLastReLU), seed: options.seed)
        let usesSGD = training.full && recipe == .d2l
        let optimizer: any Optimizer =
            usesSGD ? SGD(learningRate: chosen.learningRate) : Adam(learningRate: chosen.learningRate)
        let (d2l, quick) = (Recipes.d2lFull, Recipes.quick)
        let profileFull = try ModelProfile(model, inputShape: [1, 1, d2l.imageSize, d2l.imageSize])
        let profileQuick = try ModelProfile(model, inputShape: [1, 1, quick.imageSize, quick.imageSize])
        book.say(
            """
            d2l's recipe is \(d2l.epochs) epochs of all 60,000 images at \(d2l.imageSize)x\(d2l.imageSize), \
            SGD with lr \(d2l.learningRate), batches of \(d2l.batchSize): \
            \(formatted(3 * Double(profileFull.model.multiplyAdds) / 1e9, digits: 1)) billion \
            multiply-adds per image-step, hours here. The quick default makes four stated changes. \
            The input is \(quick.imageSize)x\(quick.imageSize), the smallest that survives NiN's \
            stride-4 convolution and three pools (the class maps are \
            \(NiN.classMapSide(inputSize: quick.imageSize))x\(NiN.classMapSide(inputSize: quick.imageSize)) \
            instead of \(NiN.classMapSide(inputSize: 224))x\(NiN.classMapSide(inputSize: 224))), which \
            cuts the work per image \
            \(formatted(Double(profileFull.model.multiplyAdds) / Double(profileQuick.model.multiplyAdds), digits: 0))x. \
            The last ReLU is left out (6.4's remedy; `--last-relu` keeps it), so that no seed can \
            start dead. The optimizer is Adam with lr \(quick.learningRate) in batches of \
            \(quick.batchSize), which takes each weight's step from its own gradient's size and so \
            gets the deep stack of ReLUs moving sooner than SGD's steps, proportional to gradients \
            that are tiny at the start. And it trains on \(grouped(quick.trainLimit ?? 60_000)) \
            images, \(percent(quick.trainLimit ?? 60_000, of: 60_000)) of an epoch, to keep the run \
            near three minutes. `--full` runs \
            d2l's recipe with its network and SGD; `--recipe cpu --full` the course note's (Adam, \
            lr \(Recipes.cpuFull.learningRate), \(Recipes.cpuFull.epochs) epochs at \(Recipes.cpuFull.imageSize) px).
            """)
        book.show(
            "network",
            "NiN (d2l)" + (keepsLastReLU ? "" : " without its last ReLU")
                + ", \(grouped(model.parameterCount)) parameters")
        book.show(
            "recipe",
            (usesSGD ? "SGD" : "Adam") + ", " + chosen.summary(for: data)
                + (training.full
                    ? " (--full)"
                    : training.overridesRecipe || imageSize != nil ? " (changed by flags)" : " (quick default)"))
        let outcome = try runTraining(
            model, name: keepsLastReLU ? "NiN (d2l)" : "NiN (d2l, no last ReLU)", optimizer: optimizer, recipe: chosen,
            data: data, seed: options.seed,
            directory: folder, resume: training.resume, engine: training.engine, profile: training.profile,
            checkpoints: training.checkpoint, health: true, book: book)
        try writeAtomically(
            LinePlot.learningCurves(outcome.history, title: "NiN (d2l), \(chosen.imageSize) px").svg(),
            to: folder.appendingPathComponent("nin-curves.svg"))
        book.figure(
            "nin-curves.svg", caption: "Training loss and accuracy, and test accuracy, per epoch.", folder: folder)
        let accuracy = Double(outcome.final?.testAccuracy ?? 0)
        let speed = outcome.history.map(\.imagesPerSecond).max() ?? 0
        let tested = min(chosen.testLimit ?? data.test.count, data.test.count)
        let trained = min(chosen.trainLimit ?? data.train.count, data.train.count)
        let profileHere = try ModelProfile(model, inputShape: [1, 1, chosen.imageSize, chosen.imageSize])
        let fullSpeed = speed * Double(profileHere.model.multiplyAdds) / Double(profileFull.model.multiplyAdds)
        let (lowest, median, highest) = PublishedResults.d2lNiNTestAccuracy
        let verdict =
            accuracy >= median
            ? "That reaches the median of d2l's builds (\(median)) for the full recipe."
            : accuracy >= 0.7
                ? "d2l's builds of the full recipe range from \(lowest) to \(highest) with median \(median); "
                    + "this run is below the median, by what the reduction and the short run cost."
                : "That is below what a healthy run reaches; the health readings above say whether it stalled."
        book.say(
            """
            Reached: test accuracy \(formatted(accuracy, digits: 3)) on \(grouped(tested)) test images \
            after \(chosen.epochs) epoch\(chosen.epochs == 1 ? "" : "s") over \(grouped(trained)) training \
            images at \(chosen.imageSize)x\(chosen.imageSize), at \(grouped(rounding: speed)) training \
            images/s, \(formatted(outcome.seconds, digits: 0)) s in all. \(verdict) At 224 px the same \
            network does \(formatted(Double(profileFull.model.multiplyAdds) / Double(profileHere.model.multiplyAdds), digits: 0))x \
            the work per image; at the same rate of work d2l's \(d2l.epochs) epochs would take about \
            \(formatted(Double(d2l.epochs * 60_000) / max(fullSpeed, 1e-9) / 3600, digits: 1)) hours here.
            """)
        return outcome
    }

    // MARK: 6.6

    func exercises(
        _ book: Notebook, data: FashionMNISTSplits, stalls: [NiNExercises.StallRun], outcome: TrainingOutcome
    ) throws {
        book.section("6.6 Exercises, answered")
        try NiNChapterExercises(
            book: book, data: data, seed: options.seed, skipExperiments: skipExperiments, explore: training.full,
            stalls: stalls, health: outcome.health
        ).run()
    }

    func summary(_ book: Notebook, profile: ModelProfile, outcome: TrainingOutcome) throws {
        book.section("Summary")
        let alex = try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])
        book.say(
            """
            - A 1x1 convolution is a dense layer applied at every pixel: NiN blocks put a small \
            perceptron after each convolution, adding ReLUs and mixing channels with few weights.
            - NiN has no dense layer: a block with one channel per class and global average \
            pooling classify. \(grouped(profile.model.parameterCount)) parameters against AlexNet's \
            \(grouped(alex.model.parameterCount)), for \
            \(formatted(Double(profile.model.multiplyAdds) / Double(alex.model.multiplyAdds), digits: 1))x its work.
            - A ReLU at the very end can kill the scores and stall training for good; the \
            trainer's health monitor shows it as dead units and a loss fixed at ln 10.
            - Trained here: test accuracy \(formatted(Double(outcome.final?.testAccuracy ?? 0), digits: 3)) \
            (6.5 says on what).
            """)
    }
}

/// The chapter's recipes, in one place.
enum Recipes {
    /// d2l's: SGD lr 0.1, batch 128, 224 px, 10 epochs.
    static let d2lFull = Recipe(epochs: 10, batchSize: 128, learningRate: 0.1, imageSize: 224)
    /// The course note's: Adam lr 0.002, batch 128, 5 epochs at 224.
    static let cpuFull = Recipe(epochs: 5, batchSize: 128, learningRate: 0.002, imageSize: 224)
    /// The quick default: the smallest input NiN takes, Adam, 40,000 images (section 6.5 says
    /// why each change, and that the network drops its last ReLU).
    static let quick = Recipe(epochs: 1, batchSize: 64, learningRate: 0.001, imageSize: 67, trainLimit: 40_000)
    /// The stall experiment's short runs: d2l's batch at the quick default's size.
    static let stall = Recipe(
        epochs: 1, batchSize: 128, learningRate: 0.1, imageSize: 67, trainLimit: 1_536, testLimit: 256)
    static let stallSeeds: [UInt64] = [0, 1, 2]
    /// Images each of the exercises' short runs trains on.
    static let exerciseImages = 1_024
    /// The batch at which exercise 4 counts and measures memory.
    static let resourceBatch = 32
    static let stallSettings = [
        NiNExercises.StallSetting(name: "SGD lr 0.1 (d2l)", learningRate: 0.1),
        NiNExercises.StallSetting(name: "SGD lr 0.05", learningRate: 0.05),
        NiNExercises.StallSetting(
            name: "SGD lr 0.1, no last ReLU", design: NiN.Design(finalReLU: false), learningRate: 0.1),
    ]
}

NiNChapter.main()
