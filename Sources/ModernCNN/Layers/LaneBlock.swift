// LaneBlock.swift: a run of convolution -> activation -> pool stages, and the dense layers after
// them (the whole of LeNet), computed with the batch in the vector lanes (Kernels/LaneLayout.swift).
//
// An ExecutionPlan hands such a run to a LaneBlock when its images are small (ExecutionRules). The batch goes into the
// lane layout once, every stage works on groups of 16 images without leaving it, and only the
// last stage's pooled output comes back to NCHW; when dense layers follow, they run in the lanes
// too, and only their logits come back (LaneClassifier.swift). Backward the same in reverse.
// The layers keep their parameters, names and gradients: the block only computes with them.
// Each group's stage inputs and activations stay in the block between the training forward and
// backward.

import Kernels

final class LaneBlock {
    /// One convolution -> activation -> pool, with the lane kernels for its shapes.
    struct Stage {
        let convolution: Conv2d, kind: FusedActivation
        /// Forward: input (border = padding) -> activation output (no border); backward-data and
        /// the filter gradient.
        let kernels: LaneConvolutionKernels
        /// Activation output -> pooled, inside the border the next stage's padding needs.
        let pooling: LanePool
        var forward: LaneCorrelation { kernels.forward }
        var backwardData: LaneCorrelation { kernels.backwardData }
        var filterGradient: LaneFilterGradient { kernels.filterGradient }
        /// dy as the filter gradient reads it: no border.
        var gradient: LanePlanes { kernels.gradient }
    }

    let stages: [Stage]
    /// The dense layers after the last pool, when the block takes them too.
    let classifier: LaneClassifier?
    /// The largest input the block takes ([N, C, H, W], N the largest batch): its buffers hold
    /// that many groups, and a smaller batch uses the first of them.
    let inputShape: [Int]
    let groups: Int, workers: Int
    /// Images in the last forward's batch, which its backward works on.
    private var batch = 0
    /// Per group, kept from the training forward for backward: each stage's input and activations,
    /// and its max pooling's winners.
    private let inputs: [LaneBuffer], activations: [LaneBuffer], winners: [LaneBuffer]
    /// Per worker: the last pooled output, and backward's dy (as is, and inside the border that
    /// backward-data reads) and dx of each stage.
    private let pooled: LaneBuffer
    private let gradients: [LaneBuffer], borderedGradients: [LaneBuffer?], inputGradients: [LaneBuffer]
    /// Per stage: packed filters of both passes, and each worker's filter-gradient sums.
    private let forwardFilters: [LaneBuffer], backwardFilters: [LaneBuffer], sums: [LaneBuffer]
    private let zeros: LaneBuffer
    private var zeroInputGradient: Tensor?
    private(set) var holdsTrainingForward = false

    /// The lane layout pays where AVX-512's 32 registers hold its tiles and the planes are small;
    /// larger images keep to the kernels that lower to SGEMM.
    static let maximumPlane = 32 * 32, maximumChannels = 64

    /// How many stages from `start` the block can run on an input of `shape`: consecutive
    /// Conv2d (stride 1, one group) -> Sigmoid or ReLU -> AvgPool2d or MaxPool2d (no padding) on
    /// planes of at most 32 x 32 and 64 channels. 0 when none, or when this processor lacks AVX-512.
    static func stageCount(_ layers: [any Layer], from start: Int, inputShape: [Int]) -> Int {
        stageRun(layers, from: start, inputShape: inputShape).count
    }

    /// stageCount, and the shape those stages' last pool puts out.
    private static func stageRun(
        _ layers: [any Layer], from start: Int, inputShape: [Int]
    )
        -> (count: Int, outputShape: [Int])
    {
        guard GemmBlocking.wideTile, inputShape.count == 4 else { return (0, inputShape) }
        var (count, shape, i) = (0, inputShape, start)
        while i + 2 < layers.count, let convolution = layers[i] as? Conv2d,
            let activation = layers[i + 1] as? Activation,
            let kind = activation.fusedKind, kind != .none, let pool = poolingKind(layers[i + 2])
        {
            guard convolution.stride == 1, convolution.groups == 1, convolution.padding < convolution.kernelSize,
                pool.layer.padding == 0, shape[2] * shape[3] <= maximumPlane,
                max(convolution.inputChannels, convolution.outputChannels) <= maximumChannels,
                let convolved = try? convolution.outputShape(for: shape),
                let next = try? pool.layer.outputShape(for: convolved)
            else { break }
            (count, shape, i) = (count + 1, next, i + 3)
        }
        return (count, shape)
    }

