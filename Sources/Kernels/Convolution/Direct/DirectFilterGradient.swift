// DirectFilterGradient.swift: the filter and bias gradients of a direct convolution.
//
// With the flat planes of DirectConvolution.swift, every filter tap's gradient is one long dot
// product per image:
//   dw[k, t] += sum over i of dyFlat[k, i] * padded[i + offset(t)],   t = (c * R + r) * S + s
// dyFlat is dy[n, k] laid out with the padded plane's row stride and zeros in the garbage lanes,
// so those lanes add nothing whatever the padded plane holds there. A register tile takes a few
// output channels by a few taps, each sum 16 lanes wide: with AVX2's 16 registers two channels by
// three taps (five loads feed six multiply-adds), with AVX-512's 32 three channels by five taps
// (eight loads feed fifteen). The sums stay 16 lanes wide in a per-worker buffer until the whole
// batch is done; then each is reduced once and the workers' parts are added in worker order, so
// the result repeats exactly.

/// The register tile of the filter gradient and the per-worker buffer of its partial sums:
/// [output channels rounded to whole tiles][taps rounded to whole tiles] vectors, then one vector
/// per channel for the bias.
///
/// The AVX-512 tile is 3 x 5. The 2 x 3 tile, run over two vectors of positions at a time to
/// keep twelve chains going, needed five loads for every six multiply-adds, and most window loads
/// straddle two cache lines (the windows start one float apart); 3 x 5 needs eight for fifteen.
/// Five taps are also a whole row of a 5x5 filter: LeNet's conv1 (6 channels, 25 taps) fills its
/// tiles exactly, where 2 x 3 padded 25 taps to 27.
enum FilterGradientTile {
    static let channels = GemmBlocking.wideTile ? 3 : 2
    static let taps = GemmBlocking.wideTile ? 5 : 3

    static func paddedChannels(_ problem: DirectProblem) -> Int {
        GemmBlocking.roundedUp(problem.outputChannels, toMultipleOf: channels)
    }

    static func paddedTaps(_ problem: DirectProblem) -> Int { GemmBlocking.roundedUp(problem.taps, toMultipleOf: taps) }

    /// Floats of partial sums per worker.
    static func partials(_ problem: DirectProblem) -> Int {
        (paddedChannels(problem) * paddedTaps(problem) + paddedChannels(problem)) * DirectProblem.lanes
    }
}

/// dw += the gradient with respect to the weights, db += with respect to the bias (when given),
/// of the forward `problem`. x: [N, C, H, W], dy: [N, K, P, Q], dw: [K, C, R, S], db: [K].
func directFilterGradient(
    _ problem: DirectProblem, input x: UnsafePointer<Float>,
    outputGradient dy: ImageBatch, weightGradient dw: UnsafeMutablePointer<Float>,
    biasGradient db: UnsafeMutablePointer<Float>?, buffers: borrowing DirectBuffers,
    workers: Int
) {
    if problem.vectorsAlongChannels {
        return channelVectorFilterGradient(
            problem, input: x, outputGradient: dy, weightGradient: dw,
            biasGradient: db, buffers: buffers, workers: workers)
    }
    typealias V = SIMD16<Float>
    let (K, P, Q, L) = (problem.outputChannels, problem.outputHeight, problem.outputWidth, problem.flatLength)
    let (kPadded, tPadded) = (FilterGradientTile.paddedChannels(problem), FilterGradientTile.paddedTaps(problem))
    // The taps past the last one (to make whole triples) read the window's first float; their
    // sums are never used.
    let offsets = buffers.tapOffsets(for: problem) + Array(repeating: 0, count: tPadded - problem.taps)
    let partialStride = buffers.partialGradients.perWorker
    let workers = max(1, min(workers, problem.batch))
    Parallel.forEachWorker(workers) { worker in
        let (image, gradient) = (buffers.paddedImage(for: problem, worker: worker), buffers.gradientRows[worker])
        let sums = buffers.partialGradients[worker]
        sums.update(repeating: 0, count: partialStride)
        for n in Parallel.chunk(worker, of: workers, splitting: problem.batch) {
            problem.pad(x + n * problem.inputImageSize, into: image)
            // Only the valid lanes are written: the garbage lanes (and the rows past K) were
            // zeroed when the buffer was made and stay zero. A dy made from a pool's gradient is
            // made straight into these rows, not made dense and then copied.
            dy.copyImage(
                n, channels: K, height: P, width: Q, into: gradient, rowStride: problem.rowStride,
                planeStride: L, scratch: buffers.madeImages[worker])
            for k in stride(from: 0, to: kPadded, by: FilterGradientTile.channels) {
                for t in stride(from: 0, to: tPadded, by: FilterGradientTile.taps) {
                    let slots = sums + (k * tPadded + t) * DirectProblem.lanes
                    if GemmBlocking.wideTile {
                        accumulateWideTile(
                            gradient: gradient + k * L, flatLength: L, image: image,
                            offsets: (
                                offsets[t], offsets[t + 1], offsets[t + 2], offsets[t + 3],
                                offsets[t + 4]
                            ),
                            into: slots, nextChannel: tPadded * DirectProblem.lanes)
                    } else {
                        accumulateTile(
                            gradient: gradient + k * L, flatLength: L, image: image,
                            offsets: (offsets[t], offsets[t + 1], offsets[t + 2]),
                            into: slots, nextChannel: tPadded * DirectProblem.lanes)
                    }
                }
            }
            for k in 0..<K {
                var total = V()
                for i in stride(from: 0, to: L, by: DirectProblem.lanes) {
                    total += loadVector(gradient + k * L + i)
                }
                let slot = sums + (kPadded * tPadded + k) * DirectProblem.lanes
                storeVector(loadVector(slot) + total, to: slot)
            }
        }
    }
    // Each partial reduced once, the workers' parts added in worker order.
    func reduced(_ index: Int) -> Float {
        buffers.partialGradients.sumInWorkerOrder(
            from: index * DirectProblem.lanes, count: DirectProblem.lanes,
            workers: workers)
    }
    for k in 0..<K {
        for t in 0..<problem.taps { dw[k * problem.taps + t] += reduced(k * tPadded + t) }
        db?[k] += reduced(kPadded * tPadded + k)
    }
}

