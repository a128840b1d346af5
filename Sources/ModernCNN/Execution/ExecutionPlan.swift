// ExecutionPlan.swift: how a model runs, decided once, in one place, and printed.
//
// A model (Sequential and its layers) is a description with a plain reference forward and
// backward per layer: `for layer in layers { x = layer.forward(x) }`. A plan is made from a
// model, an input shape and an engine (Engine.swift) and decides, by ExecutionRules:
// - which layers form one block: a lane block (conv -> activation -> pool stages and the dense
//   layers after them, 16 images per vector), a fused convolution + activation (+ pool), or a
//   layer on its own;
// - which algorithm each convolution runs (Winograd, direct, im2col);
// - that the first convolution computes no input gradient (the input is images);
// - for a multi-branch block (Concat: Inception), one plan per branch, each planned as a model of
//   its own, each writing its channels of the step's output in place (ConcatenationInPlace.swift),
//   and whose input gradients add.
// Training and evaluation run the plan; the model's own forward stays the readable reference.
// A plan takes any batch up to the one it was made for, with the buffers it made once.

import Kernels

public final class ExecutionPlan {
    /// One step of the plan: the model's layers `layers` (indices into the Sequential) as one block.
    public struct Step {
        enum Block {
            case layer(any Layer)
            case fused(
                convolution: Conv2d, activation: Activation, kind: FusedActivation,
                pool: (any ActivationFusingPool)?)
            case lanes(LaneBlock)
            case nested(ExecutionPlan)
            /// A Concat's branches, each as its own plan, and the channels each one gives.
            case branches([ExecutionPlan], names: [String], channels: [Int])
            /// A Residual's body as a plan, and its shortcut's (nil: the identity); outputs summed.
            case residual(body: ExecutionPlan, shortcut: ExecutionPlan?)
        }
        public let layers: Range<Int>
        let block: Block
        /// What the block is (a single layer: its description) and how its convolutions run, for the printed plan.
        public let kind: String, algorithm: String, why: String
    }

    public let model: any Layer
    public let engine: Engine
    /// The largest input the plan takes: [N, C, H, W] with N the largest batch.
    public let inputShape: [Int]
    public let steps: [Step]
    /// The steps that inference runs channels-last, and how (ChannelsLastRun.swift); nil when
    /// none do.
    let channelsLast: ChannelsLastRun?
    /// The steps that training runs channels-last: by a stricter rule than inference's (smaller
    /// planes, no dropout), so fewer or none.
    let channelsLastTraining: ChannelsLastRun?
    /// Told each step's wall time as a forward or backward pass runs it (the step's layers,
    /// whether it was the backward pass, the seconds): where a training step's time goes
    /// (`bench --layers`). nil, the default, reads no clock.
    public var blockTimer: ((_ layers: Range<Int>, _ backward: Bool, _ seconds: Double) -> Void)?
    /// The batch of the last training forward, which backward works on; nil when the last
    /// forward was not a training one.
    var trainedBatch: Int?

    /// The plan for `model` on inputs of up to `inputShape`, run by `engine`. With `firstLayerNeedsGradient`
    /// false (the input is images, as in training), the first convolution skips its input gradient.
    /// A plan made for a block of a larger plan (`nested`) leaves the channels-last decision to
    /// that plan, which converts the batch once for all its blocks.
    public convenience init(
        _ model: any Layer, inputShape: [Int], engine: Engine = .auto,
        firstLayerNeedsGradient: Bool = false
    ) throws {
        try self.init(
            model, inputShape: inputShape, engine: engine, firstLayerNeedsGradient: firstLayerNeedsGradient,
            nested: false)
    }

    init(
        _ model: any Layer, inputShape: [Int], engine: Engine, firstLayerNeedsGradient: Bool, nested: Bool
    ) throws {
        if let reason = engine.unavailableReason { throw EngineError(engine: engine, reason: reason) }
        self.model = model
        self.engine = engine.resolved
        self.inputShape = inputShape
        steps = try Self.steps(for: model, inputShape: inputShape, engine: engine.resolved)
        let decides = !nested && engine.fuses
        let inference = decides ? ChannelsLastRun.plan(steps, of: model, inputShape: inputShape, training: false) : nil
        channelsLastTraining =
            decides ? ChannelsLastRun.plan(steps, of: model, inputShape: inputShape, training: true) : nil
        // Over the same steps one run serves both passes: the training run's workspace holds
        // everything inference needs, so the process keeps one set of buffers, not two.
        channelsLast =
            channelsLastTraining != nil && channelsLastTraining?.steps == inference?.steps
            ? channelsLastTraining : inference
        if !firstLayerNeedsGradient { (Self.firstLayer(of: model) as? Conv2d)?.computesInputGradient = false }
    }

