// ExecutionRules.swift: the rules an ExecutionPlan applies, each with its reason, in one place.
// The kernels compute what they are told; these decide what they are told.

import Kernels

public enum ExecutionRules {
    /// The algorithm of each pass for a convolution of geometry `g`, and why.
    ///
    /// | rule | algorithm | why |
    /// |---|---|---|
    /// | 3x3 or 5x5, stride 1, one group, >= 16 channels each way | Winograd, all three passes | a quarter (3x3) or 36% (5x5) of the multiplies, in 36 products wide enough to run near peak |
    /// | the same on a plane of < 64 positions | Winograd forward, im2col backward; im2col if tiles are mostly padding | few tiles per image: the backward products are narrow, and im2col puts several images in one |
    /// | stride 1, one group, < 16 channels on a side, not 1x1 | direct | products this thin cannot pay for im2col's copy and SGEMM's packing |
    /// | 1x1 | im2col (none needed) | the input already is the matrix: one SGEMM per image (several side by side on small planes) |
    /// | anything else (strided, grouped, small planes) | im2col | lowered to SGEMM, small planes several images per product |
    ///
    /// `make bench` measures each Winograd layer's other choice too (Winograd forward, im2col
    /// backward): on AlexNet's conv2 the backward passes by Winograd ran 1.1-1.8x im2col's speed
    /// (MEASUREMENTS.md).
    public static func convolution(_ g: ConvolutionGeometry) -> (passes: ConvolutionPasses, why: String) {
        let thin = g.inputChannels < 16 || g.outputChannels < 16
        if g.supportsWinograd && !thin {
            // Small planes (NiN's at 67 px: 7x7 and 3x3) give few tiles per image, and the
            // backward passes' products are narrow; im2col runs several images per product.
            guard g.outputPlane < Self.smallPlane else {
                return (
                    ConvolutionPasses(.winograd),
                    "\(g.kernelHeight)x\(g.kernelWidth), stride 1, >= 16 channels: fewer multiplies"
                )
            }
            if g.winogradTileWaste <= Self.winogradWasteLimit {
                return (
                    ConvolutionPasses(forward: .winograd, backwardData: .im2col, filterGradient: .im2col),
                    "small plane: Winograd forward, backward side by side"
                )
            }
        }
        if g.isPointwise { return (ConvolutionPasses(.im2col), "1x1: the input is the matrix, one SGEMM") }
        if g.supportsWinograd && !thin { return (ConvolutionPasses(.im2col), "small plane, mostly tile padding") }
        if g.supportsDirect && thin && !g.isPointwise {
            return (ConvolutionPasses(.direct), "< 16 channels: too thin for a GEMM")
        }
        return (
            ConvolutionPasses(.im2col),
            g.strideHeight > 1 || g.strideWidth > 1
                ? "strided: lowered to SGEMM"
                : g.groups > 1 ? "grouped: lowered to SGEMM per group" : "lowered to SGEMM"
        )
    }

    /// Output planes below this many positions count as small (8x8).
    static let smallPlane = 64
    /// On a small plane, the most tile padding Winograd's forward may compute
    /// (ConvolutionGeometry.winogradTileWaste): 7x7 under F(2x2, 5x5) is 1.31, 3x3 under
    /// F(4x4, 3x3) 1.78.
    static let winogradWasteLimit = 1.5

    /// Whether a run of steps with these convolutions runs channels-last in inference (or, with
    /// `training`, in training)
    /// (ChannelsLastRun.swift): when every one of them works on planes below 16x16, where a
    /// channels-first product is one image's few positions wide (or several gathered side by
    /// side) and channels-last makes it one product over the whole batch; and when each gives at
    /// least 16 channels, since channels-last the output channels are the product's columns, and
    /// NiN's 10-channel head would fill a third of the 32-column register tile. Measured
    /// (MEASUREMENTS.md): GoogLeNet's 12x12, 6x6 and 3x3 stages and VGG's 14x14 block faster,
    /// AlexNet's and NiN's 12x12 layers no slower, NiN's head 2-4x slower.
    /// Training (forward, and backward through the same products turned around) only on planes
    /// below 10x10: GoogLeNet's 6x6 and 3x3 stages trained 1.9x faster forward and 1.35x
    /// backward; on 12x12 to 14x14 (GoogLeNet's stage 3, NiN, AlexNet, VGG) backward was no
    /// faster and on AlexNet's 13x13 1.45x slower, where channels-first Winograd also computes
    /// the filter gradient and channels-last lowers it to im2col rows.
    static func channelsLast(_ convolutions: [ConvolutionGeometry], training: Bool) -> Bool {
        let plane = training ? channelsLastTrainingPlane : channelsLastPlane
        return convolutions.allSatisfy {
            $0.outputPlane < plane && $0.inputPlane < plane && $0.outputChannels >= 16
        }
    }
    static let channelsLastPlane = 256
    static let channelsLastTrainingPlane = 100
    /// How a channels-last convolution runs: Winograd F(2x2, 3x3) for a stride-1 3x3 with >= 16
    /// channels each way whose plane its 2x2 tiles cover with little padding (6x6: none; 3x3 would
    /// compute 16 outputs for 9), otherwise lowered to SGEMM.
    static func channelsLastAlgorithm(_ g: ConvolutionGeometry) -> ChannelsLastAlgorithm {
        let thin = g.inputChannels < 16 || g.outputChannels < 16
        return g.supportsChannelsLastWinograd && !thin && g.channelsLastWinogradTileWaste <= winogradWasteLimit
            ? .winograd : .lowered
    }
    /// The plan's "why" for a channels-last run of inference or of training.
    static func channelsLastWhy(training: Bool) -> String {
        let side = Int(Double(training ? channelsLastTrainingPlane : channelsLastPlane).squareRoot())
        return "planes < \(side)x\(side): each convolution one product over the batch's positions, channels-last"
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