    /// How many layers from `start` one block can take on an input of `shape`: its stages, and the
    /// dense layers after them when LaneClassifier takes those. 0 when it can take none.
    static func layerCount(_ layers: [any Layer], from start: Int, inputShape shape: [Int]) -> Int {
        let (stages, pooled) = stageRun(layers, from: start, inputShape: shape)
        guard stages > 0 else { return 0 }
        return 3 * stages
            + LaneClassifier.layerCount(
                layers, from: start + 3 * stages,
                features: pooled.dropFirst().reduce(1, *))
    }

    /// The block for `layerCount` layers (as `layerCount(_:from:inputShape:)` counted them).
    init(_ layers: ArraySlice<any Layer>, layerCount: Int, inputShape: [Int]) {
        let layers = Array(layers)
        let stageCount = Self.stageCount(layers, from: 0, inputShape: inputShape)
        self.inputShape = inputShape
        let groups = LanePlanes.groups(for: inputShape[0]), workers = max(1, min(Parallel.threadCount, groups))
        (self.groups, self.workers) = (groups, workers)
        var stages: [Stage] = []
        var input = LanePlanes(
            channels: inputShape[1], height: inputShape[2], width: inputShape[3],
            border: (layers[0] as! Conv2d).padding)
        for index in 0..<stageCount {
            let convolution = layers[3 * index] as! Conv2d, activation = layers[3 * index + 1] as! Activation
            let pool = Self.poolingKind(layers[3 * index + 2])!
            let kernels = LaneConvolutionKernels(
                input: input, outputChannels: convolution.outputChannels,
                kernelSize: convolution.kernelSize, padding: convolution.padding,
                backwardDataRowTile: ExecutionRules.laneBackwardDataUsesRowTile(
                    width: input.width, kernelSize: convolution.kernelSize, padding: convolution.padding))
            let nextPadding = index + 1 < stageCount ? (layers[3 * index + 3] as! Conv2d).padding : 0
            let pooling = LanePool(
                pool.kind, input: kernels.forward.output, window: pool.layer.kernelSize,
                stride: pool.layer.stride, outputBorder: nextPadding)
            stages.append(
                Stage(convolution: convolution, kind: activation.fusedKind!, kernels: kernels, pooling: pooling))
            input = pooling.output
        }
        self.stages = stages
        classifier =
            layerCount > 3 * stageCount
            ? LaneClassifier(layers[(3 * stageCount)..<layerCount], batch: inputShape[0], workers: workers) : nil
        func zeroed(_ count: Int) -> LaneBuffer { LaneBuffer(count: count, zeroed: true) }
        inputs = stages.map { zeroed(groups * $0.forward.input.groupFloats) }
        activations = stages.map { LaneBuffer(count: groups * $0.forward.output.groupFloats) }
        winners = stages.map { LaneBuffer(count: groups * $0.pooling.winnerFloats) }
        pooled = LaneBuffer(count: workers * stages.last!.pooling.output.groupFloats)
        gradients = stages.map { LaneBuffer(count: workers * $0.gradient.groupFloats) }
        borderedGradients = stages.map {
            $0.kernels.backwardDataReadsBorder ? zeroed(workers * $0.backwardData.input.groupFloats) : nil
        }
        inputGradients = stages.map { LaneBuffer(count: workers * $0.backwardData.output.groupFloats) }
        forwardFilters = stages.map { LaneBuffer(count: $0.forward.packedCount) }
        backwardFilters = stages.map { LaneBuffer(count: $0.backwardData.packedCount) }
        sums = stages.map { LaneBuffer(count: workers * $0.filterGradient.sumFloats) }
        zeros = zeroed(stages.map { max($0.forward.output.channels, $0.backwardData.output.channels) }.max()!)
    }

    var layerCount: Int { 3 * stages.count + (classifier?.layerCount ?? 0) }

    /// The lane pooling a layer asks for, if it is one of the two fixed-window pools.
    static func poolingKind(_ layer: any Layer) -> (kind: LanePool.Kind, layer: any SlidingWindowLayer)? {
        if let pool = layer as? AvgPool2d { return (.average, pool) }
        if let pool = layer as? MaxPool2d { return (.max, pool) }
        return nil
    }

