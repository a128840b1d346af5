// LaneClassifier.swift: the dense layers after a LaneBlock's last pool (LeNet's Flatten ->
// Linear -> activation -> Linear -> activation -> Linear), computed in the lane layout.
//
// The last pool's output for a group, [C][P][Q][16], is already the flattened features
// [C*P*Q][16] in PyTorch's order, so the dense layers run on the group right after the
// convolutions, on the same worker, while the features are still in its caches (LaneDense).
// Only the logits go back to [N, classes]. Backward the same, down to the pool's gradient.
//
// The weights' gradient dW = dY^T X sums over the whole batch. So each layer's input and output
// gradient are kept as [features][batch] matrices, group g in columns 16g ..< 16g + 16, and one
// SGEMM per layer makes dW after all groups are done, as the Linear layer does.

import Kernels

final class LaneClassifier {
    /// One Linear and the activation after it (none after the last).
    struct Stage {
        let linear: Linear, activation: FusedActivation
        /// Forward (rows = outputs) and backward-data (rows = inputs).
        let forward: LaneDense, backwardData: LaneDense
        var inputs: Int { linear.inputFeatures }
        var outputs: Int { linear.outputFeatures }
    }

    let stages: [Stage]
    /// Floats from one feature's row of a batch matrix to the next: the batch rounded up to whole
    /// groups, plus one group so that rows 1 KB apart do not all land in the same few L1 sets.
    let rowStride: Int
    /// Batch matrices: the first layer's input (kept for dW), each hidden layer's activations, and
    /// each layer's output gradient.
    private let features: LaneBuffer, activations: [LaneBuffer], gradients: [LaneBuffer]
    /// Per worker: the logits of its group, [classes][16].
    private let logits: LaneBuffer
    private let packedWeights: [LaneBuffer]
    private let zeros: LaneBuffer
    private let gemmScratch = GemmScratch()

    /// Flatten, the Linear layers and the activations between them.
    var layerCount: Int { 1 + stages.count + (stages.count - 1) }
    var outputFeatures: Int { stages.last!.outputs }
    private var logitLayout: LanePlanes { LanePlanes(channels: outputFeatures, height: 1, width: 1) }

    /// How many layers from `start` form a classifier on `features` inputs: Flatten, Linear, then
    /// any number of (Sigmoid or ReLU, Linear) pairs. 0 when the layers there are not that.
    static func layerCount(_ layers: [any Layer], from start: Int, features: Int) -> Int {
        guard start + 1 < layers.count, layers[start] is Flatten, let first = layers[start + 1] as? Linear,
            first.inputFeatures == features, fitsL2(first)
        else { return 0 }
        var (end, width) = (start + 2, first.outputFeatures)
        while end + 1 < layers.count, let activation = layers[end] as? Activation, let kind = activation.fusedKind,
            kind != .none, let next = layers[end + 1] as? Linear, next.inputFeatures == width, fitsL2(next)
        {
            (end, width) = (end + 2, next.outputFeatures)
        }
        return end - start
    }

    /// Whether a layer's weights (at most half a megabyte, LeNet's largest has 190 KB) stay in L2
    /// while each group reads them all; larger layers keep to SGEMM, which blocks them for the
    /// caches.
    static func fitsL2(_ linear: Linear) -> Bool { linear.inputFeatures * linear.outputFeatures <= 128 * 1024 }

    /// For batches of up to `batch` images.
    init(_ layers: ArraySlice<any Layer>, batch: Int, workers: Int) {
        let layers = Array(layers)
        var stages: [Stage] = []
        for index in stride(from: 1, to: layers.count, by: 2) {
            let linear = layers[index] as! Linear
            let activation = index + 1 < layers.count ? (layers[index + 1] as! Activation).fusedKind! : .none
            stages.append(
                Stage(
                    linear: linear, activation: activation,
                    forward: LaneDense(rows: linear.outputFeatures, depth: linear.inputFeatures),
                    backwardData: LaneDense(rows: linear.inputFeatures, depth: linear.outputFeatures)))
        }
        self.stages = stages
        let rowStride = (LanePlanes.groups(for: batch) + 1) * LanePlanes.lanes
        self.rowStride = rowStride
        features = LaneBuffer(count: stages[0].inputs * rowStride)
        activations = stages.dropLast().map { LaneBuffer(count: $0.outputs * rowStride) }
        gradients = stages.map { LaneBuffer(count: $0.outputs * rowStride) }
        logits = LaneBuffer(count: workers * stages.last!.outputs * LanePlanes.lanes)
        packedWeights = stages.map { LaneBuffer(count: $0.forward.packedCount) }
        zeros = LaneBuffer(count: stages.map(\.outputs).max()!, zeroed: true)
    }

