// VectorMemory.swift: sixteen (or eight) floats to and from memory, the one way every kernel moves them.
//
// Why a helper for one line: the standard library's generic loadUnaligned and storeBytes are
// inlinable, not always-inline, and the optimizer stops inlining into a function it already finds
// large. sgemm, with its microkernel and edge tiles inlined, is such a function. When a change
// elsewhere in the module made the optimizer emit the generic load as a function of its own,
// sgemm called it (with vzeroupper) inside the microkernel's loop. Every accumulator then went
// through the stack around the call, and every SGEMM, Winograd's included, ran at half speed.
// These wrappers are always inlined, and each is optimized alone first, so a plain vector load
// or store is what reaches the kernels.

typealias Vector16 = SIMD16<Float>

/// p[0 ..< 16] as one vector; p need not be aligned.
@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> Vector16 {
    UnsafeRawPointer(p).loadUnaligned(as: Vector16.self)
}

/// p[0 ..< 16] = v; p need not be aligned.
@inline(__always)
func storeVector(_ v: Vector16, to p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector16.self)
}

/// to[0 ..< count] = from[0 ..< count] for the short rows the convolution kernels move (10 to
/// 60 floats): whole vectors, the last one overlapping the one before it, so nothing outside
/// either row is read or written. Much cheaper than a memmove call per row. The rows must not
/// overlap each other.
@inline(__always)
func copyFloats(from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>, count: Int) {
    if count >= 16 {
        var i = 0
        while i + 16 <= count {
            storeVector(loadVector(from + i), to: to + i)
            i += 16
        }
        if i < count { storeVector(loadVector(from + count - 16), to: to + count - 16) }
    } else if count >= 8 {
        let (head, tail) = (loadVector8(from), loadVector8(from + count - 8))
        storeVector8(head, to: to)
        storeVector8(tail, to: to + count - 8)
    } else {
        for i in 0..<count { to[i] = from[i] }
    }
}

/// `rows` rows of `width` floats from rows `sourceStride` apart to rows `targetStride` apart, by
/// copyFloats: between a dense plane and the direct kernels' flat planes, either way.
@inline(__always)
func copyRows(
    from source: UnsafePointer<Float>, sourceStride: Int, to target: UnsafeMutablePointer<Float>,
    targetStride: Int, rows: Int, width: Int
) {
    for row in 0..<rows {
        copyFloats(from: source + row * sourceStride, to: target + row * targetStride, count: width)
    }
}

/// `planes` planes of `rows` x `width` floats, each copied by copyRows: an image's channels
/// between the dense [C, H, W] layout and the direct kernels' flat planes, either way. Strides
/// are in floats: between rows, then between planes, on each side.
@inline(__always)
func copyPlanes(
    _ planes: Int, rows: Int, width: Int,
    from source: UnsafePointer<Float>, sourceStride: Int, sourcePlaneStride: Int,
    to target: UnsafeMutablePointer<Float>, targetStride: Int, targetPlaneStride: Int
) {
    for plane in 0..<planes {
        copyRows(
            from: source + plane * sourcePlaneStride, sourceStride: sourceStride,
            to: target + plane * targetPlaneStride, targetStride: targetStride, rows: rows, width: width)
    }
}

/// p[0 ..< 4] as one vector; p need not be aligned.
@inline(__always)
func loadVector4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

/// p[0 ..< 4] = v; p need not be aligned.
@inline(__always)
func storeVector4(_ v: SIMD4<Float>, to p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

/// p[0 ..< 8] as one vector; p need not be aligned.
@inline(__always)
func loadVector8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// p[0 ..< 8] = v; p need not be aligned.
@inline(__always)
func storeVector8(_ v: SIMD8<Float>, to p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// p[0 ..< 32] as one vector (two AVX-512 registers); p need not be aligned.
@inline(__always)
func loadVector32(_ p: UnsafePointer<Float>) -> SIMD32<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self)
}

/// p[0 ..< 32] = v; p need not be aligned.
@inline(__always)
func storeVector32(_ v: SIMD32<Float>, to p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD32<Float>.self)
}

/// p[0 ..< lanes] as one vector (lanes <= 16; the rest zero): a channels-last row's last, short
/// group of channels, read one by one so that nothing past the row is touched.
@inline(__always)
func loadChannels(_ p: UnsafePointer<Float>, lanes: Int) -> SIMD16<Float> {
    if lanes == 16 { return loadVector(p) }
    var v = SIMD16<Float>()
    for l in 0..<lanes { v[l] = p[l] }
    return v
}

/// p[0 ..< lanes] = v[0 ..< lanes] (lanes <= 16), the store that goes with loadChannels.
@inline(__always)
func storeChannels(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Float>, lanes: Int) {
    if lanes == 16 { return storeVector(v, to: p) }
    for l in 0..<lanes { p[l] = v[l] }
}
