// LaneConvolution.swift: stride-1 convolutions of one group of 16 images in the lane layout
// (LaneLayout.swift): forward, backward-data and the filter gradient.
//
// Letters as in ConvolutionGeometry.swift: C input channels (H x W), K output channels (P x Q),
// R x S filters, padding p. Each output vector is 16 images' values, so the arithmetic is the
// textbook loop with vectors for scalars:
//   forward          y[k][y][x]  = b[k] + sum over c, r, s of w[k][c][r][s] * x[c][y + r - p][x + s - p]
//   backward-data    dx[c][y][x] = sum over k, r, s of w[k][c][R-1-r][S-1-s] * dy[k][y + r - q][x + s - q]
//                    with q = R - 1 - p: the same correlation, on dy, with the filters turned
//   filter gradient  dw[k][c][r][s] += sum over y, x of dy[k][y][x] * x[c][y + r - p][x + s - p]
// Reads outside a plane land in its zero border. Kernel rows whose input row lies wholly in the
// border are skipped: for LeNet's conv2 backward-data (dy 10x10 inside a border of 4), that is
// 29% of all its rows of taps, and a tile of its own skips the border's columns as well
// (FourteenFromTenRow). Every function here works on one group; the caller spreads the groups
// over the workers.

/// The correlation out[o][y][x] = f(bias[o] + sum over i, r, s of w[o][i][r][s] *
/// in[i][y + r - padding][x + s - padding]) for one group: a convolution's forward pass, or,
/// with the filters turned, its backward-data.
public struct LaneCorrelation: Sendable {
    public let input: LanePlanes, output: LanePlanes
    public let kernelHeight: Int, kernelWidth: Int, padding: Int

    enum Tile { case threeBySeven, fourByFive, single, fourteenFromTen }
    let tile: Tile

    /// The register tiles' shapes, (output channels, positions), largest first: what a layer
    /// whose channels and row width fit them runs on.
    public static let tileShapes = [
        (channels: ThreeBySevenTile.channels, positions: ThreeBySevenTile.positions),
        (channels: FourByFiveTile.channels, positions: FourByFiveTile.positions),
    ]

    /// in: `input` (its border at least `padding`, unless `readsBorder` says the correlation
    /// never reads it), out: `output` (its interior is written). With `rowTile`, the row tile
    /// (FourteenFromTenRow) computes it: only for a shape `rowTileFits` accepts, and a caller's
    /// choice (ModernCNN's ExecutionRules), not this kernel's; otherwise the register tile that
    /// wastes least for the channels and row width.
    public init(
        input: LanePlanes, outputChannels: Int, kernelHeight: Int, kernelWidth: Int, padding: Int,
        outputBorder: Int = 0, rowTile: Bool = false
    ) {
        let (p, q) = (input.height + 2 * padding - kernelHeight + 1, input.width + 2 * padding - kernelWidth + 1)
        precondition(p >= 1 && q >= 1, "LaneCorrelation: the filter does not fit the padded input")
        self.input = input
        output = LanePlanes(channels: outputChannels, height: p, width: q, border: outputBorder)
        (self.kernelHeight, self.kernelWidth, self.padding) = (kernelHeight, kernelWidth, padding)
        precondition(
            !rowTile || Self.rowTileFits(inputWidth: input.width, kernelWidth: kernelWidth, padding: padding),
            "LaneCorrelation: the row tile takes 10-wide rows through 5 taps with padding 4")
        tile = rowTile ? .fourteenFromTen : Self.bestTile(channels: outputChannels, width: q)
        precondition(
            input.border >= padding || !readsBorder, "LaneCorrelation: the input's border must hold the padding")
    }

