// ConvolutionReference.swift: the oracle. Convolution straight from its definition, seven nested
// loops and no lowering, kept on purpose so that every fast path is tested against it.
//   y[n, k, p, q] = b[k] + sum over c in k's group, r, s of
//                   w[k, c - group start, r, s] * x[n, c, p*strideH - padH + r, q*strideW - padW + s]
// Accumulates in Double, so it is a fair judge of the float kernels' rounding.

public enum ConvolutionReference {
    /// Calls `body(n, k, p, q, c, r, s, h, w)` for every term of the sum whose input position
    /// (h, w) lies inside the image; c is the input channel, numbered within the whole input.
    @inline(__always)
    static func forEachTerm(
        _ g: ConvolutionGeometry,
        _ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void
    ) {
        for n in 0..<g.batch {
            for k in 0..<g.outputChannels {
                let firstChannel = (k / g.outputChannelsPerGroup) * g.inputChannelsPerGroup
                for p in 0..<g.outputHeight {
                    for q in 0..<g.outputWidth {
                        for c in firstChannel..<(firstChannel + g.inputChannelsPerGroup) {
                            for r in 0..<g.kernelHeight {
                                let h = p * g.strideHeight - g.paddingHeight + r
                                if h < 0 || h >= g.inputHeight { continue }
                                for s in 0..<g.kernelWidth {
                                    let w = q * g.strideWidth - g.paddingWidth + s
                                    if w < 0 || w >= g.inputWidth { continue }
                                    body(n, k, p, q, c, r, s, h, w)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func inputIndex(_ g: ConvolutionGeometry, _ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int {
        ((n * g.inputChannels + c) * g.inputHeight + h) * g.inputWidth + w
    }

    static func weightIndex(_ g: ConvolutionGeometry, _ k: Int, _ c: Int, _ r: Int, _ s: Int) -> Int {
        ((k * g.inputChannelsPerGroup + c % g.inputChannelsPerGroup) * g.kernelHeight + r) * g.kernelWidth + s
    }

    static func outputIndex(_ g: ConvolutionGeometry, _ n: Int, _ k: Int, _ p: Int, _ q: Int) -> Int {
        ((n * g.outputChannels + k) * g.outputHeight + p) * g.outputWidth + q
    }

    public static func forward(_ g: ConvolutionGeometry, input x: [Float], weight: [Float], bias: [Float]?) -> [Float] {
        var sums = [Double](repeating: 0, count: g.batch * g.outputChannels * g.outputPlane)
        forEachTerm(g) { n, k, p, q, c, r, s, h, w in
            sums[outputIndex(g, n, k, p, q)] +=
                Double(weight[weightIndex(g, k, c, r, s)]) * Double(x[inputIndex(g, n, c, h, w)])
        }
        if let bias {
            for i in sums.indices { sums[i] += Double(bias[(i / g.outputPlane) % g.outputChannels]) }
        }
        return sums.map(Float.init)
    }

    /// dx: every input position collects the weights that read it, times the output gradients.
    public static func backwardData(_ g: ConvolutionGeometry, outputGradient dy: [Float], weight: [Float]) -> [Float] {
        var sums = [Double](repeating: 0, count: g.batch * g.inputChannels * g.inputPlane)
        forEachTerm(g) { n, k, p, q, c, r, s, h, w in
            sums[inputIndex(g, n, c, h, w)] +=
                Double(weight[weightIndex(g, k, c, r, s)]) * Double(dy[outputIndex(g, n, k, p, q)])
        }
        return sums.map(Float.init)
    }

    /// (dw, db): every weight collects the inputs it read, times the output gradients.
    public static func backwardFilter(
        _ g: ConvolutionGeometry, input x: [Float], outputGradient dy: [Float]
    )
        -> (weight: [Float], bias: [Float])
    {
        var weightSums = [Double](repeating: 0, count: g.weightCount)
        forEachTerm(g) { n, k, p, q, c, r, s, h, w in
            weightSums[weightIndex(g, k, c, r, s)] +=
                Double(x[inputIndex(g, n, c, h, w)]) * Double(dy[outputIndex(g, n, k, p, q)])
        }
        var biasSums = [Double](repeating: 0, count: g.outputChannels)
        for (i, value) in dy.enumerated() { biasSums[(i / g.outputPlane) % g.outputChannels] += Double(value) }
        return (weightSums.map(Float.init), biasSums.map(Float.init))
    }
}
