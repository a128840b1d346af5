// Exercises.swift: section 5.7, d2l's exercises for VGG answered from the Exercises module,
// every figure computed or measured in this run.

import Exercises
import Foundation
import ModernCNN
import Notebook

struct VGGChapterExercises {
    let book: Notebook
    let data: FashionMNISTSplits
    let seed: UInt64
    let skipExperiments: Bool
    /// --full: the experiments on more images.
    let explore: Bool

    /// The short runs' recipe: the quick default's size and Adam's learning rate, one epoch in
    /// batches of 64, tested after the epoch.
    var experimentRecipe: Recipe {
        Recipe(
            epochs: 1, batchSize: 64, learningRate: Recipes.quick.learningRate, imageSize: Recipes.quick.imageSize,
            trainLimit: explore ? 20_000 : 2_048, testLimit: explore ? 10_000 : 2_000)
    }

    func run() throws {
        try parameters()
        try cheaperHeads()
        traceLines()
        try deeperNetworks()
        try inputSizes()
    }

    // MARK: 1, 2

    func parameters() throws {
        book.say(
            """
            1 and 2. How many parameters do AlexNet and VGG-11 have, and how is the work split \
            between convolutions and dense layers? Counted layer by layer on 1x224x224:
            """)
        book.code("vgg-exercise-1-2", from: "Sources/Exercises/VGG.swift")
        let splits = try VGGExercises.alexNetAgainstVGG11()
        var table = TextTable(
            headers: [
                "network", "conv params", "dense params", "conv mult-adds", "dense mult-adds", "dense share of work",
            ],
            alignments: [.left, .right, .right, .right, .right, .right])
        for split in splits {
            table.append([
                split.name, grouped(split.convolutionParameters), grouped(split.denseParameters),
                grouped(split.convolutionMultiplyAdds), grouped(split.denseMultiplyAdds),
                percent(split.denseMultiplyAdds, of: split.multiplyAdds),
            ])
        }
        book.show(table)
        let (alex, vgg) = (splits[0], splits[1])
        book.say(
            """
            VGG-11 has \(formatted(Double(vgg.parameters) / Double(alex.parameters), digits: 1))x AlexNet's \
            parameters (\(grouped(vgg.parameters)) against \(grouped(alex.parameters))), and \
            \(percent(vgg.denseParameters, of: vgg.parameters)) of them are dense weights: its \
            last block leaves 512 x 7 x 7 = 25,088 features against AlexNet's 6,400, and the \
            first dense layer multiplies that by 4,096. Its work is the other way round: the \
            convolutions do \(formatted(Double(vgg.convolutionMultiplyAdds) / Double(alex.convolutionMultiplyAdds), digits: 1))x \
            AlexNet's multiply-adds while the dense layers do only \
            \(percent(vgg.denseMultiplyAdds, of: vgg.multiplyAdds)) of VGG-11's. A dense weight \
            is used once per image, a convolution weight at every position of its plane \
            (\(grouped(224 * 224)) positions in the first block's convolution).
            """)
    }

    // MARK: 3

