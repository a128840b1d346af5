// Exercises.swift: section 7.5, d2l's exercises for GoogLeNet that are answered by computing:
// the smallest input, the parameters of four networks side by side, and GoogLeNet's work
// against AlexNet's with what it means for memory and caches. Every figure is computed here.

import Exercises
import Foundation
import ModernCNN
import Notebook

struct GoogLeNetChapterExercises {
    let book: Notebook

    func run() throws {
        book.say(
            """
            d2l's exercises 1 and 3 are experiments to be measured (GoogLeNet with batch \
            normalisation, label smoothing, a reshaped block or a residual connection; a GoogLeNet \
            for 28x28 inputs) and are not in this chapter yet; the computed ones, 2, 4 and 5, are:
            """)
        try smallestInput()
        let splits = try GoogLeNetExercises.sideBySide()
        parameters(splits)
        try compute(splits)
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
