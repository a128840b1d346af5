// ChannelsLastConvolution.swift: convolution on batches stored channels-last, [N, H, W, C].
//
// On small planes the channels-first layout [N, C, H, W] splits every product into pieces: one
// image of GoogLeNet's stage 4 has 6 x 6 = 36 positions, so a 1x1 convolution is a product only
// 36 columns wide per image, and Im2col/SideBySide.swift first gathers ~28 images into one
// matrix and scatters the result back. Channels-last, each position is a row of C floats and
// the whole batch is one matrix [N*H*W, C] as it lies in memory:
//   1x1      y[NPQ, K] = x[NPQ, C] * w[K, C]^T                 one product, nothing copied
//   R x S    y[NPQ, K] = col[NPQ, R*S*C] * w'[K, R*S*C]^T       col row = R*S runs of C floats
// where w' is w [K, C, R, S] reordered to [K, R, S, C] so that its rows run in col's order. An
// im2col row here is R*S contiguous copies of C floats (not R*S*C scattered ones), and the
// product is as wide as the batch, however small the plane.
// Rows go in chunks of about `ChannelsLastWorkspace.chunkFloats` floats of col, so that col
// stays near the caches and the bias and activation are applied to each chunk of y while it is
// still there. The output may be a channel slice of a wider tensor (a concatenation's branch):
// its rows are `outputRowStride` floats apart.

/// How a channels-last convolution runs: lowered (1x1 as it lies, others through im2col rows)
/// to one SGEMM per chunk of rows, or by Winograd F(2x2, 3x3) (ChannelsLastWinograd.swift).
public enum ChannelsLastAlgorithm: Sendable, Equatable {
    case lowered, winograd
}

/// Scratch for channels-last convolutions: SGEMM's packing space, one chunk of im2col rows and
/// the reordered filters, Winograd's buffers, each sized for the largest convolution given
/// that uses it. One serves every convolution of a network run in order.
public struct ChannelsLastWorkspace: ~Copyable {
    /// About this many floats of im2col rows per chunk (4 MB).
    static let chunkFloats = 1 << 20

    let gemm: GemmWorkspace
    let columns: AlignedBuffer
    let filters: AlignedBuffer
    let winograd: ChannelsLastWinogradBuffers

    /// For `convolutions` (their batch the largest that will run), each by its algorithm, and
    /// with `backward` for channelsLastConvolutionBackward too, which lowers every R x S for its
    /// filter gradient and runs a Winograd one's data gradient by Winograd.
    public init(
        for convolutions: [(geometry: ConvolutionGeometry, algorithm: ChannelsLastAlgorithm)], backward: Bool = false,
        workers: Int = Parallel.threadCount
    ) {
        gemm = GemmWorkspace(workers: workers)
        let lowered = convolutions.filter { (backward || $0.algorithm == .lowered) && !$0.geometry.isPointwise }
            .map(\.geometry)
        columns = AlignedBuffer(count: lowered.map { Self.rowsPerChunk($0) * $0.patchLength }.max() ?? 0)
        filters = AlignedBuffer(count: lowered.map(\.weightCount).max() ?? 0)
        let winograd = convolutions.filter { $0.algorithm == .winograd }.map(\.geometry)
        self.winograd = ChannelsLastWinogradBuffers(
            for: winograd + (backward ? winograd.map(\.channelsLastDataGradient) : []))
    }

    /// Output rows per chunk: about chunkFloats floats of im2col, at least 64 rows.
    static func rowsPerChunk(_ g: ConvolutionGeometry) -> Int {
        let rows = g.batch * g.outputPlane
        return min(rows, max(64, chunkFloats / max(1, g.patchLength)))
    }
}

extension ConvolutionGeometry {
    /// Whether the channels-last kernels compute this convolution: one group (any size, stride
    /// and padding).
    public var supportsChannelsLast: Bool { groups == 1 }
}