    /// The layer that sees the input first, following first children down Sequentials.
    static func firstLayer(of model: any Layer) -> (any Layer)? {
        guard let sequential = model as? Sequential else { return model.children.isEmpty ? model : nil }
        return sequential.layers.first.flatMap(firstLayer)
    }

    // MARK: planning

    /// The plan's rules applied to `model`'s layers in order.
    private static func steps(for model: any Layer, inputShape: [Int], engine: Engine) throws -> [Step] {
        guard let sequential = model as? Sequential else {
            return [try single(model, at: 0, inputShape: inputShape, engine: engine)]
        }
        let layers = sequential.layers
        var (steps, shape, i) = ([Step](), inputShape, 0)
        while i < layers.count {
            let step = try block(layers, at: i, inputShape: shape, engine: engine)
            for layer in layers[step.layers] { shape = try layer.outputShape(for: shape) }
            steps.append(step)
            i = step.layers.upperBound
        }
        return steps
    }

    /// The block that starts at layer `i`: a lane block, a fused convolution, or one layer.
    private static func block(
        _ layers: [any Layer], at i: Int, inputShape shape: [Int], engine: Engine
    ) throws
        -> Step
    {
        if engine.usesLanes {
            let count = LaneBlock.layerCount(layers, from: i, inputShape: shape)
            if count > 0 {
                let block = LaneBlock(layers[i..<(i + count)], layerCount: count, inputShape: shape)
                let linear = layers[i..<(i + count)].filter { $0 is Linear }.count
                let dense = linear == 0 ? "" : " + \(linear) dense"
                return Step(
                    layers: i..<(i + count), block: .lanes(block),
                    kind: "lane block: \(block.stages.count) conv stage\(block.stages.count == 1 ? "" : "s")\(dense)",
                    algorithm: "lanes", why: ExecutionRules.lanesWhy)
            }
        }
        if engine.fuses, let convolution = layers[i] as? Conv2d, i + 1 < layers.count,
            let activation = layers[i + 1] as? Activation, let kind = activation.fusedKind
        {
            let pool = i + 2 < layers.count ? layers[i + 2] as? any ActivationFusingPool : nil
            let (passes, why) = ExecutionRules.convolution(convolution.geometry(for: shape))
            convolution.passes = passes
            let count = pool == nil ? 2 : 3
            return Step(
                layers: i..<(i + count),
                block: .fused(convolution: convolution, activation: activation, kind: kind, pool: pool),
                kind: pool == nil ? "conv + \(activation.description)" : "conv + \(activation.description) + pool",
                algorithm: passes.description, why: why + "; " + ExecutionRules.fusedWhy)
        }
        return try single(layers[i], at: i, inputShape: shape, engine: engine)
    }

    private static func single(_ layer: any Layer, at i: Int, inputShape shape: [Int], engine: Engine) throws -> Step {
        if let concat = layer as? Concat {
            let plans = try concat.branches.map {
                try ExecutionPlan(
                    $0.layer, inputShape: shape, engine: engine, firstLayerNeedsGradient: true, nested: true)
            }
            let channels = try concat.branches.map { try $0.layer.outputShape(for: shape)[1] }
            let inPlace = plans.filter { $0.activationWritingInPlace != nil }.count
            let writes =
                inPlace == plans.count
                ? "each writes its channels of the output in place"
                : "\(inPlace) of \(plans.count) write their channels of the output in place, the others are copied there"
            return Step(
                layers: i..<(i + 1), block: .branches(plans, names: concat.branches.map(\.name), channels: channels),
                kind: "\(plans.count) branches (below)", algorithm: "", why: "each branch planned as a model; " + writes
            )
        }
        if let residual = layer as? Residual {
            let body = try ExecutionPlan(
                residual.body, inputShape: shape, engine: engine, firstLayerNeedsGradient: true, nested: true)
            let shortcut = try residual.shortcut.map {
                try ExecutionPlan($0, inputShape: shape, engine: engine, firstLayerNeedsGradient: true, nested: true)
            }
            return Step(
                layers: i..<(i + 1), block: .residual(body: body, shortcut: shortcut),
                kind: shortcut == nil ? "body + identity" : "body + shortcut", algorithm: "",
                why: "body and shortcut planned as models; outputs summed")
        }
        if layer is Sequential {
            let plan = try ExecutionPlan(
                layer, inputShape: shape, engine: engine, firstLayerNeedsGradient: true, nested: true)
            return Step(
                layers: i..<(i + 1), block: .nested(plan), kind: "\(plan.steps.count) steps (below)",
                algorithm: "", why: "a container: planned as its own model")
        }
        if let convolution = layer as? Conv2d {
            let (passes, why) = ExecutionRules.convolution(convolution.geometry(for: shape))
            convolution.passes = passes
            return Step(
                layers: i..<(i + 1), block: .layer(layer), kind: layer.description, algorithm: passes.description,
                why: why)
        }
        return Step(layers: i..<(i + 1), block: .layer(layer), kind: layer.description, algorithm: "", why: "")
    }

