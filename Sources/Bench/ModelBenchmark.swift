// ModelBenchmark.swift: whole models on real Fashion-MNIST batches: a training step (forward,
// backward, SGD step) and inference in images/s, and the peak memory of training, for ours and
// (with --compare) for PyTorch and onnxruntime on the same workload.
//
// Each side runs in a child process of its own, one workload at a time, so that the peak memory
// is the workload's alone. As in the SGEMM table, --rounds repeats the pair (ours then theirs,
// then theirs then ours) and each side keeps its best: on this shared machine a burst of load
// slows every step of a child for a second or more (LeNet steps of 8.5-11 ms in one child,
// 6.5-7 ms in the next), and one pair alone hands that luck to one side.

import ArgumentParser
import Foundation
import Kernels
import ModernCNN
import Notebook

/// One model at d2l's batch size and resolution.
struct ModelWorkload: Sendable {
    let name: String
    let title: String
    let batchSize: Int
    let imageSize: Int
    let build: @Sendable () -> Sequential

    static let all = [
        ModelWorkload(name: "lenet", title: "LeNet (d2l)", batchSize: 256, imageSize: 28, build: { LeNet.d2l() }),
        ModelWorkload(
            name: "alexnet", title: "AlexNet (d2l)", batchSize: 128, imageSize: 224, build: { AlexNet.d2l() }),
        ModelWorkload(
            name: "vgg", title: "VGG-11 (d2l's small)", batchSize: 128, imageSize: 224,
            build: { VGG.Variant.small.model() }),
        ModelWorkload(name: "nin", title: "NiN (d2l)", batchSize: 128, imageSize: 224, build: { NiN.d2l() }),
        ModelWorkload(
            name: "googlenet", title: "GoogLeNet (d2l)", batchSize: 128, imageSize: 96,
            build: { GoogLeNet.model() }),
    ]
}

/// What one side measured; the JSON a child prints.
struct ModelFigures: Codable {
    var train: Double
    var infer: Double
    var peakTrainBytes: Int
    var onnxruntime: Double?
    var torch: String?
    var onnxruntimeError: String?

    enum CodingKeys: String, CodingKey {
        case train, infer, torch, onnxruntime
        case peakTrainBytes = "peak_train_bytes"
        case onnxruntimeError = "onnxruntime_error"
    }
}

extension Optional where Wrapped == ModelFigures {
    /// The best of two measurements of one side: the higher speeds, and the higher peak memory
    /// (the honest one to report).
    func best(with other: ModelFigures) -> ModelFigures {
        guard var best = self else { return other }
        best.train = Swift.max(best.train, other.train)
        best.infer = Swift.max(best.infer, other.infer)
        best.peakTrainBytes = Swift.max(best.peakTrainBytes, other.peakTrainBytes)
        if let theirs = other.onnxruntime { best.onnxruntime = Swift.max(best.onnxruntime ?? 0, theirs) }
        return best
    }
}

/// How long each side warms up before it is timed, at least one step: the figures are meant to
/// be what an epoch runs at, not the first steps of a process. Our LeNet's first steps are up to
/// a third slower while its heap grows: before layers released their saved tensors at each
/// training forward, each of steps 2 to 7 page-faulted one more 4.8 MB block (conv1's
/// activations); since then steps 2-3 and 7 still do. A second covers that (about a hundred
/// LeNet steps) and costs AlexNet nothing (its steps take longer). PyTorch's script
/// (reference/pytorch_models.py) warms up the same way.
let modelWarmUpSeconds = 1.0

/// How long each side then times steps, at least `--repeats` of them, keeping the fastest. A
/// fixed count sampled the two sides unevenly: three LeNet steps of ours cover 20 ms of this
/// shared machine's load, three of PyTorch's a tenth of a second. The same stretch of time
/// for both (hundreds of our steps, dozens of PyTorch's) gives each its undisturbed speed.
/// AlexNet's steps take seconds, so it keeps to `--repeats`. The Python side does the same.
let modelTimedSeconds = 1.0

