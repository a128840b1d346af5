// LaneLayout.swift: a batch with its images in the vector lanes, for networks of small images.
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
}

/// Writes images `first ..< first + count` (count <= 16) of the NCHW batch x, each [C, H, W]
/// as `layout` says, into one group: image first + j into lane j. Lanes past `count` get zeros,
/// so that a short last group adds nothing to any gradient. Only the planes' interiors are
/// written; the border keeps the zeros it was made with.
public func laneInterleave(_ x: UnsafePointer<Float>, first: Int, count: Int, layout: LanePlanes,
                           into group: UnsafeMutablePointer<Float>) {
    precondition(count >= 1 && count <= LanePlanes.lanes, "laneInterleave: 1 to 16 images per group")
    let (plane, lanes) = (layout.height * layout.width, LanePlanes.lanes)
    if count < lanes {
        for c in 0..<layout.channels {
            for y in 0..<layout.height {
                (group + layout.vector(channel: c, row: y, column: 0) * lanes)
                    .update(repeating: 0, count: layout.width * lanes)
            }
        }
    }
    for j in 0..<count {
        let image = x + (first + j) * layout.channels * plane
        for c in 0..<layout.channels {
            for y in 0..<layout.height {
                let source = image + c * plane + y * layout.width
                let target = group + layout.vector(channel: c, row: y, column: 0) * lanes + j
                for x in 0..<layout.width { target[x * lanes] = source[x] }
            }
        }
    }
}

/// The inverse: lanes 0 ..< count of one group into images first ..< first + count of the NCHW
/// batch y. Lanes past `count` (the zero images) are dropped.
public func laneDeinterleave(_ group: UnsafePointer<Float>, layout: LanePlanes, first: Int, count: Int,
                             into y: UnsafeMutablePointer<Float>) {
    let (plane, lanes) = (layout.height * layout.width, LanePlanes.lanes)
    for j in 0..<count {
        let image = y + (first + j) * layout.channels * plane
        for c in 0..<layout.channels {
            for row in 0..<layout.height {
                let source = group + layout.vector(channel: c, row: row, column: 0) * lanes + j
                let target = image + c * plane + row * layout.width
                for x in 0..<layout.width { target[x] = source[x * lanes] }
            }
        }
    }
}

/// Copies the interior of one group laid out as `from` into one laid out as `to` (the same
/// planes inside another border), leaving `to`'s border as it is.
public func laneCopyInterior(_ source: UnsafePointer<Float>, layout from: LanePlanes,
                             to target: UnsafeMutablePointer<Float>, layout to: LanePlanes) {
    precondition(from.channels == to.channels && from.height == to.height && from.width == to.width,
                 "laneCopyInterior: the planes differ")
    let lanes = LanePlanes.lanes
    for c in 0..<from.channels {
        for row in 0..<from.height {
            (target + to.vector(channel: c, row: row, column: 0) * lanes)
                .update(from: source + from.vector(channel: c, row: row, column: 0) * lanes, count: from.width * lanes)
        }
    }
}
