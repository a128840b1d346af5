// Chapter 05: VGG, networks built from a repeated block of 3x3 convolutions.
//
// The chapter prints the paper's family of configurations from its data, shows why stacks of
// 3x3 convolutions replace larger windows, traces and summarises VGG-11 with the receptive field
// of every layer, draws what one unit of each block sees, compares VGG's cost with AlexNet's,
// trains the chosen variant, and answers d2l's exercises from the Exercises module.

import ArgumentParser
import Exercises
import Foundation
import Kernels
import ModernCNN
import Notebook

extension VGG.Variant: ExpressibleByArgument {}

enum RecipeChoice: String, ExpressibleByArgument, CaseIterable {
    case d2l, cpu
}

struct VGGChapter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vgg",
        abstract: "Chapter 05: VGG (blocks of 3x3 convolutions, receptive fields), trained on Fashion-MNIST.")

    @OptionGroup var options: ChapterOptions
    @OptionGroup var training: TrainingOptions

    @Option(
        help: ArgumentHelp(
            "Which network to train: vgg11 (full width), small (d2l's, a quarter of the channels) or cpu "
                + "(an eighth, dense layers of 512). Default: small, or cpu with --recipe cpu."))
    var variant: VGG.Variant?

    @Option(help: "Training recipe: d2l (SGD lr 0.05, batch 128) or cpu (the course note's Adam lr 0.001, batch 16).")
    var recipe: RecipeChoice = .d2l

    @Option(help: "Side of the square input images (the quick default's reduction; d2l uses 224).")
    var imageSize: Int?

    @Flag(help: "Skip the exercises' training runs (the computed answers are still printed).")
    var skipExperiments = false

    /// The network trained: --variant, else the recipe's own (the course note trains the cpu variant).
    var network: VGG.Variant { variant ?? (recipe == .cpu ? .cpu : .small) }

    func validate() throws {
        if let imageSize, !(32...448).contains(imageSize) {
            throw ValidationError("--image-size must be between 32 and 448 (five 2x2 pools need 32), got \(imageSize)")
        }
    }

    func run() throws {
        options.applyThreads()
        try runChapter(chapter)
    }

    func chapter() throws {
        let book = Notebook()
        let folder = try options.outputDirectory(chapter: "05-vgg")
        book.title("Chapter 05 · VGG")
        try blocks(book)
        try threeByThree(book)
        let profile = try vgg11(book, folder: folder)
        let data = try FashionMNISTSplits(directory: training.dataDir)
        try receptiveFields(book, data: data, folder: folder, vggProfile: profile)
        try cost(book, vggProfile: profile)
        let outcome = try train(book, data: data, folder: folder)
        try exercises(book, data: data)
        try summary(book, outcome: outcome)
        book.note(
            "This chapter's files (diagrams, receptive fields, curves, checkpoint, metrics, index.html) are in "
                + "\(displayPath(folder.path)).")
        try book.page.write(to: folder, chapter: "05-vgg")
    }

    // MARK: 5.1

    func blocks(_ book: Notebook) throws {
        book.section("5.1 From layers to blocks")
        book.say(
            """
            LeNet and AlexNet were designed layer by layer: this convolution 11x11 with stride 4, \
            that one 5x5, a pool here. Simonyan and Zisserman's VGG networks (2014, from Oxford's \
            Visual Geometry Group) are designed block by block instead. A block is a few 3x3 \
            convolutions with padding 1, which keep the plane's size, each followed by ReLU, and \
            one 2x2 max pool with stride 2, which halves it. A network is then a list of (number \
            of convolutions, channels) pairs; the channels double as the plane halves, until 512.
            """)
        book.code("vgg-block", from: "Sources/ModernCNN/Models/VGG.swift")
        book.say(
            """
            The paper tried six configurations of that design on ImageNet, from 11 to 19 weight \
            layers. Printed here from `VGG.paperConfigurations` (conv3-256 is a 3x3 convolution \
            with 256 outputs; every column ends in the same three dense layers), with each \
            column's parameters counted from its layers for 3x224x224 inputs and 1,000 classes:
            """)
        let table = VGG.paperConfigurations
        var family = TextTable(headers: ["block"] + table.map { "\($0.name) (\($0.weightLayers) layers)" })
        for block in 0..<5 {
            let cells = table.map { $0.layers(ofBlock: block) }
            for line in 0..<(cells.map(\.count).max() ?? 0) {
                family.append(
                    [line == 0 ? "\(block + 1), then max pool" : ""] + cells.map { line < $0.count ? $0[line] : "" })
            }
        }
        family.append(["dense", "4096, 4096, 1000"] + Array(repeating: "same", count: table.count - 1))
        family.append(["parameters"] + table.map { formatted(Double($0.parameterCount) / 1e6, digits: 1) + " M" })
        book.show(family)
        let (a, e) = (table.first!, table.last!)
        book.say(
            """
            \(e.weightLayers - a.weightLayers) more convolutions take A to E, yet the parameters grow only from \
            \(formatted(Double(a.parameterCount) / 1e6, digits: 1)) to \(formatted(Double(e.parameterCount) / 1e6, digits: 1)) \
            million: most of them sit in the dense layers, which every column shares. The paper \
            found A-LRN no better than A and dropped local response normalisation, and C's 1x1 \
            convolutions worse than D's 3x3: the extra nonlinearity helps, but so does seeing \
            more of the image. D and E are the networks known as VGG-16 and VGG-19.
            """)
    }

    // MARK: 5.2

    func threeByThree(_ book: Notebook) throws {
        book.section("5.2 Why stacks of 3x3")
        book.say(
            """
            Why not fewer, larger windows? Compare a stack of n 3x3 convolutions with one k x k \
            convolution, C channels in and out, by what one output unit sees (its receptive \
            field, worked out in 5.4), the weights, and the ReLUs between input and output. \
            Computed from the layers themselves for C = 256:
            """)
        let channels = 256
        var g = SeededGenerator(seed: options.seed)
        func conv(_ k: Int) -> Conv2d {
            Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: k, padding: k / 2, generator: &g)
        }
        var table = TextTable(
            headers: ["layers", "receptive field", "weights", "ReLUs", "weights against one window"],
            alignments: [.left, .right, .right, .right, .right])
        for (stack, k) in [(2, 5), (3, 7)] {
            let stacked = Sequential((0..<stack).flatMap { _ in [conv(3) as any Layer, ReLU()] })
            let single = Sequential(conv(k), ReLU())
            let fields = [stacked, single].map { ReceptiveField.perLayer(of: $0).last!.field!.size }
            // Weights only: the biases (C per layer) are not what the comparison is about.
            let weights = [stacked, single].map { network in
                network.allLayers.compactMap { ($0 as? Conv2d)?.weight.value.count }.reduce(0, +)
            }
            table.append([
                "\(stack) x 3x3", "\(fields[0])x\(fields[0])", grouped(weights[0]), "\(stack)",
                formatted(Double(weights[0]) / Double(weights[1]), digits: 2) + "x",
            ])
            table.append(["1 x \(k)x\(k)", "\(fields[1])x\(fields[1])", grouped(weights[1]), "1", "1x"])
        }
        book.show(table)
        let five = 2 * 9 * channels * channels, fiveBig = 25 * channels * channels
        book.say(
            """
            Two 3x3 layers see a 5x5 patch, as one 5x5 layer does, with \
            \(formatted(Double(five) / Double(fiveBig), digits: 2)) of its weights (18 C^2 against \
            25 C^2, biases aside) and one more ReLU; three see 7x7 with 27 C^2 against 49 C^2. The \
            multiply-adds per output position shrink in the same proportion. The stack is a \
            larger window whose weights are constrained to a product of small ones, and the \
            nonlinearity between them makes the function it computes richer, not poorer.
            """)
    }

    // MARK: 5.3

    func vgg11(_ book: Notebook, folder: URL) throws -> ModelProfile {
        book.section("5.3 VGG-11 as d2l builds it")
        book.say(
            """
            d2l builds configuration A, VGG-11, for Fashion-MNIST: one input channel, images \
            resized to 224x224, ten classes. The whole network is its architecture, \
            `VGG.vgg11 = [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)]`, handed to:
            """)
        book.code("vgg", from: "Sources/ModernCNN/Models/VGG.swift")
        let model = VGG.Variant.vgg11.model(seed: options.seed)
        let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
        book.say("The shape trace, block by block as d2l prints it, with each size worked out:")
        book.show(profile.shapeTrace(arithmetic: true))
        book.say(
            """
            Five blocks, each halving the plane: 224 / 2^5 = 7, and 512 x 7 x 7 = \
            \(grouped(512 * 49)) features reach the first dense layer. The summary, with the \
            receptive field of every layer (5.4):
            """)
        book.show(profile.summaryTable(receptiveFields: true))
        book.show(profile.memoryTable(batchSize: 128, optimizerSlots: 0, optimizer: "SGD"))
        let flatten = profile.leaves.firstIndex { $0.layer is Flatten }!
        let convParameters = profile.leaves[..<flatten].reduce(0) { $0 + $1.parameterCount }
        let convMACs = profile.leaves[..<flatten].reduce(0) { $0 + $1.multiplyAdds }
        let total = profile.model
        let firstDense = profile.leaves.first { $0.layer is Linear }!
        book.say(
            """
            \(grouped(total.parameterCount)) parameters and \
            \(formatted(Double(total.multiplyAdds) / 1e9, digits: 2)) billion multiply-adds per \
            image. The split is AlexNet's: the eight convolutions hold \
            \(percent(convParameters, of: total.parameterCount)) of the parameters and do \
            \(percent(convMACs, of: total.multiplyAdds)) of the work; the first dense layer \
            alone (\(firstDense.layer.description)) holds \
            \(formatted(Double(firstDense.parameterCount) / 1e6, digits: 1)) million parameters, \
            \(percent(firstDense.parameterCount, of: total.parameterCount)) of the network.
            """)
        let small = VGG.Variant.small.model(seed: options.seed), cpu = VGG.Variant.cpu.model(seed: options.seed)
        book.say(
            """
            That is too much to train on a CPU in a sitting. d2l trains a version with a quarter of \
            the channels in every convolution (`--variant small`, the default here), and a course \
            note an eighth, with dense layers of 512 (`--variant cpu`). Same blocks, same trace with \
            fewer channels:
            """)
        var variants = TextTable(
            headers: ["variant", "channels per block", "dense layers", "parameters", "multiply-adds"],
            alignments: [.left, .left, .left, .right, .right])
        for (variant, built) in [(VGG.Variant.vgg11, model), (.small, small), (.cpu, cpu)] {
            let variantProfile = try ModelProfile(built, inputShape: [1, 1, 224, 224])
            variants.append([
                variant.rawValue,
                VGG.vgg11.map { "\($0.outputChannels / variant.channelDivisor)" }.joined(separator: ", "),
                "\(variant.hidden), \(variant.hidden), 10", grouped(built.parameterCount),
                formatted(Double(variantProfile.model.multiplyAdds) / 1e9, digits: 2) + " G",
            ])
        }
        book.show(variants)
        book.show(
            "parameter names (d2l's state_dict)",
            small.namedParameters.prefix(2).map(\.name).joined(separator: ", ") + ", ..., "
                + small.namedParameters.suffix(2).map(\.name).joined(separator: ", "))
        book.diagram(
            ArchitectureDiagram(profile, title: "VGG-11, one 1x224x224 image"), in: folder, name: "vgg11",
            caption: "VGG-11 unfolded: every layer, blocks as clusters, shaded by their share of the multiply-adds.")
        book.diagram(
            ArchitectureDiagram(profile, title: "VGG-11 by block", style: .folded), in: folder, name: "vgg11-blocks",
            caption: "The same network folded: one node per VGG block with its layers, shapes on the edges.")
        return profile
    }

    // MARK: 5.4

    func receptiveFields(
        _ book: Notebook, data: FashionMNISTSplits, folder: URL, vggProfile: ModelProfile
    ) throws {
        book.section("5.4 What one unit sees: receptive fields")
        book.say(
            """
            The receptive field of a unit is the patch of the input that can change it. Along one \
            axis three numbers describe it after every layer: its size, the jump between the \
            fields of neighbouring units (the product of the strides so far), and the centre of \
            the first unit's field. A window of k pixels with stride s adds (k - 1) x jump to the \
            size and multiplies the jump by s:
            """)
        book.code("receptive-field-recurrence", from: "Sources/ModernCNN/ReceptiveField.swift")
        let vgg = VGG.Variant.small.model(seed: options.seed), alexNet = AlexNet.d2l(seed: options.seed)
        let vggStages = try ReceptiveFieldFigure.stages(of: vgg, .blocks)
        let alexStages = try ReceptiveFieldFigure.stages(of: alexNet, .convolutions)
        var table = TextTable(headers: ["", "VGG block", "field", "jump", "AlexNet layer", "field", "jump"])
        for index in 0..<max(vggStages.count, alexStages.count) {
            let v = index < vggStages.count ? vggStages[index] : nil
            let a = index < alexStages.count ? alexStages[index] : nil
            table.append([
                "\(index + 1)", v?.name ?? "", v.map { "\($0.field.size)" } ?? "", v.map { "\($0.field.jump)" } ?? "",
                a?.name ?? "", a.map { "\($0.field.size)" } ?? "", a.map { "\($0.field.jump)" } ?? "",
            ])
        }
        book.show(table)
        // The first test image drawn at 224 px with the field of each stage's centre unit.
        let index = 0
        let image = BatchPlan(dataset: data.test, batchSize: 1, imageSize: 224, seed: 0).batch(0, of: [index]).images
        let figure = ReceptiveFieldFigure(image: Array(image.scalars), side: 224)
        try figure.draw(
            panels: [("VGG (small)", vggStages), ("AlexNet (d2l)", alexStages)],
            to: folder, name: "receptive-fields")
        book.figure(
            "receptive-fields.svg",
            caption: "The centre unit of each stage and the square of the 224x224 input it sees (clipped "
                + "to the image), for VGG and for AlexNet, on the first test image "
                + "(\(FashionMNIST.classNames[Int(data.test.labels[index])].lowercased())).",
            folder: folder)
        let (vggLast, alexFirst) = (vggStages.last!.field, alexStages.first!.field)
        let upscale = 224 / FashionMNIST.side
        let firstBlock = vggStages.first!.field.size
        book.say(
            """
            AlexNet's first layer already sees \(alexFirst.size)x\(alexFirst.size) pixels with a \
            jump of \(alexFirst.jump); VGG's fields grow by small steps, 2 x jump per 3x3 \
            convolution, and by the last block a unit sees \(vggLast.size)x\(vggLast.size), \
            \(vggLast.size >= 224 ? "more than the whole image" : "\(percent(vggLast.size, of: 224)) of the image's side"): \
            depth, not window size, buys the view, with a ReLU at every step. Each 28x28 \
            Fashion-MNIST pixel becomes \(upscale)x\(upscale) pixels at 224, so VGG's first block, \
            whose units see \(firstBlock)x\(firstBlock), looks at \
            \(firstBlock <= upscale ? "less than one original pixel" : "about \(formatted(Double(firstBlock) / Double(upscale), digits: 1)) original pixels") \
            per unit: interpolated values with nothing to find in them. The first two blocks, whose \
            units see at most \(vggStages[1].field.size)x\(vggStages[1].field.size) pixels, do \
            \(percent(vggProfile.entries(toDepth: 0).prefix(2).reduce(0) { $0 + $1.multiplyAdds }, of: vggProfile.model.multiplyAdds)) \
            of VGG-11's multiply-adds. A smaller input shrinks every block's work with the image's \
            area, and exercise 6 measures what it costs in accuracy.
            """)
    }

    // MARK: 5.5

    /// 5.5; `vggProfile` is VGG-11's (5.3), for its multiply-adds beside the small one's.
    func cost(_ book: Notebook, vggProfile: ModelProfile) throws {
        book.section("5.5 The cost against AlexNet")
        let comparison = try VGGExercises.costAgainstAlexNet(batchSize: 8, seed: options.seed)
        var table = TextTable(
            headers: [
                "network (1x224x224)", "parameters", "multiply-adds", "activations", "train ms/image", "infer ms/image",
            ],
            alignments: [.left, .right, .right, .right, .right, .right])
        for row in comparison {
            table.append([
                row.name, grouped(row.parameters), formatted(Double(row.multiplyAdds) / 1e9, digits: 2) + " G",
                byteCount(row.activationBytes), formatted(row.trainingSeconds * 1e3, digits: 1),
                formatted(row.inferenceSeconds * 1e3, digits: 1),
            ])
        }
        book.code("vgg-cost", from: "Sources/Exercises/VGG.swift")
        book.show(table)
        let (alex, small) = (comparison[0], comparison[1])
        let vgg11MultiplyAdds = vggProfile.model.multiplyAdds
        let timeRatio = small.trainingSeconds / alex.trainingSeconds
        let workRatio = Double(small.multiplyAdds) / Double(alex.multiplyAdds)
        let memoryRatio = Double(small.activationBytes) / Double(alex.activationBytes)
        // What the many full-resolution layers cost: memory always here; compute only if the
        // narrow network still does more multiply-adds than AlexNet.
        let cost =
            workRatio > 1
            ? "full-resolution planes through many layers cost compute and memory, not weights"
            : "with a quarter of the channels the work falls below AlexNet's (VGG-11 at full width does "
                + "\(formatted(Double(vgg11MultiplyAdds) / Double(alex.multiplyAdds), digits: 1))x), but the activation "
                + "memory does not: full-resolution planes through many layers cost memory, whatever the width"
        book.say(
            """
            d2l's small VGG has \(formatted(Double(small.parameters) / Double(alex.parameters), digits: 2))x AlexNet's \
            parameters, \(formatted(workRatio, digits: 1))x its multiply-adds and \
            \(formatted(memoryRatio, digits: 1))x its activation memory: \(cost). \
            Measured here (batches of 8, best of two), a training step takes \
            \(formatted(timeRatio, digits: 1))x as long per image, \
            \(abs(timeRatio - workRatio) / workRatio < 0.25
                ? "in line with the work"
                : timeRatio < workRatio
                    ? "less than the work predicts: its 3x3 layers run as Winograd transforms, the fastest kernels here"
                    : "more than the work predicts: its large early planes stream through memory"
            ).
            """)
    }

    // MARK: 5.6

    func train(_ book: Notebook, data: FashionMNISTSplits, folder: URL) throws -> TrainingOutcome {
        book.section("5.6 Training")
        let (quick, full) = recipe == .cpu ? (Recipes.quick, Recipes.cpuFull) : (Recipes.quick, Recipes.d2lFull)
        var chosen = training.recipe(quick: quick, full: full)
        if let imageSize { chosen.imageSize = imageSize }
        let model = network.model(inputSize: chosen.imageSize, seed: options.seed)
        // d2l's full recipe is plain SGD; everything else here uses Adam (Recipes says why).
        let usesSGD = training.full && recipe == .d2l
        let optimizer: any Optimizer =
            usesSGD ? SGD(learningRate: chosen.learningRate) : Adam(learningRate: chosen.learningRate)
        let (d2l, reduced) = (Recipes.d2lFull, Recipes.quick)
        let (low, high) = PublishedResults.d2lVGGTestAccuracyRange
        let work = Double(d2l.imageSize * d2l.imageSize) / Double(reduced.imageSize * reduced.imageSize)
        // The network at d2l's size, for its work per image (counted, not allocated for training).
        let profileFull = try ModelProfile(
            network.model(inputSize: d2l.imageSize), inputShape: [1, 1, d2l.imageSize, d2l.imageSize])
        book.say(
            """
            d2l trains the small VGG for \(d2l.epochs) epochs of all 60,000 images at \
            \(d2l.imageSize)x\(d2l.imageSize), SGD with lr \(d2l.learningRate) and batches of \
            \(d2l.batchSize); its builds report test accuracies from \(low) to \(high). That is \
            \(grouped(d2l.epochs * 60_000)) image-steps at \
            \(formatted(3 * Double(profileFull.model.multiplyAdds) / 1e9, digits: 1)) \
            billion multiply-adds each: hours on two cores. The quick default makes three stated \
            changes. The input is \(reduced.imageSize)x\(reduced.imageSize), the smallest size that \
            survives five 2x2 pools (28 upscaled a little, where 224 is eight times), so every \
            convolution has \(formatted(work, digits: 0))x fewer positions to compute; and the \
            optimizer is Adam with lr \(reduced.learningRate), because \
            plain SGD leaves a VGG without normalisation on its starting plateau (loss ln 10 = \
            2.303) for most of an epoch: the first two blocks' ReLUs pass small signals through \
            many layers, and SGD's steps are proportional to their tiny gradients, while Adam \
            scales each weight's step by its own gradient's size; and it trains on the first \
            \(grouped(reduced.trainLimit ?? 60_000)) images, \(percent(reduced.trainLimit ?? 60_000, of: 60_000)) \
            of an epoch, to keep the run near two minutes. `--full` runs d2l's recipe with \
            its SGD; `--recipe cpu --full` the course note's (its network with an eighth of the \
            channels, Adam, lr 0.001, batches of 16, 5 epochs).
            """)
        book.show("network", "\(network.rawValue) (\(grouped(model.parameterCount)) parameters)")
        book.show(
            "recipe",
            (usesSGD ? "SGD" : "Adam") + ", " + chosen.summary(for: data)
                + (training.full
                    ? " (--full)"
                    : training.overridesRecipe || imageSize != nil ? " (changed by flags)" : " (quick default)"))
        let outcome = try runTraining(
            model, name: "VGG (\(network.rawValue))", optimizer: optimizer, recipe: chosen, data: data,
            seed: options.seed, directory: folder, resume: training.resume, engine: training.engine,
            profile: training.profile, checkpoints: training.checkpoint, health: training.health, book: book)
        try writeAtomically(
            LinePlot.learningCurves(outcome.history, title: "VGG (\(network.rawValue)), \(chosen.imageSize) px").svg(),
            to: folder.appendingPathComponent("vgg-curves.svg"))
        book.figure(
            "vgg-curves.svg", caption: "Training loss and accuracy, and test accuracy, per epoch.", folder: folder)
        let speed = outcome.history.map(\.imagesPerSecond).max() ?? 0
        let accuracy = Double(outcome.final?.testAccuracy ?? 0)
        let tested = min(chosen.testLimit ?? data.test.count, data.test.count)
        let trained = min(chosen.trainLimit ?? data.train.count, data.train.count)
        // What d2l's recipe would take at the speed a 224 px step runs here (the same network at
        // d2l's size, its multiply-adds over this run's measured rate at this run's size).
        let profileHere = try ModelProfile(model, inputShape: [1, 1, chosen.imageSize, chosen.imageSize])
        let fullSpeed = speed * Double(profileHere.model.multiplyAdds) / Double(profileFull.model.multiplyAdds)
        let verdict =
            accuracy >= low
            ? "That is within reach of d2l's \(low) to \(high) for the full recipe."
            : chosen == full
                ? "d2l's builds reach \(low) to \(high) with this recipe; this run fell short of them."
                : "d2l's full recipe reaches \(low) to \(high); the rest is what the reduction and the single epoch cost."
        book.say(
            """
            Reached: test accuracy \(formatted(accuracy, digits: 3)) on \(grouped(tested)) test images \
            after \(chosen.epochs) epoch\(chosen.epochs == 1 ? "" : "s") over \(grouped(trained)) training \
            images at \(chosen.imageSize)x\(chosen.imageSize), at \(grouped(rounding: speed)) training \
            images/s, \(formatted(outcome.seconds, digits: 0)) s in all. \(verdict) At 224 px the same \
            network does \(formatted(Double(profileFull.model.multiplyAdds) / Double(profileHere.model.multiplyAdds), digits: 0))x \
            the work per image; at the same rate of work d2l's \(d2l.epochs) epochs would take about \
            \(formatted(Double(d2l.epochs * 60_000) / max(fullSpeed, 1e-9) / 3600, digits: 1)) hours here \
            (`--full` measures it and its progress bar gives the remaining time).
            """)
        return outcome
    }

    // MARK: 5.7

    func exercises(_ book: Notebook, data: FashionMNISTSplits) throws {
        book.section("5.7 Exercises, answered")
        try VGGChapterExercises(
            book: book, data: data, seed: options.seed, skipExperiments: skipExperiments,
            explore: training.full
        ).run()
    }

    func summary(_ book: Notebook, outcome: TrainingOutcome) throws {
        book.section("Summary")
        let small = VGG.Variant.small.model()
        // Where the small VGG's work is: its two busiest blocks and their share.
        let blocks = try ModelProfile(small, inputShape: [1, 1, 224, 224]).entries(toDepth: 0).prefix(VGG.vgg11.count)
        let total = blocks.reduce(0) { $0 + $1.multiplyAdds }
        let busiest = blocks.enumerated().sorted { $0.element.multiplyAdds > $1.element.multiplyAdds }.prefix(2)
            .sorted { $0.offset < $1.offset }
        book.say(
            """
            - VGG is designed by blocks: 3x3 convolutions that keep the plane, a 2x2 pool that \
            halves it, the channels doubling to 512; a network is a list of (convolutions, channels).
            - Stacks of 3x3 see what larger windows see with fewer weights and more ReLUs; \
            receptive fields grow with depth, by 2 x jump per layer.
            - Its cost is compute and activation memory, not parameters: d2l's small VGG has \
            \(grouped(small.parameterCount)) parameters, most of them in the first dense layer, and \
            \(percent(busiest.reduce(0) { $0 + $1.element.multiplyAdds }, of: total)) of its convolutions' \
            work in blocks \(busiest.map { "\($0.offset + 1)" }.joined(separator: " and ")), where the channels \
            have grown and the planes are still large.
            - Trained here: test accuracy \(formatted(Double(outcome.final?.testAccuracy ?? 0), digits: 3)) \
            (5.6 says on what).
            """)
    }
}

/// The chapter's recipes, in one place.
enum Recipes {
    /// d2l's: small VGG, SGD lr 0.05, batch 128, 224 px, 10 epochs.
    static let d2lFull = Recipe(epochs: 10, batchSize: 128, learningRate: 0.05, imageSize: 224)
    /// The quick default: the first 32,000 images at 32 px with Adam, lr 0.001 (section 5.6
    /// says why each change).
    static let quick = Recipe(epochs: 1, batchSize: 128, learningRate: 0.001, imageSize: 32, trainLimit: 32_000)
    /// The course note's: Adam lr 0.001, batch 16, 5 epochs at 224, on the cpu variant.
    static let cpuFull = Recipe(epochs: 5, batchSize: 16, learningRate: 0.001, imageSize: 224)
}

VGGChapter.main()
