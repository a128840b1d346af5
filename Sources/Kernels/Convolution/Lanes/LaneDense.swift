// LaneDense.swift: a fully connected layer's products for one group of 16 images in the lane
// layout (LaneLayout.swift), where a vector holds one feature of the 16 images:
//   forward        y[o]  = f(b[o] + sum over i of w[o][i] * x[i])
//   backward-data  dx[i] = (sum over o of w[o][i] * dy[o]) * g'(a[i]),  g the activation before
// Both are the same loop, out[r] = sum over k of m[r][k] * in[k], with m = w or its transpose:
// each step of k is one vector load of in[k] and an FMA with a broadcast weight for each of 12
// rows. Kept in the lanes, LeNet's dense layers run right after its convolutions on the same
// group, while their inputs are still in the core's caches, with the bias and the activation
// applied as the sums leave the registers. The weights' gradient is a sum over the whole batch,
// one SGEMM afterwards (ModernCNN's LaneBlock).
//
// A group's features may lie 16 floats apart (one group on its own) or further (a column of a
// [features][batch] matrix, which that SGEMM reads): the functions take the stride.

/// out[r] = sum over k of m(r, k) * in[k] for one group, r < rows, k < depth.
public struct LaneDense: Sendable {
    public let rows: Int, depth: Int

    public init(rows: Int, depth: Int) {
        precondition(rows >= 1 && depth >= 1, "LaneDense: empty product")
        (self.rows, self.depth) = (rows, depth)
    }

    /// Output rows per register tile.
    public static let tileRows = TwelveRowSums.rows
    /// Blocks of 12 rows (the last one moved back, or padded when there are fewer rows).
    public var blocks: Int { (rows + Self.tileRows - 1) / Self.tileRows }
    /// The first row of each block of 12, the last block moved back to end at the last row (its
    /// overlap computed twice, the same values stored again); 0 when there are fewer rows.
    func blockStart(_ block: Int) -> Int { max(0, min(block * Self.tileRows, rows - Self.tileRows)) }

    /// Floats of the packed weights.
    public var packedCount: Int { blocks * depth * Self.tileRows }

    /// A layer's weights w[o][i] (PyTorch's [out, in]) as the forward's tiles read them,
    /// [block][i][tile row]: the 12 weights of one step side by side, zeros for the rows a layer
    /// of fewer than 12 outputs lacks. Here rows = out, depth = in. Sixteen steps at a time, the
    /// block's rows (and four of zeros) turned in registers: written as a loop over the floats,
    /// the compiler made it scatter instructions.
    public func pack(weight w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        for block in 0..<blocks { pack(weight: w, into: packed, block: block) }
    }

    /// One block of that packing (blocks are independent: workers may pack them side by side).
    public func pack(weight w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, block: Int) {
        let (tileRows, lanes) = (Self.tileRows, LanePlanes.lanes)
        let (first, panel) = (blockStart(block), packed + block * depth * tileRows)
        let valid = min(tileRows, rows - first)
        let whole = depth / lanes * lanes
        for k in Swift.stride(from: 0, to: whole, by: lanes) {
            var turned = TransposeBlock { j in j < valid ? loadVector(w + (first + j) * depth + k) : .zero }
            turned.transpose()
            turned.forEach { t, step in
                let target = panel + (k + t) * tileRows
                storeVector8(step.lowHalf, to: target)
                storeVector4(SIMD4(step[8], step[9], step[10], step[11]), to: target + 8)
            }
        }
        for k in whole..<depth {
            for j in 0..<tileRows { panel[k * tileRows + j] = j < valid ? w[(first + j) * depth + k] : 0 }
        }
    }

    /// Forward: out[r] = f(bias[r] + sum over k of w[r][k] * x[k]), from the packed weights,
    /// features `inputStride` and `outputStride` floats apart.
    public func forward(
        input x: UnsafePointer<Float>, inputStride: Int, packedWeight m: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, outputStride: Int,
        activation: FusedActivation
    ) {
        forEachBlock(
            x, inputStride, panel: { m + $0 * depth * Self.tileRows }, step: Self.tileRows, padded: true,
            bias: bias
        ) { row, sum in
            storeVector(activate(sum, activation), to: y + row * outputStride)
        }
    }

