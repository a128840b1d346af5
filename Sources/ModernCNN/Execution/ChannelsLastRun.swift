// ChannelsLastRun.swift: the small-plane end of a network, trained and run channels-last.
//
// A plan's steps whose convolutions all work on planes smaller than 16x16 (GoogLeNet's stages
// 3-5, on 12x12, 6x6 and 3x3; VGG's last block, on 14x14) run on batches stored [N, H, W, C].
// The batch is transposed once where the run starts; every convolution is one product over all
// the batch's positions (Kernels' ChannelsLastConvolution.swift), a 3x3 whose plane 2x2 tiles
// cover by Winograd F(2x2, 3x3) (ChannelsLastWinograd.swift); an Inception block's branches
// write their channels of the block's output in place (a branch's rows are a column slice of the
// output's rows); pools work sixteen channels per vector; and global average pooling leaves
// [N, C], the same floats in either layout (a run that ends on a larger plane is transposed
// back). In training, each operation keeps what its backward needs, and backward runs the
// programs in reverse on channels-last gradients (ChannelsLastTraining.swift). Training takes
// smaller planes than inference (ExecutionRules.channelsLast: GoogLeNet's 6x6 and 3x3 stages)
// and a run without dropout (its masks are drawn channels-first).

import Kernels

/// The channels-last program of a run of plan steps, and the workspace its convolutions share.
final class ChannelsLastRun {
    /// One operation on a channels-last batch.
    indirect enum Operation {
        /// A convolution, the activation fused into it (.none when none follows), and its algorithm.
        case convolution(Conv2d, FusedActivation, ChannelsLastAlgorithm)
        /// An activation on its own (one not after a convolution).
        case activation(FusedActivation)
        case maxPool(MaxPool2d)
        /// Adaptive average pooling to 1x1: [N, H, W, C] -> [N, C].
        case globalAverage
        /// Flatten of a 1x1 plane: [N, C, 1, 1] -> [N, C], the same floats.
        case flatten
        /// Dropout, which inference leaves as it is (a training run has none).
        case identity
        /// A Concat's branches, each a program, and the channels each gives, written side by
        /// side on the channel axis.
        case branches([[Operation]], channels: [Int])
    }

    /// The plan's steps this covers, and one program per step.
    let steps: Range<Int>
    let programs: [[Operation]]
    let workspace: ChannelsLastWorkspace
    /// What the last training pass kept for backward, one list per program; nil otherwise.
    var saved: [[Saved]]?
    /// The channels-first shapes of the last training pass's input and output.
    var trainedShapes: (input: [Int], output: [Int])?

    init(steps: Range<Int>, programs: [[Operation]], convolutions: [Convolution], training: Bool) {
        (self.steps, self.programs) = (steps, programs)
        workspace = ChannelsLastWorkspace(for: convolutions, backward: training)
    }

    /// A convolution of the program as the workspace is sized for it.
    typealias Convolution = (geometry: ConvolutionGeometry, algorithm: ChannelsLastAlgorithm)

    /// How its convolutions run, for the printed plan: "47 lowered to SGEMM, 7 Winograd F(2x2, 3x3)".
    var algorithmSummary: String {
        func algorithms(_ operations: [Operation]) -> [ChannelsLastAlgorithm] {
            operations.flatMap { operation -> [ChannelsLastAlgorithm] in
                switch operation {
                case let .convolution(_, _, algorithm): [algorithm]
                case let .branches(branches, _): branches.flatMap(algorithms)
                default: []
                }
            }
        }
        let all = programs.flatMap(algorithms)
        let (lowered, winograd) = (all.filter { $0 == .lowered }.count, all.filter { $0 == .winograd }.count)
        return [
            lowered > 0 ? "\(lowered) lowered to SGEMM" : nil, winograd > 0 ? "\(winograd) Winograd F(2x2, 3x3)" : nil,
        ]
        .compactMap { $0 }.joined(separator: ", ")
    }

    // MARK: planning

