// bench: throughput of our kernels beside the reference libraries, measured in one run.
//
// Absolute speeds on these shared virtual machines swing 2-4x from day to day; the ratio to
// OpenBLAS measured in the same run is the figure to read.

import ArgumentParser
import Foundation
import Kernels
import ModernCNN
import Notebook

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "SGEMM GFLOP/s beside OpenBLAS (loaded with dlopen when installed).")

    @Option(help: "Worker threads for both libraries (default: MODERNCNN_THREADS, else all cores).")
    var threads: Int?

    @Option(
        help:
            "Timed runs per workload, library and round (SGEMM and models: or a stretch of time, whichever is more); the best is kept."
    )
    var repeats = 3

    @Option(help: "Rounds over all workloads; each library keeps its best.")
    var rounds = 2

    @Flag(help: "Square sizes only (a fast check of the build flags and the microkernel).")
    var quick = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
    }

    @Option(help: "Only the workloads whose name contains this text, e.g. 'conv3' or 'square'.")
    var only: String?

    @Flag(help: "Measure only our kernels, without OpenBLAS beside them.")
    var noReference = false

    @Flag(help: "Only the whole-model table (LeNet, AlexNet, small VGG, NiN, GoogLeNet).")
    var models = false

    @Flag(help: "Only the per-layer convolution tables (AlexNet, LeNet); --only picks layers, e.g. 'LeNet' or 'conv2'.")
    var convolutions = false

    @Option(
        help: ArgumentHelp(
            "Python with torch (and onnxruntime) to measure the same models beside ours.",
            discussion: "`make bench-compare` makes that Python in a git-ignored virtual environment."))
    var compare: String?

    @Option(
        help:
            "Per-layer forward and backward times of one model (lenet, alexnet, vgg, nin or googlenet), then per block as it trains."
    )
    var layers: String?

    @Option(help: "With --layers: the square input size instead of the workload's own (e.g. 67 for a reduced NiN).")
    var imageSize: Int?

    @Option(help: "With --layers: the batch size instead of the workload's own.")
    var batchSize: Int?

    @Flag(help: .hidden)
    var openBLASChild = false

    @Flag(help: .hidden)
    var openBLASCoreChild = false

    @Option(help: .hidden)
    var modelChild: String?

    @Option(help: .hidden)
    var exact: String?

    func run() throws {
        if let threads { Parallel.setThreadCount(threads) }
        let threads = Parallel.threadCount
        if let layers {
            guard let named = ModelWorkload.all.first(where: { $0.name == layers }) else {
                throw ValidationError("no model workload named \(layers)")
            }
            let workload = ModelWorkload(
                name: named.name, title: named.title, batchSize: batchSize ?? named.batchSize,
                imageSize: imageSize ?? named.imageSize, build: named.build)
            try layerProfile(Notebook(), workload: workload)
            return
        }
        if let modelChild {
            guard let workload = ModelWorkload.all.first(where: { $0.name == modelChild }) else {
                throw ValidationError("no model workload named \(modelChild)")
            }
            let figures = try measureOurModel(workload, repeats: repeats)
            print(String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
            return
        }
        if convolutions {
            let book = Notebook()
            book.title("ModernCNN convolution benchmarks")
            let peak = PeakProbe.flopsPerSecond(threads: threads)
            book.note("FMA peak (probe): \(formatted(peak / 1e9, digits: 1)) GFLOP/s")
            convolutionTables(book, threads: threads, peak: peak)
            return
        }
        if models || compare != nil {
            let book = Notebook()
            book.title("ModernCNN model benchmarks")
            let workloads = ModelWorkload.all.filter { workload in only.map { workload.name.contains($0) } ?? true }
            if workloads.isEmpty {
                let names = ModelWorkload.all.map(\.name).joined(separator: ", ")
                throw ValidationError("no model matches --only \(only ?? ""); the models are \(names)")
            }
            try modelTable(book, threads: threads, workloads: workloads)
            return
        }
        let shapes = ([256, 512, 1024, 2048].map(GemmShape.square) + (quick ? [] : GemmShape.alexNet))
            .filter { shape in only.map { shape.name.contains($0) } ?? true }
            .filter { shape in exact.map { shape.name == $0 } ?? true }
        if shapes.isEmpty { throw ValidationError("no workload matches --only \(only ?? "")") }
        if openBLASChild {
            try runOpenBLASPhase(shapes, threads: threads)
            return
        }
        if openBLASCoreChild {
            print(OpenBLAS.load()?.coreName ?? "")
            return
        }
        let reference = noReference ? nil : OpenBLAS.available
        let book = Notebook()
        book.title("ModernCNN benchmarks")
        book.note("threads: \(threads)")
        if let reference {
            let core = openBLASCoreName()
            book.note(
                "reference: OpenBLAS cblas_sgemm from \(reference)" + (core.map { ", its \($0) kernels" } ?? "")
                    + ", \(threads) threads")
            if let core, GemmBlocking.processorHasAVX512, !OpenBLAS.usesAVX512(core: core) {
                book.say(
                    "This processor has AVX-512, but this OpenBLAS picked its \(core) kernels, which use "
                        + "256-bit vectors: on a core with full 512-bit FMA units (Intel's server cores, AMD's Zen 5) "
                        + "that is half the FMA peak measured below. The ratios compare our kernel with "
                        + "those, the library as installed. OPENBLAS_CORETYPE=SkylakeX makes it use its AVX-512 "
                        + "kernels, for a look only: the tests, CI and DESIGN.md's figures leave it unset.")
            }
        } else if noReference {
            book.note("reference: none (--no-reference)")
        } else {
            book.note("reference: OpenBLAS not found; install it to compare (\(OpenBLAS.installHint)).")
        }
        // For each shape, ours runs and then OpenBLAS, in a child process (its idle workers spin
        // in sched_yield after each call, and in one process our next runs shared a core with
        // them; when the child exits its threads are gone). Rounds repeat the whole sweep and
        // each side keeps its best, so a burst of load on this shared machine reaches both sides
        // of a pair, seconds apart, rather than one side of a sweep minutes long.
        var peak = 0.0
        var ours = shapes.map { _ in 0.0 }
        var theirs: [Double?] = shapes.map { _ in nil }
        for round in 1...rounds {
            peak = max(peak, PeakProbe.flopsPerSecond(threads: threads))
            book.note("round \(round) of \(rounds)" + (reference == nil ? "" : ", OpenBLAS in a child process"))
            for (index, shape) in shapes.enumerated() {
                ours[index] = max(ours[index], measureOurs(shape, threads: threads, repeats: repeats))
                guard reference != nil else { continue }
                let measured = try measureOpenBLASInChild(shape: shape.name, threads: threads)
                theirs[index] = max(theirs[index] ?? 0, measured)
            }
        }
        book.note("FMA peak (probe, best of \(rounds) rounds): \(formatted(peak / 1e9, digits: 1)) GFLOP/s")
        book.note(
            "each side's fastest of \(repeats) calls or of \(formatted(gemmTimedSeconds, digits: 1)) s of calls, "
                + "whichever is more, per shape and round")
        book.note("")

        var table = TextTable(headers: [
            "SGEMM", "trans", "M", "N", "K", "ours GFLOP/s", "% of peak",
            "OpenBLAS GFLOP/s", "ours / OpenBLAS",
        ])
        for (shape, (mine, baseline)) in zip(shapes, zip(ours, theirs)) {
            let transposes = (shape.transA ? "T" : "N") + (shape.transB ? "T" : "N")
            table.append([
                shape.name, transposes, "\(shape.m)", "\(shape.n)", "\(shape.k)",
                formatted(mine, digits: 1), formatted(100 * mine / (peak / 1e9), digits: 0),
                baseline.map { formatted($0, digits: 1) } ?? "-",
                baseline.map { formatted(mine / $0, digits: 2) + "x" } ?? "-",
            ])
        }
        book.show(table)
        if !quick && only == nil {
            convolutionTables(book, threads: threads, peak: peak)
            try modelTable(book, threads: threads, workloads: ModelWorkload.all)
        }
    }
}

