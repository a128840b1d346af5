// ChannelsLastLayout.swift: the rest of a channels-last pass: the batch turned from
// [N, C, H, W] to [N, H, W, C] and back, max pooling and global average pooling and their
// gradients. Each works on whole rows of C floats, sixteen channels per vector, so a 3x3 pool on
// a 6x6 plane uses every lane, where the channels-first kernels' rows are six floats wide.

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
/// As maxPoolForward: padding never wins, and a NaN in a window wins (it propagates). With
/// `winners` ([N, P, Q, C], for training), each output's winning input position in its image
/// (h * W + w), which channelsLastMaxPoolBackward sends the gradient to.
public func channelsLastMaxPool(
    _ p: PoolingGeometry, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
    winners: UnsafeMutablePointer<Int32>? = nil, workers: Int = Parallel.threadCount
) {
    let C = p.channels
    Parallel.parallelFor(p.batch * p.outputPlane, workers: workers) { row in
        let (n, position) = row.quotientAndRemainder(dividingBy: p.outputPlane)
        let window = p.window(position / p.outputWidth, position % p.outputWidth)
        let image = x + n * p.inputPlane * C, out = y + row * C
        let first = window.rows.lowerBound * p.inputWidth + window.columns.lowerBound
        var c = 0
        while c < C {
            let lanes = min(16, C - c)
            var best = loadChannels(image + first * C + c, lanes: lanes)
            var winner = SIMD16<Int32>(repeating: Int32(first))
            for h in window.rows {
                for w in window.columns {
                    let input = h * p.inputWidth + w
                    let candidate = loadChannels(image + input * C + c, lanes: lanes)
                    let takes = maxPoolTakes(candidate, over: best)
                    best.replace(with: candidate, where: takes)
                    winner.replace(with: Int32(input), where: takes)
                }
            }
            storeChannels(best, to: out + c, lanes: lanes)
            if let winners {
                for l in 0..<lanes { winners[row * C + c + l] = winner[l] }
            }
            c += lanes
        }
    }
}

/// dx for channelsLastMaxPool: each output's gradient added at its winner, dy [N, P, Q, C] ->
/// dx [N, H, W, C] (overwritten). Windows overlap (3x3 at stride 1 or 2), so one worker takes
/// a whole image.
public func channelsLastMaxPoolBackward(
    _ p: PoolingGeometry, outputGradient dy: UnsafePointer<Float>, winners: UnsafePointer<Int32>,
    inputGradient dx: UnsafeMutablePointer<Float>, workers: Int = Parallel.threadCount
) {
    let C = p.channels
    Parallel.parallelFor(p.batch, workers: workers) { n in
        let image = dx + n * p.inputPlane * C
        image.update(repeating: 0, count: p.inputPlane * C)
        let first = n * p.outputPlane * C
        for i in first..<(first + p.outputPlane * C) {
            image[Int(winners[i]) * C + i % C] += dy[i]
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

/// dx for channelsLastGlobalAveragePool: dy [N, C] -> dx [N, H*W, C], each position's gradient
/// dy[n, c] / (H*W).
public func channelsLastGlobalAveragePoolBackward(
    _ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, batch: Int, plane: Int, channels: Int,
    workers: Int = Parallel.threadCount
) {
    let scale = 1 / Float(plane)
    Parallel.parallelFor(batch, workers: workers) { n in
        let (gradient, image) = (dy + n * channels, dx + n * plane * channels)
        for position in 0..<plane {
            let row = image + position * channels
            for c in 0..<channels { row[c] = gradient[c] * scale }
        }
    }
}