    /// Whether the row tile (FourteenFromTenRow) computes this correlation: a full correlation
    /// (padding 4 = taps - 1) of rows 10 wide through 5 taps into rows of 14, which is the
    /// backward-data of a 5-tap, unpadded convolution on 14-wide planes (LeNet's conv2). It adds
    /// each row of 10 into the 14 sums without reading the border's zeros.
    public static func rowTileFits(inputWidth: Int, kernelWidth: Int, padding: Int) -> Bool {
        inputWidth == FourteenFromTenRow.inputWidth && kernelWidth == FourteenFromTenRow.taps
            && padding == FourteenFromTenRow.taps - 1
    }

    /// Whether a correlation with this padding reads its input's zero border, or (the row tile)
    /// only the rows and columns inside it: then the input needs no border at all.
    public static func readsBorder(padding: Int, rowTile: Bool) -> Bool { padding > 0 && !rowTile }

    public var readsBorder: Bool { Self.readsBorder(padding: padding, rowTile: tile == .fourteenFromTen) }

    /// The tile that computes the fewest sums twice. A layer whose channels or row width are
    /// not multiples of the tile's runs its last block overlapping the one before (the same
    /// sums stored again); one smaller than a tile in either direction takes single sums.
    static func bestTile(channels: Int, width: Int) -> Tile {
        func waste(_ k: Int, _ x: Int) -> Int? {
            guard channels >= k, width >= x else { return nil }
            let blocks = (channels + k - 1) / k, runs = (width + x - 1) / x
            return blocks * k * runs * x - channels * width
        }
        let candidates: [(Tile, Int?)] = [(.threeBySeven, waste(3, 7)), (.fourByFive, waste(4, 5))]
        let usable = candidates.compactMap { tile, waste in waste.map { (tile, $0) } }
        return usable.min { $0.1 < $1.1 }?.0 ?? .single
    }

    var tileChannels: Int {
        switch tile {
        case .threeBySeven: ThreeBySevenTile.channels
        case .fourByFive: FourByFiveTile.channels
        case .single, .fourteenFromTen: 1
        }
    }

    /// Where each block of output channels starts: every `tileChannels`, the last one moved
    /// back to end at the last channel.
    func blockStart(_ block: Int) -> Int { min(block * tileChannels, output.channels - tileChannels) }
    var blocks: Int { (output.channels + tileChannels - 1) / tileChannels }

    /// Floats of packed filters.
    public var packedCount: Int { blocks * input.channels * kernelHeight * kernelWidth * tileChannels }

    /// The filters as the tiles read them, [block][i][r][s][tile channels], from
    /// `weight(o, i, r, s)`. Inlined so that `weight` is too: called through the closure once a
    /// float, the packing cost more than the step can spare on the main thread.
    @inline(__always)
    public func pack(into packed: UnsafeMutablePointer<Float>, _ weight: (Int, Int, Int, Int) -> Float) {
        let (tk, taps) = (tileChannels, input.channels * kernelHeight * kernelWidth)
        for block in 0..<blocks {
            let first = blockStart(block)
            for i in 0..<input.channels {
                for r in 0..<kernelHeight {
                    for s in 0..<kernelWidth {
                        let tap = (i * kernelHeight + r) * kernelWidth + s
                        for j in 0..<tk { packed[(block * taps + tap) * tk + j] = weight(first + j, i, r, s) }
                    }
                }
            }
        }
    }

    /// Runs the correlation on one group. bias: one float per output channel (zeros for
    /// backward-data).
    public func run(
        input x: UnsafePointer<Float>, packedFilters w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        output y: UnsafeMutablePointer<Float>, activation: FusedActivation
    ) {
        switch tile {
        case .threeBySeven: run(ThreeBySevenTile.self, x, w, bias, y, activation)
        case .fourByFive: run(FourByFiveTile.self, x, w, bias, y, activation)
        case .single: run(SingleSumTile.self, x, w, bias, y, activation)
        case .fourteenFromTen: runFourteenFromTen(x, w, bias, y, activation)
        }
    }