    func cheaperHeads() throws {
        let recipe = experimentRecipe
        book.say(
            """
            3. How can the dense layers cost less? Keep the small VGG's blocks and change the \
            head: d2l's two hidden layers of 4096, hidden layers of 512, or global average \
            pooling of the last block's channels straight into the 10 outputs. Each trained on \
            the same \(grouped(recipe.trainLimit ?? 0)) images for one epoch at \
            \(recipe.imageSize) px with Adam (the quick default's changes) and tested on \
            \(grouped(recipe.testLimit ?? 0)):
            """)
        book.code("vgg-exercise-3", from: "Sources/Exercises/VGG.swift")
        let heads: [VGGExercises.Head] = [.dense(hidden: 4096), .dense(hidden: 512), .globalAveragePooling]
        var table = TextTable(
            headers: ["head", "parameters at 224 px", "head's share", "train img/s", "test accuracy"],
            alignments: [.left, .right, .right, .right, .right])
        let sizes = try heads.map { head in
            try VGGExercises.split("", VGGExercises.smallVGG(head: head, inputSize: 224), inputShape: [1, 1, 224, 224])
        }
        guard !skipExperiments else {
            for (head, size) in zip(
                ["two dense layers of 4096", "two dense layers of 512", "global average pooling"], sizes)
            {
                table.append([
                    head, grouped(size.parameters), percent(size.denseParameters, of: size.parameters), "-", "-",
                ])
            }
            book.show(table)
            return book.say("(The short runs are skipped with --skip-experiments.)")
        }
        let runs = try VGGExercises.cheaperHeads(data: data, recipe: recipe, seed: seed)
        for (run, size) in zip(runs, sizes) {
            table.append([
                run.name, grouped(size.parameters), percent(size.denseParameters, of: size.parameters),
                grouped(rounding: run.imagesPerSecond), run.testAccuracyText,
            ])
        }
        book.show(table)
        let best = runs.filter { $0.diverged == nil }.max { $0.finalTestAccuracy < $1.finalTestAccuracy }
        let (d2l, pooled) = (runs[0], runs[2])
        let difference = Double(pooled.finalTestAccuracy - d2l.finalTestAccuracy)
        book.say(
            """
            Global average pooling removes \(grouped(sizes[0].parameters - sizes[2].parameters)) parameters \
            at 224 px (\(percent(sizes[0].parameters - sizes[2].parameters, of: sizes[0].parameters)) of the \
            network). On this budget it \
            \(!difference.isFinite
                ? "cannot be compared: a run diverged"
                : abs(difference) < 0.02
                    ? "reached about the same accuracy (\(formatted(difference, digits: 3)) against d2l's head)"
                    : difference > 0
                        ? "did better by \(formatted(difference, digits: 3))"
                        : "did worse by \(formatted(-difference, digits: 3)): a head with no hidden layer has less to learn with in one short epoch"); \
            the best head here was \(best?.name ?? "none"). Differences of a point or two are what \
            another seed would give; NiN (chapter 06) builds a whole network on the pooled head.
            """)
    }

    // MARK: 4

    func traceLines() {
        let model = VGG.Variant.vgg11.model()
        let lines = VGGExercises.traceLines(of: model)
        book.say(
            """
            4. Why does the trace of 5.3 show \(lines.count) lines, not 11? It prints one line per \
            module of the top-level Sequential, and a block is one module:
            """)
        book.code("vgg-exercise-4", from: "Sources/Exercises/VGG.swift")
        var table = TextTable(headers: ["trace line", "weight layers inside"], alignments: [.left, .right])
        for line in lines { table.append([line.module, "\(line.weightLayers)"]) }
        let weightLayers = lines.reduce(0) { $0 + $1.weightLayers }
        table.append(["total", "\(weightLayers)"])
        book.show(table)
        let blockLayers = lines.prefix(5).reduce(0) { $0 + $1.weightLayers }
        book.say(
            """
            The five blocks hold \(blockLayers) convolutions and the classifier \
            \(weightLayers - blockLayers) dense layers: \(weightLayers) weight layers, the 11 in \
            VGG-11. The paper counts only layers with weights; ReLUs, pools, dropout and the \
            flatten have none. (d2l's older builds print the five blocks and three dense layers, \
            eight lines, which is where the question comes from.)
            """)
    }

    // MARK: 5

