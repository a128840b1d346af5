// VectorMemory.swift: sixteen floats to and from memory, the one way every kernel moves them.
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
