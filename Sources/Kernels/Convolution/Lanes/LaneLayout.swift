// LaneLayout.swift: a batch with its images in the vector lanes, for networks of small images.
// This folder holds the layout and its kernels: convolutions (LaneConvolution, LaneTiles),
// pooling (LanePooling) and dense layers (LaneDense), all on groups of 16 images.
//
// Which plan rule picks it (ModernCNN's ExecutionPlan, engine lanes or auto on AVX-512): runs of
// stride-1 convolution -> sigmoid or ReLU -> average or max pool on planes of at most 32x32 and
// 64 channels, and the Flatten and small Linear layers after them (LaneBlock.layerCount).
//
// Why another layout: LeNet's planes are 28x28, 14x14, 10x10 and 5x5. Laid out as NCHW, a
// 16-lane vector runs along a row, and rows of 10 or 14 floats leave lanes empty or straddle
// rows; each kernel copies its planes into padded flat rows and back, and backward-data spends
// half of its multiply-adds on the zero border (DirectConvolution.swift). Put 16 images side by
// side instead, so that lane j of every vector belongs to image j of a group of sixteen, and
// every one of those problems goes away: a convolution tap is one plain vector load and one FMA
// for 16 images, whatever the plane's width; rows can be skipped exactly where a window leaves
// the image; pooling and activations are vertical arithmetic with no edge cases. The price is a
// transpose into the layout at the first layer and out of it at the last, once a batch.
//
// A group of 16 images is stored [C][H + 2 border][W + 2 border][16]: each channel's plane
// inside a border of zeros (the padding the next convolution reads), rows of vectors. A batch
// is a run of such groups; the last is filled up with zero images.

/// The shape of one group of 16 images in the lane layout. Offsets and strides count vectors
/// (16 floats, one per image).
public struct LanePlanes: Sendable, Equatable {
    public static let lanes = 16

    public let channels: Int, height: Int, width: Int
    /// Zero rows above and below each plane, and zero columns left and right.
    public let border: Int

    public init(channels: Int, height: Int, width: Int, border: Int = 0) {
        precondition(channels > 0 && height > 0 && width > 0 && border >= 0, "LanePlanes: empty or negative shape")
        (self.channels, self.height, self.width, self.border) = (channels, height, width, border)
    }

    public var rowStride: Int { width + 2 * border }
    public var planeStride: Int { (height + 2 * border) * rowStride }
    /// Vectors in one group.
    public var groupVectors: Int { channels * planeStride }
    /// Floats in one group.
    public var groupFloats: Int { groupVectors * Self.lanes }

    /// The vector of (channel, row, column), counted inside the border; row and column may
    /// reach into it (-border ..< height + border).
    @inline(__always)
    public func vector(channel: Int, row: Int, column: Int) -> Int {
        channel * planeStride + (row + border) * rowStride + column + border
    }

    /// Groups needed for `images` images.
    public static func groups(for images: Int) -> Int { (images + lanes - 1) / lanes }

    /// Group `group`'s images in a batch of `batch`: the first, and how many (16, fewer in a
    /// short last group).
    public static func images(inGroup group: Int, of batch: Int) -> (first: Int, count: Int) {
        (group * lanes, min(lanes, batch - group * lanes))
    }
}

/// Writes images `first ..< first + count` (count <= 16) of the NCHW batch x, each [C, H, W]
/// as `layout` says, into one group: image first + j into lane j. Lanes past `count` get zeros,
/// so that a short last group adds nothing to any gradient. Only the planes' interiors are
/// written; the border keeps the zeros it was made with.
public func laneInterleave(
    _ x: UnsafePointer<Float>, first: Int, count: Int, layout: LanePlanes,
    into group: UnsafeMutablePointer<Float>
) {
    precondition(count >= 1 && count <= LanePlanes.lanes, "laneInterleave: 1 to 16 images per group")
    let (size, lanes) = (layout.imageSize, LanePlanes.lanes)
    guard size >= lanes else {
        for position in 0..<size {
            let target = group + layout.vector(at: position) * lanes
            for j in 0..<lanes { target[j] = j < count ? x[(first + j) * size + position] : 0 }
        }
        return
    }
    // Sixteen positions at a time: a 16 x 16 block (images x positions) turned into 16 vectors.
    layout.forEachBlock { start in
        var block = TransposeBlock { j in j < count ? loadVector(x + (first + j) * size + start) : .zero }
        block.transpose()
        var position = layout.position(start)
        block.forEach { _, vector in
            storeVector(vector, to: group + position.vector * lanes)
            position.advance()
        }
    }
}

/// The inverse: lanes 0 ..< count of one group into images first ..< first + count of the NCHW
/// batch y. Lanes past `count` (the zero images) are dropped.
public func laneDeinterleave(
    _ group: UnsafePointer<Float>, layout: LanePlanes, first: Int, count: Int,
    into y: UnsafeMutablePointer<Float>
) {
    let (size, lanes) = (layout.imageSize, LanePlanes.lanes)
    guard size >= lanes else {
        for position in 0..<size {
            let source = group + layout.vector(at: position) * lanes
            for j in 0..<count { y[(first + j) * size + position] = source[j] }
        }
        return
    }
    layout.forEachBlock { start in
        var position = layout.position(start)
        var block = TransposeBlock { _ in
            defer { position.advance() }
            return loadVector(group + position.vector * lanes)
        }
        block.transpose()
        block.forEach { j, vector in
            if j < count { storeVector(vector, to: y + (first + j) * size + start) }
        }
    }
}

