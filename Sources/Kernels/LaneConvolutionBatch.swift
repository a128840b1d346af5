// LaneConvolutionBatch.swift: one stride-1 convolution in the lane layout over a whole batch:
// its three passes over every group of 16 images, spread over the workers. What the benchmark
// and chapter 02 time on their own. (ModernCNN's LaneBlock calls the per-group kernels itself,
// between the poolings it fuses with them.)

/// A batch of images in the lane layout with everything one convolution's passes read and write.
public final class LaneConvolutionBatch {
    public let geometry: ConvolutionGeometry
    public let forward: LaneCorrelation, backwardData: LaneCorrelation, filterGradient: LaneFilterGradient
    public let groups: Int, workers: Int
    private let input: AlignedBuffer, output: AlignedBuffer, inputGradient: AlignedBuffer
    /// dy as the filter gradient reads it (no border), and inside the border backward-data reads
    /// (the same buffer when its tile needs none).
    private let gradient: AlignedBuffer, borderedGradient: AlignedBuffer
    private let backwardDataReadsBorder: Bool
    private let sums: AlignedBuffer, forwardFilters: AlignedBuffer, backwardFilters: AlignedBuffer, zeros: AlignedBuffer

    /// g: stride 1, one group, square filters.
    public init(_ g: ConvolutionGeometry, workers: Int = Parallel.threadCount) {
        precondition(g.supportsDirect && g.kernelHeight == g.kernelWidth && g.paddingHeight == g.paddingWidth,
                     "LaneConvolutionBatch: stride 1, one group, square filters and padding")
        geometry = g
        let (R, p) = (g.kernelHeight, g.paddingHeight)
        let planes = LanePlanes(channels: g.inputChannels, height: g.inputHeight, width: g.inputWidth, border: p)
        forward = LaneCorrelation(input: planes, outputChannels: g.outputChannels, kernelHeight: R, kernelWidth: R,
                                  padding: p)
        let q = R - 1 - p
        let dy = LanePlanes(channels: g.outputChannels, height: g.outputHeight, width: g.outputWidth)
        let bordered = LaneCorrelation.readsBorder(inputWidth: g.outputWidth, kernelWidth: R, padding: q)
        backwardData = LaneCorrelation(input: bordered ? LanePlanes(channels: dy.channels, height: dy.height,
                                                                   width: dy.width, border: q) : dy,
                                       outputChannels: g.inputChannels, kernelHeight: R, kernelWidth: R, padding: q)
        filterGradient = LaneFilterGradient(input: planes, gradient: dy, kernelHeight: R, kernelWidth: R, padding: p)
        groups = LanePlanes.groups(for: g.batch)
        self.workers = max(1, min(workers, groups))
        func zeroed(_ count: Int) -> AlignedBuffer {
            let buffer = AlignedBuffer(count: count)
            buffer.pointer.update(repeating: 0, count: count)
            return buffer
        }
        input = zeroed(groups * planes.groupFloats)
        output = zeroed(groups * forward.output.groupFloats)
        gradient = zeroed(groups * dy.groupFloats)
        borderedGradient = zeroed(bordered ? groups * backwardData.input.groupFloats : 0)
        backwardDataReadsBorder = bordered
        inputGradient = zeroed(groups * backwardData.output.groupFloats)
        sums = zeroed(self.workers * filterGradient.sumCount * LanePlanes.lanes)
        forwardFilters = zeroed(forward.packedCount)
        backwardFilters = zeroed(backwardData.packedCount)
        zeros = zeroed(max(g.inputChannels, g.outputChannels))
    }

    /// x: [N, C, H, W] into the layout.
    public func setInput(_ x: UnsafePointer<Float>) { interleave(x, layout: forward.input, into: input) }

    /// dy: [N, K, P, Q] into the layout.
    public func setOutputGradient(_ dy: UnsafePointer<Float>) {
        interleave(dy, layout: filterGradient.gradient, into: gradient)
        if backwardDataReadsBorder { interleave(dy, layout: backwardData.input, into: borderedGradient) }
    }

