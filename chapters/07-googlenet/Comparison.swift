// Comparison.swift: section 7.6, the book's closing comparison. The five networks side by side
// (size and work counted, speed measured in this run, accuracy read from each chapter's last
// training run in output/ and labelled with what that run trained on), bar charts of the same
// figures, and an architecture diff: GoogLeNet with and without batch normalisation, the added
// layers highlighted on a diagram, and what they change.

import Exercises
import Foundation
import ModernCNN
import Notebook

struct ClosingComparison {
    let book: Notebook
    /// Chapter 07's output folder; the other chapters' folders are its siblings.
    let folder: URL
    let seed: UInt64
    /// This chapter's own run (7.4).
    let ownRun: RecordedRun
    /// Exercise 1's short runs (empty with --skip-experiments), for the diff's accuracy.
    let variantRuns: [GoogLeNetExercises.VariantRun]
    let initialization: WeightInitialization

    /// Images per timed batch: enough to keep the kernels busy, few enough for seconds a network.
    static let batchSize = 16

    /// Returns the five networks' costs, for the chapter's summary.
    func run() throws -> [VGGExercises.Cost] {
        book.section("7.6 Five networks side by side")
        book.say(
            """
            The book's five networks as d2l builds them, each at the input size d2l trains it at \
            (Fashion-MNIST's 28 px upscaled for all but LeNet). Parameters, multiply-adds and \
            activations per image are counted from each network's profile; training and \
            inference speed are measured now, on this machine, in batches of \(Self.batchSize) \
            through the execution plan the trainer runs:
            """)
        book.code("five-networks", from: "Sources/Exercises/FiveNetworks.swift")
        let costs = try FiveNetworks.costs(batchSize: Self.batchSize, seed: seed)
        let runs = FiveNetworks.networks.map { network -> Result<RecordedRun, any Error> in
            network.chapter == "07-googlenet"
                ? .success(ownRun)
                : Result {
                    try RecordedRun(
                        checkpoint: chapterFolder(network).appendingPathComponent("checkpoint.safetensors").path)
                }
        }
        var table = TextTable(
            headers: [
                "network", "input", "parameters", "mult-adds", "activations", "train img/s", "infer img/s",
                "test acc.",
            ],
            alignments: [.left, .right, .right, .right, .right, .right, .right, .right])
        for (index, (network, cost)) in zip(FiveNetworks.networks, costs).enumerated() {
            let accuracy = (try? runs[index].get()).map { formatted(Double($0.testAccuracy), digits: 3) } ?? "-"
            table.append([
                network.name, "\(network.inputSize) px", grouped(cost.parameters),
                multiplyAdds(cost.multiplyAdds), byteCount(cost.activationBytes),
                grouped(rounding: 1 / cost.trainingSeconds), grouped(rounding: 1 / cost.inferenceSeconds), accuracy,
            ])
        }
        book.show(table)
        book.say(provenance(runs))
        charts(costs, runs: runs)
        book.say(ideas(costs))
        try diff(googLeNet: costs[costs.count - 1])
        return costs
    }

