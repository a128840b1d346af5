// ConcatenationInPlace.swift: a multi-branch step (Concat: Inception's four paths) without copies.
//
// The step's output is [N, C1 + C2 + ..., H, W], allocated once. Each branch's last step writes
// its output straight into its own channels of it: image n's C_i planes sit at
//   (n * C_total + C_1 + ... + C_(i-1)) * H * W,
// so the convolution (or activation) that ends the branch is given that place and an image
// stride of C_total * H * W instead of a tensor of its own. The activation keeps the whole
// output for its backward, with its channels; the layer after the step keeps the same tensor as
// its input, so the activations are held once, not twice.
// Backward splits dL/dy by the same slices without copying: the branch's last activation reads
// its channels of dL/dy where they lie as it applies its slope. A branch that ends in anything
// else (a pool, a batch norm) runs as a model of its own and is copied into place, and its
// gradient slice copied out, as Concat's reference forward and backward do.

/// Channels `channels` of every image of a batch [batch, totalChannels, H, W] whose floats start
/// at `start`, with H * W = `plane`: where one branch of a concatenation writes.
struct ChannelSlice: CustomStringConvertible {
    let start: UnsafeMutablePointer<Float>
    let batch: Int, channels: Range<Int>, totalChannels: Int, plane: Int

    /// Where image n's first channel of the slice starts; its channels follow contiguously.
    func image(_ n: Int) -> UnsafeMutablePointer<Float> { start + (n * totalChannels + channels.lowerBound) * plane }

    /// Copies `tensor` [batch, channels.count, H, W] into place.
    func update(from tensor: Tensor) {
        precondition(
            tensor.count == batch * channels.count * plane, "\(tensor.shape) does not fit \(self)")
        let size = channels.count * plane
        tensor.withUnsafeBufferPointer { source in
            for n in 0..<batch { image(n).update(from: source.baseAddress! + n * size, count: size) }
        }
    }

    var description: String { "channels \(channels) of [\(batch), \(totalChannels), \(plane) floats a plane]" }
}

extension Tensor {
    /// Channels `range` of an [N, C, H, W] tensor, copied out: [N, range.count, H, W].
    func copying(channels range: Range<Int>) -> Tensor {
        precondition(
            rank == 4 && range.lowerBound >= 0 && range.upperBound <= shape[1], "channels \(range) of \(shape)")
        let (batch, total, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var slice = Tensor(uninitializedShape: [batch, range.count, shape[2], shape[3]])
        withUnsafeBufferPointer { source in
            slice.withUnsafeMutableBufferPointer { target in
                for n in 0..<batch {
                    (target.baseAddress! + n * range.count * plane)
                        .update(
                            from: source.baseAddress! + (n * total + range.lowerBound) * plane,
                            count: range.count * plane)
                }
            }
        }
        return slice
    }
}

extension ExecutionPlan {
    /// The activation of the plan's last step, when that step can write into a channel slice
    /// itself: a fused convolution + activation, or an activation on its own.
    var activationWritingInPlace: Activation? {
        switch steps.last?.block {
        case let .fused(_, activation, _, nil)?: activation
        case let .layer(activation as Activation)?: activation
        default: nil
        }
    }

    /// A branches step forward: every branch run on x, its output written into its channels of
    /// the step's output. `channels`: how many each branch gives.
    static func concatenated(
        _ plans: [ExecutionPlan], channels: [Int], _ x: Tensor, training: Bool
    ) throws -> Tensor {
        let branchShape = try plans[0].model.outputShape(for: x.shape)
        let total = channels.reduce(0, +)
        var y = Tensor(uninitializedShape: [x.shape[0], total, branchShape[2], branchShape[3]])
        var writers: [(activation: Activation, channels: Range<Int>)] = []
        try y.withUnsafeMutableBufferPointer { output in
            var first = 0
            for (plan, count) in zip(plans, channels) {
                let target = ChannelSlice(
                    start: output.baseAddress!, batch: x.shape[0], channels: first..<(first + count),
                    totalChannels: total, plane: branchShape[2] * branchShape[3])
                if let activation = try plan.forward(x, training: training, into: target) {
                    writers.append((activation, target.channels))
                }
                first += count
            }
        }
        // Only now, with every branch written: an activation holding y while a later branch
        // wrote into it would have made that write copy the whole tensor.
        for writer in writers {
            writer.activation.adopt(concatenation: y, channels: writer.channels, training: training)
        }
        return y
    }

    /// A branches step backward: each branch's gradient taken from its channels of dy, and the
    /// branches' input gradients added, since every branch read the same input.
    static func concatenatedBackward(_ plans: [ExecutionPlan], channels: [Int], _ dy: Tensor) -> Tensor {
        Concat.summedGradients(split: channels) { plans[$0].backward(fromChannels: $1, of: dy) }
    }

    /// The plan run with its output written into `target`. Returns the last step's activation
    /// when that step wrote there itself (the caller has it adopt the finished output); nil when
    /// the plan's own output was copied there.
    private func forward(_ x: Tensor, training: Bool, into target: ChannelSlice) throws -> Activation? {
        guard let activation = activationWritingInPlace, let last = steps.last else {
            target.update(from: try forward(x, training: training))
            return nil
        }
        try checkInput(x)
        if training { releaseSavedTensors() }
        var value = x
        for step in steps.dropLast() {
            value = try timed(step, backward: false) { try run(step, value, training: training) }
        }
        try timed(last, backward: false) {
            if case let .fused(convolution, _, kind, nil) = last.block {
                try convolution.forward(value, training: training, activation: kind, into: target)
            } else {
                activation.forward(value, into: target)
            }
        }
        trainedBatch = training ? x.shape[0] : nil
        return activation
    }

    /// dL/dx of the plan, given the gradient of the concatenation its output went into and the
    /// channels it went to.
    private func backward(fromChannels channels: Range<Int>, of dy: Tensor) -> Tensor {
        guard let activation = activationWritingInPlace, let last = steps.last else {
            return backward(dy.copying(channels: channels))
        }
        precondition(trainedBatch != nil, "ExecutionPlan: backward without a training forward")
        var gradient = timed(last, backward: true) {
            let slope = activation.backward(fromChannelsOf: dy)
            guard case let .fused(convolution, _, _, nil) = last.block else { return slope }
            return convolution.backward(slope)
        }
        for step in steps.dropLast().reversed() {
            gradient = timed(step, backward: true) { backward(step, gradient) }
        }
        return gradient
    }
}