    // MARK: running

    /// y = model(x) as planned. `x` may hold fewer images than the plan was made for.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try checkInput(x)
        // What the last training forward saved goes first: otherwise every layer still holds
        // last step's activations while it makes this step's, and the heap holds two sets.
        if training { releaseSavedTensors() }
        var (value, index) = (x, 0)
        let channelsLastRun = training ? channelsLastTraining : channelsLast
        while index < steps.count {
            if let channelsLastRun, index == channelsLastRun.steps.lowerBound {
                value = try channelsLastRun.run(value, plan: self, training: training)
                index = channelsLastRun.steps.upperBound
                continue
            }
            value = try timed(steps[index], backward: false) { try run(steps[index], value, training: training) }
            index += 1
        }
        trainedBatch = training ? x.shape[0] : nil
        return value
    }

    /// dL/dx for the last training forward, adding every parameter's gradient.
    public func backward(_ dOutput: Tensor) -> Tensor {
        precondition(trainedBatch != nil, "ExecutionPlan: backward without a training forward")
        var (gradient, index) = (dOutput, steps.count - 1)
        while index >= 0 {
            if let channelsLastRun = channelsLastTraining, index == channelsLastRun.steps.upperBound - 1 {
                gradient = channelsLastRun.backward(gradient, plan: self)
                index = channelsLastRun.steps.lowerBound - 1
                continue
            }
            gradient = timed(steps[index], backward: true) { backward(steps[index], gradient) }
            index -= 1
        }
        return gradient
    }

    func checkInput(_ x: Tensor) throws {
        guard x.shape.count == inputShape.count, (1...inputShape[0]).contains(x.shape[0]),
            Array(x.shape.dropFirst()) == Array(inputShape.dropFirst())
        else {
            throw ShapeError(
                layer: "ExecutionPlan for \(inputShape)", input: x.shape,
                problem: "a plan takes batches of up to \(inputShape[0]) inputs of \(Array(inputShape.dropFirst()))")
        }
    }

    /// body(), its wall time told to blockTimer as `step`'s when one is set.
    func timed<R>(_ step: Step, backward: Bool, _ body: () throws -> R) rethrows -> R {
        guard let blockTimer else { return try body() }
        let start = ContinuousClock.now
        let result = try body()
        let elapsed = (ContinuousClock.now - start).components
        blockTimer(step.layers, backward, Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18)
        return result
    }

    func releaseSavedTensors() {
        for layer in model.allLayers { layer.releaseSavedTensors() }
        channelsLastTraining?.releaseSavedTensors()
        for step in steps {
            switch step.block {
            case let .lanes(block): block.releaseSavedTensors()
            case let .nested(plan): plan.releaseSavedTensors()
            case let .branches(plans, _, _): for plan in plans { plan.releaseSavedTensors() }
            case let .residual(body, shortcut):
                body.releaseSavedTensors()
                shortcut?.releaseSavedTensors()
            case .layer, .fused: break
            }
        }
    }

    /// One step forward. A fused convolution applies its activation as it writes each image and
    /// hands the image to the pool while it is still in L1; the activation layer keeps that
    /// output for its backward, as its own forward would have.
    func run(_ step: Step, _ x: Tensor, training: Bool) throws -> Tensor {
        switch step.block {
        case let .layer(layer):
            return try layer.forward(x, training: training)
        case let .lanes(block):
            return block.forward(x, training: training)
        case let .nested(plan):
            return try plan.forward(x, training: training)
        case let .branches(plans, _, channels):
            return try Self.concatenated(plans, channels: channels, x, training: training)
        case let .residual(body, shortcut):
            return Residual.sum(
                try body.forward(x, training: training), try shortcut?.forward(x, training: training) ?? x)
        case let .fused(convolution, activation, kind, pool?):
            var activations: Tensor?
            let y = try pool.forward(inputShape: try convolution.outputShape(for: x.shape), training: training) {
                pooling in
                activations = try convolution.forward(x, training: training, activation: kind) { pooling($0).image($1) }
            }
            _ = activation.adopt(fusedOutput: activations!, training: training)
            return y
        case let .fused(convolution, activation, kind, nil):
            return activation.adopt(
                fusedOutput: try convolution.forward(x, training: training, activation: kind),
                training: training)
        }
    }

    /// One step backward. Through a fused block, the pool applies the activation's slope as it
    /// writes each plane of its gradient, and the convolution makes its dy from the pool's
    /// gradient where its kernels read it (ImageBatch.throughPool): the same arithmetic as the
    /// three layers' own backward passes, so the same result.
    func backward(_ step: Step, _ dy: Tensor) -> Tensor {
        switch step.block {
        case let .layer(layer):
            return layer.backward(dy)
        case let .lanes(block):
            return block.backward(dy)
        case let .nested(plan):
            return plan.backward(dy)
        case let .branches(plans, _, channels):
            return Self.concatenatedBackward(plans, channels: channels, dy)
        case let .residual(body, shortcut):
            return Residual.sum(body.backward(dy), shortcut?.backward(dy) ?? dy)
        case let .fused(convolution, activation, _, pool?):
            return activation.backward(dy, throughPool: pool, andConvolution: convolution)
        case let .fused(convolution, activation, _, nil):
            return convolution.backward(activation.backward(dy))
        }
    }
}

