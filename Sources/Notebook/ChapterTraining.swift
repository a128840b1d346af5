// ChapterTraining.swift: how a chapter trains one model: the data, the trainer with its
// checkpoint and metrics files in the chapter's folder, --resume, Ctrl-C, and the progress bar.

import ArgumentParser
import Foundation
import ModernCNN

/// A finished (or resumed-and-finished) training run.
public struct TrainingOutcome {
    public let history: [EpochMetrics]
    /// The files as a chapter names them (relative to where it runs); the checkpoint nil with
    /// --no-checkpoint.
    public let checkpointPath: String?
    public let metricsPath: String
    /// Wall-clock seconds of this process's part of the run.
    public let seconds: Double
    /// The health monitor's readings, one per epoch of this run, when `health` was asked for.
    public let health: [TrainingHealth]
    public var final: EpochMetrics? { history.last }
}

/// Trains `model` (called `name` in its checkpoint: "LeNet (d2l)") with `recipe`, writing
/// `<stem>checkpoint.safetensors` and `<stem>metrics.json` into `directory` (the chapter's main
/// model uses the stem ""; others "modern-" and so on). With `resume`, continues from that
/// checkpoint when there is one; without, says which checkpoint the run will replace (kept as
/// `<stem>checkpoint.prev.safetensors`). Ctrl-C saves and throws `TrainingStopped.interrupted`,
/// which `runChapter` turns into exit status 130.
public func runTraining(
    _ model: any Layer, name: String, optimizer: any Optimizer, recipe: Recipe,
    data: FashionMNISTSplits, seed: UInt64, directory: URL, stem: String = "", resume: Bool,
    engine: Engine = .auto, profile: Bool = false, checkpoints: Bool = true, health: Bool = false, book: Notebook
) throws -> TrainingOutcome {
    let checkpointFile = directory.appendingPathComponent("\(stem)checkpoint.safetensors").path
    let checkpoint = displayPath(checkpointFile)
    let metrics = directory.appendingPathComponent("\(stem)metrics.json").path
    var configuration = TrainingConfiguration(
        epochs: recipe.epochs, batchSize: recipe.batchSize, imageSize: recipe.imageSize, seed: seed,
        trainLimit: recipe.trainLimit, testLimit: recipe.testLimit, checkpointPath: checkpoints ? checkpointFile : nil,
        metricsPath: metrics, modelName: name)
    configuration.engine = engine
    configuration.monitorsHealth = health
    let trainer = try Trainer(
        model: model, optimizer: optimizer, train: data.train, test: data.test,
        configuration: configuration)
    book.say(
        "How it runs: the plan for batches of \(recipe.batchSize) (--engine \(engine.rawValue), which here is "
            + "\(trainer.plan.engine.rawValue)): which layers run as one block, and how each convolution is computed.")
    book.show(planTable(trainer.plan))
    switch try trainer.start(resuming: resume) {
    case .resumed(let epochsDone):
        book.note("resuming from \(checkpoint) (\(epochsDone) of \(recipe.epochs) epochs done)")
    case .nothingToResume:
        book.note("no checkpoint at \(checkpoint) yet: starting this model from the beginning")
    case .fresh:
        break
    case .replacing(let held, let epochs):
        let after = epochs.map { " after \($0) epoch\($0 == 1 ? "" : "s")" } ?? ""
        let what = held != nil || epochs != nil ? " (\(held ?? "a model")\(after))" : ""
        book.note(
            "starting afresh: this run replaces \(checkpoint)\(what) at its first save; the old one is kept "
                + "as \(URL(fileURLWithPath: Trainer.previousCheckpointPath(checkpoint)).lastPathComponent) "
                + "(--resume continues a run instead)")
    }
    if checkpoints {
        // Weights, buffers and the optimizer's state, four bytes a number.
        let shapes = model.namedParameters.map { (name: $0.name, shape: $0.parameter.value.shape) }
        let state: Int = model.stateShapes.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let optimizerState: Int = optimizer.stateShapes(for: shapes).values.reduce(0) { $0 + $1.reduce(1, *) }
        let numbers = state + optimizerState
        book.note(
            "checkpoint: \(checkpoint), \(byteCount(4 * numbers)) (weights and optimizer state) written after every "
                + "epoch; --no-checkpoint skips it")
    } else {
        book.note("no checkpoint (--no-checkpoint): this run cannot be resumed")
    }
    if profile { trainer.profile = TrainingProfile() }
    let bar = ProgressBar(epochs: recipe.epochs)
    let started = DispatchTime.now().uptimeNanoseconds
    // The page keeps the epoch lines; the live progress is for the terminal only.
    try trainer.run { event in
        bar.show(event)
        if case let .epoch(metrics) = event {
            book.page.append(.note(ProgressBar.epochLine(metrics)))
            if let reading = trainer.health.last, reading.epoch == metrics.epoch { showHealth(reading, book: book) }
        }
    }
    if let measured = trainer.profile, measured.steps > 0 {
        showProfile(
            ProfileReport(
                measured, plan: trainer.plan,
                model: try ModelProfile(model, inputShape: [1, 1, recipe.imageSize, recipe.imageSize])),
            steps: measured.steps,
            book: book, folder: directory, name: "\(stem)plan-time")
    }
    return TrainingOutcome(
        history: trainer.history, checkpointPath: checkpoints ? checkpoint : nil, metricsPath: displayPath(metrics),
        seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, health: trainer.health)
}