/// In the child: best training and inference images/s of the workload, and the peak memory of
/// training, on a batch of real test images.
func measureOurModel(_ workload: ModelWorkload, repeats: Int) throws -> ModelFigures {
    let (model, plan, batch) = try prepare(workload)
    let parameters = model.namedParameters
    let optimizer = SGD(learningRate: 0.01)
    let train = bestTime(repeats: repeats, warmUpSeconds: modelWarmUpSeconds, timedSeconds: modelTimedSeconds) {
        trainingStep(plan, parameters, optimizer, on: batch)
    }
    let peak = ResidentMemory.peak
    let infer = bestTime(repeats: repeats, warmUpSeconds: modelWarmUpSeconds, timedSeconds: modelTimedSeconds) {
        _ = try! plan.forward(batch.images, training: false)
    }
    return ModelFigures(
        train: Double(workload.batchSize) / train, infer: Double(workload.batchSize) / infer,
        peakTrainBytes: peak)
}

/// One training step as the benchmarks time it: gradients zeroed, forward, loss, backward, SGD.
func trainingStep(
    _ plan: ExecutionPlan, _ parameters: [(name: String, parameter: Parameter)], _ optimizer: SGD,
    on batch: Batch
) {
    for (_, parameter) in parameters { parameter.zeroGradient() }
    let logits = try! plan.forward(batch.images, training: true)
    let (_, _, gradient) = Trainer.loss(logits, labels: batch.labels)
    _ = plan.backward(gradient)
    optimizer.step(parameters)
}

/// The workload's model and the plan it trains with, as the Trainer makes it (the automatic
/// engine; nothing needs the gradient of the images, which PyTorch skips too), and one batch
/// of real test images.
func prepare(_ workload: ModelWorkload) throws -> (model: Sequential, plan: ExecutionPlan, batch: Batch) {
    let model = workload.build()
    let data = try FashionMNIST(split: .test)
    let batches = BatchPlan(dataset: data, batchSize: workload.batchSize, imageSize: workload.imageSize, seed: 1)
    let batch = batches.batch(0, of: batches.order(epoch: 0))
    return (model, try ExecutionPlan(model, inputShape: batch.images.shape), batch)
}

