// ConvolutionBenchmark.swift: AlexNet's (d2l) five convolutions at batch 128 and LeNet's two at
// batch 256, each kernel timed on its own: forward, backward-data, backward-filter. A first
// layer's backward-data is not needed in training (its input is the image), so it is not measured.

import Kernels
import ModernCNN
import Notebook

/// GFLOP/s of each kernel on one layer (backward-data nil where it was not measured).
struct ConvolutionLayerResult {
    let forward: Double, backwardData: Double?, backwardFilter: Double
}

extension ConvolutionGeometry {
    /// Multiply-adds of one pass (forward, backward-data and backward-filter each do this many).
    var multiplyAdds: Double {
        Double(batch) * Double(outputChannels) * Double(outputPlane) * Double(patchLength)
    }

    /// d2l's AlexNet on 1 x 224 x 224 inputs: (name, geometry) for conv1 ... conv5.
    static func alexNet(batch: Int) -> [(String, ConvolutionGeometry)] {
        return [("conv1 11x11/4", conv(1, 224, 96, 11, stride: 4, padding: 1, batch: batch)),
                ("conv2 5x5", conv(96, 26, 256, 5, padding: 2, batch: batch)),
                ("conv3 3x3", conv(256, 12, 384, 3, padding: 1, batch: batch)),
                ("conv4 3x3", conv(384, 12, 384, 3, padding: 1, batch: batch)),
                ("conv5 3x3", conv(384, 12, 256, 3, padding: 1, batch: batch))]
    }

    /// d2l's LeNet on 1 x 28 x 28 inputs: conv1 and conv2.
    static func lenet(batch: Int) -> [(String, ConvolutionGeometry)] {
        [("conv1 5x5", conv(1, 28, 6, 5, padding: 2, batch: batch)), ("conv2 5x5", conv(6, 14, 16, 5, padding: 0, batch: batch))]
    }

    /// A square convolution: c channels of hw x hw in, k out, a kernel x kernel filter.
    private static func conv(_ c: Int, _ hw: Int, _ k: Int, _ kernel: Int, stride: Int = 1, padding: Int,
                             batch: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: batch, inputChannels: c, inputHeight: hw, inputWidth: hw, outputChannels: k,
                            kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                            paddingHeight: padding, paddingWidth: padding)
    }
}

/// Best GFLOP/s of each convolution kernel on one layer.
func benchmarkConvolution(_ g: ConvolutionGeometry, repeats: Int, skipBackwardData: Bool)
    -> ConvolutionLayerResult {
    var generator = SeededGenerator(seed: 11)
    let x = AlignedBuffer(count: g.batch * g.inputChannels * g.inputPlane)
    let w = AlignedBuffer(count: g.weightCount), bias = AlignedBuffer(count: g.outputChannels)
    let y = AlignedBuffer(count: g.batch * g.outputChannels * g.outputPlane)
    let dx = AlignedBuffer(count: x.count), dw = AlignedBuffer(count: w.count), db = AlignedBuffer(count: bias.count)
    for i in 0..<x.count { x.pointer[i] = generator.nextUnitFloat() }
    for i in 0..<w.count { w.pointer[i] = generator.nextUnitFloat() - 0.5 }
    for i in 0..<bias.count { bias.pointer[i] = 0 }
    let workspace = ConvolutionWorkspace(g)
    let gigaflops = 2 * g.multiplyAdds / 1e9
    let forward = bestTime(repeats: repeats) {
        convolutionForward(g, input: x.pointer, weight: w.pointer, bias: bias.pointer, output: y.pointer,
                           workspace: workspace)
    }
    // The forward output stands in for the output gradient: same shape, realistic magnitudes.
    let backwardData = skipBackwardData ? nil : bestTime(repeats: repeats) {
        convolutionBackwardData(g, outputGradient: y.pointer, weight: w.pointer, inputGradient: dx.pointer,
                                workspace: workspace)
    }
    let backwardFilter = bestTime(repeats: repeats) {
        convolutionBackwardFilter(g, input: x.pointer, outputGradient: y.pointer, weightGradient: dw.pointer,
                                  biasGradient: db.pointer, workspace: workspace)
    }
    return ConvolutionLayerResult(forward: gigaflops / forward,
                                  backwardData: backwardData.map { gigaflops / $0 },
                                  backwardFilter: gigaflops / backwardFilter)
}

