// Im2col.swift: lowering a convolution to a matrix product, and its adjoint.
//
// im2col copies every receptive field of one image group into a column:
//   col[(c * R + r) * S + s, p * Q + q] = x[c, p * strideH - padH + r, q * strideW - padW + s]
// (zero where that position falls in the padding). Then the convolution of K_g filters is one
// matrix product, W[K_g, C/G*R*S] * col[C/G*R*S, P*Q]. col2im is the adjoint: it adds every
// entry of a column-gradient back to the input position it was copied from; positions covered
// by several windows (stride < kernel) collect several contributions.
//
// Which plan rule picks it (ModernCNN's ExecutionRules.convolution): strided and grouped
// convolutions (AlexNet's conv1), 1x1 ones (no copy needed: the input is the matrix), and any
// pass a caller sends here by its ConvolutionPasses.

/// x: [C/G, H, W] of one image group -> col: [C/G * R * S, P * Q], each row `rowStride` floats
/// apart (P * Q by default; wider when several images share one matrix, side by side). With
/// `workers` > 1 the rows are split over the workers: each row is one (c, r, s) and independent.
public func im2col(
    _ g: ConvolutionGeometry, image x: UnsafePointer<Float>, columns col: UnsafeMutablePointer<Float>,
    rowStride: Int? = nil, workers: Int = 1
) {
    let rowStride = rowStride ?? g.outputPlane
    let rows = g.patchLength
    if workers <= 1 { return im2colRows(g, 0..<rows, image: x, columns: col, rowStride: rowStride) }
    Parallel.forEachWorker(min(workers, rows)) { worker in
        im2colRows(
            g, Parallel.chunk(worker, of: min(workers, rows), splitting: rows), image: x, columns: col,
            rowStride: rowStride)
    }
}

// snippet: im2col
/// Rows `rows` of im2col: row (c * R + r) * S + s holds x[c] shifted by (r, s) and strided.
private func im2colRows(
    _ g: ConvolutionGeometry, _ rows: Range<Int>, image x: UnsafePointer<Float>,
    columns col: UnsafeMutablePointer<Float>, rowStride: Int
) {
    let (P, Q) = (g.outputHeight, g.outputWidth)
    let (R, S) = (g.kernelHeight, g.kernelWidth)
    for rowIndex in rows {
        let (c, rs) = rowIndex.quotientAndRemainder(dividingBy: R * S)
        let (r, s) = rs.quotientAndRemainder(dividingBy: S)
        let plane = x + c * g.inputPlane, row = col + rowIndex * rowStride
        // The output columns q whose input column q*stride - pad + s lies inside 0..<W.
        let valid = validOutputRange(
            offset: s - g.paddingWidth, stride: g.strideWidth,
            inputSize: g.inputWidth, outputSize: Q)
        for p in 0..<P {
            let h = p * g.strideHeight - g.paddingHeight + r
            let out = row + p * Q
            guard h >= 0 && h < g.inputHeight else {
                out.update(repeating: 0, count: Q)
                continue
            }
            let source = plane + h * g.inputWidth + (s - g.paddingWidth)
            out.update(repeating: 0, count: valid.lowerBound)
            if g.strideWidth == 1 {
                (out + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
            } else {
                for q in valid { out[q] = source[q * g.strideWidth] }
            }
            (out + valid.upperBound).update(repeating: 0, count: Q - valid.upperBound)
        }
    }
}
// end snippet: im2col

/// dx[C/G, H, W] += the columns' gradients, each added back where im2col copied it from; the
/// rows are `rowStride` floats apart (P * Q by default, wider side by side). With `workers` > 1 the channels are split over the workers (one channel's windows overlap, so
/// its rows must be added by one worker).
func col2imAccumulate(
    _ g: ConvolutionGeometry, columns col: UnsafePointer<Float>,
    image dx: UnsafeMutablePointer<Float>, rowStride: Int? = nil, workers: Int = 1
) {
    let channels = g.inputChannelsPerGroup, used = max(1, min(workers, channels))
    let rowStride = rowStride ?? g.outputPlane
    Parallel.forEachWorker(used) { worker in
        for c in Parallel.chunk(worker, of: used, splitting: channels) {
            col2imChannel(g, c, columns: col, image: dx, rowStride: rowStride)
        }
    }
}

private func col2imChannel(
    _ g: ConvolutionGeometry, _ c: Int, columns col: UnsafePointer<Float>,
    image dx: UnsafeMutablePointer<Float>, rowStride: Int
) {
    let (P, Q) = (g.outputHeight, g.outputWidth)
    let plane = dx + c * g.inputPlane
    var row = col + c * g.kernelHeight * g.kernelWidth * rowStride
    for r in 0..<g.kernelHeight {
        for s in 0..<g.kernelWidth {
            let valid = validOutputRange(
                offset: s - g.paddingWidth, stride: g.strideWidth,
                inputSize: g.inputWidth, outputSize: Q)
            for p in 0..<P {
                let h = p * g.strideHeight - g.paddingHeight + r
                guard h >= 0 && h < g.inputHeight else { continue }
                let target = plane + h * g.inputWidth + (s - g.paddingWidth)
                let source = row + p * Q
                for q in valid { target[q * g.strideWidth] += source[q] }
            }
            row += rowStride
        }
    }
}

/// The q in 0..<outputSize for which q * stride + offset lies in 0..<inputSize.
@inline(__always)
func validOutputRange(offset: Int, stride: Int, inputSize: Int, outputSize: Int) -> Range<Int> {
    // Smallest q with q*stride + offset >= 0, and one past the largest with it < inputSize.
    let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let pastLast = inputSize - offset <= 0 ? 0 : (inputSize - offset - 1) / stride + 1
    let lower = min(first, outputSize), upper = min(max(pastLast, lower), outputSize)
    return lower..<upper
}