    func deeperNetworks() throws {
        book.say(
            """
            5. VGG-16 and VGG-19, configurations D and E of the paper's table, on 3x224x224 images \
            with 1,000 classes: built from the same block with `VGG.vgg16` and `VGG.vgg19`, \
            traced block by block:
            """)
        var table = TextTable(
            headers: ["network", "blocks' outputs", "parameters", "multiply-adds", "paper's table (counted)"],
            alignments: [.left, .left, .right, .right, .right])
        for (name, architecture, column) in [("VGG-16", VGG.vgg16, "D"), ("VGG-19", VGG.vgg19, "E")] {
            let model = VGG.vgg(architecture: architecture, classes: 1000, inputChannels: 3, seed: seed)
            let profile = try ModelProfile(model, inputShape: [1, 3, 224, 224])
            let blocks = profile.entries(toDepth: 0).prefix(5).map { "\($0.outputShape[1])x\($0.outputShape[2])" }
            let counted = VGG.paperConfigurations.first { $0.name == column }!.parameterCount
            table.append([
                name, blocks.joined(separator: ", "), grouped(model.parameterCount),
                formatted(Double(profile.model.multiplyAdds) / 1e9, digits: 2) + " G", grouped(counted),
            ])
        }
        book.show(table)
        book.say(
            """
            The built networks and the counts from the paper's table agree. Extra 3x3 layers in \
            the deep blocks add few parameters (the dense layers still dominate) but much work, \
            as the multiply-adds show.
            """)
    }

    // MARK: 6

    func inputSizes() throws {
        let sizes = explore ? [32, 56, 84, 112, 224] : [32, 56, 84]
        var recipe = experimentRecipe
        recipe.trainLimit = explore ? 10_000 : 1_536
        book.say(
            """
            6. Does the small VGG need 224 pixels? The same network trained with Adam on the same \
            \(grouped(recipe.trainLimit ?? 0)) images for one epoch at \
            \(sizes.map { "\($0)" }.joined(separator: ", ")) px (the dense layer takes what the five \
            pools leave), tested on \(grouped(recipe.testLimit ?? 0)) images\
            \(explore ? "" : "; --full adds 224 px, which takes minutes"):
            """)
        book.code("vgg-exercise-6", from: "Sources/Exercises/VGG.swift")
        guard !skipExperiments else { return book.say("(The short runs are skipped with --skip-experiments.)") }
        let runs = try VGGExercises.inputSizes(sizes, data: data, recipe: recipe, seed: seed)
        var table = TextTable(
            headers: ["input", "parameters", "train img/s", "test accuracy"],
            alignments: [.left, .right, .right, .right])
        for run in runs {
            table.append([
                run.name, grouped(run.parameterCount), grouped(rounding: run.imagesPerSecond), run.testAccuracyText,
            ])
        }
        book.show(table)
        let (smallest, largest) = (runs.first!, runs.last!)
        let speedUp = smallest.imagesPerSecond / max(largest.imagesPerSecond, 1e-9)
        let difference = Double(largest.finalTestAccuracy - smallest.finalTestAccuracy)
        // The plane each block's convolutions work on at the smallest size.
        let planes = (0..<5).map { sizes[0] >> $0 }
        let accuracy =
            !difference.isFinite
            ? "not comparable (a run diverged)"
            : abs(difference) < 0.02
                ? "about the same (\(formatted(-difference, digits: 3))): at this budget the smaller input costs nothing"
                : difference > 0
                    ? "lower by \(formatted(difference, digits: 3)). The images carry no more detail at "
                        + "\(largest.name), so the difference is in the network: at \(smallest.name) its blocks work "
                        + "on planes of \(planes.map { "\($0)x\($0)" }.joined(separator: ", ")), and a 3x3 window on a "
                        + "plane of 2x2 or 1x1 sees mostly padding; a larger input gives the deep blocks real planes and "
                        + "every image more computation, which on the same number of images means more learning per image"
                    : "higher by \(formatted(-difference, digits: 3)): upscaling further added work and nothing to learn from"
        book.say(
            """
            \(smallest.name) trains \(formatted(speedUp, digits: 1))x as fast as \(largest.name) \
            (its planes have \(formatted(Double(sizes.last! * sizes.last!) / Double(sizes[0] * sizes[0]), digits: 1))x \
            fewer positions), and its accuracy is \(accuracy).
            """)
    }
}
