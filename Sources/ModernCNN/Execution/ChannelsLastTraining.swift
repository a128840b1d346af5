// ChannelsLastTraining.swift: the backward pass of a channels-last run (ChannelsLastRun.swift).
//
// A training pass keeps, per operation, what its backward reads (Saved): a convolution its input
// and output (the output a branch's last convolution wrote into the block's rows is kept once,
// by the block), a max pool the input position that won each window. Backward walks the programs
// in reverse on channels-last gradients: a convolution's dy goes through its activation's slope
// (read from its output), then the kernels' products (ChannelsLastBackward.swift) add its filter
// and bias gradients and give dx; a block's branches each read their column slice of the block's
// gradient, and their input gradients add, since all read the block's input.

import Kernels

extension ChannelsLastRun {
    /// What an operation of a training pass keeps for its backward.
    indirect enum Saved {
        /// The input, and the output (nil: written into the enclosing branches' output, which
        /// that keeps).
        case convolution(input: Batch, output: Batch?)
        case activation(output: Batch)
        /// The input's shape and, per output value, the input position that won its window.
        case maxPool(inputShape: [Int], winners: [Int32])
        case reshape(inputShape: [Int])
        case identity
        /// Each branch's records, and the block's output.
        case branches([[Saved]], output: Batch)
    }

    /// dL/dx of the last training pass from dL/dy, both channels-first, adding every
    /// convolution's parameter gradients; each program's backward timed as its step's.
    func backward(_ dOutput: Tensor, plan: ExecutionPlan) -> Tensor {
        guard let saved, let trainedShapes else {
            preconditionFailure("channels-last backward without a training pass")
        }
        let shape = trainedShapes.output
        var gradient = Batch(
            values: Self.hasPlane(shape) ? Self.transposed(dOutput, toChannelsLast: true, shape: shape) : dOutput,
            shape: shape)
        for offset in programs.indices.reversed() {
            gradient = plan.timed(plan.steps[steps.lowerBound + offset], backward: true) {
                backward(programs[offset], saved[offset], gradient, branchOutput: nil)
            }
        }
        return Self.transposed(gradient.values, toChannelsLast: false, shape: trainedShapes.input)
    }
}

extension ChannelsLastRun {
    /// dL/d(program's input), dense, from dy, the gradient of its output (perhaps a slice of
    /// the enclosing branches' gradient). `branchOutput`: the program's output as the enclosing
    /// branches wrote it, for a last convolution that kept none of its own.
    private func backward(_ program: [Operation], _ saved: [Saved], _ dy: Batch, branchOutput: Batch?) -> Batch {
        var gradient = dy
        for (operation, record) in zip(program, saved).reversed() {
            gradient = backward(operation, record, gradient, branchOutput: branchOutput)
        }
        return gradient
    }

    private func backward(_ operation: Operation, _ record: Saved, _ dy: Batch, branchOutput: Batch?) -> Batch {
        switch (operation, record) {
        case let (.convolution(convolution, activation, algorithm), .convolution(input, output)):
            return convolutionBackward(
                convolution, activation, algorithm, input: input, output: output ?? branchOutput!, dy)
        case let (.activation(kind), .activation(output)):
            return activationBackward(kind, output: output, dy)
        case let (.maxPool(pool), .maxPool(inputShape, winners)):
            let g = pool.window.geometry(for: inputShape)
            var dx = Batch(values: Tensor(uninitializedShape: [g.batch * g.inputPlane * g.channels]), shape: inputShape)
            dy.dense.withRows { gradient in
                dx.values.withUnsafeMutableBufferPointer { target in
                    channelsLastMaxPoolBackward(
                        g, outputGradient: gradient, winners: winners, inputGradient: target.baseAddress!)
                }
            }
            return dx
        case let (.globalAverage, .reshape(inputShape)):
            let (batch, channels, plane) = (inputShape[0], inputShape[1], inputShape[2] * inputShape[3])
            var dx = Batch(values: Tensor(uninitializedShape: [batch * plane * channels]), shape: inputShape)
            dy.dense.withRows { gradient in
                dx.values.withUnsafeMutableBufferPointer { target in
                    channelsLastGlobalAveragePoolBackward(
                        gradient, into: target.baseAddress!, batch: batch, plane: plane, channels: channels)
                }
            }
            return dx
        case let (.flatten, .reshape(inputShape)):
            return Batch(values: dy.dense.values, shape: inputShape)
        case (.identity, .identity):
            return dy
        case let (.branches(programs, channels), .branches(kept, output)):
            // Every branch read the block's input, so the input's gradient is their sum.
            var (sum, first): (Batch?, Int) = (nil, 0)
            for (branch, (program, count)) in zip(kept, zip(programs, channels)) {
                let slice = first..<(first + count)
                let dx = backward(
                    program, branch, Batch(slice: dy, channels: slice),
                    branchOutput: Batch(slice: output, channels: slice))
                first += count
                guard sum != nil else {
                    sum = dx
                    continue
                }
                sum!.values.withUnsafeMutableBufferPointer { target in
                    dx.values.withUnsafeBufferPointer {
                        add($0.baseAddress!, into: target.baseAddress!, count: target.count)
                    }
                }
            }
            return sum!
        default:
            preconditionFailure("channels-last backward: records out of step with the program")
        }
    }
}

extension ChannelsLastRun {
    /// A convolution's backward: dy through its fused activation (read from its output y), then
    /// the kernels' products, its weight and bias gradients added to. The input gradient is
    /// zero where the layer computes none (the network's first layer: its input is images).
    private func convolutionBackward(
        _ convolution: Conv2d, _ activation: FusedActivation, _ algorithm: ChannelsLastAlgorithm, input x: Batch,
        output y: Batch, _ dy: Batch
    ) -> Batch {
        let g = convolution.geometry(for: x.shape)
        let through = activation == .none && dy.isDense ? dy : activationBackward(activation, output: y, dy)
        let wanted = convolution.computesInputGradient
        let count = x.rows * x.channels
        var dx = Batch(values: wanted ? Tensor(uninitializedShape: [count]) : Tensor(zeros: [count]), shape: x.shape)
        x.withRows { input in
            through.withRows { gradient in
                convolution.weight.value.withUnsafeBufferPointer { w in
                    convolution.weight.gradient.withUnsafeMutableBufferPointer { dw in
                        convolution.bias.withGradientPointer { db in
                            dx.values.withUnsafeMutableBufferPointer { target in
                                channelsLastConvolutionBackward(
                                    g, algorithm: algorithm, input: input, inputRowStride: x.rowStride,
                                    weight: w.baseAddress!,
                                    outputGradient: gradient, inputGradient: wanted ? target.baseAddress! : nil,
                                    weightGradient: dw.baseAddress!, biasGradient: db, workspace: workspace)
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// dy through an activation whose output was y: dense, [rows, channels].
    private func activationBackward(_ kind: FusedActivation, output y: Batch, _ dy: Batch) -> Batch {
        var d = Batch(values: Tensor(uninitializedShape: [dy.rows * dy.channels]), shape: dy.shape)
        dy.withRows { gradient in
            y.withRows { output in
                d.values.withUnsafeMutableBufferPointer { target in
                    channelsLastActivationBackward(
                        kind, outputGradient: gradient, dyRowStride: dy.rowStride, output: output,
                        yRowStride: y.rowStride, into: target.baseAddress!, rows: dy.rows, channels: dy.channels)
                }
            }
        }
        return d
    }
}