/// y = f(conv(x, w) + b), channels-last. x: [N, H, W, C], position rows `inputRowStride` floats
/// apart (>= C); w: [K, C, R, S] as Conv2d holds it; b: [K] or nil; y: [N, P, Q, K], rows
/// `outputRowStride` floats apart (>= K: a wider tensor's channel slice). g.batch images.
public func channelsLastConvolutionForward(
    _ g: ConvolutionGeometry, algorithm: ChannelsLastAlgorithm = .lowered, input x: UnsafePointer<Float>,
    inputRowStride: Int, weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
    output y: UnsafeMutablePointer<Float>, outputRowStride: Int, activation: FusedActivation,
    workspace: borrowing ChannelsLastWorkspace
) {
    precondition(g.supportsChannelsLast, "\(g): channels-last convolutions take one group")
    precondition(inputRowStride >= g.inputChannels && outputRowStride >= g.outputChannels)
    if algorithm == .winograd {
        return MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
            channelsLastWinogradForward(
                g, input: x, inputRowStride: inputRowStride, weight: w, bias: b, output: y,
                outputRowStride: outputRowStride, activation: activation, workspace: workspace)
        }
    }
    let (K, rows, workers) = (g.outputChannels, g.batch * g.outputPlane, workspace.gemm.workers)
    let pointwise = g.isPointwise
    if !pointwise {
        precondition(workspace.filters.count >= g.weightCount, "channels-last workspace too small for \(g)")
        reorderFiltersChannelsLast(g, w, into: workspace.filters.pointer, workers: workers)
    }
    // The product's right-hand side, transposed: rows of w (pointwise) or of w' (R*S*C long).
    let (filters, depth) = pointwise ? (w, g.inputChannels) : (UnsafePointer(workspace.filters.pointer), g.patchLength)
    let chunk = ChannelsLastWorkspace.rowsPerChunk(g)
    precondition(pointwise || workspace.columns.count >= chunk * depth, "channels-last workspace too small for \(g)")
    MultiplyAddCounter.recordingNominal(g.multiplyAddsPerImageGroup * g.batch) {
        for first in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - first)
            let a: UnsafePointer<Float>, lda: Int
            if pointwise {
                (a, lda) = (x + first * inputRowStride, inputRowStride)
            } else {
                lowerChannelsLast(
                    g, x, inputRowStride: inputRowStride, rows: first..<(first + count),
                    into: workspace.columns.pointer, workers: workers)
                (a, lda) = (UnsafePointer(workspace.columns.pointer), depth)
            }
            let out = y + first * outputRowStride
            sgemm(
                transA: false, transB: true, m: count, n: K, k: depth, alpha: 1, a: a, lda: lda,
                b: filters, ldb: depth, beta: 0, c: out, ldc: outputRowStride,
                packingSpace: workspace.gemm.storage.pointer, workers: workers)
            if b != nil || activation != .none {
                Parallel.parallelFor(count, workers: workers) { row in
                    applyActivation(out + row * outputRowStride, count: K, bias: b, activation)
                }
            }
        }
    }
}

/// w [K, C, R, S] -> w' [K, R, S, C]: each filter's taps reordered to run as im2col's rows do.
func reorderFiltersChannelsLast(
    _ g: ConvolutionGeometry, _ w: UnsafePointer<Float>, into reordered: UnsafeMutablePointer<Float>, workers: Int
) {
    let (C, taps) = (g.inputChannels, g.kernelHeight * g.kernelWidth)
    Parallel.parallelFor(g.outputChannels, workers: workers) { k in
        let (source, target) = (w + k * C * taps, reordered + k * C * taps)
        for c in 0..<C {
            for tap in 0..<taps { target[tap * C + c] = source[c * taps + tap] }
        }
    }
}

/// The im2col rows `rows` (output positions in batch order: n, then p, then q) of a
/// channels-last batch: row i is, for each tap (r, s), the C floats of input position
/// (p * stride - pad + r, q * stride - pad + s), or C zeros where that falls in the padding.
func lowerChannelsLast(
    _ g: ConvolutionGeometry, _ x: UnsafePointer<Float>, inputRowStride: Int, rows: Range<Int>,
    into columns: UnsafeMutablePointer<Float>, workers: Int
) {
    let (C, depth) = (g.inputChannels, g.patchLength)
    Parallel.parallelFor(rows.count, workers: workers) { i in
        let (n, position) = (rows.lowerBound + i).quotientAndRemainder(dividingBy: g.outputPlane)
        let (p, q) = position.quotientAndRemainder(dividingBy: g.outputWidth)
        let (top, left) = (p * g.strideHeight - g.paddingHeight, q * g.strideWidth - g.paddingWidth)
        var target = columns + i * depth
        for r in 0..<g.kernelHeight {
            let h = top + r
            for s in 0..<g.kernelWidth {
                let column = left + s
                if h >= 0 && h < g.inputHeight && column >= 0 && column < g.inputWidth {
                    let source = x + ((n * g.inputHeight + h) * g.inputWidth + column) * inputRowStride
                    copyFloats(from: source, to: target, count: C)
                } else {
                    target.update(repeating: 0, count: C)
                }
                target += C
            }
        }
    }
}

/// row[k] = f(row[k] + bias[k]) for k < count (bias nil: no bias), sixteen lanes at a time.
@inline(__always)
private func applyActivation(
    _ row: UnsafeMutablePointer<Float>, count: Int, bias: UnsafePointer<Float>?, _ activation: FusedActivation
) {
    var k = 0
    while k + 16 <= count {
        let shift = bias.map { loadVector($0 + k) } ?? .zero
        storeVector(activate(loadVector(row + k) + shift, activation), to: row + k)
        k += 16
    }
    while k < count {
        row[k] = activate(SIMD16(repeating: row[k] + (bias?[k] ?? 0)), activation)[0]
        k += 1
    }
}
