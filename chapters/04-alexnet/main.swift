// Chapter 04: AlexNet, in d2l's form, as the 2012 paper built it, and simplified for a CPU.
//
// The chapter traces and summarises the three networks, draws them (the paper's as two GPU
// towers), shows the paper's data augmentation on Fashion-MNIST, trains the chosen variant, and
// answers d2l's exercises with code and measured numbers from the Exercises module.

import ArgumentParser
import Exercises
import Foundation
import Kernels
import ModernCNN
import Notebook

enum Variant: String, ExpressibleByArgument, CaseIterable {
    case d2l, paper, cpu
}

enum RecipeChoice: String, ExpressibleByArgument, CaseIterable {
    case d2l, cpu
}

struct AlexNetChapter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alexnet",
        abstract: "Chapter 04: AlexNet (d2l, the 2012 paper, and a CPU-simplified variant), trained on Fashion-MNIST.")

    @OptionGroup var options: ChapterOptions
    @OptionGroup var training: TrainingOptions

    @Option(help: "Which network to train: d2l, paper (forward and backward only) or cpu.")
    var variant: Variant = .d2l

    @Option(help: "Training recipe: d2l (SGD lr 0.01, batch 128) or cpu (the course note's Adam lr 0.001, batch 16).")
    var recipe: RecipeChoice = .d2l

    @Flag(help: "Skip the exercises' training runs (the computed answers are still printed).")
    var skipExperiments = false

    /// d2l's recipe; its quick form trains one epoch on 1,536 images at full size, in batches of
    /// 64 with momentum 0.9, so that its 24 steps are enough to see the loss fall.
    static let d2lFull = Recipe(epochs: 10, batchSize: 128, learningRate: 0.01, imageSize: 224)
    static let d2lQuick = Recipe(
        epochs: 1, batchSize: 64, learningRate: 0.01, imageSize: 224, trainLimit: 1536,
        testLimit: 512)
    static let quickMomentum: Float = 0.9
    /// The course note's CPU recipe: Adam, lr 0.001, batch 16, 3 epochs.
    static let cpuFull = Recipe(epochs: 3, batchSize: 16, learningRate: 0.001, imageSize: 224)
    static let cpuQuick = Recipe(
        epochs: 1, batchSize: 16, learningRate: 0.001, imageSize: 224, trainLimit: 1536,
        testLimit: 512)

    func run() throws {
        options.applyThreads()
        try runChapter(chapter)
    }

    func chapter() throws {
        let book = Notebook()
        let folder = try options.outputDirectory(chapter: "04-alexnet")
        book.title("Chapter 04 · AlexNet")
        introduction(book)
        let d2l = try d2lNetwork(book, folder: folder)
        try paperNetwork(book, folder: folder)
        try cpuNetwork(book)
        let data = try FashionMNISTSplits(directory: training.dataDir)
        try augmentation(book, data: data, folder: folder)
        try train(book, data: data, folder: folder, d2lProfile: d2l)
        try exercises(book, data: data)
        summary(book)
        book.note(
            "This chapter's files (diagrams, augmentation grid, curves, checkpoint, metrics, index.html) are in \(folder.path)."
        )
        try book.page.write(to: folder, chapter: "04-alexnet")
    }

    // MARK: 4.1

    func introduction(_ book: Notebook) {
        book.section("4.1 Features that are learned, not designed")
        book.say(
            """
            For twenty years after LeNet, computer vision ran on features people designed: SIFT, \
            HOG, bags of visual words, fed to a support vector machine. The pipeline's quality \
            came from the cleverness of its features, and only the last stage learned anything. \
            Neural networks lost out on the benchmarks of the 2000s, not because the idea was \
            wrong but because two ingredients were missing.
            """)
        book.say(
            """
            - Data: a network with millions of weights needs millions of labelled images. \
            ImageNet (2009) brought 1.2 million training images in 1,000 classes; the 2012 \
            challenge (ILSVRC-2012) was the first contest where a deep network could use it.
            - Hardware: Krizhevsky, Sutskever and Hinton trained their network for five to six \
            days on two NVIDIA GTX 580 GPUs with 3 GB each, with hand-written CUDA convolutions \
            (cuda-convnet). Convolutions and matrix products are exactly what GPUs do well.
            """)
        book.say(
            """
            The result ended the argument: a top-5 error of 16.4% for a combination of five \
            networks (15.3% with two more pre-trained on a larger set), against 26.2% for the \
            best entry built on designed features. The first layer of the trained network, drawn \
            as images, showed edge and colour-blob detectors much like the designed ones: the \
            network had learned its own features.
            """)
    }

    // MARK: 4.2

    func d2lNetwork(_ book: Notebook, folder: URL) throws -> ModelProfile {
        book.section("4.2 AlexNet as d2l builds it")
        book.say(
            """
            d2l keeps AlexNet's eight learned layers (five convolutions, two hidden dense layers \
            of 4096, one output layer) and adapts the rest to Fashion-MNIST: one input channel, \
            images resized to 224x224, ten classes, both GPUs' halves merged into single layers, \
            and no local response normalisation. In Swift:
            """)
        book.code("alexnet-d2l", from: "Sources/ModernCNN/Models/AlexNet.swift")
        book.say("The shape trace, with each output size worked out:")
        let model = AlexNet.d2l(seed: options.seed)
        let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
        book.show(profile.shapeTrace(arithmetic: true))
        book.show(profile.summaryTable())
        book.show(profile.memoryTable(batchSize: 128, optimizerSlots: 1, optimizer: "SGD with momentum"))
        let flatten = profile.leaves.firstIndex { $0.layer is Flatten }!
        let convParameters = profile.leaves[..<flatten].reduce(0) { $0 + $1.parameterCount }
        let convMACs = profile.leaves[..<flatten].reduce(0) { $0 + $1.multiplyAdds }
        let total = profile.model
        let firstDense = profile.leaves.first { $0.layer is Linear }!
        book.say(
            """
            \(grouped(total.parameterCount)) parameters and \(formatted(Double(total.multiplyAdds) / 1e9, digits: 2)) \
            billion multiply-adds per image. The split is lopsided both ways: the five \
            convolutions hold \(percent(convParameters, of: total.parameterCount)) of the \
            parameters but do \(percent(convMACs, of: total.multiplyAdds)) of the work, while the \
            three dense layers hold \(percent(total.parameterCount - convParameters, of: total.parameterCount)) \
            of the parameters (the first alone, \(firstDense.layer.description), has \
            \(formatted(Double(firstDense.parameterCount) / 1e6, digits: 1)) million) for \
            \(percent(total.multiplyAdds - convMACs, of: total.multiplyAdds)) of the work. \
            Memory goes to the dense layers, time to the convolutions; later networks (NiN, \
            GoogLeNet) attack the dense layers first.
            """)
        book.diagram(
            ArchitectureDiagram(profile, title: "AlexNet (d2l), one 1x224x224 image"), in: folder,
            name: "alexnet-d2l",
            caption: "d2l's AlexNet: the convolutions are dark (compute), the first "
                + "dense layer carries most of the parameters.")
        return profile
    }

    // MARK: 4.3 and 4.4

    func paperNetwork(_ book: Notebook, folder: URL) throws {
        book.section("4.3 What changed from LeNet")
        book.say(
            """
            - Depth and width: eight learned layers instead of five, 96 to 384 channels instead \
            of 6 and 16, and 224x224 colour inputs instead of 32x32 grey ones.
            - ReLU instead of sigmoid. A sigmoid's slope is at most 0.25 and vanishes for large \
            inputs, so a unit that saturates passes back almost no gradient (the values below); \
            ReLU's slope is exactly 1 wherever the unit is active, and it is cheaper to compute. \
            The paper reports reaching 25% training error six times faster with ReLUs.
            - Dropout (p = 0.5) in the two hidden dense layers, where most parameters live, \
            against overfitting; LeNet used only weight decay.
            - Overlapping max pooling (3x3 windows, stride 2) instead of 2x2 average pooling.
            - Local response normalisation after conv1 and conv2: each activation divided by a \
            power of the summed squares of its neighbours across channels.
            - Data augmentation: random 224x224 crops of 256x256 images with their mirror \
            images, and PCA colour noise (section 4.6).
            - Training split over two GPUs, which is why the paper's conv2, conv4 and conv5 only \
            see the channels on their own GPU.
            """)
        var slopes = TextTable(headers: ["x", "sigmoid(x)", "sigmoid'(x)", "ReLU'(x)"])
        for x in [0.0, 2, 5, 10] {
            let s = 1 / (1 + exp(-x))
            slopes.append([formatted(x, digits: 0), formatted(s, digits: 5), String(format: "%.2e", s * (1 - s)), "1"])
        }
        book.show(slopes)

        book.section("4.4 The 2012 network, with its two GPUs")
        book.say(
            """
            The paper's network takes 3x227x227 images (the paper says 224; only 227 makes the \
            11x11 stride-4 arithmetic come out at 55) and ends in 1,000 classes. Each GPU held \
            half of every layer's kernels; in conv2, conv4 and conv5 a GPU's kernels read only \
            its own half of the previous layer's channels. That is a grouped convolution with \
            groups = 2, and ours computes it as two independent GEMMs per image. Weights start \
            from N(0, 0.01) and the biases of conv2, conv4, conv5 and the hidden dense layers \
            from 1, which gives their ReLUs positive inputs to begin with.
            """)
        book.code("alexnet-paper", from: "Sources/ModernCNN/Models/AlexNet.swift")
        let paper = AlexNet.paper(seed: options.seed)
        let profile = try ModelProfile(paper, inputShape: [1, 3, 227, 227])
        book.show(profile.shapeTrace(arithmetic: true))
        let ungrouped = AlexNet.paper(groups: 1, seed: options.seed).parameterCount
        book.show("parameters with groups = 2 (the paper)", grouped(paper.parameterCount))
        book.show("parameters if every conv saw all channels", grouped(ungrouped))
        book.say(
            """
            The difference, \(grouped(ungrouped - paper.parameterCount)), is exactly half the \
            weights of conv2, conv4 and conv5: a kernel that sees half the input channels has \
            half the weights. The paper's "60 million parameters" counts the grouped network. \
            One more detail differs between implementations: the paper writes LRN as \
            a / (k + alpha * sum a^2)^beta with alpha = 1e-4, while PyTorch and Caffe divide \
            alpha by the window size n = 5. Ours follows PyTorch, so the paper's network uses \
            alpha = 5e-4 here (see Models/AlexNet.swift).
            """)
        book.diagram(
            ArchitectureDiagram(profile, title: "AlexNet (2012): two GPU towers", style: .towers), in: folder,
            name: "alexnet-paper",
            caption: "The paper's network as two towers: grouped layers stay on "
                + "their GPU, conv3 and the dense layers read both.")
        // It must at least run: a forward and backward pass on a small batch of random images.
        var g = SeededGenerator(seed: options.seed)
        let batch = Tensor(uniform: [2, 3, 227, 227], in: 0...1, generator: &g)
        var logits = Tensor(zeros: [1])
        let seconds = bestTime(repeats: 1, warmUp: false) {
            logits = try! paper.forward(batch, training: true)  // the shape is the paper's own
            _ = paper.backward(logits * (1 / 2))
        }
        book.show(
            "forward + backward, 2 images of 3x227x227", "logits \(logits.shape), \(formatted(seconds, digits: 2)) s")
    }

    func cpuNetwork(_ book: Notebook) throws {
        book.section("4.5 A lighter AlexNet for a CPU")
        let model = AlexNet.cpu(seed: options.seed)
        let removed = AlexNet.d2l().parameterCount - model.parameterCount
        book.say(
            """
            A course note that trains AlexNet on a CPU makes two cuts: conv1 loses its padding \
            (224 still gives 54, since (224 - 11) / 4 + 1 = \(formatted(Double(224 - 11) / 4 + 1, digits: 2)) floors \
            to 54) and the classifier keeps one hidden layer of 4096 instead of two, which removes \
            \(formatted(Double(removed) / 1e6, digits: 1)) million parameters. \
            It trains with Adam at lr 0.001 in batches of 16 (`--variant cpu --recipe cpu`).
            """)
        book.code("alexnet-cpu", from: "Sources/ModernCNN/Models/AlexNet.swift")
        let profile = try ModelProfile(model, inputShape: [1, 1, 224, 224])
        book.show(profile.shapeTrace(depth: 1))
        book.show(
            "parameters",
            grouped(model.parameterCount) + " (its state_dict names: "
                + model.namedParameters.prefix(2).map(\.name).joined(separator: ", ") + ", ..., "
                + model.namedParameters.last!.name + ")")
    }

    // MARK: 4.6

    func augmentation(_ book: Notebook, data: FashionMNISTSplits, folder: URL) throws {
        book.section("4.6 Data augmentation")
        book.say(
            """
            With 60 million parameters and 1.2 million images, AlexNet would memorise its \
            training set. The paper enlarged it on the fly: random crops and mirror images \
            (2048 variants of every image), and PCA colour noise, which adds to every pixel of \
            an image a random multiple of the principal components of the training set's RGB \
            values, so that lighting and colour change but the object does not. Here are eight \
            test images (top row), random 28x28 crops of them padded by 4, random mirror images, \
            and PCA colour noise applied to them as RGB images:
            """)
        let plan = BatchPlan(dataset: data.test, batchSize: 8, seed: options.seed)
        let originals = plan.batch(0, of: Array(0..<8)).images
        var generator = SeededGenerator(seed: options.seed)
        let crops = randomCrops(originals, size: 28, padding: 4, generator: &generator)
        var flipped = originals
        let flips = randomHorizontalFlips(&flipped, probability: 0.5, generator: &generator)
        let sample = replicatedToRGB(
            BatchPlan(dataset: data.train, batchSize: 512, seed: options.seed)
                .batch(0, of: Array(0..<512)).images)
        let pca = PCAColorAugmentation(fittingPixelsOf: sample)
        var coloured = replicatedToRGB(originals)
        let shifts = pca.apply(to: &coloured, generator: &generator)
        try augmentationGrid(rows: [originals, crops, flipped, coloured]).write(
            to: folder.appendingPathComponent("augmentation.png"))
        book.figure(
            "augmentation.png",
            caption: "Rows: original, random crop (padding 4), random mirror, "
                + "PCA colour noise.", folder: folder)
        book.show("mirrored", flips.map { $0 ? "yes" : "no" }.joined(separator: " "))
        book.show("eigenvalues of the RGB covariance", pca.eigenvalues.map { String(format: "%.2e", $0) })
        book.show("first eigenvector", pca.eigenvectors[0].map { formatted(Double($0), digits: 3) })
        book.show("colour shift of image 0 (R, G, B)", shifts[0].map { String(format: "%+.4f", $0) })
        book.say(
            """
            Fashion-MNIST is grey, so its three copied channels are always equal: the covariance \
            has a single non-zero eigenvalue, its eigenvector is (1, 1, 1) / sqrt(3), and PCA \
            colour noise reduces to a random brightness shift. On ImageNet's colour photographs \
            the three components differ, and the paper credits this augmentation with over 1% \
            of top-1 error.
            """)
    }

    /// A PNG of four rows of eight images: grey [8, 1, 28, 28] or RGB [8, 3, 28, 28] in [0, 1].
    func augmentationGrid(rows: [Tensor]) -> PNGImage {
        let (scale, cell) = (3, 28 * 3 + 6)
        var image = PNGImage(width: 8 * cell, height: rows.count * cell, channels: 3)
        for (row, tensor) in rows.enumerated() {
            let channels = tensor.shape[1]
            let values = tensor.scalars
            for column in 0..<8 {
                for y in 0..<(28 * scale) {
                    for x in 0..<(28 * scale) {
                        for channel in 0..<3 {
                            let source =
                                ((column * channels + min(channel, channels - 1)) * 28 + y / scale) * 28 + x / scale
                            let ink = max(0, min(1, values[source]))
                            let offset = ((row * cell + 3 + y) * image.width + column * cell + 3 + x) * 3 + channel
                            image.pixels[offset] = UInt8((1 - ink) * 255)
                        }
                    }
                }
            }
        }
        return image
    }

    // MARK: 4.7

    func train(_ book: Notebook, data: FashionMNISTSplits, folder: URL, d2lProfile: ModelProfile) throws {
        book.section("4.7 Training")
        if variant == .paper {
            book.say(
                """
                The paper's network expects 3x227x227 colour images and 1,000 classes; section 4.4 \
                ran it forward and backward. Training it on Fashion-MNIST is left to the \
                learner: `--variant d2l` or `--variant cpu` train here.
                """)
            return
        }
        let (quick, full) = recipe == .cpu ? (Self.cpuQuick, Self.cpuFull) : (Self.d2lQuick, Self.d2lFull)
        let chosen = training.recipe(quick: quick, full: full)
        let model = variant == .cpu ? AlexNet.cpu(seed: options.seed) : AlexNet.d2l(seed: options.seed)
        // d2l's recipe is plain SGD; the quick run adds momentum to get somewhere in 24 steps.
        let momentum: Float = training.full ? 0 : Self.quickMomentum
        let optimizer: any Optimizer =
            recipe == .cpu
            ? Adam(learningRate: chosen.learningRate)
            : SGD(learningRate: chosen.learningRate, momentum: momentum)
        // Forward, backward-data and backward-filter each cost the forward's multiply-adds.
        let stepMACs = 3 * Double(d2lProfile.model.multiplyAdds)
        let (d2lFull, d2lQuick, images) = (Self.d2lFull, Self.d2lQuick, data.train.count)
        book.say(
            """
            d2l trains its AlexNet for \(d2lFull.epochs) epochs of all \(grouped(images)) images at \
            \(d2lFull.imageSize)x\(d2lFull.imageSize), SGD with lr \(d2lFull.learningRate) and batches of \(d2lFull.batchSize), \
            and reports a test accuracy of 0.883. That is about \(formatted(stepMACs / 1e9, digits: 1)) billion \
            multiply-adds per image per step (forward and backward) and \(grouped(d2lFull.epochs * images)) \
            image-steps: hours on two CPU cores. The quick default trains one epoch on the first \
            \(grouped(d2lQuick.trainLimit ?? images)) images in batches of \(d2lQuick.batchSize) with momentum \
            \(Self.quickMomentum), enough to see it start to learn; `--full` runs d2l's whole recipe, \
            and the progress bar gives its remaining time.
            """)
        book.show(
            "network",
            variant == .cpu
                ? "cpu variant (\(grouped(model.parameterCount)) parameters)"
                : "d2l (\(grouped(model.parameterCount)) parameters)")
        book.show(
            "recipe",
            (recipe == .cpu ? "Adam" : momentum > 0 ? "SGD with momentum \(momentum)" : "SGD") + ", "
                + chosen.summary(for: data)
                + (training.full ? " (--full)" : training.overridesRecipe ? " (changed by flags)" : " (quick default)"))
        let outcome = try runTraining(
            model, name: "AlexNet (\(variant.rawValue) variant)", optimizer: optimizer,
            recipe: chosen, data: data, seed: options.seed,
            directory: folder, resume: training.resume, engine: training.engine, profile: training.profile, book: book)
        try writeAtomically(
            LinePlot.learningCurves(outcome.history, title: "AlexNet (\(variant.rawValue))").svg(),
            to: folder.appendingPathComponent("alexnet-curves.svg"))
        book.figure(
            "alexnet-curves.svg", caption: "Training loss and accuracy, and test accuracy, per epoch.", folder: folder)
        let speed = outcome.history.map(\.imagesPerSecond).max() ?? 0
        let fullSeconds = Double(full.epochs * data.train.count) / max(speed, 1e-9)
        book.say(
            """
            Reached: test accuracy \(formatted(Double(outcome.final?.testAccuracy ?? 0), digits: 3)) on \
            \(grouped(min(chosen.testLimit ?? data.test.count, data.test.count))) test images after \(chosen.epochs) epoch\(chosen.epochs == 1 ? "" : "s") \
            over \(grouped(min(chosen.trainLimit ?? data.train.count, data.train.count))) training images, at \(grouped(Int(speed))) \
            training images/s. At that speed the full recipe (\(full.epochs) epochs of 60,000) would \
            take about \(formatted(fullSeconds / 3600, digits: 1)) hours on this machine\
            \(chosen.trainLimit == nil ? "" : "; a few thousand images are far too few to approach d2l's 0.883, which needs all of them ten times").
            """)
    }

    // MARK: 4.8

    func exercises(_ book: Notebook, data: FashionMNISTSplits) throws {
        book.section("4.8 Exercises, answered")
        book.say(
            "1. Memory: parameters and activations of the convolutions versus the dense layers, and training at batch 128."
        )
        let memory = try AlexNetExercises.memoryFootprint(batchSize: 128)
        var table = TextTable(headers: ["part", "parameters", "weights", "activations per image"])
        for (name, part) in [("convolutions", memory.convolutional), ("dense layers", memory.fullyConnected)] {
            table.append([
                name, grouped(part.parameters), byteCount(part.parameters * 4),
                byteCount(part.activationsPerImage * 4),
            ])
        }
        book.show(table)
        let t = memory.training
        var training = TextTable(headers: ["batch 128, SGD with momentum", "bytes"])
        for (name, bytes) in [
            ("weights", t.weights), ("gradients", t.gradients), ("momentum", t.optimizerState),
            ("saved activations", t.savedActivations), ("total", t.training),
        ] {
            training.append([name, byteCount(bytes)])
        }
        book.show(training)
        book.say(
            """
            The dense layers own the weights (and with them the gradients and momentum); the \
            convolutions own the activations, which grow with the batch and dominate training \
            memory at batch 128.
            """)
        book.say("2. Compute: multiply-adds by the formulas and by counting the GEMMs of a real forward pass.")
        let cost = try AlexNetExercises.computeCost()
        book.show(
            """
            convolutions   \(grouped(cost.convolutionalMultiplyAdds))
            dense layers   \(grouped(cost.fullyConnectedMultiplyAdds))
            counted        \(grouped(cost.countedMultiplyAdds)) (instrumented SGEMM, one 224x224 image)
            """)
        book.say("4. A version for 28x28 inputs without resizing (AlexNetExercises.alexNetFor28):")
        book.show(try ModelProfile(AlexNetExercises.alexNetFor28(), inputShape: [1, 1, 28, 28]).shapeTrace())
        if skipExperiments {
            book.say("(Exercises 3, 5 and 6 train; skipped with --skip-experiments.)")
            return
        }
        let short = Recipe(
            epochs: 1, batchSize: 64, learningRate: 0.01, imageSize: 224, trainLimit: 512, testLimit: 256)
        book.say(
            "3. A simplified AlexNet (half the channels, one hidden layer of 1024): "
                + short.summary(for: data) + ", SGD with momentum 0.9:")
        let comparison = try AlexNetExercises.simplifiedComparison(data: data, recipe: short, seed: options.seed)
        book.show(runTable(comparison))
        let speedup = comparison[1].imagesPerSecond / max(comparison[0].imagesPerSecond, 1e-9)
        book.say(
            """
            The simplified network trains \(formatted(speedup, digits: 1))x faster with \
            \(percent(comparison[1].parameterCount, of: comparison[0].parameterCount)) of the parameters. \
            \(short.epochs * (short.trainLimit! + short.batchSize - 1) / short.batchSize) steps \
            are too few to compare accuracy (both are near chance); run the chapter with \
            --train-limit and --epochs for the longer comparison, or see VGG and NiN (chapters \
            05 and 06), which take this idea much further.
            """)
        let (studyImages, studyTestImages) = (768, 512)
        book.say(
            "5. Batch size against throughput, accuracy and memory (the 28x28 AlexNet, one epoch of the first "
                + "\(studyImages) images, tested on \(studyTestImages), lr scaled with the batch):")
        let rows = try AlexNetExercises.batchSizeStudy(
            batchSizes: [16, 64, 256], data: data, images: studyImages,
            testImages: studyTestImages, seed: options.seed)
        var batches = TextTable(headers: [
            "batch", "train img/s", "test acc", "first loss", "last loss", "training memory",
        ])
        for row in rows {
            batches.append([
                "\(row.batchSize)", formatted(row.run.imagesPerSecond, digits: 0),
                row.run.testAccuracyText,
                formatted(Double(row.run.firstBatchLoss), digits: 3),
                formatted(Double(row.run.lastBatchLoss), digits: 3), byteCount(row.trainingBytes),
            ])
        }
        book.show(batches)
        book.say(
            """
            Larger batches run faster per image (wider GEMMs) and cost memory in proportion, but \
            over a fixed number of images they take fewer steps, so they learn less per epoch.
            """)
        // The learning rate is each variant's own (sigmoid 0.9, ReLU 0.1); the 0 here is unused.
        let lenetRecipe = Recipe(epochs: 3, batchSize: 128, learningRate: 0, trainLimit: 10_000, testLimit: 2000)
        book.say(
            "6. Dropout and ReLU on LeNet (\(lenetRecipe.epochs) epochs over the first "
                + "\(grouped(lenetRecipe.trainLimit!)) images, tested on \(grouped(lenetRecipe.testLimit!))):")
        let lenets = try AlexNetExercises.dropoutAndReLU(data: data, recipe: lenetRecipe, seed: options.seed)
        book.show(runTable(lenets))
        let (sigmoid, relu) = (lenets[0].finalTestAccuracy, lenets[2].finalTestAccuracy)
        book.say(
            """
            With the same budget the sigmoid network \(sigmoid < 0.2 ? "has not left chance level yet" : "reaches \(formatted(Double(sigmoid), digits: 3))") \
            while the ReLU network reaches \(formatted(Double(relu), digits: 3)): ReLU is what makes the \
            difference for a network this small and this briefly trained. Dropout is a remedy \
            for overfitting, which \(grouped(lenets[0].parameterCount)) parameters after \(lenetRecipe.epochs) short epochs hardly do, so \
            here it mostly adds noise to the gradient.
            """)
    }

    func runTable(_ runs: [ShortRun]) -> TextTable {
        var table = TextTable(headers: ["network", "parameters", "train img/s", "first loss", "last loss", "test acc"])
        for run in runs {
            table.append([
                run.name, grouped(run.parameterCount), formatted(run.imagesPerSecond, digits: 0),
                formatted(Double(run.firstBatchLoss), digits: 3), formatted(Double(run.lastBatchLoss), digits: 3),
                run.testAccuracyText,
            ])
        }
        return table
    }

    func summary(_ book: Notebook) {
        book.section("Summary")
        book.say(
            """
            - AlexNet is LeNet's plan at ImageNet scale: eight learned layers, ReLU, dropout, \
            overlapping max pooling, and augmentation, trained on GPUs.
            - Its parameters sit in the dense layers and its compute in the convolutions.
            - The paper's two-GPU split survives as grouped convolutions \
            (\(grouped(AlexNet.paper().parameterCount)) parameters instead of \
            \(grouped(AlexNet.paper(groups: 1).parameterCount))).
            """)
    }
}

AlexNetChapter.main()