extension Bench {
    /// Both models' tables; with --only, only the layers whose name contains that text.
    func convolutionTables(_ book: Notebook, threads: Int, peak: Double) {
        // LeNet trains with its batch in the vector lanes where the processor has AVX-512
        // (ModernCNN's LaneBlock), and with the direct kernels elsewhere.
        for (title, layers, lanes) in [
            ("AlexNet (d2l) convolutions, batch 128", ConvolutionGeometry.alexNet(batch: 128), false),
            (
                "LeNet (d2l) convolutions, batch 256", ConvolutionGeometry.lenet(batch: 256),
                GemmBlocking.wideTile
            ),
        ] {
            let chosen = layers.filter { layer in only.map { "\(title) \(layer.0)".contains($0) } ?? true }
            if !chosen.isEmpty { convolutionTable(book, title, chosen, lanes: lanes, threads: threads, peak: peak) }
        }
    }

    /// Per-layer GFLOP/s of one model's convolutions (`make bench-compare` puts PyTorch's
    /// whole-model figures beside ours). The first layer's backward-data is skipped: training
    /// never computes the image's gradient.
    func convolutionTable(
        _ book: Notebook, _ title: String, _ layers: [(String, ConvolutionGeometry)], lanes: Bool,
        threads: Int, peak: Double
    ) {
        book.note("")
        book.note("\(title), \(threads) threads, best of \(repeats):")
        var table = TextTable(headers: [
            "layer", "output", "GMAC", "algorithm", "forward GFLOP/s", "backward-data",
            "backward-filter", "% of peak (fwd)",
        ])
        var totalMultiplyAdds = 0.0, totalSeconds = 0.0
        let batch = layers.first?.1.batch ?? 0
        // A Winograd layer is measured again with the rule's alternative for its backward passes
        // (im2col if the rule says Winograd, and the other way round), so that the table shows
        // why the rule chose as it did. Only the rule's rows count in the total.
        var rows: [(name: String, geometry: ConvolutionGeometry, passes: ConvolutionPasses?)] = []
        for (name, geometry) in layers {
            rows.append((name, geometry, nil))
            let rule = ExecutionRules.convolution(geometry).passes
            guard !lanes && rule.forward == .winograd else { continue }
            let mixed = ConvolutionPasses(forward: .winograd, backwardData: .im2col, filterGradient: .im2col)
            rows.append((name, geometry, rule == mixed ? ConvolutionPasses(.winograd) : mixed))
        }
        for (name, geometry, alternative) in rows {
            let first = name.hasPrefix("conv1 ")
            let result =
                lanes
                ? benchmarkLaneConvolution(geometry, repeats: repeats, skipBackwardData: first, workers: threads)
                : benchmarkConvolution(geometry, repeats: repeats, skipBackwardData: first, passes: alternative)
            if let alternative {
                table.append([
                    "  (not chosen)", "", "", alternative.description, formatted(result.forward, digits: 1),
                    result.backwardData.map { formatted($0, digits: 1) } ?? "(skipped)",
                    formatted(result.backwardFilter, digits: 1), "",
                ])
                continue
            }
            let gflop = 2 * geometry.multiplyAdds / 1e9
            totalMultiplyAdds += geometry.multiplyAdds * (first ? 2 : 3)
            totalSeconds +=
                gflop / result.forward + gflop / result.backwardFilter
                + (result.backwardData.map { gflop / $0 } ?? 0)
            table.append([
                name, "\(geometry.outputChannels)x\(geometry.outputHeight)x\(geometry.outputWidth)",
                formatted(geometry.multiplyAdds / 1e9, digits: 1),
                lanes ? "lanes" : ExecutionRules.convolution(geometry).passes.description,
                formatted(result.forward, digits: 1),
                result.backwardData.map { formatted($0, digits: 1) } ?? "(skipped)",
                formatted(result.backwardFilter, digits: 1),
                formatted(100 * result.forward / (peak / 1e9), digits: 0),
            ])
        }
        book.show(table)
        book.note(
            "all \(layers.count) layers, forward + backward: \(formatted(1000 * totalSeconds, digits: 1)) ms "
                + "per batch of \(batch), \(formatted(2 * totalMultiplyAdds / totalSeconds / 1e9, digits: 1)) GFLOP/s, "
                + "\(formatted(Double(batch) / totalSeconds, digits: 1)) images/s for the convolutions alone")
        if lanes {
            book.note(
                "lanes: 16 images in each vector (LeNet's lane block); the transposes, pooling and dense "
                    + "layers around the kernels are in `--layers lenet`, not here.")
        }
        if !lanes && layers.contains(where: { ExecutionRules.convolution($0.1).passes.uses(.winograd) }) {
            book.note(
                "GFLOP/s count each convolution's own multiply-adds; Winograd performs fewer, so its figures "
                    + "(and % of peak) are effective rates and can pass 100%. The algorithm column names each "
                    + "pass that differs from the forward's; a row marked (not chosen) is the "
                    + "alternative the plan's rule turned down for that layer's backward passes.")
        }
    }