    /// Row by row and channel by channel, each tap adding a whole dy row (see FourteenFromTenRow).
    private func runFourteenFromTen(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, _ activation: FusedActivation
    ) {
        let (lanes, R, S) = (LanePlanes.lanes, kernelHeight, FourteenFromTenRow.taps)
        let taps = input.channels * R * S
        for row in 0..<output.height {
            let rows = max(0, padding - row)..<min(R, input.height + padding - row)
            for o in 0..<output.channels {
                var sums = FourteenFromTenRow(bias: bias[o])
                for i in 0..<input.channels {
                    for r in rows {
                        let source = x + input.vector(channel: i, row: row + r - padding, column: 0) * lanes
                        let filters = w + o * taps + (i * R + r) * S
                        sums.add(filters, source)
                    }
                }
                sums.store(to: y + output.vector(channel: o, row: row, column: 0) * lanes, activation)
            }
        }
    }

    @inline(__always)
    private func run<Tile: LaneCorrelationTile>(
        _: Tile.Type, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        _ activation: FusedActivation
    ) {
        let lanes = LanePlanes.lanes
        let (R, S, taps) = (kernelHeight, kernelWidth, input.channels * kernelHeight * kernelWidth)
        let runs = (output.width + Tile.positions - 1) / Tile.positions
        for row in 0..<output.height {
            // Kernel rows r read input row row + r - padding; only those inside the plane add anything.
            let rows = max(0, padding - row)..<min(R, input.height + padding - row)
            for block in 0..<blocks {
                let first = blockStart(block)
                for run in 0..<runs {
                    let column = min(run * Tile.positions, output.width - Tile.positions)
                    var sums = Tile(bias: bias + first)
                    for i in 0..<input.channels {
                        for r in rows {
                            let source =
                                x + input.vector(channel: i, row: row + r - padding, column: column - padding) * lanes
                            let filters = w + (block * taps + (i * R + r) * S) * Tile.channels
                            for s in 0..<S { sums.add(filters + s * Tile.channels, source + s * lanes) }
                        }
                    }
                    sums.store(
                        to: y + output.vector(channel: first, row: row, column: column) * lanes,
                        channelStride: output.planeStride * lanes, activation)
                }
            }
        }
    }
}

/// The filter and bias gradients of one stride-1 convolution, summed over the groups one
/// worker runs: sums[k * taps + t] += dy[k] * x at tap t, and sums[K * taps + k] += dy[k], one
/// vector each (lane j from image j); `laneSumsReduce` adds the lanes and the workers up.
///
/// dy should have no border: a tile streams four channels of dy and one input plane per block
/// of taps, and LeNet's conv2 read its dy inside backward-data's border of 4 at half the speed
/// (18 x 18 planes instead of 10 x 10: the tile's data no longer fit in L1).
public struct LaneFilterGradient: Sendable {
    public let input: LanePlanes, gradient: LanePlanes
    public let kernelHeight: Int, kernelWidth: Int, padding: Int
    /// Where tap t = (c, r, s) reads, in floats, from the input vector of (y - p, x - p).
    let offsets: [Int]
    enum Tile { case threeByFive, fourByFive, single }
    let tile: Tile

    /// x: `input` (border at least `padding`); dy: `gradient`, K channels of P x Q.
    public init(input: LanePlanes, gradient: LanePlanes, kernelHeight: Int, kernelWidth: Int, padding: Int) {
        precondition(input.border >= padding, "LaneFilterGradient: the input's border must hold the padding")
        (self.input, self.gradient) = (input, gradient)
        (self.kernelHeight, self.kernelWidth, self.padding) = (kernelHeight, kernelWidth, padding)
        var offsets: [Int] = []
        for c in 0..<input.channels {
            for r in 0..<kernelHeight {
                for s in 0..<kernelWidth {
                    offsets.append((c * input.planeStride + r * input.rowStride + s) * LanePlanes.lanes)
                }
            }
        }
        self.offsets = offsets
        let K = gradient.channels
        if offsets.count < 5 || K < 3 {
            tile = .single
        }
        // Fewer channels computed twice wins: (K rounded up to 3s) against (to 4s).
        else if K < 4 || (K + 2) / 3 * 3 < (K + 3) / 4 * 4 {
            tile = .threeByFive
        } else {
            tile = .fourByFive
        }
    }