    /// The last stage's pooled output, [N, K, P, Q], or the last dense layer's, [N, classes],
    /// from x: [N, C, H, W].
    func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(
            x.shape[0] <= inputShape[0] && Array(x.shape.dropFirst()) == Array(inputShape.dropFirst()),
            "LaneBlock: made for up to \(inputShape), given \(x.shape)")
        let batch = x.shape[0], groups = LanePlanes.groups(for: batch), last = stages.last!.pooling.output
        self.batch = batch
        packWeights()
        let biases = stages.map { $0.convolution.bias?.value }
        var y = Tensor(
            uninitializedShape: classifier.map { [batch, $0.outputFeatures] }
                ?? [batch, last.channels, last.height, last.width])
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { output in
                let (x, y) = (input.baseAddress!, output.baseAddress!)
                Parallel.forEachItem(groups, workers: workers) { worker, group in
                    let (first, count) = LanePlanes.images(inGroup: group, of: batch)
                    laneInterleave(
                        x, first: first, count: count, layout: stages[0].forward.input,
                        into: groupPointer(inputs[0], stages[0].forward.input, group))
                    for (index, stage) in stages.enumerated() {
                        let activation = groupPointer(activations[index], stage.forward.output, group)
                        withBias(biases[index]) { bias in
                            stage.forward.run(
                                input: groupPointer(inputs[index], stage.forward.input, group),
                                packedFilters: forwardFilters[index].pointer, bias: bias,
                                output: activation, activation: stage.kind)
                        }
                        let target =
                            index + 1 < stages.count
                            ? groupPointer(inputs[index + 1], stage.pooling.output, group)
                            : groupPointer(pooled, last, worker)
                        stage.pooling.forward(input: activation, output: target, winners: winnersOf(index, group))
                    }
                    let features = groupPointer(pooled, last, worker)
                    if let classifier {
                        classifier.forward(
                            features, group: group, worker: worker, first: first, count: count,
                            training: training, into: y)
                    } else {
                        laneDeinterleave(features, layout: last, first: first, count: count, into: y)
                    }
                }
            }
        }
        holdsTrainingForward = training
        return y
    }

    /// dL/dx from dL/d(pooled output), adding every convolution's weight and bias gradients.
    /// When the first convolution needs no input gradient (computesInputGradient off), returns
    /// zeros as Conv2d does.
    func backward(_ dOutput: Tensor) -> Tensor {
        precondition(holdsTrainingForward, "LaneBlock: backward without a training forward")
        let groups = LanePlanes.groups(for: batch), last = stages.last!.pooling.output
        let shape = [batch] + inputShape.dropFirst()
        let wantsInputGradient = stages[0].convolution.computesInputGradient
        // Without an input gradient, the block hands back one zero tensor it keeps, and must not
        // touch it: taking its mutable pointer would copy it (800 KB for LeNet, every step).
        var dx = wantsInputGradient ? Tensor(uninitializedShape: shape) : zeroGradient(shape)
        dOutput.withUnsafeBufferPointer { dOut in
            withMutablePointer(to: &dx, if: wantsInputGradient) { dInput in
                let dOut = dOut.baseAddress!
                // Fixed groups per worker: each worker's gradient sums then add up the same way every run.
                Parallel.forEachWorker(workers) { worker in
                    for (stage, buffer) in zip(stages, sums) {
                        let count = stage.filterGradient.sumFloats
                        (buffer.pointer + worker * count).update(repeating: 0, count: count)
                    }
                    for group in Parallel.chunk(worker, of: workers, splitting: groups) {
                        let (first, count) = LanePlanes.images(inGroup: group, of: batch)
                        // The pooled gradient goes where the forward's last pooled output went.
                        var pooledGradient = UnsafePointer(groupPointer(pooled, last, worker)), pooledLayout = last
                        if let classifier {
                            classifier.backward(
                                dOut, group: group, worker: worker, first: first, count: count,
                                into: groupPointer(pooled, last, worker))
                        } else {
                            laneInterleave(
                                dOut, first: first, count: count, layout: last,
                                into: groupPointer(pooled, last, worker))
                        }
                        for index in stages.indices.reversed() {
                            let stage = stages[index]
                            let dy = groupPointer(gradients[index], stage.gradient, worker)
                            stage.pooling.backward(
                                outputGradient: pooledGradient, layout: pooledLayout,
                                winners: winnersOf(index, group).map { UnsafePointer($0) },
                                activationOutput: groupPointer(activations[index], stage.forward.output, group),
                                stage.kind, gradient: stage.gradient, into: dy)
                            let input = groupPointer(inputs[index], stage.forward.input, group)
                            stage.filterGradient.accumulate(
                                input: input, outputGradient: dy,
                                into: sums[index].pointer + worker * stage.filterGradient.sumFloats)
                            guard index > 0 || wantsInputGradient else { continue }
                            let dInputGroup = groupPointer(inputGradients[index], stage.backwardData.output, worker)
                            var source = UnsafePointer(dy)
                            if let bordered = borderedGradients[index] {
                                let target = groupPointer(bordered, stage.backwardData.input, worker)
                                laneCopyInterior(
                                    dy, layout: stage.gradient, to: target, layout: stage.backwardData.input)
                                source = UnsafePointer(target)
                            }
                            stage.backwardData.run(
                                input: source, packedFilters: backwardFilters[index].pointer,
                                bias: zeros.pointer, output: dInputGroup, activation: .none)
                            (pooledGradient, pooledLayout) = (UnsafePointer(dInputGroup), stage.backwardData.output)
                        }
                        if let dInput {
                            laneDeinterleave(
                                pooledGradient, layout: pooledLayout, first: first, count: count, into: dInput)
                        }
                    }
                }
            }
        }
        classifier?.addWeightGradients(batch: batch)
        for (stage, buffer) in zip(stages, sums) {
            let convolution = stage.convolution
            convolution.weight.gradient.withUnsafeMutableBufferPointer { dw in
                convolution.bias.withGradientPointer { db in
                    stage.filterGradient.addSums(
                        buffer.pointer, workers: workers, weightGradient: dw.baseAddress!,
                        biasGradient: db)
                }
            }
        }
        return dx
    }

    func releaseSavedTensors() { holdsTrainingForward = false }

    /// Packs what both passes read, spread over the workers: each stage's filters for the
    /// forward and for backward-data (the weights do not change between a training forward and
    /// its backward), and the dense layers' weights a block of rows at a time. On the main thread
    /// alone, the packing kept the other core waiting every step.
    private func packWeights() {
        let convolutions = 2 * stages.count
        Parallel.forEachItem(convolutions + (classifier?.packingItems ?? 0), workers: workers) { _, item in
            guard item < convolutions else { return classifier!.pack(item: item - convolutions) }
            let (stage, index) = (stages[item / 2], item / 2)
            stage.convolution.weight.value.withUnsafeBufferPointer { w in
                if item % 2 == 0 {
                    stage.kernels.packForward(w.baseAddress!, into: forwardFilters[index].pointer)
                } else {
                    stage.kernels.packBackwardData(w.baseAddress!, into: backwardFilters[index].pointer)
                }
            }
        }
    }

    /// Stage `index`'s max-pooling winners for `group`; nil for an average pool, which has none.
    private func winnersOf(_ index: Int, _ group: Int) -> UnsafeMutablePointer<Float>? {
        let floats = stages[index].pooling.winnerFloats
        return floats == 0 ? nil : winners[index].pointer + group * floats
    }

    private func zeroGradient(_ shape: [Int]) -> Tensor {
        if zeroInputGradient?.shape != shape { zeroInputGradient = Tensor(zeros: shape) }
        return zeroInputGradient!
    }

    /// body with the tensor's floats to write, or with nil when `condition` is false.
    private func withMutablePointer(
        to tensor: inout Tensor, if condition: Bool,
        _ body: (UnsafeMutablePointer<Float>?) -> Void
    ) {
        guard condition else { return body(nil) }
        tensor.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    private func withBias<R>(_ bias: Tensor?, _ body: (UnsafePointer<Float>) -> R) -> R {
        guard let bias else { return body(zeros.pointer) }
        return bias.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Group (or worker slot) `index` of a buffer of groups laid out as `layout`.
    private func groupPointer(
        _ buffer: LaneBuffer, _ layout: LanePlanes, _ index: Int
    )
        -> UnsafeMutablePointer<Float>
    {
        buffer.pointer + index * layout.groupFloats
    }
}

/// Floats a LaneBlock keeps between calls, 64-byte aligned; zeroed when asked (for buffers whose
/// borders the kernels read as zeros and never write).
final class LaneBuffer {
    private let storage: AlignedBuffer
    var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    init(count: Int, zeroed: Bool = false) { storage = AlignedBuffer(count: count, zeroed: zeroed) }
}
