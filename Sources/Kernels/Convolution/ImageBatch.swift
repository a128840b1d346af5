// ImageBatch.swift: a batch of [C, H, W] images as a convolution kernel reads them, one image at
// a time: stored in an [N, C, H, W] tensor, or made on demand.
//
// The second case is a convolution's dL/dy coming back through the pooling layer after it (and
// the activation between them). Made image by image inside the convolution's backward, into the
// worker's own scratch, the batch's gradient is never written out whole: for LeNet's conv1 at
// batch 256 that is a 4.8 MB tensor written by the pooling backward and read back by the filter
// gradient, each image's part long gone from the cache by then. Made where it is used, the part
// is read while it is still in L1.

public enum ImageBatch {
    case stored(UnsafePointer<Float>)
    case throughPool(PooledGradient)

    /// Image n, `size` floats: in place, or made into `scratch` (room for one image).
    @inline(__always)
    func image(_ n: Int, size: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        switch self {
        case .stored(let batch): return batch + n * size
        case .throughPool(let pooled):
            pooled.image(n, into: scratch)
            return UnsafePointer(scratch)
        }
    }

    /// Image n's C planes of H x W into planes `planeStride` floats apart with rows `rowStride`
    /// apart, only the H x W values written (the direct filter gradient's flat layout).
    func copyImage(
        _ n: Int, channels: Int, height: Int, width: Int, into target: UnsafeMutablePointer<Float>,
        rowStride: Int, planeStride: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        switch self {
        case .stored(let batch):
            copyPlanes(
                channels, rows: height, width: width,
                from: batch + n * channels * height * width, sourceStride: width, sourcePlaneStride: height * width,
                to: target, targetStride: rowStride, targetPlaneStride: planeStride)
        case .throughPool(let pooled):
            pooled.image(n, into: target, rowStride: rowStride, planeStride: planeStride, scratch: scratch)
        }
    }

    /// body(the whole batch, stored), for the kernels that read it whole: made first, into a
    /// buffer that lives for the call, when it is not stored already.
    public func withStored<Result>(_ body: (UnsafePointer<Float>) -> Result) -> Result {
        switch self {
        case .stored(let batch): return body(batch)
        case .throughPool(let pooled):
            let whole = AlignedBuffer(count: pooled.geometry.batch * pooled.imageSize)
            pooled.write(into: whole.pointer)
            return body(whole.pointer)
        }
    }
}