    /// w: [K, C, R, S], packed for both correlations (backward-data's turned and transposed).
    public func setWeights(_ w: UnsafePointer<Float>) {
        let (C, R) = (geometry.inputChannels, geometry.kernelHeight)
        forward.pack(into: forwardFilters.pointer) { o, i, r, s in w[((o * C + i) * R + r) * R + s] }
        backwardData.pack(into: backwardFilters.pointer) { c, k, r, s in w[((k * C + c) * R + (R - 1 - r)) * R + (R - 1 - s)] }
    }

    /// y = conv(x), no bias, no activation.
    public func runForward() {
        Parallel.forEachItem(groups, workers: workers) { _, group in
            forward.run(input: input.pointer + group * forward.input.groupFloats, packedFilters: forwardFilters.pointer,
                        bias: zeros.pointer, output: output.pointer + group * forward.output.groupFloats, activation: .none)
        }
    }

    /// dx = the correlation of dy with the turned filters.
    public func runBackwardData() {
        Parallel.forEachItem(groups, workers: workers) { _, group in
            let dy = backwardDataReadsBorder ? borderedGradient.pointer : gradient.pointer
            backwardData.run(input: dy + group * backwardData.input.groupFloats,
                             packedFilters: backwardFilters.pointer, bias: zeros.pointer,
                             output: inputGradient.pointer + group * backwardData.output.groupFloats, activation: .none)
        }
    }

    /// dw (and db) = the sums over the batch, overwritten: each worker sums its groups, then the
    /// lanes and the workers are added up.
    public func runFilterGradient(weightGradient dw: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>) {
        let perWorker = filterGradient.sumCount * LanePlanes.lanes
        Parallel.forEachWorker(workers) { worker in
            let slice = sums.pointer + worker * perWorker
            slice.update(repeating: 0, count: perWorker)
            for group in Parallel.chunk(worker, of: workers, splitting: groups) {
                filterGradient.accumulate(input: input.pointer + group * forward.input.groupFloats,
                                          outputGradient: gradient.pointer + group * filterGradient.gradient.groupFloats,
                                          into: slice)
            }
        }
        let (weights, K) = (geometry.weightCount, geometry.outputChannels)
        dw.update(repeating: 0, count: weights)
        db.update(repeating: 0, count: K)
        laneSumsReduce(sums.pointer, vectorsPerWorker: filterGradient.sumCount, workers: workers, count: weights, into: dw)
        laneSumsReduce(sums.pointer + weights * LanePlanes.lanes, vectorsPerWorker: filterGradient.sumCount,
                       workers: workers, count: K, into: db)
    }

    /// The forward pass's y, [N, K, P, Q].
    public func copyOutput(into y: UnsafeMutablePointer<Float>) { deinterleave(output, layout: forward.output, into: y) }

    /// Backward-data's dx, [N, C, H, W].
    public func copyInputGradient(into dx: UnsafeMutablePointer<Float>) {
        deinterleave(inputGradient, layout: backwardData.output, into: dx)
    }

    private func interleave(_ x: UnsafePointer<Float>, layout: LanePlanes, into buffer: borrowing AlignedBuffer) {
        for group in 0..<groups {
            let first = group * LanePlanes.lanes
            laneInterleave(x, first: first, count: min(LanePlanes.lanes, geometry.batch - first), layout: layout,
                           into: buffer.pointer + group * layout.groupFloats)
        }
    }

    private func deinterleave(_ buffer: borrowing AlignedBuffer, layout: LanePlanes, into y: UnsafeMutablePointer<Float>) {
        for group in 0..<groups {
            let first = group * LanePlanes.lanes
            laneDeinterleave(buffer.pointer + group * layout.groupFloats, layout: layout, first: first,
                             count: min(LanePlanes.lanes, geometry.batch - first), into: y)
        }
    }
}