    /// In the child: measures OpenBLAS on every selected shape and prints "<GFLOP/s>" per line.
    func runOpenBLASPhase(_ shapes: [GemmShape], threads: Int) throws {
        guard let blas = OpenBLAS.load() else { throw ValidationError("OpenBLAS not found") }
        blas.setThreads(threads)
        for shape in shapes { print(measureOpenBLAS(shape, blas, repeats: repeats)) }
    }

    /// The kernel set the OpenBLAS child picks (in a child, like the measurements, so that the
    /// library never loads into this process), or nil when it does not say. Only a label: a
    /// failed child leaves it out rather than stopping the benchmark.
    func openBLASCoreName() -> String? {
        guard let (status, output) = try? runChild(ownExecutable, ["--open-blas-core-child"]), status == 0
        else { return nil }
        let name = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    /// Runs this executable again with --open-blas-child for the one shape named; returns its GFLOP/s.
    func measureOpenBLASInChild(shape name: String, threads: Int) throws -> Double {
        let (status, output) = try runChild(
            ownExecutable,
            [
                "--open-blas-child", "--threads", "\(threads)",
                "--repeats", "\(repeats)", "--exact", name,
            ])
        guard status == 0, let value = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("the OpenBLAS child process failed on \(name) (status \(status))")
        }
        return value
    }
}

Bench.main()
