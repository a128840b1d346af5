// ExecutionRules.swift: the rules an ExecutionPlan applies, each with its reason, in one place.
// The kernels compute what they are told; these decide what they are told.

import Kernels

public enum ExecutionRules {
    /// The algorithm of each pass for a convolution of geometry `g`, and why.
    ///
    /// | rule | algorithm | why |
    /// |---|---|---|
    /// | 3x3 or 5x5, stride 1, one group, >= 16 channels each way | Winograd, all three passes | a quarter (3x3) or 36% (5x5) of the multiplies, in 36 products wide enough to run near peak |
    /// | stride 1, one group, < 16 channels on a side, not 1x1 | direct | products this thin cannot pay for im2col's copy and SGEMM's packing |
    /// | 1x1 | im2col (none needed) | the input already is the matrix: one SGEMM per image |
    /// | anything else (strided, grouped) | im2col | lowered to SGEMM |
    ///
    /// `make bench` measures each Winograd layer's other choice too (Winograd forward, im2col
    /// backward): on AlexNet's conv2 the backward passes by Winograd ran 1.1-1.8x im2col's speed
    /// (MEASUREMENTS.md).
    public static func convolution(_ g: ConvolutionGeometry) -> (passes: ConvolutionPasses, why: String) {
        let thin = g.inputChannels < 16 || g.outputChannels < 16
        if g.supportsWinograd && !thin {
            return (
                ConvolutionPasses(.winograd),
                "\(g.kernelHeight)x\(g.kernelWidth), stride 1, >= 16 channels: fewer multiplies"
            )
        }
        if g.supportsDirect && thin && !g.isPointwise {
            return (ConvolutionPasses(.direct), "< 16 channels: too thin for a GEMM")
        }
        if g.isPointwise { return (ConvolutionPasses(.im2col), "1x1: the input is the matrix, one SGEMM") }
        return (
            ConvolutionPasses(.im2col),
            g.strideHeight > 1 || g.strideWidth > 1
                ? "strided: lowered to SGEMM"
                : g.groups > 1 ? "grouped: lowered to SGEMM per group" : "lowered to SGEMM"
        )
    }

    /// Whether a lane convolution (stride 1, R x R filters, padding p, on planes `width` wide)
    /// runs its backward-data on the row tile: when that is a full correlation of 10-wide rows
    /// through 5 taps (LeNet's conv2), the tile adds each dy row into its 14 sums and reads none
    /// of the border's zeros, which the register tiles would spend 29% of their work on.
    public static func laneBackwardDataUsesRowTile(width: Int, kernelSize: Int, padding: Int) -> Bool {
        let dyWidth = width + 2 * padding - kernelSize + 1
        return LaneCorrelation.rowTileFits(
            inputWidth: dyWidth, kernelWidth: kernelSize, padding: kernelSize - 1 - padding)
    }

    /// Why a run of layers goes to one lane block (LaneBlock.layerCount says which runs can).
    static let lanesWhy = "planes <= 32x32, <= 64 channels, AVX-512: 16 images per vector"
    /// Why a convolution, its activation (and pool) run as one pass.
    static let fusedWhy = "activation (and pool) applied as each image is written"
}