extension LanePlanes {
    /// Floats in one image: C * H * W.
    var imageSize: Int { channels * height * width }

    /// The vector of the `position`-th float of an image in NCHW order.
    func vector(at index: Int) -> Int { position(index).vector }

    /// Calls body(start) for blocks of 16 NCHW positions that cover the image, the last one moved
    /// back to end at the image's end (its overlap is written twice, the same values).
    func forEachBlock(_ body: (Int) -> Void) {
        var start = 0
        while start < imageSize {
            let block = min(start, imageSize - LanePlanes.lanes)
            body(block)
            start = block + LanePlanes.lanes
        }
    }

    /// An NCHW position walked forward, with the vector it lands on.
    struct Position {
        let layout: LanePlanes
        var channel: Int, row: Int, column: Int
        var vector: Int { layout.vector(channel: channel, row: row, column: column) }

        mutating func advance() {
            column += 1
            if column == layout.width {
                column = 0
                row += 1
                if row == layout.height { (row, channel) = (0, channel + 1) }
            }
        }
    }

    func position(_ index: Int) -> Position {
        let (c, rest) = index.quotientAndRemainder(dividingBy: height * width)
        let (row, column) = rest.quotientAndRemainder(dividingBy: width)
        return Position(layout: self, channel: c, row: row, column: column)
    }
}

/// Sixteen vectors transposed in registers: row j's element p becomes vector p's lane j. Four
/// rounds of unzipping (evens of each pair of vectors, then odds) rotate the 8-bit index
/// (row, element) by four bits, which swaps row and element; each round is 16 two-vector
/// shuffles. Against a float-by-float copy, the lane layout's way in and out of NCHW.
struct TransposeBlock {
    var v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15: SIMD16<Float>

    @inline(__always)
    init(_ row: (Int) -> SIMD16<Float>) {
        (v0, v1, v2, v3) = (row(0), row(1), row(2), row(3))
        (v4, v5, v6, v7) = (row(4), row(5), row(6), row(7))
        (v8, v9, v10, v11) = (row(8), row(9), row(10), row(11))
        (v12, v13, v14, v15) = (row(12), row(13), row(14), row(15))
    }

    @inline(__always)
    mutating func transpose() {
        for _ in 0..<4 { unzipRound() }
    }

    @inline(__always)
    private mutating func unzipRound() {
        let (e0, o0) = unzip(v0, v1)
        let (e1, o1) = unzip(v2, v3)
        let (e2, o2) = unzip(v4, v5)
        let (e3, o3) = unzip(v6, v7)
        let (e4, o4) = unzip(v8, v9)
        let (e5, o5) = unzip(v10, v11)
        let (e6, o6) = unzip(v12, v13)
        let (e7, o7) = unzip(v14, v15)
        (v0, v1, v2, v3, v4, v5, v6, v7) = (e0, e1, e2, e3, e4, e5, e6, e7)
        (v8, v9, v10, v11, v12, v13, v14, v15) = (o0, o1, o2, o3, o4, o5, o6, o7)
    }

    @inline(__always)
    private func unzip(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
        (SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf), SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf))
    }

    @inline(__always)
    func forEach(_ body: (Int, SIMD16<Float>) -> Void) {
        body(0, v0)
        body(1, v1)
        body(2, v2)
        body(3, v3)
        body(4, v4)
        body(5, v5)
        body(6, v6)
        body(7, v7)
        body(8, v8)
        body(9, v9)
        body(10, v10)
        body(11, v11)
        body(12, v12)
        body(13, v13)
        body(14, v14)
        body(15, v15)
    }
}

/// Copies the interior of one group laid out as `from` into one laid out as `to` (the same
/// planes inside another border), leaving `to`'s border as it is.
public func laneCopyInterior(
    _ source: UnsafePointer<Float>, layout from: LanePlanes,
    to target: UnsafeMutablePointer<Float>, layout to: LanePlanes
) {
    precondition(
        from.channels == to.channels && from.height == to.height && from.width == to.width,
        "laneCopyInterior: the planes differ")
    let lanes = LanePlanes.lanes
    for c in 0..<from.channels {
        for row in 0..<from.height {
            (target + to.vector(channel: c, row: row, column: 0) * lanes)
                .update(from: source + from.vector(channel: c, row: row, column: 0) * lanes, count: from.width * lanes)
        }
    }
}

/// Copies `count` vectors (each one feature of a group's 16 images) from one stride to another,
/// in floats: a group's features into its column of a [features][batch] matrix (LaneDense), or
/// back. Vector by vector: as 64-byte copies they were calls to memmove.
public func laneCopyVectors(
    _ count: Int, from source: UnsafePointer<Float>, stride: Int,
    to target: UnsafeMutablePointer<Float>, stride targetStride: Int
) {
    for f in 0..<count { storeVector(loadVector(source + f * stride), to: target + f * targetStride) }
}