    public var taps: Int { offsets.count }
    /// Vectors of sums: one per weight, then one per bias.
    public var sumCount: Int { gradient.channels * (taps + 1) }
    /// Floats of one worker's sums.
    public var sumFloats: Int { sumCount * LanePlanes.lanes }

    /// Adds the sums of `workers` workers (each `sumFloats` after the one before) into
    /// dw [K, taps] and db [K] (nil: a convolution without bias), over the lanes and the workers
    /// in order, so that the gradients are the same every run.
    public func addSums(
        _ sums: UnsafePointer<Float>, workers: Int, weightGradient dw: UnsafeMutablePointer<Float>,
        biasGradient db: UnsafeMutablePointer<Float>?
    ) {
        let weights = gradient.channels * taps
        laneSumsReduce(sums, vectorsPerWorker: sumCount, workers: workers, count: weights, into: dw)
        if let db {
            laneSumsReduce(
                sums + weights * LanePlanes.lanes, vectorsPerWorker: sumCount, workers: workers,
                count: gradient.channels, into: db)
        }
    }

    /// Adds one group's gradients into `sums` (`sumCount` vectors).
    public func accumulate(
        input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
        into sums: UnsafeMutablePointer<Float>
    ) {
        switch tile {
        case .threeByFive: accumulate(ThreeByFiveTapTile.self, x, dy, sums)
        case .fourByFive: accumulate(FourByFiveTapTile.self, x, dy, sums)
        case .single: accumulateSingly(x, dy, sums)
        }
        let (K, lanes) = (gradient.channels, LanePlanes.lanes)
        for k in 0..<K {
            var sum = LaneVector.zero
            for row in 0..<gradient.height {
                for column in 0..<gradient.width {
                    sum += loadVector(dy + gradient.vector(channel: k, row: row, column: column) * lanes)
                }
            }
            let target = sums + (K * taps + k) * lanes
            storeVector(loadVector(target) + sum, to: target)
        }
    }

    /// Rows of dy at a time whose tile data (the tile's channels of dy, and the input rows they
    /// read) fit in L1: about 40 KB, in vectors. LeNet's conv1 (28 x 28 planes) goes in bands of
    /// 4 rows; whole, its data came from L2 at every position, and the kernel ran at 60% of
    /// the FMA peak. LeNet's conv2 (10 x 10) fits in one band.
    func bandRows(channels: Int) -> Int {
        let budget = 640, reach = (kernelHeight - 1) * input.rowStride
        return max(1, min(gradient.height, (budget - reach) / (channels * gradient.width + input.rowStride)))
    }

