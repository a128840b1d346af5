// ConvolutionBenchmark.swift: AlexNet's (d2l) five convolutions at batch 128, each kernel timed
// on its own: forward, backward-data, backward-filter. conv1's backward-data is not needed in
// training (its input is the image), so it is not measured.

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
        func conv(_ c: Int, _ hw: Int, _ k: Int, _ kernel: Int, stride: Int = 1, padding: Int) -> ConvolutionGeometry {
            ConvolutionGeometry(batch: batch, inputChannels: c, inputHeight: hw, inputWidth: hw, outputChannels: k,
                                kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                                paddingHeight: padding, paddingWidth: padding)
        }
        return [("conv1 11x11/4", conv(1, 224, 96, 11, stride: 4, padding: 1)),
                ("conv2 5x5", conv(96, 26, 256, 5, padding: 2)),
                ("conv3 3x3", conv(256, 12, 384, 3, padding: 1)),
                ("conv4 3x3", conv(384, 12, 384, 3, padding: 1)),
                ("conv5 3x3", conv(384, 12, 256, 3, padding: 1))]
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