/// Six partial sums, channels k and k + 1 by three taps, over one image: sixteen lanes each,
/// added into their slots (`nextChannel` floats apart between the two channels).
@inline(__always)
private func accumulateTile(
    gradient: UnsafePointer<Float>, flatLength: Int, image: UnsafePointer<Float>,
    offsets: (Int, Int, Int), into slots: UnsafeMutablePointer<Float>, nextChannel: Int
) {
    let windows = (image + offsets.0, image + offsets.1, image + offsets.2)
    var sums = TwoByThreeSums()
    var i = 0
    while i < flatLength {
        sums.add(gradient, flatLength, windows, at: i)
        i += DirectProblem.lanes
    }
    let lanes = DirectProblem.lanes
    func add(_ v: SIMD16<Float>, at offset: Int) { storeVector(loadVector(slots + offset) + v, to: slots + offset) }
    add(sums.a0, at: 0)
    add(sums.a1, at: lanes)
    add(sums.a2, at: 2 * lanes)
    add(sums.b0, at: nextChannel)
    add(sums.b1, at: nextChannel + lanes)
    add(sums.b2, at: nextChannel + 2 * lanes)
}

/// The tile's six sums: a for channel k, b for channel k + 1, each by three taps.
private struct TwoByThreeSums {
    typealias V = SIMD16<Float>
    var a0 = V(), a1 = V(), a2 = V(), b0 = V(), b1 = V(), b2 = V()

    /// The sixteen positions from flat index i: five loads (two channels of dy, three windows of
    /// the image) for six multiply-adds.
    @inline(__always)
    mutating func add(
        _ gradient: UnsafePointer<Float>, _ flatLength: Int,
        _ windows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>), at i: Int
    ) {
        let (d0, d1) = (loadVector(gradient + i), loadVector(gradient + flatLength + i))
        let (v0, v1, v2) = (loadVector(windows.0 + i), loadVector(windows.1 + i), loadVector(windows.2 + i))
        a0 = a0.addingProduct(d0, v0)
        a1 = a1.addingProduct(d0, v1)
        a2 = a2.addingProduct(d0, v2)
        b0 = b0.addingProduct(d1, v0)
        b1 = b1.addingProduct(d1, v1)
        b2 = b2.addingProduct(d1, v2)
    }
}

/// Fifteen partial sums, channels k, k + 1 and k + 2 by five taps, over one image, added into
/// their slots as `accumulateTile` does. Each step of sixteen positions: eight loads (three
/// channels of dy, five windows of the image) for fifteen multiply-adds, in fifteen chains.
@inline(__always)
private func accumulateWideTile(
    gradient: UnsafePointer<Float>, flatLength: Int, image: UnsafePointer<Float>,
    offsets: (Int, Int, Int, Int, Int), into slots: UnsafeMutablePointer<Float>,
    nextChannel: Int
) {
    typealias V = SIMD16<Float>
    let windows = (image + offsets.0, image + offsets.1, image + offsets.2, image + offsets.3, image + offsets.4)
    var a = (V(), V(), V(), V(), V()), b = a, c = a
    var i = 0
    while i < flatLength {
        let (d0, d1, d2) = (
            loadVector(gradient + i), loadVector(gradient + flatLength + i),
            loadVector(gradient + 2 * flatLength + i)
        )
        @inline(__always)
        func tap(_ window: UnsafePointer<Float>, _ a: inout V, _ b: inout V, _ c: inout V) {
            let v = loadVector(window + i)
            a = a.addingProduct(d0, v)
            b = b.addingProduct(d1, v)
            c = c.addingProduct(d2, v)
        }
        tap(windows.0, &a.0, &b.0, &c.0)
        tap(windows.1, &a.1, &b.1, &c.1)
        tap(windows.2, &a.2, &b.2, &c.2)
        tap(windows.3, &a.3, &b.3, &c.3)
        tap(windows.4, &a.4, &b.4, &c.4)
        i += DirectProblem.lanes
    }
    func addRow(_ sums: (V, V, V, V, V), channel: Int) {
        func add(_ v: V, tap: Int) {
            let slot = slots + channel * nextChannel + tap * DirectProblem.lanes
            storeVector(loadVector(slot) + v, to: slot)
        }
        add(sums.0, tap: 0)
        add(sums.1, tap: 1)
        add(sums.2, tap: 2)
        add(sums.3, tap: 3)
        add(sums.4, tap: 4)
    }
    addRow(a, channel: 0)
    addRow(b, channel: 1)
    addRow(c, channel: 2)
}