    /// The first run of consecutive `steps` (for inputs of `inputShape` at the first step) that
    /// holds a convolution, whose every step ExecutionRules.channelsLast admits and every layer
    /// of which has a channels-last form (for `training`, one with a backward); nil when there is
    /// none.
    static func plan(
        _ steps: [ExecutionPlan.Step], of model: any Layer, inputShape: [Int], training: Bool
    ) -> ChannelsLastRun? {
        guard let sequential = model as? Sequential else { return nil }
        var shape = inputShape
        var run: (start: Int, programs: [[Operation]], convolutions: [Convolution])?
        for (index, step) in steps.enumerated() {
            var stepShape = shape, convolutions: [Convolution] = []
            let program = try? compile(
                Array(sequential.layers[step.layers]), shape: &stepShape, convolutions: &convolutions,
                training: training)
            // A lane block keeps its own layout (16 images per vector), made for such planes.
            let laneBlock = if case .lanes = step.block { true } else { false }
            let admitted =
                program != nil && !laneBlock
                && ExecutionRules.channelsLast(convolutions.map(\.geometry), training: training)
            if admitted, let program {
                if run == nil { run = (index, [], []) }
                run!.programs.append(program)
                run!.convolutions += convolutions
            } else if let found = run, !found.convolutions.isEmpty {
                break
            } else {
                run = nil
            }
            guard let next = try? sequential.layers[step.layers].reduce(shape, { try $1.outputShape(for: $0) })
            else { return nil }
            shape = next
        }
        // Steps without convolutions join a run on either side of the convolutions (a pool
        // before the small planes, the flatten after them).
        guard let run, !run.convolutions.isEmpty else { return nil }
        return ChannelsLastRun(
            steps: run.start..<(run.start + run.programs.count), programs: run.programs, convolutions: run.convolutions,
            training: training)
    }

    /// The operations of `layers` applied in order to inputs of `shape` (updated to the output's
    /// [N, C, H, W], or [N, C] after global pooling), each convolution's geometry and algorithm
    /// appended to `convolutions`; nil when a layer has no channels-last form (for `training`,
    /// none that trains: dropout).
    static func compile(
        _ layers: [any Layer], shape: inout [Int], convolutions: inout [Convolution], training: Bool
    ) throws -> [Operation]? {
        var operations: [Operation] = []
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            i += 1
            switch layer {
            case let convolution as Conv2d:
                guard shape.count == 4 else { return nil }
                let g = convolution.geometry(for: shape)
                guard g.supportsChannelsLast else { return nil }
                // An activation right after it is applied as its rows are written.
                let fused = i < layers.count ? (layers[i] as? Activation)?.fusedKind : nil
                if fused != nil { i += 1 }
                let algorithm = ExecutionRules.channelsLastAlgorithm(g)
                operations.append(.convolution(convolution, fused ?? .none, algorithm))
                convolutions.append((g, algorithm))
            case let activation as Activation:
                guard let kind = activation.fusedKind else { return nil }
                operations.append(.activation(kind))
            case let pool as MaxPool2d:
                guard shape.count == 4 else { return nil }
                operations.append(.maxPool(pool))
            case let pool as AdaptiveAvgPool2d:
                guard shape.count == 4, pool.outputSize == (1, 1) else { return nil }
                operations.append(.globalAverage)
            case is Flatten:
                guard shape.count == 2 || (shape.count == 4 && shape[2] == 1 && shape[3] == 1) else { return nil }
                operations.append(.flatten)
            case is Dropout:
                guard !training else { return nil }
                operations.append(.identity)
            case let concat as Concat:
                guard shape.count == 4 else { return nil }
                var (branches, channels): ([[Operation]], [Int]) = ([], [])
                for branch in concat.branches {
                    var branchShape = shape
                    guard
                        let program = try compile(
                            [branch.layer], shape: &branchShape, convolutions: &convolutions, training: training)
                    else { return nil }
                    branches.append(program)
                    channels.append(branchShape[1])
                }
                operations.append(.branches(branches, channels: channels))
            case let sequential as Sequential:
                guard
                    let program = try compile(
                        sequential.layers, shape: &shape, convolutions: &convolutions, training: training)
                else { return nil }
                operations += program
                continue
            default:
                return nil
            }
            shape = try layer.outputShape(for: shape)
        }
        return operations
    }
}

// MARK: running

extension ChannelsLastRun {
    /// A batch as the channels-last program holds it: `values` are [N, H, W, C] (or [N, C]),
    /// `shape` is the channels-first shape the model's own layers would give, [N, C, H, W] or
    /// [N, C]. Its rows may be a slice of wider ones (a branch's channels of a concatenation):
    /// they start `column` floats into each row of `values` and lie `rowStride` floats apart.
    struct Batch {
        var values: Tensor
        var shape: [Int]
        var column = 0
        var rowStride: Int

