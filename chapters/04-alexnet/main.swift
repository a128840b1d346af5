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
        let speed = try train(book, data: data, folder: folder, d2lProfile: d2l)
        try exercises(book, data: data, trainingSpeed: speed)
        summary(book)
        book.note(
            "This chapter's files (diagrams, augmentation grid, curves, checkpoint, metrics, index.html) are in \(displayPath(folder.path))."
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
            ImageNet (2009) gathered about 15 million labelled images in about 22,000 categories; \
            its yearly challenge, ILSVRC, held since 2010, uses a subset of 1.2 million training \
            images in 1,000 classes, and 2012 was the first year a deep network won it.
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
        // The paper's LRN settings, as our model of the paper's network holds them (PyTorch's
        // convention: alpha there is the paper's alpha times n).
        let lrn = AlexNet.paper().layers.compactMap { $0 as? LocalResponseNorm }.first!.normalization
        book.say(
            """
            - Depth and width: eight learned layers instead of five, 96 to 384 channels instead \
            of 6 and 16, and 224x224 colour inputs instead of 32x32 grey ones.
            - ReLU instead of sigmoid. A sigmoid's slope is at most 0.25 and vanishes for large \
            inputs, so a unit that saturates passes back almost no gradient (the values below); \
            ReLU's slope is exactly 1 wherever the unit is active, and it is cheaper to compute. \
            The paper reports a four-layer network reaching 25% training error on CIFAR-10 six \
            times faster with ReLUs than with tanh.
            - Dropout (p = 0.5) in the two hidden dense layers, where most parameters live, \
            against overfitting; LeNet used only weight decay.
            - Overlapping max pooling (3x3 windows, stride 2) instead of 2x2 average pooling.
            - Local response normalisation after conv1 and conv2: each activation a divided by \
            (k + alpha * sum of a^2 over n neighbouring channels)^beta, with the paper's k = \
            \(formatted(Double(lrn.k), digits: 0)), n = \(lrn.size), alpha = \
            \(String(format: "%.0e", Double(lrn.alpha) / Double(lrn.size))) and beta = \(lrn.beta).
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
        // conv1's output size, (n + 2p - 11) / 4 + 1, from 227 unpadded and from 224 padded by 2.
        let from227 = (227 - 11) / 4 + 1, from224 = (224 + 2 * 2 - 11) / 4 + 1
        book.say(
            """
            The paper's network takes 3x227x227 images and ends in 1,000 classes. The paper says \
            224, but conv1's 11x11 windows with stride 4 give (227 - 11) / 4 + 1 = \(from227) \
            outputs a side from 227 with no padding, while 224 needs a padding of 2 for the same \
            \(from224) (torchvision's AlexNet does that). Each GPU held \
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
        book.show(profile.summaryTable())
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
        book.show(profile.shapeTrace(depth: 1, arithmetic: true))
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
        book.show(
            "eigenvalues of the RGB covariance",
            pca.eigenvalues.map { String(format: "%.2e", $0) }.joined(separator: ", "))
        book.show(
            "first eigenvector", pca.eigenvectors[0].map { formatted(Double($0), digits: 3) }.joined(separator: ", "))
        book.show(
            "colour shift of image 0 (R, G, B)", shifts[0].map { String(format: "%+.4f", $0) }.joined(separator: ", "))
        book.show("noise scale sigma (each component's multiple is drawn from N(0, sigma^2))", pca.standardDeviation)
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

    /// Trains the chosen variant; returns its training speed in images/s (nil for the paper's
    /// network, which is not trained here).
    func train(_ book: Notebook, data: FashionMNISTSplits, folder: URL, d2lProfile: ModelProfile) throws -> Double? {
        book.section("4.7 Training")
        if variant == .paper {
            book.say(
                """
                The paper's network expects 3x227x227 colour images and 1,000 classes; section 4.4 \
                ran it forward and backward. Training it on Fashion-MNIST is left to the \
                learner: `--variant d2l` or `--variant cpu` train here.
                """)
            return nil
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
            and reports a test accuracy of \(PublishedResults.d2lAlexNetTestAccuracy). That is about \(formatted(stepMACs / 1e9, digits: 1)) billion \
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
            directory: folder, resume: training.resume, engine: training.engine, profile: training.profile,
            checkpoints: training.checkpoint, health: training.health, book: book)
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
            over \(grouped(min(chosen.trainLimit ?? data.train.count, data.train.count))) training images, at \(grouped(rounding: speed)) \
            training images/s. At that speed the full recipe (\(full.epochs) epochs of 60,000) would \
            take about \(formatted(fullSeconds / 3600, digits: 1)) hours on this machine\
            \(chosen.trainLimit == nil ? "" : "; a few thousand images are far too few to approach d2l's \(PublishedResults.d2lAlexNetTestAccuracy), which needs all of them ten times").
            """)
        return speed
    }

    // MARK: 4.8

    func exercises(_ book: Notebook, data: FashionMNISTSplits, trainingSpeed: Double?) throws {
        book.section("4.8 Exercises, answered")
        try memoryAndCompute(book)
        try bandwidth(book)
        if skipExperiments {
            book.say("(Exercises 4 to 8 train; skipped with --skip-experiments.)")
        } else {
            try longerTraining(book, data: data)
            try simplerNetworks(book, data: data)
            let alexNet28Speed = try batchSizes(book, data: data)
            try dropoutAndReLU(book, data: data)
            try overfitting(book, data: data, alexNet28Speed: alexNet28Speed)
        }
        try whyNotAlexNet(book, trainingSpeed: trainingSpeed)
    }

    /// Exercises 1 and 2: where the memory and the multiply-adds go.
    func memoryAndCompute(_ book: Notebook) throws {
        book.say(
            "1. Memory: parameters and activations of the convolutions versus the dense layers, and training at batch 128."
        )
        book.code("alexnet-exercise-1", from: "Sources/Exercises/AlexNet.swift")
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
        let (conv, dense) = (memory.convolutional, memory.fullyConnected)
        let weightOwner = dense.parameters > conv.parameters ? "dense layers" : "convolutions"
        let activationOwner = conv.activationsPerImage > dense.activationsPerImage ? "convolutions" : "dense layers"
        let perParameter = t.weights + t.gradients + t.optimizerState
        book.say(
            """
            The \(weightOwner) own \(percent(max(dense.parameters, conv.parameters), of: dense.parameters + conv.parameters)) \
            of the weights (and with them the gradients and momentum); the \(activationOwner) own \
            \(percent(max(conv.activationsPerImage, dense.activationsPerImage), of: conv.activationsPerImage + dense.activationsPerImage)) \
            of the activations, which grow with the batch. At batch 128 the saved activations are \
            \(byteCount(t.savedActivations)) against \(byteCount(perParameter)) for the weights, gradients and \
            momentum together: \(t.savedActivations > perParameter ? "the activations dominate training memory" : "the weights' side still dominates").
            """)
        book.say("2. Compute: multiply-adds by the formulas and by counting the GEMMs of a real forward pass.")
        book.code("alexnet-exercise-2", from: "Sources/Exercises/AlexNet.swift")
        let cost = try AlexNetExercises.computeCost()
        book.show(
            """
            convolutions   \(grouped(cost.convolutionalMultiplyAdds))
            dense layers   \(grouped(cost.fullyConnectedMultiplyAdds))
            counted        \(grouped(cost.countedMultiplyAdds)) (instrumented SGEMM, one 224x224 image)
            """)
        let total = cost.convolutionalMultiplyAdds + cost.fullyConnectedMultiplyAdds
        book.say(
            """
            The convolutions do \(percent(cost.convolutionalMultiplyAdds, of: total)) of the work, and the \
            count of the GEMMs that really ran \(cost.countedMultiplyAdds == total ? "equals the formulas' total" : "differs from the formulas' total by \(grouped(cost.countedMultiplyAdds - total))").
            """)
    }

    /// Exercise 3: bytes per multiply-add, at batch 1 and 128, against this machine's balance.
    func bandwidth(_ book: Notebook) throws {
        book.say(
            """
            3. Memory bandwidth, training against inference: the bytes each layer must move per \
            multiply-add if every tensor crosses memory once (the weights once per batch, each \
            image's input and output once), at batch 1 and batch 128, beside what this machine \
            can feed: its measured copy bandwidth over its FMA peak.
            """)
        book.code("alexnet-exercise-3", from: "Sources/Exercises/AlexNetExperiments.swift")
        let layers = try AlexNetExercises.trafficPerLayer()
        let balance = AlexNetExercises.measureBalance()
        var table = TextTable(
            headers: ["layer", "multiply-adds", "weights", "bytes/MAC at batch 1", "at batch 128"],
            alignments: [.left, .right, .right, .right, .right])
        for layer in layers {
            table.append([
                layer.layer, grouped(layer.multiplyAdds), byteCount(layer.weightBytes),
                formatted(layer.bytesPerMultiplyAdd(batch: 1), digits: 3),
                formatted(layer.bytesPerMultiplyAdd(batch: 128), digits: 3),
            ])
        }
        book.show(table)
        let limit = balance.bytesPerMultiplyAdd
        let boundAt1 = layers.filter { $0.bytesPerMultiplyAdd(batch: 1) > limit }
        let boundAt128 = layers.filter { $0.bytesPerMultiplyAdd(batch: 128) > limit }
        func names(_ rows: [AlexNetExercises.LayerTraffic]) -> String {
            rows.isEmpty ? "none" : rows.map { String($0.layer.prefix { $0 != " " }) }.joined(separator: ", ")
        }
        book.say(
            """
            This machine copies \(formatted(balance.bytesPerSecond / 1e9, digits: 1)) GB/s and peaks at \
            \(formatted(balance.multiplyAddsPerSecond / 1e9, digits: 1)) billion multiply-adds per second, \
            so it can afford \(formatted(limit, digits: 3)) bytes per multiply-add. Layers needing more are \
            bound by memory: at batch 1 layers \(names(boundAt1)); at batch 128 \(names(boundAt128)). \
            \(boundAt1.count > boundAt128.count ? "Inference on one image waits on memory in the dense layers, whose every weight is read for a single image; training's batches reuse each weight 128 times and make the same layers arithmetic-bound. That is also why batching inference on a server pays." : "Here batching changed no layer's side of the line.")
            """)
    }

    /// Exercise 4: AlexNet's curves beside LeNet's over several epochs.
    func longerTraining(_ book: Notebook, data: FashionMNISTSplits) throws {
        let (epochs, images, testImages) = (3, 512, 512)
        book.say(
            """
            4. More epochs: the 28x28 AlexNet of exercise 5 and d2l's LeNet, \(epochs) epochs each on \
            the first \(grouped(images)) training images, tested on \(testImages):
            """)
        book.code("alexnet-exercise-4", from: "Sources/Exercises/AlexNetExperiments.swift")
        let runs = try AlexNetExercises.longerTraining(
            data: data, epochs: epochs, images: images, testImages: testImages, seed: options.seed)
        var table = TextTable(headers: ["epoch", "AlexNet train loss", "test acc", "LeNet train loss", "test acc"])
        for (a, l) in zip(runs.alexNet.history, runs.leNet.history) {
            table.append([
                "\(a.epoch)", formatted(Double(a.trainLoss), digits: 3), formatted(Double(a.testAccuracy), digits: 3),
                formatted(Double(l.trainLoss), digits: 3), formatted(Double(l.testAccuracy), digits: 3),
            ])
        }
        book.show(table)
        guard let alexFirst = runs.alexNet.history.first, let alexLast = runs.alexNet.history.last,
            let leFirst = runs.leNet.history.first, let leLast = runs.leNet.history.last
        else { return book.say("(A run diverged; its table says where.)") }
        let gap = { (m: EpochMetrics) in Double(m.trainAccuracy - m.testAccuracy) }
        let ahead =
            alexLast.testAccuracy > leLast.testAccuracy
            ? "AlexNet ends ahead (\(formatted(Double(alexLast.testAccuracy), digits: 3)) against \(formatted(Double(leLast.testAccuracy), digits: 3)))"
            : "LeNet ends ahead (\(formatted(Double(leLast.testAccuracy), digits: 3)) against \(formatted(Double(alexLast.testAccuracy), digits: 3)))"
        book.say(
            """
            After one epoch AlexNet's test accuracy is \(formatted(Double(alexFirst.testAccuracy), digits: 3)) \
            and LeNet's \(formatted(Double(leFirst.testAccuracy), digits: 3)): \
            \(alexFirst.testAccuracy > leFirst.testAccuracy ? "AlexNet's ReLUs pass gradients from the first steps, while LeNet's sigmoids start in their flat middle and crawl" : "in this run the sigmoid LeNet started as fast"). \
            \(ahead). The gap between the last epoch's training accuracy (the epoch's running figure) \
            and the test accuracy is \(formatted(gap(alexLast), digits: 3)) for AlexNet's \
            \(grouped(runs.alexNet.parameterCount)) parameters and \(formatted(gap(leLast), digits: 3)) for LeNet's \
            \(grouped(runs.leNet.parameterCount)): \(overfitVerdict(alexNet: gap(alexLast), leNet: gap(leLast))) \
            Chapter 03's and section 4.7's `--full` runs draw both curves over all 60,000 images.
            """)
    }

    /// What the train-test gaps of exercise 4 say.
    func overfitVerdict(alexNet: Double, leNet: Double) -> String {
        if alexNet <= 0.02 && leNet <= 0.02 {
            return "neither fits its training images better than unseen ones yet; a few epochs on a thousand "
                + "images are too few for either to overfit."
        }
        return alexNet > leNet
            ? "the larger network fits its training images more closely than it generalises, which is what its "
                + "dropout is there to slow."
            : "in this run LeNet's gap is the larger, so AlexNet's size has not yet shown as overfitting."
    }

    /// Exercise 5: a simpler AlexNet, and one for 28x28 images.
    func simplerNetworks(_ book: Notebook, data: FashionMNISTSplits) throws {
        let short = Recipe(
            epochs: 1, batchSize: 64, learningRate: 0.01, imageSize: 224, trainLimit: 512, testLimit: 256)
        book.say(
            "5. A simplified AlexNet (half the channels, one hidden layer of 1024): "
                + short.summary(for: data) + ", SGD with momentum 0.9:")
        book.code("alexnet-exercise-5", from: "Sources/Exercises/AlexNet.swift")
        let comparison = try AlexNetExercises.simplifiedComparison(data: data, recipe: short, seed: options.seed)
        book.show(runTable(comparison))
        let speedup = comparison[1].imagesPerSecond / max(comparison[0].imagesPerSecond, 1e-9)
        let (full, simple) = (Double(comparison[0].finalTestAccuracy), Double(comparison[1].finalTestAccuracy))
        let steps = short.epochs * (short.trainLimit! + short.batchSize - 1) / short.batchSize
        let accuracy =
            differenceIsBeyondNoise(full, simple, samples: short.testLimit!)
            ? "after \(steps) steps the \(simple > full ? "simplified" : "full") network is ahead "
                + "(\(formatted(max(full, simple), digits: 3)) against \(formatted(min(full, simple), digits: 3)), "
                + "more than two standard errors apart on \(short.testLimit!) test images)"
            : "after \(steps) steps their test accuracies (\(formatted(full, digits: 3)) and "
                + "\(formatted(simple, digits: 3))) are within two standard errors of each other on "
                + "\(short.testLimit!) test images: this run cannot say which keeps more accuracy"
        book.say(
            """
            The simplified network trains \(formatted(speedup, digits: 1))x faster with \
            \(percent(comparison[1].parameterCount, of: comparison[0].parameterCount)) of the parameters; \
            \(accuracy). Run the chapter with --train-limit and --epochs for the longer comparison, or \
            see VGG and NiN (chapters 05 and 06), which take this idea much further.
            """)
        book.say(
            """
            A network that works on 28x28 directly keeps AlexNet's eight layers but starts with a \
            3x3 stride-1 convolution (11x11 with stride 4 would shrink 28 pixels to 5 at once) and \
            pools by 2; exercise 4 trained it above.
            """)
        book.code("alexnet-exercise-5-28x28", from: "Sources/Exercises/AlexNet.swift")
        book.show(
            try ModelProfile(AlexNetExercises.alexNetFor28(), inputShape: [1, 1, 28, 28]).shapeTrace(arithmetic: true))
    }

    /// Exercise 6: batch size against throughput, accuracy and measured memory. Returns the
    /// 28x28 AlexNet's training speed at batch 64.
    func batchSizes(_ book: Notebook, data: FashionMNISTSplits) throws -> Double {
        let (studyImages, studyTestImages) = (512, 512)
        book.say(
            "6. Batch size against throughput, accuracy and memory (the 28x28 AlexNet, one epoch of the first "
                + "\(studyImages) images, tested on \(studyTestImages), lr scaled with the batch):")
        book.code("alexnet-exercise-6", from: "Sources/Exercises/AlexNet.swift")
        let rows = try AlexNetExercises.batchSizeStudy(
            batchSizes: [16, 64, 256], data: data, images: studyImages,
            testImages: studyTestImages, seed: options.seed)
        var batches = TextTable(headers: [
            "batch", "train img/s", "test acc", "first loss", "last loss", "estimated memory", "measured peak",
        ])
        for row in rows {
            batches.append([
                "\(row.batchSize)", formatted(row.run.imagesPerSecond, digits: 0),
                row.run.testAccuracyText,
                formatted(Double(row.run.firstBatchLoss), digits: 3),
                formatted(Double(row.run.lastBatchLoss), digits: 3), byteCount(row.estimatedBytes),
                row.measuredBytes.map(byteCount) ?? "(not measurable here)",
            ])
        }
        book.show(batches)
        let (small, large) = (rows.first!, rows.last!)
        let batchRatio = Double(large.batchSize) / Double(small.batchSize)
        let speedRatio = large.run.imagesPerSecond / max(small.run.imagesPerSecond, 1e-9)
        var memory = ""
        if let a = small.measuredBytes, let b = large.measuredBytes, a > 0 {
            let memoryRatio = Double(b) / Double(a)
            let measured =
                "\(formatted(batchRatio, digits: 0))x the batch took \(formatted(memoryRatio, digits: 1))x the measured peak"
            memory =
                memoryRatio < batchRatio / 2
                ? " Memory did not grow in proportion: \(measured), because the weights, their gradients and "
                    + "momentum (\(byteCount(3 * 4 * small.run.parameterCount)) of it) and the kernels' workspaces are "
                    + "paid once whatever the batch; only the saved activations grow with it."
                : " Memory grew nearly in proportion: \(measured); at these batch sizes the saved activations "
                    + "outweigh the weights, their gradients and momentum (\(byteCount(3 * 4 * small.run.parameterCount)))."
        }
        book.say(
            """
            \(formatted(batchRatio, digits: 0))x the batch ran \(formatted(speedRatio, digits: 1))x as many images \
            per second\(speedRatio > 1.1 ? " (wider GEMMs, fewer steps' worth of fixed costs)" : speedRatio < 0.9 ? " (slower: the larger batch's products left the caches)" : " (about the same)"). \
            Over a fixed number of images a larger batch takes fewer steps: \(studyImages / small.batchSize) against \
            \(studyImages / large.batchSize) here, so it learns less per epoch unless its rate rises.\(memory)
            """)
        return rows.first { $0.batchSize == 64 }?.run.imagesPerSecond ?? small.run.imagesPerSecond
    }

    /// Exercise 7: dropout and ReLU on LeNet.
    func dropoutAndReLU(_ book: Notebook, data: FashionMNISTSplits) throws {
        // The learning rate is each variant's own (sigmoid 0.9, ReLU 0.1); the 0 here is unused.
        let lenetRecipe = Recipe(epochs: 3, batchSize: 128, learningRate: 0, trainLimit: 10_000, testLimit: 2000)
        book.say(
            "7. Dropout and ReLU on LeNet (\(lenetRecipe.epochs) epochs over the first "
                + "\(grouped(lenetRecipe.trainLimit!)) images, tested on \(grouped(lenetRecipe.testLimit!))):")
        book.code("alexnet-exercise-7", from: "Sources/Exercises/AlexNet.swift")
        let lenets = try AlexNetExercises.dropoutAndReLU(data: data, recipe: lenetRecipe, seed: options.seed)
        book.show(runTable(lenets))
        let accuracy = lenets.map { Double($0.finalTestAccuracy) }
        let samples = lenetRecipe.testLimit!
        /// What dropout did to one activation's network: its name, without and with dropout.
        func dropoutEffect(_ name: String, _ without: Double, _ with: Double) -> String {
            guard differenceIsBeyondNoise(without, with, samples: samples) else {
                return "for the \(name) network it changed little (\(formatted(without, digits: 3)) -> "
                    + "\(formatted(with, digits: 3)), within two standard errors)"
            }
            return "for the \(name) network it \(with > without ? "raised" : "lowered") test accuracy from "
                + "\(formatted(without, digits: 3)) to \(formatted(with, digits: 3))"
        }
        let reluEffect =
            differenceIsBeyondNoise(accuracy[0], accuracy[2], samples: samples)
            ? "ReLU \(accuracy[2] > accuracy[0] ? "made the larger difference" : "did worse"): \(formatted(accuracy[2], digits: 3)) against the sigmoid network's \(formatted(accuracy[0], digits: 3))"
            : "ReLU and sigmoid ended within noise of each other (\(formatted(accuracy[2], digits: 3)) and \(formatted(accuracy[0], digits: 3)))"
        book.say(
            """
            With the same budget, \(reluEffect). Dropout is a remedy for overfitting, which \
            \(grouped(lenets[0].parameterCount)) parameters after \(lenetRecipe.epochs) short epochs hardly \
            reach; \(dropoutEffect("sigmoid", accuracy[0], accuracy[1])), and \
            \(dropoutEffect("ReLU", accuracy[2], accuracy[3])).
            """)
    }

    /// Exercise 8: what has to go for AlexNet to overfit. A network overfits only once it has
    /// fitted its training images, which takes the 28x28 AlexNet a few hundred steps: minutes here,
    /// so the quick default says so and `--full` measures it.
    func overfitting(_ book: Notebook, data: FashionMNISTSplits, alexNet28Speed: Double) throws {
        let (images, epochs, batchSize, testImages) = (256, 32, 32, 1000)
        book.say(
            """
            8. Make AlexNet overfit. Our training adds no augmentation, so the defences left are \
            dropout and data: the 28x28 AlexNet with Adam for \(epochs) epochs with and without dropout \
            on \(images) images, and without dropout on \(4 * images) images for a quarter of the epochs \
            (the same number of images seen in all).
            """)
        book.code("alexnet-exercise-8", from: "Sources/Exercises/AlexNetExperiments.swift")
        guard training.full else {
            let seen = 3 * images * epochs
            book.say(
                """
                The three runs see \(grouped(seen)) training images in all: at the 28x28 AlexNet's speed \
                in exercise 6 at batch 64 (\(grouped(rounding: alexNet28Speed)) images/s) that is about \
                \(formatted(Double(seen) / max(alexNet28Speed, 1e-9) / 60, digits: 0)) minutes, beyond the quick \
                default; shorter runs stop before the network has fitted its training images, and a network \
                that has not fitted them cannot overfit. `--full` runs them and answers from their numbers.
                """)
            return
        }
        let runs = try AlexNetExercises.overfitting(
            data: data, images: images, epochs: epochs, batchSize: batchSize, testImages: testImages,
            seed: options.seed)
        var table = TextTable(headers: ["run", "last epoch's train acc", "test acc", "gap"])
        var gaps: [(name: String, gap: Double)] = []
        for run in runs {
            guard let last = run.history.last, run.diverged == nil else {
                table.append([run.name, "-", run.testAccuracyText, "-"])
                continue
            }
            let gap = Double(last.trainAccuracy - last.testAccuracy)
            gaps.append((run.name, gap))
            table.append([
                run.name, formatted(Double(last.trainAccuracy), digits: 3),
                formatted(Double(last.testAccuracy), digits: 3), formatted(gap, digits: 3),
            ])
        }
        book.show(table)
        guard gaps.count == 3 else { return book.say("(A run diverged, so the three cannot be compared.)") }
        let fitted = runs.compactMap { $0.history.last?.trainAccuracy }.max() ?? 0
        guard fitted >= 0.6 else {
            return book.say(
                "No run got beyond \(formatted(Double(fitted), digits: 3)) of its own training images right: the network "
                    + "has not fitted them yet, so none can overfit, and the gaps above are noise. More --epochs would."
            )
        }
        let widest = gaps.max { $0.gap < $1.gap }!
        book.say(
            """
            The widest gap between what the network got right on its training images and on unseen ones \
            is \(formatted(widest.gap, digits: 3)), in the run "\(widest.name)". \
            Removing dropout \(gaps[1].gap > gaps[0].gap ? "widened" : "did not widen") the gap \
            (\(formatted(gaps[0].gap, digits: 3)) -> \(formatted(gaps[1].gap, digits: 3))), and four times \
            the data \(gaps[2].gap < gaps[1].gap ? "narrowed" : "did not narrow") it again \
            (\(formatted(gaps[1].gap, digits: 3)) -> \(formatted(gaps[2].gap, digits: 3))). \
            \(gaps[2].gap < gaps[1].gap && gaps[1].gap > gaps[0].gap ? "Both defences work; data is the stronger one, which is why the paper's augmentation (many crops and flips of each image) mattered as much as its dropout." : "In a run this short the effects are small against the noise of \(testImages) test images; more --epochs make them clearer.") \
            (Training accuracy is the running figure of the last epoch, with dropout active where the network has it.)
            """)
    }

    /// Exercise 9: why AlexNet is no longer a benchmark.
    func whyNotAlexNet(_ book: Notebook, trainingSpeed: Double?) throws {
        book.say(
            """
            9. Why does nobody benchmark on AlexNet any more? Its cost, counted from our model of the \
            2012 network, beside what the ImageNet winners after it report:
            """)
        book.code("alexnet-exercise-9", from: "Sources/Exercises/AlexNetExperiments.swift")
        let comparison = try AlexNetExercises.benchmarkComparison()
        var table = TextTable(
            headers: ["model", "year", "top-5 error", "multiply-adds", "parameters", "source"],
            alignments: [.left, .right, .right, .right, .right, .left])
        table.append([
            "AlexNet (ours, counted)", "2012", "-",
            formatted(Double(comparison.multiplyAdds) / 1e9, digits: 2) + " G",
            formatted(Double(comparison.parameters) / 1e6, digits: 1) + " M", "this chapter's AlexNet.paper()",
        ])
        for model in comparison.published {
            table.append([
                model.name, "\(model.year)", formatted(model.topFiveError, digits: 2) + "%",
                formatted(model.multiplyAdds, digits: 2) + " G", formatted(model.parameters, digits: 1) + " M",
                model.source,
            ])
        }
        book.show(table)
        let alexNet = comparison.published.first { $0.name == "AlexNet" }!
        let best = comparison.published.min { $0.topFiveError < $1.topFiveError }!
        let lightest = comparison.published.min { $0.parameters < $1.parameters }!
        let epoch =
            trainingSpeed.map { speed in
                " On this machine one pass over ImageNet's 1.28 million training images would take about "
                    + "\(formatted(1_281_167 / max(speed, 1e-9) / 3600, digits: 0)) hours at this chapter's measured "
                    + "\(grouped(rounding: speed)) images/s (and 224x224x1, not the paper's 3 channels)."
            } ?? ""
        book.say(
            """
            Our count of the paper's network, \(formatted(Double(comparison.multiplyAdds) / 1e9, digits: 2)) billion \
            multiply-adds, \(abs(Double(comparison.multiplyAdds) / 1e9 - alexNet.multiplyAdds) / alexNet.multiplyAdds < 0.1 ? "agrees with" : "differs from") \
            the published \(formatted(alexNet.multiplyAdds, digits: 2)). \(best.name) makes \
            \(formatted(alexNet.topFiveError / best.topFiveError, digits: 1))x fewer top-5 errors, and \(lightest.name) \
            does better with \(formatted(alexNet.parameters / lightest.parameters, digits: 0))x fewer parameters: AlexNet's \
            accuracy is far from today's, its dense layers hold most of its weights for little of its work \
            (exercise 1), and its parts (local response normalisation, 11x11 kernels, a split for two GPUs) \
            were replaced by the designs of the next chapters. It survives as a history lesson and a small \
            speed test.\(epoch)
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