    /// Pieces of packing the forward pass needs, once a batch before `forward`: every layer's
    /// blocks of 12 rows, each `pack(item:)` on its own, so that workers can share them.
    var packingItems: Int { stages.reduce(0) { $0 + $1.forward.blocks } }

    func pack(item: Int) {
        var (index, block) = (0, item)
        while block >= stages[index].forward.blocks {
            (block, index) = (block - stages[index].forward.blocks, index + 1)
        }
        let stage = stages[index]
        stage.linear.weight.value.withUnsafeBufferPointer {
            stage.forward.pack(weight: $0.baseAddress!, into: packedWeights[index].pointer, block: block)
        }
    }

    /// The logits of images first ..< first + count into y ([N, classes]), from group `group`'s
    /// features x ([features][16]). Training keeps what backward needs.
    func forward(
        _ x: UnsafePointer<Float>, group: Int, worker: Int, first: Int, count: Int, training: Bool,
        into y: UnsafeMutablePointer<Float>
    ) {
        let lanes = LanePlanes.lanes, column = group * lanes
        if training {
            laneCopyVectors(stages[0].inputs, from: x, stride: lanes, to: features.pointer + column, stride: rowStride)
        }
        var (input, inputStride) = (x, lanes)
        let out = logits.pointer + worker * outputFeatures * lanes
        for (index, stage) in stages.enumerated() {
            let isLast = index == stages.count - 1
            let (output, outputStride) = isLast ? (out, lanes) : (activations[index].pointer + column, rowStride)
            withBias(stage.linear) { bias in
                stage.forward.forward(
                    input: input, inputStride: inputStride, packedWeight: packedWeights[index].pointer,
                    bias: bias, output: output, outputStride: outputStride, activation: stage.activation)
            }
            (input, inputStride) = (UnsafePointer(output), outputStride)
        }
        laneDeinterleave(out, layout: logitLayout, first: first, count: count, into: y)
    }

    /// The gradient of group `group`'s features, [features][16], into dx, from dL/dlogits of
    /// images first ..< first + count (dOut, [N, classes]).
    func backward(
        _ dOut: UnsafePointer<Float>, group: Int, worker: Int, first: Int, count: Int,
        into dx: UnsafeMutablePointer<Float>
    ) {
        let lanes = LanePlanes.lanes, column = group * lanes, last = stages.count - 1
        let scratch = logits.pointer + worker * outputFeatures * lanes
        laneInterleave(dOut, first: first, count: count, layout: logitLayout, into: scratch)
        laneCopyVectors(
            outputFeatures, from: scratch, stride: lanes, to: gradients[last].pointer + column,
            stride: rowStride)
        for index in stride(from: last, through: 0, by: -1) {
            let stage = stages[index], dy = gradients[index].pointer + column
            stage.linear.weight.value.withUnsafeBufferPointer { w in
                if index > 0 {
                    stage.backwardData.backward(
                        outputGradient: dy, stride: rowStride, weight: w.baseAddress!,
                        activationOutput: activations[index - 1].pointer + column,
                        activationStride: rowStride, stages[index - 1].activation,
                        into: gradients[index - 1].pointer + column, outputStride: rowStride)
                } else {
                    stage.backwardData.backward(
                        outputGradient: dy, stride: rowStride, weight: w.baseAddress!,
                        activationOutput: nil, activationStride: 0, .none,
                        into: dx, outputStride: lanes)
                }
            }
        }
    }

    /// Adds every layer's weight and bias gradients over the `batch` images of the last backward
    /// (at most the batch the block was made for), once all its groups are done: dW += dY X^T
    /// with dY [outputs][batch] and X [inputs][batch], and db += dY's row sums.
    func addWeightGradients(batch: Int) {
        for (index, stage) in stages.enumerated() {
            let x = index == 0 ? features.pointer : activations[index - 1].pointer, dy = gradients[index].pointer
            stage.linear.weight.gradient.withUnsafeMutableBufferPointer { dw in
                sgemm(
                    transA: false, transB: true, m: stage.outputs, n: stage.inputs, k: batch, alpha: 1,
                    a: dy, lda: rowStride, b: x, ldb: rowStride, beta: 1, c: dw.baseAddress!, ldc: stage.inputs,
                    workspace: gemmScratch.workspace)
            }
            stage.linear.bias?.gradient.withUnsafeMutableBufferPointer { db in
                accumulateRowSums(of: dy, rows: stage.outputs, columns: batch, stride: rowStride, into: db.baseAddress!)
            }
        }
    }

    private func withBias(_ linear: Linear, _ body: (UnsafePointer<Float>) -> Void) {
        guard let bias = linear.bias else { return body(zeros.pointer) }
        bias.value.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