    /// Backward-data: out[r] = (sum over k of w[k][r] * dy[k]) * g'(a[r]), straight from the
    /// layer's weights w[k][r] (rows = in, depth = out): a step's 12 weights already lie side by
    /// side in w's row k. a: the output of the activation g whose input gradient this is, at
    /// `activationStride`; nil when there is none.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, stride: Int, weight w: UnsafePointer<Float>,
        activationOutput a: UnsafePointer<Float>?, activationStride: Int, _ activation: FusedActivation,
        into dx: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        forEachBlock(dy, stride, panel: { w + blockStart($0) }, step: rows, padded: false, bias: nil) { row, sum in
            let value = a.map { timesSlope(sum, output: loadVector($0 + row * activationStride), activation) } ?? sum
            storeVector(value, to: dx + row * outputStride)
        }
    }

    /// Each block's sums handed to `store` row by row. panel(block): where the block's weights of
    /// step 0 are; step: floats from one step's weights to the next. Padded weights (`padded`,
    /// the forward's packing) let a layer of fewer than 12 rows use the tile too, its extra rows
    /// computed and dropped; the backward reads the layer's own weights and has no padding, so
    /// there such a layer goes one row at a time.
    @inline(__always)
    private func forEachBlock(
        _ x: UnsafePointer<Float>, _ inputStride: Int, panel: (Int) -> UnsafePointer<Float>,
        step: Int, padded: Bool, bias: UnsafePointer<Float>?,
        _ store: (Int, LaneVector) -> Void
    ) {
        guard rows >= Self.tileRows || padded else {
            let weights = panel(0)
            for row in 0..<rows {
                var sum = LaneVector(repeating: bias?[row] ?? 0)
                for k in 0..<depth {
                    sum = sum.addingProduct(
                        LaneVector(repeating: weights[k * step + row]), loadVector(x + k * inputStride))
                }
                store(row, sum)
            }
            return
        }
        for block in 0..<blocks {
            let (first, weights) = (blockStart(block), panel(block))
            var sums = TwelveRowSums(bias: bias.map { $0 + first }, rows: rows - first)
            for k in 0..<depth { sums.add(weights + k * step, loadVector(x + k * inputStride)) }
            sums.forEach { j, sum in if first + j < rows { store(first + j, sum) } }
        }
    }
}

/// Twelve rows' sums for one group: each step of k adds w[j] * in[k] to row j.
struct TwelveRowSums {
    static let rows = 12
    var s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11: LaneVector

    /// Each row's sum starts at its bias (zero without one, and for rows past `rows`, which a
    /// layer of fewer than 12 outputs lacks).
    @inline(__always)
    init(bias: UnsafePointer<Float>?, rows: Int) {
        @inline(__always) func start(_ j: Int) -> LaneVector {
            guard let bias, j < rows else { return .zero }
            return LaneVector(repeating: bias[j])
        }
        (s0, s1, s2, s3) = (start(0), start(1), start(2), start(3))
        (s4, s5, s6, s7) = (start(4), start(5), start(6), start(7))
        (s8, s9, s10, s11) = (start(8), start(9), start(10), start(11))
    }

    /// w: this step's 12 weights, one per row; x: the input vector of this step.
    @inline(__always)
    mutating func add(_ w: UnsafePointer<Float>, _ x: LaneVector) {
        s0 = s0.addingProduct(LaneVector(repeating: w[0]), x)
        s1 = s1.addingProduct(LaneVector(repeating: w[1]), x)
        s2 = s2.addingProduct(LaneVector(repeating: w[2]), x)
        s3 = s3.addingProduct(LaneVector(repeating: w[3]), x)
        s4 = s4.addingProduct(LaneVector(repeating: w[4]), x)
        s5 = s5.addingProduct(LaneVector(repeating: w[5]), x)
        s6 = s6.addingProduct(LaneVector(repeating: w[6]), x)
        s7 = s7.addingProduct(LaneVector(repeating: w[7]), x)
        s8 = s8.addingProduct(LaneVector(repeating: w[8]), x)
        s9 = s9.addingProduct(LaneVector(repeating: w[9]), x)
        s10 = s10.addingProduct(LaneVector(repeating: w[10]), x)
        s11 = s11.addingProduct(LaneVector(repeating: w[11]), x)
    }

    @inline(__always)
    func forEach(_ body: (Int, LaneVector) -> Void) {
        body(0, s0)
        body(1, s1)
        body(2, s2)
        body(3, s3)
        body(4, s4)
        body(5, s5)
        body(6, s6)
        body(7, s7)
        body(8, s8)
        body(9, s9)
        body(10, s10)
        body(11, s11)
    }
}
