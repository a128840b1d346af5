// RowMaxPool.swift: max pooling at stride 1 (Inception's pool branch: 3x3, padding 1) or 2
// (AlexNet's, NiN's and GoogLeNet's 3x3 pools), sixteen outputs of a row at a time.
//
// The general plane loop (Pooling.swift) clips every window to the image and compares one value
// at a time; GoogLeNet's nine pool branches spent about a fifth of its inference there. Here the
// plane is first copied into a scratch plane with the padding written as -infinity, so that
// every window is whole and sixteen neighbouring outputs read, per tap, sixteen values: at
// stride 1 neighbouring ones, at stride 2 the even lanes of a 32-float load. The result is the
// scalar loop's to the bit, winners included: taps are visited in the same row-major order and
// a value wins only when it is greater, so padding, which is -infinity, never wins, and a window
// of -infinity keeps its first in-image position. A plane with a NaN, which must win its window,
// goes to the plane loop.

/// Whether `rowMaxPoolPlane` takes this geometry: stride 1 or 2 both ways, and a padded plane
/// that fits the stack scratch.
func rowMaxPoolFits(_ g: PoolingGeometry) -> Bool {
    (1...2).contains(g.strideWidth) && g.strideHeight == g.strideWidth
        && (g.inputHeight + 2 * g.paddingHeight) * paddedRowStride(g) <= rowMaxPoolScratchFloats
}

/// 64 KB of stack: a 96 x 96 plane padded by 1 with rows rounded up to whole vectors fits at
/// stride 1, AlexNet's 54 x 54 at stride 2.
let rowMaxPoolScratchFloats = 16_384

/// Scratch row stride: the padded width, and room for the last vector of outputs to read whole
/// windows past the row's end (those lanes are computed and never stored): the last load of a
/// row starts at stride * (its first output) + S - 1 and reads 16 * stride floats.
@inline(__always)
private func paddedRowStride(_ g: PoolingGeometry) -> Int {
    (g.outputWidth + 15) / 16 * 16 * g.strideWidth + g.windowWidth - 1
}

/// One plane of max pooling at stride 1 or 2 (with each window's winner when `winners` is
/// given), as maxPoolPlane computes it.
func rowMaxPoolPlane(
    _ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    winners: UnsafeMutablePointer<Int32>?
) {
    let rowStride = paddedRowStride(g), rows = g.inputHeight + 2 * g.paddingHeight
    withUnsafeTemporaryAllocation(of: Float.self, capacity: rows * rowStride) { buffer in
        let padded = buffer.baseAddress!
        padded.initialize(repeating: -.infinity, count: rows * rowStride)
        for h in 0..<g.inputHeight {
            (padded + (h + g.paddingHeight) * rowStride + g.paddingWidth)
                .update(from: input + h * g.inputWidth, count: g.inputWidth)
        }
        // Every value read, summed: NaN if any was NaN (or +inf met the padding's -inf). A NaN
        // must win its window, which a comparison cannot tell; such a plane goes to the plane loop.
        var total = SIMD16<Float>.zero
        let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let width = Int32(g.inputWidth)
        let step = g.strideWidth
        for p in 0..<g.outputHeight {
            // The window's first in-image row; the first in-image column is per lane.
            let top = p * step - g.paddingHeight, firstRow = Int32(max(top, 0))
            for q0 in stride(from: 0, to: g.outputWidth, by: 16) {
                let left = Int32(step) &* (lane &+ Int32(q0)) &- Int32(g.paddingWidth)
                // max(left, 0) by arithmetic: a SIMD integer comparison here was built lane by lane.
                let firstColumn = left & ~(left &>> 31)
                var best = SIMD16<Float>(repeating: -.infinity)
                var index = firstRow &* width &+ firstColumn
                for r in 0..<g.windowHeight {
                    let row = padded + (p * step + r) * rowStride + q0 * step
                    let inputRow = Int32(top + r) &* width
                    for s in 0..<g.windowWidth {
                        // Tap s of sixteen windows: columns s + step * lane of the row.
                        let value =
                            step == 1
                            ? UnsafeRawPointer(row + s).loadUnaligned(as: SIMD16<Float>.self)
                            : UnsafeRawPointer(row + s).loadUnaligned(as: SIMD32<Float>.self).evenHalf
                        let wins = value .> best
                        best.replace(with: value, where: wins)
                        total += value
                        index.replace(with: inputRow &+ left &+ Int32(s), where: wins)
                    }
                }
                let count = min(16, g.outputWidth - q0)
                let out = p * g.outputWidth + q0
                for i in 0..<count { output[out + i] = best[i] }
                if let winners { for i in 0..<count { winners[out + i] = index[i] } }
            }
        }
        if total.sum().isNaN { maxPoolPlane(g, input: input, output: output, winners: winners) }
    }
}