        /// A batch of its own: rows of `shape[1]` floats side by side.
        init(values: Tensor, shape: [Int]) {
            (self.values, self.shape, rowStride) = (values, shape, shape[1])
        }

        /// Channels `channels` of every row of `whole` (whose shape gives the rest).
        init(slice whole: Batch, channels: Range<Int>) {
            (values, shape) = (whole.values, [whole.shape[0], channels.count] + whole.shape.dropFirst(2))
            (column, rowStride) = (whole.column + channels.lowerBound, whole.rowStride)
        }

        var channels: Int { shape[1] }
        /// Positions of the whole batch: the rows of its [N*H*W, C] matrix.
        var rows: Int { shape.count == 4 ? shape[0] * shape[2] * shape[3] : shape[0] }
        var isDense: Bool { column == 0 && rowStride == channels }

        /// The rows, dense: itself, or its slice copied out.
        var dense: Batch {
            guard !isDense else { return self }
            var copy = Batch(values: Tensor(uninitializedShape: [rows * channels]), shape: shape)
            withRows { source in
                copy.values.withUnsafeMutableBufferPointer { target in
                    let (base, channels, stride) = (target.baseAddress!, channels, rowStride)
                    Parallel.parallelFor(rows) { row in
                        (base + row * channels).update(from: source + row * stride, count: channels)
                    }
                }
            }
            return copy
        }

