// LaneConvolutionBatch.swift: one stride-1 convolution in the lane layout over a whole batch:
// its three passes over every group of 16 images, spread over the workers. What the benchmark
// and chapter 02 time on their own. (ModernCNN's LaneBlock calls the per-group kernels itself,
// between the poolings it fuses with them.)

/// A batch of images in the lane layout with everything one convolution's passes read and write.
public final class LaneConvolutionBatch {
    public let geometry: ConvolutionGeometry
    public let kernels: LaneConvolutionKernels
    public let groups: Int, workers: Int
    private let input: AlignedBuffer, output: AlignedBuffer, inputGradient: AlignedBuffer
    /// dy as the filter gradient reads it (no border), and copied inside the border backward-data
    /// reads, when it reads one (kernels.backwardDataReadsBorder).
    private let gradient: AlignedBuffer, borderedGradient: AlignedBuffer
    private let sums: AlignedBuffer, forwardFilters: AlignedBuffer, backwardFilters: AlignedBuffer, zeros: AlignedBuffer

    /// g: stride 1, one group, square filters; `backwardDataRowTile` as LaneConvolutionKernels
    /// takes it (the caller's choice, by ModernCNN's ExecutionRules).
    public init(_ g: ConvolutionGeometry, workers: Int = Parallel.threadCount, backwardDataRowTile: Bool = false) {
        precondition(
            g.supportsDirect && g.kernelHeight == g.kernelWidth && g.paddingHeight == g.paddingWidth,
            "LaneConvolutionBatch: stride 1, one group, square filters and padding")
        geometry = g
        let planes = LanePlanes(
            channels: g.inputChannels, height: g.inputHeight, width: g.inputWidth,
            border: g.paddingHeight)
        kernels = LaneConvolutionKernels(
            input: planes, outputChannels: g.outputChannels, kernelSize: g.kernelHeight,
            padding: g.paddingHeight, backwardDataRowTile: backwardDataRowTile)
        groups = LanePlanes.groups(for: g.batch)
        self.workers = max(1, min(workers, groups))
        func zeroed(_ count: Int) -> AlignedBuffer { AlignedBuffer(count: count, zeroed: true) }
        input = zeroed(groups * planes.groupFloats)
        output = zeroed(groups * kernels.forward.output.groupFloats)
        gradient = zeroed(groups * kernels.gradient.groupFloats)
        borderedGradient = zeroed(kernels.backwardDataReadsBorder ? groups * kernels.backwardData.input.groupFloats : 0)
        inputGradient = zeroed(groups * kernels.backwardData.output.groupFloats)
        sums = zeroed(self.workers * kernels.filterGradient.sumFloats)
        forwardFilters = zeroed(kernels.forward.packedCount)
        backwardFilters = zeroed(kernels.backwardData.packedCount)
        zeros = zeroed(max(g.inputChannels, g.outputChannels))
    }

    /// x: [N, C, H, W] into the layout.
    public func setInput(_ x: UnsafePointer<Float>) { interleave(x, layout: kernels.forward.input, into: input) }

    /// dy: [N, K, P, Q] into the layout (and inside backward-data's border, if it reads one).
    public func setOutputGradient(_ dy: UnsafePointer<Float>) {
        interleave(dy, layout: kernels.gradient, into: gradient)
        guard kernels.backwardDataReadsBorder else { return }
        for group in 0..<groups {
            laneCopyInterior(
                gradient.pointer + group * kernels.gradient.groupFloats, layout: kernels.gradient,
                to: borderedGradient.pointer + group * kernels.backwardData.input.groupFloats,
                layout: kernels.backwardData.input)
        }
    }

    /// w: [K, C, R, S], packed for both correlations.
    public func setWeights(_ w: UnsafePointer<Float>) {
        kernels.packForward(w, into: forwardFilters.pointer)
        kernels.packBackwardData(w, into: backwardFilters.pointer)
    }

    /// y = conv(x), no bias, no activation.
    public func runForward() {
        let forward = kernels.forward
        Parallel.forEachItem(groups, workers: workers) { _, group in
            forward.run(
                input: input.pointer + group * forward.input.groupFloats, packedFilters: forwardFilters.pointer,
                bias: zeros.pointer, output: output.pointer + group * forward.output.groupFloats, activation: .none)
        }
    }

    /// dx = the correlation of dy with the turned filters.
    public func runBackwardData() {
        let backwardData = kernels.backwardData
        let dy = kernels.backwardDataReadsBorder ? borderedGradient.pointer : gradient.pointer
        Parallel.forEachItem(groups, workers: workers) { _, group in
            backwardData.run(
                input: dy + group * backwardData.input.groupFloats,
                packedFilters: backwardFilters.pointer, bias: zeros.pointer,
                output: inputGradient.pointer + group * backwardData.output.groupFloats, activation: .none)
        }
    }

    /// dw (and db) = the sums over the batch, overwritten: each worker sums its groups, then the
    /// lanes and the workers are added up.
    public func runFilterGradient(
        weightGradient dw: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>
    ) {
        let filterGradient = kernels.filterGradient
        Parallel.forEachWorker(workers) { worker in
            let slice = sums.pointer + worker * filterGradient.sumFloats
            slice.update(repeating: 0, count: filterGradient.sumFloats)
            for group in Parallel.chunk(worker, of: workers, splitting: groups) {
                filterGradient.accumulate(
                    input: input.pointer + group * filterGradient.input.groupFloats,
                    outputGradient: gradient.pointer + group * filterGradient.gradient.groupFloats,
                    into: slice)
            }
        }
        dw.update(repeating: 0, count: geometry.weightCount)
        db.update(repeating: 0, count: geometry.outputChannels)
        filterGradient.addSums(sums.pointer, workers: workers, weightGradient: dw, biasGradient: db)
    }

    /// The forward pass's y, [N, K, P, Q].
    public func copyOutput(into y: UnsafeMutablePointer<Float>) {
        deinterleave(output, layout: kernels.forward.output, into: y)
    }

    /// Backward-data's dx, [N, C, H, W].
    public func copyInputGradient(into dx: UnsafeMutablePointer<Float>) {
        deinterleave(inputGradient, layout: kernels.backwardData.output, into: dx)
    }

    private func interleave(_ x: UnsafePointer<Float>, layout: LanePlanes, into buffer: borrowing AlignedBuffer) {
        for group in 0..<groups {
            let (first, count) = LanePlanes.images(inGroup: group, of: geometry.batch)
            laneInterleave(
                x, first: first, count: count, layout: layout, into: buffer.pointer + group * layout.groupFloats)
        }
    }

    private func deinterleave(
        _ buffer: borrowing AlignedBuffer, layout: LanePlanes, into y: UnsafeMutablePointer<Float>
    ) {
        for group in 0..<groups {
            let (first, count) = LanePlanes.images(inGroup: group, of: geometry.batch)
            laneDeinterleave(
                buffer.pointer + group * layout.groupFloats, layout: layout, first: first, count: count,
                into: y)
        }
    }
}