/// --profile's report: each block's time per step, what surrounds the steps, and the diagram
/// shaded by measured time (`<name>.svg`).
func showProfile(_ report: ProfileReport, steps: Int, book: Notebook, folder: URL, name: String) {
    book.say(
        "Where the time went (--profile), per training step, averaged over \(grouped(steps)) steps. GFLOP/s "
            + "counts a step as three times the forward's multiply-adds (forward, backward-data, filter gradient), two "
            + "flops each: Winograd's are the multiply-adds it saves too, and a first convolution that skips "
            + "backward-data does less than that.")
    book.show(report.table())
    book.say("And around the steps, over the whole run:")
    book.show(report.surroundings())
    if let speeds = report.stepSpeeds { book.say(stepSpeedVerdict(speeds, steps: steps)) }
    book.diagram(
        ArchitectureDiagram(
            report.model, title: "measured share of a training step",
            measuredShares: report.measuredShares()),
        in: folder, name: name,
        caption: "The same network shaded by its share of the measured step time (each block's time "
            + "split over its layers by their multiply-adds), beside the diagram shaded by multiply-adds.")
}

/// The steps' speeds set beside what a benchmark reports (the fastest step), and why they differ.
func stepSpeedVerdict(_ speeds: ProfileReport.StepSpeeds, steps: Int) -> String {
    let rate = { (value: Double) in formatted(value, digits: value < 100 ? 1 : 0) + " img/s" }
    let milliseconds = { (seconds: Double) in formatted(seconds * 1e3, digits: 0) + " ms" }
    var text =
        "Step by step: the first took \(milliseconds(speeds.first)) (it allocates every layer's workspace), the "
        + "median \(milliseconds(speeds.median)) (\(rate(speeds.medianImagesPerSecond))), the fastest "
        + "\(milliseconds(speeds.fastest)) (\(rate(speeds.fastestImagesPerSecond))); over all \(grouped(steps)) "
        + "steps, \(rate(speeds.meanImagesPerSecond)), the speed the epoch line reports. `make bench` reports "
        + "a model's fastest step in a warm process, at the bench's own batch size (larger batches make "
        + "larger, more efficient products). "
    let below = 1 - speeds.meanImagesPerSecond / speeds.fastestImagesPerSecond
    guard below > 0.1 else {
        return text + "Here the mean is within 10% of the fastest step: the steps ran about as fast as they can."
    }
    let stepsSeconds = speeds.imagesPerStep * Double(steps) / speeds.meanImagesPerSecond
    let firstShare = max(speeds.first - speeds.median, 0) / stepsSeconds
    text += "Here the mean is \(formatted(100 * below, digits: 0))% below the fastest step: "
    if firstShare >= 0.02 {
        text +=
            "the first step's extra time is \(formatted(100 * firstShare, digits: 0))% of all the steps' time, "
            + "and the rest is"
    } else {
        text += "not the first step's allocations (under 2% of the steps' time) but"
    }
    return text
        + " variation between steps (another process, or the machine's clock), which a benchmark's best-of "
        + "hides."
}

/// Runs a chapter's body. Ctrl-C during training or evaluation arrives here as
/// `TrainingStopped.interrupted`: the chapter says where it stopped and exits with status 130,
/// without writing its page (the caller writes the page at the end of `body`).
public func runChapter(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let TrainingStopped.interrupted(checkpoint) {
        let place = Interrupt.currentContext.map { " in section \($0)" } ?? ""
        let saved =
            checkpoint.map {
                "; the position is saved in \(displayPath($0)): add --resume to the same command to continue"
            } ?? ""
        let message = "\ninterrupted (Ctrl-C)\(place)\(saved). The chapter stopped without writing its page.\n"
        FileHandle.standardError.write(Data(message.utf8))
        throw ExitCode(130)
    }
}

/// An execution plan as a table: layers, block, algorithm, why.
public func planTable(_ plan: ExecutionPlan) -> TextTable {
    let (headers, rows) = plan.table
    var table = TextTable(headers: headers, alignments: headers.map { _ in .left })
    for row in rows { table.append(row) }
    return table
}

/// --health's reading of one epoch: a warning line when the loss stalled or a layer died, then
/// every ReLU's dead share and every parameter's update ratio.
func showHealth(_ reading: TrainingHealth, book: Notebook) {
    if let warning = reading.warning { book.note(warning) }
    var table = TextTable(
        headers: ["epoch \(reading.epoch): ReLU", "dead units", "parameter", "|update| / |weight|"],
        alignments: [.left, .right, .left, .right])
    for row in 0..<max(reading.deadUnits.count, reading.updateRatios.count) {
        let dead = row < reading.deadUnits.count ? reading.deadUnits[row] : nil
        let update = row < reading.updateRatios.count ? reading.updateRatios[row] : nil
        table.append([
            dead?.path ?? "", dead.map { formatted($0.share * 100, digits: 1) + "%" } ?? "", update?.name ?? "",
            update.map { String(format: "%.1e", $0.ratio) } ?? "",
        ])
    }
    book.show(table)
}