/// Runs `executable` with `arguments` to the end; its exit status and standard output.
func runChild(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// This executable's own path, for running it again as a child.
var ownExecutable: String { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path }

/// Runs `arguments` with `executable` and decodes the JSON object on the last line it prints.
func figuresFromChild(_ executable: String, _ arguments: [String], what: String) throws -> ModelFigures {
    let (status, output) = try runChild(executable, arguments)
    guard status == 0,
        let line = output.split(separator: "\n").last,
        let figures = try? JSONDecoder().decode(ModelFigures.self, from: Data(line.utf8))
    else {
        throw ValidationError("\(what) failed (status \(status)); its output: \(output.suffix(400))")
    }
    return figures
}

extension Bench {
    /// Whole models, ours and (with a Python) PyTorch's and onnxruntime's, with the ratios.
    /// Rounds alternate the two sides, ours first in odd rounds and theirs first in even ones,
    /// and each side keeps its best figures: a burst of load on this shared machine, which
    /// slows every step of a child for a second or more, then reaches both sides alike.
    func modelTable(_ book: Notebook, threads: Int, workloads: [ModelWorkload]) throws {
        book.note("")
        let warmUp = formatted(modelWarmUpSeconds, digits: 0)
        let timed = formatted(modelTimedSeconds, digits: 0)
        book.note(
            "Whole models on one batch, \(threads) threads, after a warm-up of \(warmUp) s the fastest of "
                + "\(repeats) steps or of \(timed) s of steps, whichever is more, best of \(rounds) "
                + "round\(rounds == 1 ? "" : "s")"
                + (compare == nil ? "" : "; PyTorch and onnxruntime from \(compare!)") + ":")
        var table = TextTable(
            headers: ["model", "batch", "ours train img/s", "ours infer img/s", "ours peak (train)"]
                + (compare == nil
                    ? []
                    : [
                        "PyTorch train", "infer", "peak", "onnxruntime infer",
                        "train ratio", "infer vs PyTorch", "infer vs ORT",
                    ]))
        var versions = ""
        // Each process's training images/s, ours and PyTorch's, for the spread under the table.
        var spreads: [String] = []
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("reference/pytorch_models.py").path
        for workload in workloads {
            var ours: ModelFigures?, theirs: ModelFigures?
            var oursTrain: [Double] = [], theirsTrain: [Double] = []
            for round in 1...rounds {
                let measureOurs = {
                    let figures = try figuresFromChild(
                        ownExecutable,
                        ["--model-child", workload.name, "--threads", "\(threads)", "--repeats", "\(repeats)"],
                        what: "our \(workload.name) child")
                    oursTrain.append(figures.train)
                    ours = ours.best(with: figures)
                }
                if round % 2 == 1 { try measureOurs() }
                if let python = compare {
                    let figures = try figuresFromChild(
                        python, [script, workload.name, "\(threads)", "\(repeats)"],
                        what: "the PyTorch \(workload.name) child")
                    theirsTrain.append(figures.train)
                    theirs = theirs.best(with: figures)
                }
                if round % 2 == 0 { try measureOurs() }
            }
            guard let ours else { continue }
            let perProcess = { (figures: [Double]) in figures.map { formatted($0, digits: 0) }.joined(separator: ", ") }
            spreads.append(
                "\(workload.title): ours \(perProcess(oursTrain))"
                    + (theirsTrain.isEmpty ? "" : "; PyTorch \(perProcess(theirsTrain))"))
            var row = [
                workload.title, "\(workload.batchSize)", formatted(ours.train, digits: 1),
                formatted(ours.infer, digits: 1), byteCount(ours.peakTrainBytes),
            ]
            if let theirs {
                versions =
                    "torch \(theirs.torch ?? "?")"
                    + (theirs.onnxruntime == nil
                        ? "; onnxruntime unavailable: \(theirs.onnxruntimeError ?? "?")" : "")
                row += [
                    formatted(theirs.train, digits: 1), formatted(theirs.infer, digits: 1),
                    byteCount(theirs.peakTrainBytes), theirs.onnxruntime.map { formatted($0, digits: 1) } ?? "-",
                    formatted(ours.train / theirs.train, digits: 2) + "x",
                    formatted(ours.infer / theirs.infer, digits: 2) + "x",
                    theirs.onnxruntime.map { formatted(ours.infer / $0, digits: 2) + "x" } ?? "-",
                ]
            }
            table.append(row)
        }
        book.show(table)
        if !versions.isEmpty { book.note(versions) }
        book.note("Training images/s of each process, in the order run (the table keeps each side's best):")
        for spread in spreads { book.note("  " + spread) }
        if compare != nil && workloads.contains(where: { $0.name == "lenet" }) {
            book.say(
                "PyTorch's LeNet has trained at two distinct speeds from one process to the next on these "
                    + "machines (about 2x apart), so its best of \(rounds) processes sets the ratio; --rounds 4 gives it more chances."
            )
        }
        book.note(
            "Peak is the resident memory of the whole process during training (PyTorch's includes its own "
                + "libraries), the largest of the rounds. Goals (DESIGN.md): LeNet train 5x and infer 1.3x PyTorch; "
                + "AlexNet train 1.3x PyTorch, infer at least onnxruntime, peak below PyTorch's.")
    }
}

extension Bench {
    /// Where a training step's time goes: forward and backward milliseconds of every layer of
    /// the workload's model, on one batch (best of `repeats`).
    func layerProfile(_ book: Notebook, workload: ModelWorkload) throws {
        let (model, _, batch) = try prepare(workload)
        let input = batch.images
        let profile = try ModelProfile(model, inputShape: [1] + input.shape.dropFirst())
        var forward = [Double](repeating: .infinity, count: model.layers.count)
        var backward = forward
        for _ in 0...repeats {  // the first pass warms up
            var activations = [input]
            for (index, layer) in model.layers.enumerated() {
                var output = activations[index]
                forward[index] = min(
                    forward[index],
                    bestTime(repeats: 1, warmUp: false) {
                        output = try! layer.forward(activations[index], training: true)
                    })
                activations.append(output)
            }
            var gradient = activations.last! * (1 / Float(workload.batchSize))
            for (index, layer) in model.layers.enumerated().reversed() {
                var next = gradient
                backward[index] = min(
                    backward[index], bestTime(repeats: 1, warmUp: false) { next = layer.backward(gradient) })
                gradient = next
            }
        }
        var table = TextTable(headers: ["layer", "type", "forward ms", "backward ms", "GFLOP/s (fwd+bwd)"])
        for (index, layer) in model.layers.enumerated() {
            // The model's own layers: for GoogLeNet, whole stages.
            let macs = Double(profile.entries(toDepth: 0)[index].multiplyAdds * workload.batchSize)
            let seconds = forward[index] + backward[index]
            table.append([
                "\(index)", layer.description, formatted(forward[index] * 1e3, digits: 1),
                formatted(backward[index] * 1e3, digits: 1),
                macs > 0 ? formatted(6 * macs / seconds / 1e9, digits: 1) : "-",
            ])
        }
        table.append([
            "total", "", formatted(forward.reduce(0, +) * 1e3, digits: 1),
            formatted(backward.reduce(0, +) * 1e3, digits: 1), "",
        ])
        book.note(
            "\(workload.title), batch \(workload.batchSize), \(Parallel.threadCount) threads, best of \(repeats):")
        book.show(table)
        try blockProfile(book, workload: workload)
    }

    /// The same step as the model runs it, fused blocks and all (a convolution with its activation
    /// and pool is one block): the fastest and the median time of each block over the steps of
    /// two seconds (at least `repeats`), after the model benchmark's warm-up. On a shared machine
    /// the median shows the noise and the fastest what the code can do.
    func blockProfile(_ book: Notebook, workload: ModelWorkload) throws {
        let (model, plan, batch) = try prepare(workload)
        let parameters = model.namedParameters
        let optimizer = SGD(learningRate: 0.01)
        var times: [String: [Double]] = [:]
        var order: [String] = []
        func record(_ key: String, _ seconds: Double) {
            if times[key] == nil { order.append(key) }
            times[key, default: []].append(seconds)
        }
        // "forward|0-2|Conv2d + Sigmoid + AvgPool2d": the table's first three columns.
        func name(_ layers: Range<Int>, pass: String) -> String {
            let types = layers.map { String(describing: type(of: model.layers[$0])) }.joined(separator: " + ")
            let indices = layers.count == 1 ? "\(layers.lowerBound)" : "\(layers.lowerBound)-\(layers.upperBound - 1)"
            return "\(pass)|\(indices)|\(types)"
        }
        func step() { trainingStep(plan, parameters, optimizer, on: batch) }
        // An inference pass keeps nothing for backward (no pool winners, no saved inputs), so
        // its blocks are timed apart from the training forward's.
        func infer() { _ = try! plan.forward(batch.images, training: false) }
        _ = bestTime(repeats: 1, warmUpSeconds: modelWarmUpSeconds, step)
        var forwardPass = "forward"
        let timer: (Range<Int>, Bool, Double) -> Void = { layers, backward, seconds in
            record(name(layers, pass: backward ? "backward" : forwardPass), seconds)
        }
        plan.blockTimer = timer
        defer { plan.blockTimer = nil }
        var steps = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while steps < repeats || DispatchTime.now().uptimeNanoseconds - start < 2_000_000_000 {
            record("step||all, with the loss and SGD", bestTime(repeats: 1, warmUp: false, step))
            steps += 1
        }
        // The first inference pass frees, block by block, what the last training step saved;
        // it runs untimed, so that the rows below are inference alone.
        plan.blockTimer = nil
        infer()
        (plan.blockTimer, forwardPass) = (timer, "inference")
        for _ in 0..<steps { record("inference step||all, forward only", bestTime(repeats: 1, warmUp: false, infer)) }
        var table = TextTable(headers: ["pass", "layers", "block", "fastest ms", "median ms"])
        let totals = order.filter { $0.contains("step|") }
        for key in order.filter({ !$0.contains("step|") }) + totals {
            let sorted = times[key]!.sorted()
            table.append(
                key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                    + [formatted(sorted[0] * 1e3, digits: 2), formatted(sorted[sorted.count / 2] * 1e3, digits: 2)])
        }
        book.note(
            "The same model as it trains, fused blocks and all, over \(steps) steps, then as many inference passes:")
        book.show(table)
    }
}
