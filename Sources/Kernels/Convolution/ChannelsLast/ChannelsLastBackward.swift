// ChannelsLastBackward.swift: the gradients of a channels-last convolution, the same products as
// its forward (ChannelsLastConvolution.swift) turned around. With dy [NPQ, K] the gradient of the
// output rows (already through the activation) and col, w' as in the forward:
//   1x1      dw[K, C]       += dy^T * x[NPQ, C]          dx[NPQ, C] = dy * w[K, C]
//   R x S    dw'[K, R*S*C]  += dy^T * col[NPQ, R*S*C]    dcol = dy * w', added back into dx
// Each is one SGEMM as wide as the batch (GoogLeNet's stage 4: 4,608 rows), where channels-first
// backward multiplies 36-column pieces image by image. dw' is turned back to [K, C, R, S] once.
// R x S goes in the forward's chunks of rows: the chunk's col is made, gives dw', and is then
// overwritten by dcol, which is added into the input positions it came from (col2im); the
// windows of neighbouring outputs overlap, so one worker adds a whole image's rows.

/// The rows' gradient through the activation that produced y: d[i, k] = dy[i, k] * f'(y[i, k]),
/// as the channels-first activations compute it. dy and y may be channel slices of wider rows
/// (`dyRowStride`, `yRowStride`); d is dense [rows, channels].
public func channelsLastActivationBackward(
    _ activation: FusedActivation, outputGradient dy: UnsafePointer<Float>, dyRowStride: Int,
    output y: UnsafePointer<Float>, yRowStride: Int, into d: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
    workers: Int = Parallel.threadCount
) {
    Parallel.parallelFor(rows, workers: workers) { row in
        let (gradient, output, target) = (dy + row * dyRowStride, y + row * yRowStride, d + row * channels)
        if activation == .none {
            target.update(from: gradient, count: channels)
        } else {
            applyActivationGradient(
                activation, outputGradient: gradient, output: output, inputGradient: target, count: channels)
        }
    }
}

/// Adds the gradients of y = conv(x, w) + b, channels-last, and gives dx. x: the forward's input
/// [N, H, W, C], rows `inputRowStride` apart; w: [K, C, R, S]; dy: [N, P, Q, K] dense, the
/// output's gradient through the activation; dw [K, C, R, S] and db [K] (nil: no bias) are added
/// to; dx (nil: not wanted) is overwritten, [N, H, W, C] dense. With `algorithm` .winograd (a
/// stride-1 3x3), dx is the forward Winograd convolution of dy with the filters turned half a
/// turn and transposed (g.channelsLastDataGradient), a 2.25th of the multiplies of dcol.
public func channelsLastConvolutionBackward(
    _ g: ConvolutionGeometry, algorithm: ChannelsLastAlgorithm = .lowered, input x: UnsafePointer<Float>,
    inputRowStride: Int, weight w: UnsafePointer<Float>,
    outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
    weightGradient dw: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>?,
    workspace: borrowing ChannelsLastWorkspace
) {
    precondition(g.supportsChannelsLast, "\(g): channels-last convolutions take one group")
    let (K, C, rows, workers) = (g.outputChannels, g.inputChannels, g.batch * g.outputPlane, workspace.gemm.workers)
    let packing = workspace.gemm.storage.pointer
    if let db { addColumnSums(dy, rows: rows, columns: K, to: db, workers: workers) }
    if g.isPointwise {
        sgemm(
            transA: true, transB: false, m: K, n: C, k: rows, alpha: 1, a: dy, lda: K, b: x, ldb: inputRowStride,
            beta: 1, c: dw, ldc: C, packingSpace: packing, workers: workers)
        if let dx {
            sgemm(
                transA: false, transB: false, m: rows, n: C, k: K, alpha: 1, a: dy, lda: K, b: w, ldb: C,
                beta: 0, c: dx, ldc: C, packingSpace: packing, workers: workers)
        }
        return
    }
    let depth = g.patchLength
    let chunk = ChannelsLastWorkspace.rowsPerChunk(g)
    precondition(
        workspace.columns.count >= chunk * depth && workspace.filters.count >= g.weightCount,
        "channels-last workspace too small for \(g)")
    let reordered = workspace.filters.pointer
    // dx at once by Winograd (the filters buffer holds the turned filters), or chunk by chunk
    // from dcol below (it holds w', the filters in col's order).
    var dcolumns = dx
    if algorithm == .winograd, let dx {
        turnFilters(g, w, into: reordered, workers: workers)
        channelsLastWinogradForward(
            g.channelsLastDataGradient, input: dy, inputRowStride: K, weight: reordered, bias: nil, output: dx,
            outputRowStride: C, activation: .none, workspace: workspace)
        dcolumns = nil
    } else if dx != nil {
        reorderFiltersChannelsLast(g, w, into: reordered, workers: workers)
    }
    let reorderedGradientBuffer = AlignedBuffer(count: K * depth)
    let reorderedGradient = reorderedGradientBuffer.pointer
    dcolumns?.update(repeating: 0, count: g.batch * g.inputPlane * C)
    let columns = workspace.columns.pointer
    for first in stride(from: 0, to: rows, by: chunk) {
        let count = min(chunk, rows - first)
        let gradient = dy + first * K
        lowerChannelsLast(
            g, x, inputRowStride: inputRowStride, rows: first..<(first + count), into: columns, workers: workers)
        sgemm(
            transA: true, transB: false, m: K, n: depth, k: count, alpha: 1, a: gradient, lda: K, b: columns,
            ldb: depth, beta: first == 0 ? 0 : 1, c: reorderedGradient, ldc: depth,
            packingSpace: packing, workers: workers)
        guard let dx = dcolumns else { continue }
        sgemm(
            transA: false, transB: false, m: count, n: depth, k: K, alpha: 1, a: gradient, lda: K, b: reordered,
            ldb: depth, beta: 0, c: columns, ldc: depth, packingSpace: packing, workers: workers)
        raiseChannelsLast(g, columns, rows: first..<(first + count), into: dx, workers: workers)
    }
    // dw[k, c, tap] += dw'[k, tap, c].
    let taps = g.kernelHeight * g.kernelWidth
    Parallel.parallelFor(K, workers: workers) { k in
        let (source, target) = (reorderedGradient + k * depth, dw + k * depth)
        for c in 0..<C {
            for tap in 0..<taps { target[c * taps + tap] += source[tap * C + c] }
        }
    }
}