        /// body(the first row's first channel).
        func withRows<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
            try values.withUnsafeBufferPointer { try body($0.baseAddress! + column) }
        }
    }

    /// The plan's steps `steps` on x, their channels-first input: x is transposed in, each
    /// step's program runs (timed as the step), and the result is given back as the
    /// channels-first steps would give it. `training` keeps what backward needs.
    func run(_ x: Tensor, plan: ExecutionPlan, training: Bool) throws -> Tensor {
        saved = nil
        var batch = Batch(values: Self.transposed(x, toChannelsLast: true), shape: x.shape)
        var records: [[Saved]] = []
        for (offset, program) in programs.enumerated() {
            batch = try plan.timed(plan.steps[steps.lowerBound + offset], backward: false) {
                var kept: [Saved]? = training ? [] : nil
                let y = try execute(program, on: batch, saving: &kept)
                records.append(kept ?? [])
                return y
            }
        }
        if training { (saved, trainedShapes) = (records, (x.shape, batch.shape)) }
        guard Self.hasPlane(batch.shape) else { return try batch.values.reshaped(batch.shape) }
        return Self.transposed(batch.values, toChannelsLast: false, shape: batch.shape)
    }

    func releaseSavedTensors() { saved = nil }

    /// Whether a shape has a plane larger than 1x1, whose channels-last floats differ from the
    /// channels-first ones.
    static func hasPlane(_ shape: [Int]) -> Bool { shape.count == 4 && shape[2] * shape[3] > 1 }

    /// x [N, C, H, W] as [N, H, W, C], or (toChannelsLast false) channels-last values of the
    /// channels-first `shape` back as [N, C, H, W].
    static func transposed(_ x: Tensor, toChannelsLast: Bool, shape: [Int]? = nil) -> Tensor {
        let s = shape ?? x.shape
        var y = Tensor(uninitializedShape: toChannelsLast ? [s[0], s[2], s[3], s[1]] : s)
        x.withUnsafeBufferPointer { source in
            y.withUnsafeMutableBufferPointer { target in
                transposeChannels(
                    source.baseAddress!, into: target.baseAddress!, batch: s[0], channels: s[1], plane: s[2] * s[3],
                    toChannelsLast: toChannelsLast)
            }
        }
        return y
    }

    /// The program on `input`; with `saving` non-nil, each operation's record appended to it.
    func execute(_ program: [Operation], on input: Batch, saving: inout [Saved]?) throws -> Batch {
        var batch = input
        for operation in program { batch = try apply(operation, to: batch, saving: &saving) }
        return batch
    }

    private func apply(_ operation: Operation, to x: Batch, saving: inout [Saved]?) throws -> Batch {
        switch operation {
        case let .convolution(convolution, activation, algorithm):
            let shape = try convolution.outputShape(for: x.shape)
            var y = Batch(values: Tensor(uninitializedShape: [shape[0], shape[2], shape[3], shape[1]]), shape: shape)
            y.values.withUnsafeMutableBufferPointer { output in
                convolve(convolution, activation, algorithm, x, into: output.baseAddress!, rowStride: shape[1])
            }
            saving?.append(.convolution(input: x, output: y))
            return y
        case let .activation(kind):
            var y = x.dense
            y.values.withUnsafeMutableBufferPointer { values in
                let pointer = values.baseAddress!
                switch kind {
                case .relu: reluForward(pointer, pointer, count: values.count)
                case .sigmoid: sigmoidForward(pointer, pointer, count: values.count)
                case .none: break
                }
            }
            saving?.append(.activation(output: y))
            return y
        case let .maxPool(pool):
            let g = pool.window.geometry(for: x.shape)
            let shape = [g.batch, g.channels, g.outputHeight, g.outputWidth]
            var y = Batch(
                values: Tensor(uninitializedShape: [g.batch, g.outputHeight, g.outputWidth, g.channels]), shape: shape)
            let input = x.dense
            var winners: [Int32] = []
            input.withRows { input in
                y.values.withUnsafeMutableBufferPointer { output in
                    guard saving != nil else {
                        return channelsLastMaxPool(g, input: input, output: output.baseAddress!)
                    }
                    winners = [Int32](unsafeUninitializedCapacity: output.count) { kept, count in
                        channelsLastMaxPool(g, input: input, output: output.baseAddress!, winners: kept.baseAddress!)
                        count = output.count
                    }
                }
            }
            saving?.append(.maxPool(inputShape: x.shape, winners: winners))
            return y
        case .globalAverage:
            let (batch, channels, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
            var y = Batch(values: Tensor(uninitializedShape: [batch, channels]), shape: [batch, channels, 1, 1])
            x.dense.withRows { input in
                y.values.withUnsafeMutableBufferPointer { output in
                    channelsLastGlobalAveragePool(
                        input, into: output.baseAddress!, batch: batch, plane: plane, channels: channels)
                }
            }
            saving?.append(.reshape(inputShape: x.shape))
            return y
        case .flatten:
            saving?.append(.reshape(inputShape: x.shape))
            return Batch(values: x.dense.values, shape: [x.shape[0], x.shape[1]])
        case .identity:
            saving?.append(.identity)
            return x
        case let .branches(programs, channels):
            let total = channels.reduce(0, +)
            var y = Batch(
                values: Tensor(uninitializedShape: [x.rows * total]), shape: [x.shape[0], total] + x.shape.dropFirst(2))
            var kept: [[Saved]] = []
            try y.values.withUnsafeMutableBufferPointer { output in
                var first = 0
                for (program, count) in zip(programs, channels) {
                    var branch: [Saved]? = saving == nil ? nil : []
                    try execute(program, on: x, into: output.baseAddress! + first, rowStride: total, saving: &branch)
                    kept.append(branch ?? [])
                    first += count
                }
            }
            saving?.append(.branches(kept, output: y))
            return y
        }
    }

    /// A branch's program on x, its output written into the columns of a wider batch's rows
    /// (`rowStride` floats apart) that start at `target`: by its last convolution directly,
    /// otherwise copied there row by row.
    private func execute(
        _ program: [Operation], on x: Batch, into target: UnsafeMutablePointer<Float>, rowStride: Int,
        saving: inout [Saved]?
    ) throws {
        guard case let .convolution(convolution, activation, algorithm)? = program.last else {
            let y = try execute(program, on: x, saving: &saving).dense
            y.withRows { values in
                Parallel.parallelFor(y.rows) { row in
                    (target + row * rowStride).update(from: values + row * y.channels, count: y.channels)
                }
            }
            return
        }
        let input = try execute(Array(program.dropLast()), on: x, saving: &saving)
        convolve(convolution, activation, algorithm, input, into: target, rowStride: rowStride)
        saving?.append(.convolution(input: input, output: nil))
    }

    /// One convolution of x, its rows written `rowStride` floats apart from `target`.
    private func convolve(
        _ convolution: Conv2d, _ activation: FusedActivation, _ algorithm: ChannelsLastAlgorithm, _ x: Batch,
        into target: UnsafeMutablePointer<Float>, rowStride: Int
    ) {
        let g = convolution.geometry(for: x.shape)
        x.withRows { input in
            convolution.weight.value.withUnsafeBufferPointer { w in
                convolution.bias.withValuePointer { b in
                    channelsLastConvolutionForward(
                        g, algorithm: algorithm, input: input, inputRowStride: x.rowStride, weight: w.baseAddress!,
                        bias: b, output: target, outputRowStride: rowStride, activation: activation,
                        workspace: workspace)
                }
            }
        }
    }
}