    /// Bands of rows (see bandRows), then blocks of the tile's channels and of 5 taps; a last
    /// block that does not fit moves back to end at the last channel (tap) and adds only what
    /// the block before did not.
    @inline(__always)
    private func accumulate<Tile: LaneFilterGradientTile>(
        _: Tile.Type, _ x: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>
    ) {
        let (K, lanes, tk) = (gradient.channels, LanePlanes.lanes, Tile.channels)
        let channelStride = gradient.planeStride * lanes, band = bandRows(channels: tk)
        offsets.withUnsafeBufferPointer { offsets in
            for firstRow in stride(from: 0, to: gradient.height, by: band) {
                let rows = firstRow..<min(gradient.height, firstRow + band)
                for kBlock in 0..<((K + tk - 1) / tk) {
                    let k = min(kBlock * tk, K - tk), newK = kBlock * tk
                    for tBlock in 0..<((taps + 4) / 5) {
                        let t = min(tBlock * 5, taps - 5), newT = tBlock * 5
                        var tile = Tile()
                        let (o0, o1, o2, o3, o4) = (
                            offsets[t], offsets[t + 1], offsets[t + 2], offsets[t + 3], offsets[t + 4]
                        )
                        for row in rows {
                            let d = dy + gradient.vector(channel: k, row: row, column: 0) * lanes
                            let p = x + input.vector(channel: 0, row: row - padding, column: -padding) * lanes
                            for column in 0..<gradient.width {
                                tile.add(
                                    d + column * lanes, channelStride: channelStride, p + column * lanes, o0, o1, o2,
                                    o3, o4)
                            }
                        }
                        tile.forEachChannel { j, sumsOfChannel in
                            if k + j >= newK {
                                sumsOfChannel.add(into: sums + ((k + j) * taps + t) * lanes, taps: (newT - t)..<5)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One channel and one tap at a time, for layers smaller than both tiles.
    private func accumulateSingly(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>
    ) {
        let lanes = LanePlanes.lanes
        for k in 0..<gradient.channels {
            for t in 0..<taps {
                var sum = LaneVector.zero
                for row in 0..<gradient.height {
                    for column in 0..<gradient.width {
                        let d = loadVector(dy + gradient.vector(channel: k, row: row, column: column) * lanes)
                        let p = x + input.vector(channel: 0, row: row - padding, column: column - padding) * lanes
                        sum = sum.addingProduct(d, loadVector(p + offsets[t]))
                    }
                }
                let target = sums + (k * taps + t) * lanes
                storeVector(loadVector(target) + sum, to: target)
            }
        }
    }
}

/// One stride-1 convolution's three lane kernels, made for its shapes: the forward correlation,
/// backward-data (the correlation of dy with the turned filters, dy inside the border it reads,
/// if it reads one) and the filter gradient (dy without a border). LaneConvolutionBatch and
/// ModernCNN's LaneBlock both make theirs here, so their layouts and packings agree.
public struct LaneConvolutionKernels: Sendable {
    public let forward: LaneCorrelation, backwardData: LaneCorrelation, filterGradient: LaneFilterGradient

    /// x laid out as `input` (its border at least `padding`), K output channels, R x R filters.
    /// `backwardDataRowTile`: backward-data by the row tile (LaneCorrelation.rowTileFits must
    /// accept its shape; ModernCNN's ExecutionRules decide).
    public init(
        input: LanePlanes, outputChannels: Int, kernelSize R: Int, padding p: Int, backwardDataRowTile: Bool = false
    ) {
        forward = LaneCorrelation(
            input: input, outputChannels: outputChannels, kernelHeight: R, kernelWidth: R,
            padding: p)
        let dy = LanePlanes(channels: outputChannels, height: forward.output.height, width: forward.output.width)
        let q = R - 1 - p
        let border = LaneCorrelation.readsBorder(padding: q, rowTile: backwardDataRowTile) ? q : 0
        backwardData = LaneCorrelation(
            input: LanePlanes(
                channels: dy.channels, height: dy.height, width: dy.width,
                border: border),
            outputChannels: input.channels, kernelHeight: R, kernelWidth: R, padding: q,
            rowTile: backwardDataRowTile)
        filterGradient = LaneFilterGradient(input: input, gradient: dy, kernelHeight: R, kernelWidth: R, padding: p)
    }

    /// dy as the filter gradient reads it: no border.
    public var gradient: LanePlanes { filterGradient.gradient }
    /// Whether backward-data reads dy inside a border, so that dy must be copied into one first.
    public var backwardDataReadsBorder: Bool { backwardData.input != gradient }

    /// w [K, C, R, S] as the forward correlation reads it.
    public func packForward(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let (C, R) = (backwardData.output.channels, forward.kernelHeight)
        forward.pack(into: packed) { o, i, r, s in w[((o * C + i) * R + r) * R + s] }
    }

    /// w turned by 180 degrees with its channel axes swapped, as backward-data reads it.
    public func packBackwardData(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let (C, R) = (backwardData.output.channels, forward.kernelHeight)
        backwardData.pack(into: packed) { c, k, r, s in w[((k * C + c) * R + (R - 1 - r)) * R + (R - 1 - s)] }
    }
}
