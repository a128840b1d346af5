// Chapter 03: LeNet, the first convolutional network, trained on Fashion-MNIST.
//
// The chapter traces and summarises d2l's LeNet, trains it with d2l's own recipe (cheap enough
// on our kernels to run in full by default), looks at what it gets wrong, and then swaps in the
// two changes every later network makes: ReLU and max pooling.

import ArgumentParser
import Exercises
import Foundation
import ModernCNN
import Notebook

struct LeNetChapter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lenet",
        abstract: "Chapter 03: LeNet's shape trace and summary, d2l's training recipe, and a modern variant.")

    @OptionGroup var options: ChapterOptions
    @OptionGroup var training: TrainingOptions

    @Flag(help: "Exercise 2's grid on all the training images for 10 epochs each (minutes, not seconds).")
    var explore = false

    /// d2l's recipe: SGD with lr 0.9, batch 256, 10 epochs on all of Fashion-MNIST.
    static let d2lRecipe = Recipe(epochs: 10, batchSize: 256, learningRate: 0.9)
    /// ReLU networks blow up at lr 0.9; 0.1 is the usual rate for them with plain SGD.
    static let modernQuick = Recipe(epochs: 4, batchSize: 256, learningRate: 0.1)
    static let modernFull = Recipe(epochs: 10, batchSize: 256, learningRate: 0.1)

    func run() throws {
        options.applyThreads()
        try runChapter(chapter)
    }

    func chapter() throws {
        let book = Notebook()
        let folder = try options.outputDirectory(chapter: "03-lenet")
        book.title("Chapter 03 · LeNet")
        let lenet = LeNet.d2l(seed: options.seed)
        try introduce(book, lenet, folder: folder)
        let data = try FashionMNISTSplits(directory: training.dataDir)
        let recipe = training.recipe(quick: Self.d2lRecipe, full: Self.d2lRecipe)
        let outcome = try trainD2L(book, lenet, data: data, recipe: recipe, folder: folder)
        try showPredictions(book, lenet, data: data, folder: folder)
        let modern = try trainModern(book, data: data, folder: folder, baseline: outcome)
        try exercises(book, lenet, data: data, folder: folder, d2l: outcome, modern: modern)
        summary(book, d2l: outcome, modern: modern, recipe: recipe)
        book.note(
            "This chapter's files (diagram, curves, samples, checkpoints, metrics, index.html) are in \(displayPath(folder.path))."
        )
        try book.page.write(to: folder, chapter: "03-lenet")
    }

    // MARK: 3.1 and 3.2: the network

    func introduce(_ book: Notebook, _ lenet: Sequential, folder: URL) throws {
        let conv1 = lenet.layers[0] as! Conv2d  // LeNet starts with it
        book.section("3.1 A network that learns its own features")
        book.say(
            """
            Before convolutional networks, recognising an image meant two separate jobs: people \
            designed the features (edges, corners, histograms of gradients), and a classifier \
            learned only the last step. Yann LeCun's LeNet (1989, and LeNet-5 in 1998) learned \
            the whole chain from pixels, with gradient descent, and read handwritten digits on \
            bank cheques well enough to be deployed in the 1990s.
            """)
        book.say(
            """
            LeNet has the shape every network in this book keeps: a convolutional encoder (two \
            convolutions, each followed by a nonlinearity and a pooling layer that halves the \
            image) and a dense head of three fully connected layers. The convolutions see small \
            windows and share their weights across the image, so the first layer needs only \
            \(conv1.outputChannels) x \(conv1.kernelSize) x \(conv1.kernelSize) weights to scan all \
            \(FashionMNIST.side * FashionMNIST.side) pixels.
            """)

        book.section("3.2 The shape trace")
        book.say(
            """
            d2l's version for 28x28 Fashion-MNIST pads the first convolution by 2, which gives \
            the 1998 network's 32x32 geometry, uses sigmoid activations and average pooling as \
            the original did, and drops the original's Gaussian output layer for a plain linear \
            one. Here is the shape of one image after each layer, with the output-size formula \
            out = floor((n + 2p - k) / s) + 1 of chapter 02 worked out for every convolution and \
            pool. It comes from shape inference alone: nothing is computed.
            """)
        book.say(
            """
            In Swift the network is one Sequential of twelve layers, d2l's and the modern variant \
            of 3.5 differing only in the activation and the pool:
            """)
        book.code("lenet", from: "Sources/ModernCNN/Models/LeNet.swift")
        let profile = try ModelProfile(lenet, inputShape: [1, 1, 28, 28])
        book.show(profile.shapeTrace(arithmetic: true))
        book.say(
            """
            And the summary: parameters, multiply-adds and output memory per layer, for one image.
            """)
        book.show(profile.summaryTable())
        let heaviest = profile.leaves.max { $0.parameterCount < $1.parameterCount }!
        let busiest = profile.leaves.max { $0.multiplyAdds < $1.multiplyAdds }!
        book.say(
            """
            \(grouped(profile.model.parameterCount)) parameters, as d2l reports. Most of them \
            (\(grouped(heaviest.parameterCount)), \(percent(heaviest.parameterCount, of: profile.model.parameterCount))) \
            sit in layer \(heaviest.path), \(heaviest.layer.description), while most of the work \
            (\(percent(busiest.multiplyAdds, of: profile.model.multiplyAdds)) of \
            \(grouped(profile.model.multiplyAdds)) multiply-adds) is done by layer \(busiest.path), \
            \(busiest.layer.description): convolutions reuse few weights many times, dense layers \
            use many weights once. AlexNet in chapter 04 shows the same split, hundreds of times larger.
            """)
        book.say(
            """
            What a batch of 256 costs in memory, training with plain SGD (no optimizer state) \
            against inference, which keeps only one layer's input and output alive at a time:
            """)
        book.show(profile.memoryTable(batchSize: 256, optimizerSlots: 0, optimizer: "SGD"))
        book.diagram(
            ArchitectureDiagram(profile, title: "LeNet (d2l), one 28x28 image"), in: folder, name: "lenet",
            caption: "LeNet, layer by layer: each box gives the layer's settings, its output shape and "
                + "parameters, shaded by its share of the multiply-adds; edges carry the tensor's shape.")
    }

    // MARK: 3.3: training with d2l's recipe

    func trainD2L(
        _ book: Notebook, _ lenet: Sequential, data: FashionMNISTSplits, recipe: Recipe,
        folder: URL
    ) throws -> TrainingOutcome {
        book.section("3.3 Training with d2l's recipe")
        book.say(
            """
            d2l trains LeNet with plain minibatch SGD at a learning rate of \(Self.d2lRecipe.learningRate), \
            batches of \(Self.d2lRecipe.batchSize), for \(Self.d2lRecipe.epochs) epochs, from Xavier-initialised \
            weights, and reports a test accuracy of \(PublishedResults.d2lLeNetTestAccuracy). \
            The rate looks huge, but sigmoids squash gradients to at most a quarter per layer, \
            so a small rate would barely move the early layers. Our kernels make this recipe \
            cheap, so it runs in full by default.
            """)
        book.show("recipe", recipe.summary(for: data) + (training.overridesRecipe ? " (changed by flags)" : ""))
        book.say(
            """
            Every step of every training run in the book is the same few lines of the Trainer: \
            a batch, the forward pass through the plan, the loss and its gradient, the backward \
            pass, and the optimizer's update (which reports weights that stopped being finite):
            """)
        book.code("training-step", from: "Sources/ModernCNN/Training/Trainer.swift")
        let outcome = try runTraining(
            lenet, name: "LeNet (d2l: sigmoid, average pooling)",
            optimizer: SGD(learningRate: recipe.learningRate), recipe: recipe, data: data,
            seed: options.seed, directory: folder, resume: training.resume,
            engine: training.engine, profile: training.profile, checkpoints: training.checkpoint,
            health: training.health, book: book)
        let plot = LinePlot.learningCurves(outcome.history, title: "LeNet (d2l recipe)")
        try writeAtomically(plot.svg(), to: folder.appendingPathComponent("lenet-curves.svg"))
        book.figure(
            "lenet-curves.svg", caption: "Training loss, training accuracy and test accuracy per epoch.",
            folder: folder)
        let reached = outcome.final?.testAccuracy ?? 0
        book.say(
            """
            Test accuracy \(formatted(Double(reached), digits: 3)) after \(epochs(outcome.history.count)) \
            (d2l: \(PublishedResults.d2lLeNetTestAccuracy))\(Double(reached) >= PublishedResults.d2lLeNetTestAccuracy - 0.03 ? "" : "; below d2l's figure, so try --full or more --epochs"). \
            \(lossStory(outcome.history)) \
            \(outcome.checkpointPath.map { "Weights, optimizer state and position in training are in \($0) (safetensors, with PyTorch's names)." } ?? "")
            """)
        try compareEngines(book, data: data, recipe: recipe)
        return outcome
    }

    /// What the epochs' losses say about the sigmoid network's slow start, from the numbers.
    func lossStory(_ history: [EpochMetrics]) -> String {
        guard let first = history.first else { return "" }
        let guessing = log(10.0)  // the loss of a uniform guess over ten classes
        let start =
            Double(first.trainLoss) > guessing - 0.15
            ? "The first epoch's loss, \(formatted(Double(first.trainLoss), digits: 3)), sits near ln 10 = 2.303 "
                + "(guessing): sigmoid networks start slowly, because with small random weights every unit sits "
                + "near the flat middle of its curve and the signal that reaches conv1 is weak."
            : "The first epoch's loss, \(formatted(Double(first.trainLoss), digits: 3)), is already below ln 10 = "
                + "2.303 (guessing): in this run the sigmoid network found its way within the first epoch."
        guard history.count > 1, let last = history.last else { return start }
        return start + " By epoch \(last.epoch) it is \(formatted(Double(last.trainLoss), digits: 3))."
    }

    /// One epoch of the same recipe on each engine this processor runs: how much the way the
    /// layers run matters, with the same weights and the same result.
    func compareEngines(_ book: Notebook, data: FashionMNISTSplits, recipe: Recipe) throws {
        var oneEpoch = recipe
        oneEpoch.epochs = 1
        let engines = Engine.available
        book.say(
            """
            The plan above is one of \(engines.count) ways this processor can run the same network \
            (--engine): layer by layer, each layer reading and writing the whole batch; fused, a \
            convolution's activation and pooling applied while each image is still in cache\
            \(engines.contains(.lanes) ? "; and lanes, sixteen images in each AVX-512 vector from the first convolution to the logits" : ""). \
            Here is one epoch of the recipe on each, from the same initial weights:
            """)
        var runs: [(engine: Engine, run: ShortRun)] = []
        for engine in engines {
            runs.append(
                (
                    engine,
                    try shortRun(
                        engine.rawValue, model: LeNet.d2l(seed: options.seed),
                        optimizer: SGD(learningRate: oneEpoch.learningRate), recipe: oneEpoch,
                        data: data, seed: options.seed, engine: engine)
                ))
        }
        var table = TextTable(headers: ["engine", "train img/s", "train loss after the epoch", "test acc"])
        for (engine, run) in runs {
            table.append([
                engine.rawValue, grouped(rounding: run.imagesPerSecond),
                formatted(Double(run.history.last?.trainLoss ?? .nan), digits: 6), run.testAccuracyText,
            ])
        }
        book.show(table)
        let losses = runs.map { Double($0.run.history.last?.trainLoss ?? .nan) }
        let spread = (losses.max() ?? 0) - (losses.min() ?? 0)
        let fastest = runs.max { $0.run.imagesPerSecond < $1.run.imagesPerSecond }!
        let slowest = runs.min { $0.run.imagesPerSecond < $1.run.imagesPerSecond }!
        let speedup = fastest.run.imagesPerSecond / max(slowest.run.imagesPerSecond, 1e-9)
        let agreement =
            spread <= 1e-3
            ? "agree to \(formatted(spread, digits: 6)): the same arithmetic, its additions in other orders"
            : "differ by \(formatted(spread, digits: 6)), more than the order of additions explains; the tests should catch this"
        book.say(
            """
            \(fastest.engine.rawValue.capitalized) ran \(formatted(speedup, digits: 1))x as fast as \
            \(slowest.engine.rawValue), and the losses \(agreement). The layers are the same objects \
            with the same weights in every engine; only the plan (Sources/ModernCNN/Execution) differs.
            """)
    }

    // MARK: 3.4: what it gets right and wrong

    func showPredictions(_ book: Notebook, _ lenet: Sequential, data: FashionMNISTSplits, folder: URL) throws {
        book.section("3.4 What LeNet sees")
        let indices = Array(0..<data.test.count)
        let predicted = try predictedClasses(of: lenet, on: data.test, indices: indices)
        let names = FashionMNIST.classNames
        // Twelve, or all of a smaller test set (--data-dir may hold only a few images).
        let shown = min(12, data.test.count)
        book.say("The first \(shown) test images, with their true and predicted labels:")
        var samples = TextTable(
            headers: ["image", "true", "predicted", ""], alignments: [.right, .left, .left, .left])
        var grid = PNGImage(width: shown * 64, height: 74, channels: 3)
        for index in 0..<shown {
            let truth = Int(data.test.labels[index]), guess = predicted[index]
            samples.append(["\(index)", names[truth], names[guess], truth == guess ? "ok" : "wrong"])
            data.test.images.withUnsafeBufferPointer { pixels in
                grid.paste(
                    grey: UnsafeBufferPointer(rebasing: pixels[(index * 784)..<((index + 1) * 784)]), side: 28,
                    x: index * 64 + 4, y: 4, scale: 2)
            }
            grid.fill(
                x: index * 64 + 4, y: 62, width: 56, height: 8,
                color: truth == guess ? (44, 160, 44) : (214, 39, 40))
        }
        book.show(samples)
        try grid.write(to: folder.appendingPathComponent("lenet-samples.png"))
        book.figure(
            "lenet-samples.png",
            caption: "The same \(shown) images, a green bar under each right answer "
                + "and a red one under each mistake.", folder: folder)
        book.say("Per class, over all \(grouped(data.test.count)) test images:")
        var perClass = TextTable(headers: ["class", "accuracy", "most often mistaken for"])
        var accuracies: [(name: String, accuracy: Double)] = []
        // The four tops look alike at 28x28: how many of their mistakes stay among them.
        let tops: Set<Int> = [0, 2, 4, 6]  // T-shirt/top, Pullover, Coat, Shirt
        var (topMistakes, mistakesAmongTops) = (0, 0)
        for label in names.indices {
            let mine = indices.filter { data.test.labels[$0] == label }
            guard !mine.isEmpty else {
                perClass.append([names[label], "-", "(no test images of this class)"])
                continue
            }
            let wrong = mine.filter { predicted[$0] != label }.map { predicted[$0] }
            let confusion = Dictionary(grouping: wrong, by: { $0 }).max { $0.value.count < $1.value.count }
            let accuracy = Double(mine.count - wrong.count) / Double(mine.count)
            accuracies.append((names[label], accuracy))
            if tops.contains(label) {
                topMistakes += wrong.count
                mistakesAmongTops += wrong.filter(tops.contains).count
            }
            perClass.append([
                names[label], formatted(accuracy, digits: 3),
                confusion.map { "\(names[$0.key]) (\($0.value.count))" } ?? "-",
            ])
        }
        book.show(perClass)
        let ranked = accuracies.sorted { $0.accuracy > $1.accuracy }
        let topNames = Set(tops.map { names[$0] })
        let mean = { (rows: [(name: String, accuracy: Double)]) in
            rows.map(\.accuracy).reduce(0, +) / Double(max(rows.count, 1))
        }
        let topAccuracy = mean(accuracies.filter { topNames.contains($0.name) })
        let otherAccuracy = mean(accuracies.filter { !topNames.contains($0.name) })
        let amongTops = Double(mistakesAmongTops) / Double(max(topMistakes, 1))
        let verdict =
            topAccuracy < otherAccuracy
            ? "The four tops (T-shirt/top, Pullover, Coat, Shirt) average \(formatted(topAccuracy, digits: 3)) "
                + "against \(formatted(otherAccuracy, digits: 3)) for the other six classes, and "
                + "\(percent(mistakesAmongTops, of: topMistakes)) of their mistakes name another top: at 28x28 "
                + "they share a silhouette, and the network confuses them with each other"
                + (amongTops < 0.5 ? " less often than with the rest, so more than shape is at work." : ".")
            : "In this run the four tops (T-shirt/top, Pullover, Coat, Shirt) average \(formatted(topAccuracy, digits: 3)), "
                + "no worse than the other six classes' \(formatted(otherAccuracy, digits: 3)); the network tells "
                + "them apart as well as the rest."
        book.say(
            """
            Easiest: \(ranked.prefix(3).map(\.name).joined(separator: ", ")); hardest: \
            \(ranked.suffix(3).reversed().map(\.name).joined(separator: ", ")). \(verdict)
            """)
    }

    // MARK: 3.5: a modern LeNet

    func trainModern(
        _ book: Notebook, data: FashionMNISTSplits, folder: URL, baseline: TrainingOutcome
    ) throws
        -> TrainingOutcome
    {
        book.section("3.5 A modern LeNet: ReLU and max pooling")
        book.say(
            """
            Every network after LeNet changes two things, and we can try both on LeNet itself. \
            ReLU, max(0, x), has slope 1 wherever a unit is active, so gradients reach the first \
            layer undiminished; and max pooling keeps the strongest response in each window \
            instead of blurring it with its neighbours. The layers, sizes and \
            \(grouped(LeNet.modern().parameterCount)) parameters stay the same. ReLU networks diverge at lr 0.9, so this one trains at \(Self.modernQuick.learningRate).
            """)
        var recipe = training.recipe(quick: Self.modernQuick, full: Self.modernFull)
        if training.lr == nil { recipe.learningRate = Self.modernQuick.learningRate }
        book.show("recipe", recipe.summary(for: data))
        let model = LeNet.modern(seed: options.seed)
        let outcome = try runTraining(
            model, name: "LeNet (ReLU, max pooling)",
            optimizer: SGD(learningRate: recipe.learningRate), recipe: recipe, data: data,
            seed: options.seed, directory: folder, stem: "modern-", resume: training.resume,
            engine: training.engine, profile: training.profile, checkpoints: training.checkpoint,
            health: training.health, book: book)
        try writeAtomically(
            LinePlot.learningCurves(outcome.history, title: "LeNet with ReLU and max pooling").svg(),
            to: folder.appendingPathComponent("modern-lenet-curves.svg"))
        book.figure("modern-lenet-curves.svg", caption: "The modern LeNet's learning curves.", folder: folder)
        var table = TextTable(headers: ["model", "epochs", "lr", "test acc after epoch 1", "final test acc"])
        for (name, run, lr) in [
            (
                "LeNet (d2l: sigmoid, avg pool)", baseline,
                training.recipe(quick: Self.d2lRecipe, full: Self.d2lRecipe).learningRate
            ),
            ("LeNet (ReLU, max pool)", outcome, recipe.learningRate),
        ] {
            table.append([
                name, "\(run.history.count)", "\(lr)",
                formatted(Double(run.history.first?.testAccuracy ?? 0), digits: 3),
                formatted(Double(run.final?.testAccuracy ?? 0), digits: 3),
            ])
        }
        book.show(table)
        let modernFinal = outcome.final?.testAccuracy ?? 0, d2lFinal = baseline.final?.testAccuracy ?? 0
        book.say(
            """
            After one epoch the ReLU network is at \(formatted(Double(outcome.history.first?.testAccuracy ?? 0), digits: 3)) \
            where the sigmoid network was at \(formatted(Double(baseline.history.first?.testAccuracy ?? 0), digits: 3)), \
            and after \(epochs(outcome.history.count)) it reached \(formatted(Double(modernFinal), digits: 3)) \
            against the sigmoid network's \(formatted(Double(d2lFinal), digits: 3)) after \
            \(epochs(baseline.history.count)). The number of parameters did not change: only how \
            easily gradients flow through the network.
            """)
        return outcome
    }

    // MARK: 3.6 Exercises

    func exercises(
        _ book: Notebook, _ lenet: Sequential, data: FashionMNISTSplits, folder: URL,
        d2l: TrainingOutcome, modern: TrainingOutcome
    ) throws {
        book.section("3.6 Exercises")
        book.say(
            """
            1. Modernise LeNet with max pooling and ReLU: section 3.5 is this exercise's long \
            run, \(formatted(Double(modern.final?.testAccuracy ?? 0), digits: 3)) against \
            \(formatted(Double(d2l.final?.testAccuracy ?? 0), digits: 3)); LeNetExercises.modernised \
            is its short form, which the tests run.
            """)
        let epochs = training.epochs ?? (explore ? 10 : 2)
        let recipe = Recipe(
            epochs: epochs, batchSize: training.batchSize ?? 256, learningRate: 0.1,
            trainLimit: training.trainLimit ?? (explore ? nil : 10_000),
            testLimit: training.testLimit ?? (explore ? nil : 2_000))
        let variants = LeNetExercises.variants(epochs: epochs)
        book.say(
            """
            2. What else helps? Each row changes one thing in the modern LeNet of 3.5 (it learns \
            within an epoch, so a short run can tell the variants apart) and trains it on the same \
            \(grouped(min(recipe.trainLimit ?? data.train.count, data.train.count))) images for \
            \(epochs) epoch\(epochs == 1 ? "" : "s") (the last row for twice as many), tested on \
            \(grouped(min(recipe.testLimit ?? data.test.count, data.test.count))). `--explore` runs \
            the grid on all the data for 10 epochs each.
            """)
        book.code("lenet-exercise-2", from: "Sources/Exercises/LeNet.swift")
        let runs = try LeNetExercises.explore(variants, data: data, recipe: recipe, seed: options.seed)
        var table = TextTable(headers: ["variant", "parameters", "lr", "epochs", "final train loss", "test accuracy"])
        for (variant, run) in zip(variants, runs) {
            table.append([
                run.name, grouped(run.parameterCount), "\(variant.learningRate)", "\(run.history.count)",
                formatted(Double(run.history.last?.trainLoss ?? .nan), digits: 3),
                run.testAccuracyText,
            ])
        }
        book.show(table)
        // A diverged run's accuracy is NaN, so it is never "better" nor the best.
        let baseline = runs[0].finalTestAccuracy
        let better = runs.dropFirst().filter { $0.finalTestAccuracy > baseline }.map(\.name)
        let best = runs.filter { $0.diverged == nil }.max { $0.finalTestAccuracy < $1.finalTestAccuracy } ?? runs[0]
        book.say(
            """
            Against the modern LeNet at \(formatted(Double(baseline), digits: 3)), \
            \(better.isEmpty ? "no single change did better" : "better: " + better.joined(separator: ", ")); \
            the best was \(best.name) (\(formatted(Double(best.finalTestAccuracy), digits: 3))). Differences \
            of a point or two are within what another seed would change; with --explore the \
            ranking can change too, so read it as one run's answer.
            """)
        // 3. The activations of both layers for two garments (a pullover and a coat, two classes
        // that look alike, when the test set has them) and for noise.
        let names = FashionMNIST.classNames
        let garmentIndices = LeNetExercises.twoClasses(preferring: [2, 4], labels: data.test.labels)
        guard garmentIndices.count == 2 else {
            book.say("3. (Showing the layers' responses needs test images of two classes; this test set has one.)")
            return
        }
        let pixels = { (index: Int) in data.test.images[(index * 784)..<((index + 1) * 784)].map { Float($0) / 255 } }
        let (garmentA, garmentB) = (
            names[Int(data.test.labels[garmentIndices[0]])],
            names[Int(data.test.labels[garmentIndices[1]])]
        )
        let inputs = [
            (garmentA, pixels(garmentIndices[0])), (garmentB, pixels(garmentIndices[1])),
            ("noise", LeNetExercises.noise(seed: options.seed)),
        ]
        book.code("lenet-exercise-3", from: "Sources/Exercises/LeNet.swift")
        let maps = try inputs.map { try LeNetExercises.activationMaps(of: lenet, image: $0.1) }
        // One row per input, 64 px high: the input at 2x, conv1's maps at 2x (60 px apart),
        // conv2's at 3x (34 px apart); the labels name the rows, the two layers and each map.
        let (conv1X, conv2X) = (68, 68 + 6 * 60 + 12)
        var image = PNGImage(width: conv2X + 16 * 34, height: 3 * 64, channels: 1)
        for (row, ((_, pixels), map)) in zip(inputs, maps).enumerated() {
            let input = try Tensor(shape: [1, 28, 28], values: pixels)
            LeNetExercises.draw(input, into: &image, x: 0, y: row * 64, scale: 2, gap: 0)
            LeNetExercises.draw(map.first, into: &image, x: conv1X, y: row * 64, scale: 2, gap: 4)
            LeNetExercises.draw(map.second, into: &image, x: conv2X, y: row * 64 + 13, scale: 3, gap: 4)
        }
        let (first, second) = (maps[0].first.shape, maps[0].second.shape)
        var labelled = LabelledImage(image: image, left: 84, top: 36)
        typealias Label = LabelledImage.Label
        labelled.labels += inputs.enumerated().map { Label($1.0, x: -10, y: Double($0 * 64 + 36), anchor: .end) }
        labelled.labels += [
            Label("input", x: 28, y: -20, anchor: .middle, bold: true),
            Label(
                "conv1: \(first[0]) maps, \(first[1])x\(first[2])", x: Double(conv1X + 3 * 60 - 2), y: -20,
                anchor: .middle, bold: true),
            Label(
                "conv2: \(second[0]) maps, \(second[1])x\(second[2])", x: Double(conv2X + 8 * 34 - 2), y: -20,
                anchor: .middle, bold: true),
        ]
        labelled.labels += (0..<first[0]).map {
            Label("\($0 + 1)", x: Double(conv1X + $0 * 60 + 28), y: -5, anchor: .middle)
        }
        labelled.labels += (0..<second[0]).map {
            Label("\($0 + 1)", x: Double(conv2X + $0 * 34 + 15), y: -5, anchor: .middle)
        }
        try labelled.write(to: folder.appendingPathComponent("lenet-activations.svg"))
        /// How alike two inputs' maps are: the correlation of their values.
        func correlation(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Double {
            let (x, y) = (a.map(Double.init), b.map(Double.init))
            let (mx, my) = (x.reduce(0, +) / Double(x.count), y.reduce(0, +) / Double(y.count))
            let covariance = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
            let spread = (x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) } * y.reduce(0) { $0 + ($1 - my) * ($1 - my) })
                .squareRoot()
            return covariance / max(spread, 1e-12)
        }
        let filter = (lenet.layers[0] as? Conv2d)?.weight.value.shape.last ?? 0
        book.say(
            """
            3. What do the layers respond to? The trained d2l LeNet's conv1 (\(first[0]) maps, \
            \(first[1])x\(first[2])) and conv2 (\(second[0]) maps, \(second[1])x\(second[2])) after their sigmoid, for the first \(garmentA.lowercased()) and \
            the first \(garmentB.lowercased()) of the test set and for uniform noise, each map \
            stretched from its own minimum (white) to its maximum (black):
            """)
        book.figure(
            "lenet-activations.svg",
            caption: "What the trained LeNet's two convolutions make of a \(garmentA.lowercased()), "
                + "a \(garmentB.lowercased()) and noise: each row is one input, each small square one map.",
            folder: folder)
        // How much each conv1 map is still a picture of its input: |r| between map and input,
        // averaged over the maps (a map and the input are both 28x28).
        let likeInput = zip(inputs, maps).map { input, map in
            let (values, plane) = (map.first.scalars, first[1] * first[2])
            return (0..<first[0]).map { c in abs(correlation(values[(c * plane)..<((c + 1) * plane)], input.1)) }
                .reduce(0, +) / Double(first[0])
        }
        let garmentsLikeInput = (likeInput[0] + likeInput[1]) / 2
        // How alike two inputs' conv2 maps are: each feature's 10x10 planes correlated, averaged
        // over the features (a feature's overall level, which noise shares, does not count).
        func mapAgreement(_ a: Tensor, _ b: Tensor) -> Double {
            let (x, y, plane) = (a.scalars, b.scalars, second[1] * second[2])
            return (0..<second[0]).map { c in
                correlation(x[(c * plane)..<((c + 1) * plane)], y[(c * plane)..<((c + 1) * plane)])
            }.reduce(0, +) / Double(second[0])
        }
        let (garments, garmentAndNoise) = (
            mapAgreement(maps[0].second, maps[1].second), mapAgreement(maps[0].second, maps[2].second)
        )
        book.say(
            """
            conv1's maps are the input seen through \(first[0]) \(filter)x\(filter) filters. A map \
            correlates with its garment by |r| = \(formatted(garmentsLikeInput, digits: 2)) on average \
            (with the noise by \(formatted(likeInput[2], digits: 2))), \
            \(garmentsLikeInput >= 0.5
                ? "so most of them are still recognisably the garment, shaded or outlined"
                : "so they are more than shaded copies: the filters pick out parts such as edges"). \
            conv2's \(second[1])x\(second[2]) maps say which of its \(second[0]) features occur where. \
            Feature by feature, the two garments' maps correlate by \(formatted(garments, digits: 2)) on \
            average, the \(garmentA.lowercased())'s and the noise's by \(formatted(garmentAndNoise, digits: 2)), \
            so to this network's second layer the two garments look \(garments > garmentAndNoise
                ? "more alike than a garment and noise do: its features respond to garment shapes"
                : "no more alike than a garment and noise: its features do not yet tell them apart").
            """)
    }

    func summary(_ book: Notebook, d2l: TrainingOutcome, modern: TrainingOutcome, recipe: Recipe) {
        book.section("Summary")
        let speed = d2l.history.map(\.imagesPerSecond).max() ?? 0
        book.say(
            """
            - LeNet is a convolutional encoder (conv, activation, pool, twice) and a dense head: \
            \(grouped(LeNet.d2l().parameterCount)) parameters, most of them in the first dense layer, most of the compute in the \
            convolutions.
            - d2l's recipe (\(epochs(recipe.epochs)), lr \(recipe.learningRate), batch \
            \(recipe.batchSize)) reached test accuracy \(formatted(Double(d2l.final?.testAccuracy ?? 0), digits: 3)) \
            in \(formatted(d2l.seconds, digits: 0)) s at up to \(grouped(rounding: speed)) training images/s.
            - Swapping sigmoid and average pooling for ReLU and max pooling learns faster from \
            the first epoch: \(formatted(Double(modern.final?.testAccuracy ?? 0), digits: 3)) after \
            \(epochs(modern.history.count)).
            """)
        book.say(
            """
            Try more yourself: a different learning rate, more or fewer channels, a third \
            convolution, or more epochs with `swift run -c release lenet --epochs 20 --lr 0.5`, \
            and watch the curves in output/03-lenet/.
            """)
    }
}

func epochs(_ count: Int) -> String { count == 1 ? "1 epoch" : "\(count) epochs" }

LeNetChapter.main()