/// Best GFLOP/s of the lane-layout kernels (Kernels/LaneConvolution.swift) on one stride-1 layer,
/// as a LeNet training step runs them: the batch in groups of 16 images, spread over the workers,
/// the filter gradient summed per worker and then over the lanes. What LeNet trains with on a
/// processor with AVX-512 (LaneBlock); the transposes into the layout and the pooling around the
/// kernels are not counted here (`--layers lenet` shows the whole block).
func benchmarkLaneConvolution(_ g: ConvolutionGeometry, repeats: Int, skipBackwardData: Bool, workers: Int)
    -> ConvolutionLayerResult {
    let (R, p, groups, lanes) = (g.kernelHeight, g.paddingHeight, LanePlanes.groups(for: g.batch), LanePlanes.lanes)
    let input = LanePlanes(channels: g.inputChannels, height: g.inputHeight, width: g.inputWidth, border: p)
    let forward = LaneCorrelation(input: input, outputChannels: g.outputChannels, kernelHeight: R, kernelWidth: R,
                                  padding: p)
    let dy = LanePlanes(channels: g.outputChannels, height: g.outputHeight, width: g.outputWidth)
    let q = R - 1 - p
    let borderedDy = LanePlanes(channels: dy.channels, height: dy.height, width: dy.width,
                                border: LaneCorrelation.readsBorder(inputWidth: dy.width, kernelWidth: R, padding: q) ? q : 0)
    let backwardData = LaneCorrelation(input: borderedDy, outputChannels: g.inputChannels, kernelHeight: R,
                                       kernelWidth: R, padding: q)
    let filterGradient = LaneFilterGradient(input: input, gradient: dy, kernelHeight: R, kernelWidth: R, padding: p)
    func filled(_ count: Int, _ value: (Int) -> Float) -> AlignedBuffer {
        let buffer = AlignedBuffer(count: count)
        for i in 0..<count { buffer.pointer[i] = value(i) }
        return buffer
    }
    var generator = SeededGenerator(seed: 11)
    let x = filled(groups * input.groupFloats) { _ in generator.nextUnitFloat() }
    let y = filled(groups * forward.output.groupFloats) { _ in 0 }
    let gradient = filled(groups * borderedDy.groupFloats) { _ in generator.nextUnitFloat() - 0.5 }
    let dx = filled(groups * backwardData.output.groupFloats) { _ in 0 }
    let sums = filled(workers * filterGradient.sumCount * lanes) { _ in 0 }
    let dw = filled(g.weightCount + g.outputChannels) { _ in 0 }
    let forwardFilters = filled(forward.packedCount) { _ in 0 }, backwardFilters = filled(backwardData.packedCount) { _ in 0 }
    forward.pack(into: forwardFilters.pointer) { _, _, _, _ in generator.nextUnitFloat() - 0.5 }
    backwardData.pack(into: backwardFilters.pointer) { _, _, _, _ in generator.nextUnitFloat() - 0.5 }
    let zeros = filled(max(g.inputChannels, g.outputChannels)) { _ in 0 }
    let gigaflops = 2 * g.multiplyAdds / 1e9
    let forwardTime = bestTime(repeats: repeats) {
        Parallel.forEachItem(groups, workers: workers) { _, group in
            forward.run(input: x.pointer + group * input.groupFloats, packedFilters: forwardFilters.pointer,
                        bias: zeros.pointer, output: y.pointer + group * forward.output.groupFloats, activation: .none)
        }
    }
    let backwardDataTime = skipBackwardData ? nil : bestTime(repeats: repeats) {
        Parallel.forEachItem(groups, workers: workers) { _, group in
            backwardData.run(input: gradient.pointer + group * borderedDy.groupFloats,
                             packedFilters: backwardFilters.pointer, bias: zeros.pointer,
                             output: dx.pointer + group * backwardData.output.groupFloats, activation: .none)
        }
    }
    // The filter gradient reads dy without a border: the bordered copy's first channels stand in.
    let backwardFilterTime = bestTime(repeats: repeats) {
        Parallel.forEachWorker(workers) { worker in
            let slice = sums.pointer + worker * filterGradient.sumCount * lanes
            slice.update(repeating: 0, count: filterGradient.sumCount * lanes)
            for group in Parallel.chunk(worker, of: workers, splitting: groups) {
                filterGradient.accumulate(input: x.pointer + group * input.groupFloats,
                                          outputGradient: gradient.pointer + group * borderedDy.groupFloats, into: slice)
            }
        }
        laneSumsReduce(sums.pointer, vectorsPerWorker: filterGradient.sumCount, workers: workers,
                       count: filterGradient.sumCount, into: dw.pointer)
    }
    return ConvolutionLayerResult(forward: gigaflops / forwardTime, backwardData: backwardDataTime.map { gigaflops / $0 },
                                  backwardFilter: gigaflops / backwardFilterTime)
}
