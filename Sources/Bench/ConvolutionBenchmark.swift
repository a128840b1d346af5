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
        return [
            ("conv1 11x11/4", conv(1, 224, 96, 11, stride: 4, padding: 1, batch: batch)),
            ("conv2 5x5", conv(96, 26, 256, 5, padding: 2, batch: batch)),
            ("conv3 3x3", conv(256, 12, 384, 3, padding: 1, batch: batch)),
            ("conv4 3x3", conv(384, 12, 384, 3, padding: 1, batch: batch)),
            ("conv5 3x3", conv(384, 12, 256, 3, padding: 1, batch: batch)),
        ]
    }

    /// d2l's LeNet on 1 x 28 x 28 inputs: conv1 and conv2.
    static func lenet(batch: Int) -> [(String, ConvolutionGeometry)] {
        [
            ("conv1 5x5", conv(1, 28, 6, 5, padding: 2, batch: batch)),
            ("conv2 5x5", conv(6, 14, 16, 5, padding: 0, batch: batch)),
        ]
    }

    /// A square convolution: c channels of hw x hw in, k out, a kernel x kernel filter.
    private static func conv(
        _ c: Int, _ hw: Int, _ k: Int, _ kernel: Int, stride: Int = 1, padding: Int,
        batch: Int
    ) -> ConvolutionGeometry {
        ConvolutionGeometry(
            batch: batch, inputChannels: c, inputHeight: hw, inputWidth: hw, outputChannels: k,
            kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
            paddingHeight: padding, paddingWidth: padding)
    }
}

/// Best GFLOP/s of each convolution kernel on one layer, each pass by `passes` (the plan's rule
/// unless told).
func benchmarkConvolution(
    _ g: ConvolutionGeometry, repeats: Int, skipBackwardData: Bool,
    passes: ConvolutionPasses? = nil
)
    -> ConvolutionLayerResult
{
    var generator = SeededGenerator(seed: 11)
    let x = AlignedBuffer(count: g.batch * g.inputChannels * g.inputPlane)
    let w = AlignedBuffer(count: g.weightCount), bias = AlignedBuffer(count: g.outputChannels)
    let y = AlignedBuffer(count: g.batch * g.outputChannels * g.outputPlane)
    let dx = AlignedBuffer(count: x.count), dw = AlignedBuffer(count: w.count), db = AlignedBuffer(count: bias.count)
    for i in 0..<x.count { x.pointer[i] = generator.nextUnitFloat() }
    for i in 0..<w.count { w.pointer[i] = generator.nextUnitFloat() - 0.5 }
    for i in 0..<bias.count { bias.pointer[i] = 0 }
    let workspace = ConvolutionWorkspace(g, passes: passes ?? ExecutionRules.convolution(g).passes)
    let gigaflops = 2 * g.multiplyAdds / 1e9
    let forward = bestTime(repeats: repeats) {
        convolutionForward(
            g, input: x.pointer, weight: w.pointer, bias: bias.pointer, output: y.pointer,
            workspace: workspace)
    }
    // The forward output stands in for the output gradient: same shape, realistic magnitudes.
    let backwardData =
        skipBackwardData
        ? nil
        : bestTime(repeats: repeats) {
            convolutionBackwardData(
                g, outputGradient: y.pointer, weight: w.pointer, inputGradient: dx.pointer,
                workspace: workspace)
        }
    let backwardFilter = bestTime(repeats: repeats) {
        convolutionBackwardFilter(
            g, input: x.pointer, outputGradient: y.pointer, weightGradient: dw.pointer,
            biasGradient: db.pointer, workspace: workspace)
    }
    return ConvolutionLayerResult(
        forward: gigaflops / forward,
        backwardData: backwardData.map { gigaflops / $0 },
        backwardFilter: gigaflops / backwardFilter)
}

/// Best GFLOP/s of the lane-layout kernels (Kernels/LaneConvolution.swift) on one stride-1 layer,
/// as a LeNet training step runs them: the batch in groups of 16 images, spread over the workers,
/// the filter gradient summed per worker and then over the lanes. What LeNet trains with on a
/// processor with AVX-512 (LaneBlock); the transposes into the layout and the pooling around the
/// kernels are not counted here (`--layers lenet` shows the whole block).
func benchmarkLaneConvolution(
    _ g: ConvolutionGeometry, repeats: Int, skipBackwardData: Bool, workers: Int
)
    -> ConvolutionLayerResult
{
    var generator = SeededGenerator(seed: 11)
    let x = (0..<(g.batch * g.inputChannels * g.inputPlane)).map { _ in generator.nextUnitFloat() }
    let w = (0..<g.weightCount).map { _ in generator.nextUnitFloat() - 0.5 }
    let dy = (0..<(g.batch * g.outputChannels * g.outputPlane)).map { _ in generator.nextUnitFloat() - 0.5 }
    var (dw, db) = ([Float](repeating: 0, count: g.weightCount), [Float](repeating: 0, count: g.outputChannels))
    let layer = LaneConvolutionBatch(g, workers: workers, backwardDataRowTile: rowTile(g))
    layer.setInput(x)
    layer.setWeights(w)
    layer.setOutputGradient(dy)
    let gigaflops = 2 * g.multiplyAdds / 1e9
    let forward = bestTime(repeats: repeats) { layer.runForward() }
    let backwardData = skipBackwardData ? nil : bestTime(repeats: repeats) { layer.runBackwardData() }
    let backwardFilter = bestTime(repeats: repeats) { layer.runFilterGradient(weightGradient: &dw, biasGradient: &db) }
    return ConvolutionLayerResult(
        forward: gigaflops / forward, backwardData: backwardData.map { gigaflops / $0 },
        backwardFilter: gigaflops / backwardFilter)
}

/// Whether the plan's rules run this lane convolution's backward-data on the row tile.
func rowTile(_ g: ConvolutionGeometry) -> Bool {
    ExecutionRules.laneBackwardDataUsesRowTile(width: g.inputWidth, kernelSize: g.kernelWidth, padding: g.paddingWidth)
}