extension ExecutionPlan: CustomStringConvertible {
    /// The plan as lines: layers, block, algorithm, why.
    public var description: String {
        tableRows(prefix: "").map { $0.filter { !$0.isEmpty }.joined(separator: "  ") }.joined(separator: "\n")
    }

    /// The table's rows, headed, for a TextTable or a plain print.
    public var table: (headers: [String], rows: [[String]]) {
        (["layers", "block", "algorithm", "why"], tableRows(prefix: ""))
    }

    private func tableRows(prefix: String) -> [[String]] {
        var rows: [[String]] = []
        for step in steps {
            let range =
                step.layers.count == 1
                ? "\(prefix)\(step.layers.lowerBound)"
                : "\(prefix)\(step.layers.lowerBound)-\(step.layers.upperBound - 1)"
            rows.append([range, step.kind, step.algorithm, step.why])
            switch step.block {
            case let .nested(plan):
                rows += plan.tableRows(prefix: "\(prefix)\(step.layers.lowerBound).")
            case let .branches(plans, names, _):
                for (plan, name) in zip(plans, names) {
                    rows += plan.tableRows(prefix: "\(prefix)\(step.layers.lowerBound).\(name).")
                }
            case let .residual(body, shortcut):
                rows += body.tableRows(prefix: "\(prefix)\(step.layers.lowerBound).body.")
                rows += shortcut?.tableRows(prefix: "\(prefix)\(step.layers.lowerBound).shortcut.") ?? []
            case .layer, .fused, .lanes: break
            }
        }
        // One row per channels-last run: one for both passes when they cover the same steps.
        let runs: [(passes: String, run: ChannelsLastRun, training: Bool)] =
            switch (channelsLastTraining, channelsLast) {
            case let (training?, inference?) where training.steps == inference.steps:
                [("training and inference: channels-last", inference, true)]
            default:
                [
                    channelsLast.map { ("inference: channels-last", $0, false) },
                    channelsLastTraining.map { ("training: channels-last", $0, true) },
                ]
                .compactMap { $0 }
            }
        for (passes, run, training) in runs {
            let (first, last) = (steps[run.steps.lowerBound], steps[run.steps.upperBound - 1])
            rows.append([
                "\(prefix)\(first.layers.lowerBound)-\(last.layers.upperBound - 1)", passes, run.algorithmSummary,
                ExecutionRules.channelsLastWhy(training: training),
            ])
        }
        return rows
    }
}
