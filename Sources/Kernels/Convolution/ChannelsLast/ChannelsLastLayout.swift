// ChannelsLastLayout.swift: the rest of a channels-last inference pass: the batch turned from
// [N, C, H, W] to [N, H, W, C] and back, max pooling and global average pooling. Each works on
// whole rows of C floats, sixteen channels per vector, so a 3x3 pool on a 6x6 plane uses every
// lane, where the channels-first kernels' rows are six floats wide.

/// [N, C, H*W] -> [N, H*W, C] (`toChannelsLast`) or back; `plane` = H*W. Images over the workers.
public func transposeChannels(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int,
    toChannelsLast: Bool, workers: Int = Parallel.threadCount
) {
    // Image n is a [rows, columns] matrix turned into [columns, rows], in 16x16 blocks so that
    // both the reads and the writes stay within a few cache lines at a time.
    let (rows, columns) = toChannelsLast ? (channels, plane) : (plane, channels)
    Parallel.parallelFor(batch, workers: workers) { n in
        let (source, target) = (x + n * rows * columns, y + n * rows * columns)
        for top in stride(from: 0, to: rows, by: 16) {
            for left in stride(from: 0, to: columns, by: 16) {
                for i in top..<min(top + 16, rows) {
                    for j in left..<min(left + 16, columns) { target[j * rows + i] = source[i * columns + j] }
                }
            }
        }
    }
}

/// y = the maximum of each window, channels-last: x [N, H, W, C] -> y [N, P, Q, C], both dense.
/// As maxPoolForward: padding never wins, and a NaN in a window wins (it propagates).
public func channelsLastMaxPool(
    _ p: PoolingGeometry, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
    workers: Int = Parallel.threadCount
) {
    let C = p.channels
    Parallel.parallelFor(p.batch * p.outputPlane, workers: workers) { row in
        let (n, position) = row.quotientAndRemainder(dividingBy: p.outputPlane)
        let window = p.window(position / p.outputWidth, position % p.outputWidth)
        let image = x + n * p.inputPlane * C, out = y + row * C
        // Inputs at (h, w) of the window, in the plane loop's order.
        func source(_ h: Int, _ w: Int) -> UnsafePointer<Float> { image + (h * p.inputWidth + w) * C }
        let first = (window.rows.lowerBound, window.columns.lowerBound)
        var c = 0
        while c < C {
            let lanes = min(16, C - c)
            var best = loadChannels(source(first.0, first.1) + c, lanes: lanes)
            for h in window.rows {
                for w in window.columns {
                    let candidate = loadChannels(source(h, w) + c, lanes: lanes)
                    let takes = maxPoolTakes(candidate, over: best)
                    best.replace(with: candidate, where: takes)
                }
            }
            storeChannels(best, to: out + c, lanes: lanes)
            c += lanes
        }
    }
}

/// y[n, c] = the mean of x[n, :, :, c]: global average pooling, x [N, H*W, C] -> y [N, C].
public func channelsLastGlobalAveragePool(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, plane: Int, channels: Int,
    workers: Int = Parallel.threadCount
) {
    Parallel.parallelFor(batch, workers: workers) { n in
        let (image, out) = (x + n * plane * channels, y + n * channels)
        out.update(repeating: 0, count: channels)
        for position in 0..<plane {
            let row = image + position * channels
            for c in 0..<channels { out[c] += row[c] }
        }
        let scale = 1 / Float(plane)
        for c in 0..<channels { out[c] *= scale }
    }
}