    /// A chapter's output folder: this chapter's sibling (output/04-alexnet beside output/07-googlenet).
    func chapterFolder(_ network: FiveNetworks.Network) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent(network.chapter)
    }

    /// Where each accuracy comes from: the run in each chapter's folder, as its checkpoint records it.
    func provenance(_ runs: [Result<RecordedRun, any Error>]) -> String {
        let intro =
            "The accuracies are not from one recipe: each is the last finished epoch of the last run whose "
            + "checkpoint is in that chapter's folder, trained as follows (`make chapters` gives the quick "
            + "runs, a chapter with `--full` d2l's recipe; whichever ran last is shown):"
        var lines: [String] = []
        for (network, run) in zip(FiveNetworks.networks, runs) {
            switch run {
            case let .success(recorded):
                let model = recorded.model.map { "\($0), " } ?? ""
                lines.append("- \(network.name): \(model)\(recorded.trainedOn), batches of \(recorded.batchSize).")
            case let .failure(error):
                let reason =
                    (error as? CheckpointError).map { _ in
                        "no readable checkpoint in \(displayPath(chapterFolder(network).path))"
                    } ?? "\(error)"
                lines.append("- \(network.name): not trained yet (\(reason); `make \(network.chapter.dropFirst(3))`).")
            }
        }
        return intro + "\n\n" + lines.joined(separator: "\n")
    }

    /// Six bar charts of the table's columns in one figure. LeNet's speeds, hundreds of times
    /// the others', would flatten their bars, so the two speed charts leave it out (the table has it).
    func charts(_ costs: [VGGExercises.Cost], runs: [Result<RecordedRun, any Error>]) {
        let names = FiveNetworks.networks.map(\.name)
        func chart(_ title: String, _ unit: String, _ values: [Double], from first: Int = 0) -> BarChart {
            BarChart(
                title: title, valueLabel: unit, bars: zip(names, values).dropFirst(first).map { ($0, rounded($1)) })
        }
        let accuracies = runs.map { (try? $0.get()).map { Double($0.testAccuracy) } ?? 0 }
        let figure = BarChart.grid(
            [
                chart("Parameters", "millions", costs.map { Double($0.parameters) / 1e6 }),
                chart("Multiply-adds per image", "billions", costs.map { Double($0.multiplyAdds) / 1e9 }),
                chart("Activations per image", "MB", costs.map { Double($0.activationBytes) / 1e6 }),
                chart("Test accuracy (each chapter's last run)", "accuracy", accuracies),
                chart("Training speed here (not LeNet)", "images/s", costs.map { 1 / $0.trainingSeconds }, from: 1),
                chart("Inference speed here (not LeNet)", "images/s", costs.map { 1 / $0.inferenceSeconds }, from: 1),
            ], columns: 2)
        do {
            try writeAtomically(figure, to: folder.appendingPathComponent("five-networks.svg"))
            book.figure(
                "five-networks.svg",
                caption: "The five networks: size and work counted, speed measured in this run (LeNet's, "
                    + "\(grouped(rounding: 1 / costs[0].trainingSeconds)) images/s in training, is left out of "
                    + "the speed charts so that the others' bars show), accuracy from each chapter's last run "
                    + "(not one recipe).", folder: folder)
        } catch {
            book.note("(no figure: \(error))")
        }
    }

    /// Three significant digits: what a bar's label needs.
    func rounded(_ value: Double) -> Double {
        guard value.isFinite, value != 0 else { return 0 }
        let scale = pow(10, 2 - floor(log10(abs(value))))
        return (value * scale).rounded() / scale
    }

    /// One line per network on what its idea bought, against the network before it.
    func ideas(_ costs: [VGGExercises.Cost]) -> String {
        var lines: [String] = []
        for (index, (network, cost)) in zip(FiveNetworks.networks, costs).enumerated() {
            guard index > 0 else {
                lines.append(
                    "- \(network.name): \(network.idea); \(grouped(cost.parameters)) parameters and "
                        + "\(multiplyAdds(cost.multiplyAdds)) multiply-adds per image.")
                continue
            }
            let previous = costs[index - 1]
            func ratio(_ a: Double, _ b: Double) -> String {
                formatted(a / b, digits: a / b >= 10 ? 0 : a / b < 0.1 ? 3 : 2) + "x"
            }
            lines.append(
                "- \(network.name): \(network.idea); "
                    + "\(ratio(Double(cost.parameters), Double(previous.parameters))) the parameters and "
                    + "\(ratio(Double(cost.multiplyAdds), Double(previous.multiplyAdds))) the multiply-adds of "
                    + "\(FiveNetworks.networks[index - 1].name), "
                    + "\(formatted(Double(cost.multiplyAdds) / Double(cost.parameters), digits: 0)) multiply-adds "
                    + "per weight per image.")
        }
        return "What each idea bought, against the network before it:\n\n" + lines.joined(separator: "\n")
    }

    /// "0.4 M" or "0.94 G": multiply-adds at a scale that shows their digits.
    func multiplyAdds(_ count: Int) -> String {
        count >= 100_000_000
            ? formatted(Double(count) / 1e9, digits: 2) + " G" : formatted(Double(count) / 1e6, digits: 1) + " M"
    }

    // MARK: the architecture diff

    /// GoogLeNet against GoogLeNet with batch normalisation: what changed, drawn and measured.
    func diff(googLeNet before: VGGExercises.Cost) throws {
        var design = GoogLeNet.Design(initialization: initialization)
        let plain = GoogLeNet.model(design, seed: seed)
        design.batchNorm = true
        let normalised = GoogLeNet.model(design, seed: seed)
        let shape = [1, 1, 96, 96]
        let difference = ArchitectureDiff(
            from: try ModelProfile(plain, inputShape: shape), to: try ModelProfile(normalised, inputShape: shape))
        book.say(
            """
            An architecture diff compares two networks layer by layer. GoogLeNet against the same \
            network with batch normalisation after every convolution (exercise 1's variant): the \
            layers of each, in the order they run, matched as a text diff matches lines. It \
            finds \(difference.summary.joined(separator: ", ")). Drawn for stage 3 (its two \
            Inception blocks; the other stages change the same way), the added layers outlined:
            """)
        // Stage 3 of each network alone, on what stage 2 hands it.
        let stageInput = [1] + Array(try Sequential(Array(plain.layers.prefix(2))).outputShape(for: shape).dropFirst())
        let stage = try ModelProfile(normalised.layers[2], inputShape: stageInput)
        let stageDiff = ArchitectureDiff(from: try ModelProfile(plain.layers[2], inputShape: stageInput), to: stage)
        book.diagram(
            ArchitectureDiagram(
                stage, title: "GoogLeNet stage 3 with batch normalisation", highlighted: stageDiff.addedPaths),
            in: folder, name: "googlenet-bn-diff",
            caption: "Stage 3 with batch normalisation: the \(stageDiff.added.count) added layers have a green border.")
        let after = try VGGExercises.measuredCost(
            "GoogLeNet + BN", normalised, inputShape: [1, 96, 96], batchSize: Self.batchSize, seed: seed)
        var table = TextTable(
            headers: ["", "GoogLeNet", "with batch norm", "change"], alignments: [.left, .right, .right, .right])
        func change(_ a: Double, _ b: Double) -> String {
            (b >= a ? "+" : "") + formatted(100 * (b - a) / a, digits: 1) + "%"
        }
        table.append([
            "parameters", grouped(before.parameters), grouped(after.parameters),
            "+\(grouped(after.parameters - before.parameters))",
        ])
        table.append([
            "multiply-adds / image", grouped(before.multiplyAdds), grouped(after.multiplyAdds),
            change(Double(before.multiplyAdds), Double(after.multiplyAdds)),
        ])
        table.append([
            "activations / image", byteCount(before.activationBytes), byteCount(after.activationBytes),
            change(Double(before.activationBytes), Double(after.activationBytes)),
        ])
        table.append([
            "train img/s (measured)", grouped(rounding: 1 / before.trainingSeconds),
            grouped(rounding: 1 / after.trainingSeconds), change(1 / before.trainingSeconds, 1 / after.trainingSeconds),
        ])
        table.append([
            "infer img/s (measured)", grouped(rounding: 1 / before.inferenceSeconds),
            grouped(rounding: 1 / after.inferenceSeconds),
            change(1 / before.inferenceSeconds, 1 / after.inferenceSeconds),
        ])
        let plainRun = variantRuns.first { !$0.variant.design.batchNorm && $0.variant.labelSmoothing == 0 }
        let normRun = variantRuns.first { $0.variant.design.batchNorm }
        if let plainRun, let normRun {
            let (a, b) = (Double(plainRun.run.finalTestAccuracy), Double(normRun.run.finalTestAccuracy))
            table.append([
                "test accuracy (exercise 1's short runs)", plainRun.run.testAccuracyText, normRun.run.testAccuracyText,
                a.isFinite && b.isFinite ? (b >= a ? "+" : "") + formatted(b - a, digits: 3) : "-",
            ])
        }
        book.show(table)
        // Timings of a few steps vary by several percent; a change under 10% is not claimed.
        let slowdown = 1 - before.trainingSeconds / after.trainingSeconds
        book.say(
            """
            Batch normalisation adds two parameters per channel (a scale and a shift) and two \
            running statistics, nothing next to the convolutions' weights, and almost no \
            multiply-adds; what it adds is a pass over every activation, \
            \(formatted(100 * Double(after.activationBytes - before.activationBytes) / Double(before.activationBytes), digits: 0))% \
            more activation memory per image (each normalised output is kept beside the convolution's), \(slowdown > 0.1
                ? "and training ran \(formatted(100 * slowdown, digits: 0))% fewer images a second here: each normalisation reads and writes its layer's whole output twice, forward and backward, with little arithmetic to hide the memory traffic"
                : "and training speed changed by less than the 10% that a few timed steps can tell apart: the extra passes over the activations are small next to the convolutions"). \
            \(plainRun == nil || normRun == nil
                ? "The accuracy comparison is exercise 1's, skipped in this run."
                : "Its accuracy effect is exercise 1's measurement above, on a short run at a small size.")
            """)
    }
}