extension ConvolutionGeometry {
    /// For a stride-1 convolution: the one whose forward is this one's backward-data, from dy
    /// [N, P, Q, K] to dx [N, H, W, C] through the filters turned half a turn, w'[c, k, r, s] =
    /// w[k, c, R-1-r, S-1-s], with padding R-1-p: a 3x3 with padding 1 stays one.
    public var channelsLastDataGradient: ConvolutionGeometry {
        ConvolutionGeometry(
            batch: batch, inputChannels: outputChannels, inputHeight: outputHeight, inputWidth: outputWidth,
            outputChannels: inputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            paddingHeight: kernelHeight - 1 - paddingHeight, paddingWidth: kernelWidth - 1 - paddingWidth)
    }
}

/// w [K, C, R, S] -> w'[C, K, R, S] = w[k, c, R-1-r, S-1-s]: the filters of the data gradient.
private func turnFilters(
    _ g: ConvolutionGeometry, _ w: UnsafePointer<Float>, into turned: UnsafeMutablePointer<Float>, workers: Int
) {
    let (K, C, taps) = (g.outputChannels, g.inputChannels, g.kernelHeight * g.kernelWidth)
    Parallel.parallelFor(C, workers: workers) { c in
        for k in 0..<K {
            let (source, target) = (w + (k * C + c) * taps, turned + (c * K + k) * taps)
            for tap in 0..<taps { target[tap] = source[taps - 1 - tap] }
        }
    }
}

/// sums[k] += the sum of column k of m [rows, columns], sixteen columns per vector.
private func addColumnSums(
    _ m: UnsafePointer<Float>, rows: Int, columns: Int, to sums: UnsafeMutablePointer<Float>, workers: Int
) {
    Parallel.parallelFor((columns + 15) / 16, workers: workers) { block in
        let (first, lanes) = (block * 16, min(16, columns - block * 16))
        var total = SIMD16<Float>()
        for row in 0..<rows { total += loadChannels(m + row * columns + first, lanes: lanes) }
        storeChannels(loadChannels(sums + first, lanes: lanes) + total, to: sums + first, lanes: lanes)
    }
}

/// The inverse of lowerChannelsLast, adding: each run of C floats of the im2col rows `rows`
/// (output positions in batch order) is added to the input position it was copied from;
/// the padding's runs are dropped. One worker per image, as overlapping windows share inputs.
func raiseChannelsLast(
    _ g: ConvolutionGeometry, _ columns: UnsafePointer<Float>, rows: Range<Int>,
    into dx: UnsafeMutablePointer<Float>, workers: Int
) {
    let (C, depth, plane) = (g.inputChannels, g.patchLength, g.outputPlane)
    let images = (rows.lowerBound / plane)..<((rows.upperBound - 1) / plane + 1)
    Parallel.parallelFor(images.count, workers: workers) { i in
        let n = images.lowerBound + i
        let mine = max(rows.lowerBound, n * plane)..<min(rows.upperBound, (n + 1) * plane)
        for row in mine {
            let (p, q) = (row - n * plane).quotientAndRemainder(dividingBy: g.outputWidth)
            let (top, left) = (p * g.strideHeight - g.paddingHeight, q * g.strideWidth - g.paddingWidth)
            var source = columns + (row - rows.lowerBound) * depth
            for r in 0..<g.kernelHeight {
                let h = top + r
                for s in 0..<g.kernelWidth {
                    let column = left + s
                    if h >= 0 && h < g.inputHeight && column >= 0 && column < g.inputWidth {
                        addFloats(source, to: dx + ((n * g.inputHeight + h) * g.inputWidth + column) * C, count: C)
                    }
                    source += C
                }
            }
        }
    }
}

/// target[0 ..< count] += source[0 ..< count], sixteen at a time, on this thread: col2im calls
/// it per run of C floats inside a worker, where Elementwise's `add` would ask the worker pool
/// each time.
@inline(__always)
private func addFloats(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
    var c = 0
    while c < count {
        let lanes = min(16, count - c)
        storeChannels(
            loadChannels(target + c, lanes: lanes) + loadChannels(source + c, lanes: lanes), to: target + c,
            lanes: lanes)
        c += lanes
    }
}
