// DirectFilterGradient.swift: the filter and bias gradients of a direct convolution.
//
// With the flat planes of DirectConvolution.swift, every filter tap's gradient is one long dot
// product per image:
//   dw[k, t] += sum over i of dyFlat[k, i] * padded[i + offset(t)],   t = (c * R + r) * S + s
// dyFlat is dy[n, k] laid out with the padded plane's row stride and zeros in the garbage lanes,
// so those lanes add nothing whatever the padded plane holds there. A register tile takes two
// output channels and three taps: five 16-lane loads feed six multiply-adds. Its six sums stay
// 16 lanes wide in a per-worker buffer until the whole batch is done; then each is reduced once
// and the workers' parts are added in worker order, so the result repeats exactly.

/// The register tile of the filter gradient and the per-worker buffer of its partial sums:
/// [output channels rounded to pairs][taps rounded to triples] vectors, then one vector per
/// channel for the bias.
enum FilterGradientTile {
    static let channels = 2, taps = 3

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
func directFilterGradient(_ problem: DirectProblem, input x: UnsafePointer<Float>,
                          outputGradient dy: ImageBatch, weightGradient dw: UnsafeMutablePointer<Float>,
                          biasGradient db: UnsafeMutablePointer<Float>?, buffers: borrowing DirectBuffers,
                          workers: Int) {
    if problem.vectorsAlongChannels {
        return channelVectorFilterGradient(problem, input: x, outputGradient: dy, weightGradient: dw,
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
            // made straight into these rows, not made dense and then copied (LeNet's conv1: a
            // training step 1.5% faster in 400 alternated steps, 5 runs).
            dy.copyImage(n, channels: K, height: P, width: Q, into: gradient, rowStride: problem.rowStride,
                         planeStride: L, scratch: buffers.madeImages[worker])
            for k in stride(from: 0, to: kPadded, by: FilterGradientTile.channels) {
                for t in stride(from: 0, to: tPadded, by: FilterGradientTile.taps) {
                    accumulateTile(gradient: gradient + k * L, flatLength: L, image: image,
                                   offsets: (offsets[t], offsets[t + 1], offsets[t + 2]),
                                   into: sums + (k * tPadded + t) * DirectProblem.lanes,
                                   nextChannel: tPadded * DirectProblem.lanes)
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
        buffers.partialGradients.sumInWorkerOrder(from: index * DirectProblem.lanes, count: DirectProblem.lanes,
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
private func accumulateTile(gradient: UnsafePointer<Float>, flatLength: Int, image: UnsafePointer<Float>,
                            offsets: (Int, Int, Int), into slots: UnsafeMutablePointer<Float>, nextChannel: Int) {
    let windows = (image + offsets.0, image + offsets.1, image + offsets.2)
    var sums = TwoByThreeSums()
    var i = 0
    if GemmBlocking.wideTile {
        // With AVX-512's 32 registers, two vectors of positions per step into two sets of sums:
        // twelve chains rather than six, enough to cover the FMA's latency on both units.
        var odd = TwoByThreeSums()
        while i + 2 * DirectProblem.lanes <= flatLength {
            sums.add(gradient, flatLength, windows, at: i)
            odd.add(gradient, flatLength, windows, at: i + DirectProblem.lanes)
            i += 2 * DirectProblem.lanes
        }
        sums.add(odd)
    }
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
    mutating func add(_ gradient: UnsafePointer<Float>, _ flatLength: Int,
                      _ windows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>), at i: Int) {
        let (d0, d1) = (loadVector(gradient + i), loadVector(gradient + flatLength + i))
        let (v0, v1, v2) = (loadVector(windows.0 + i), loadVector(windows.1 + i), loadVector(windows.2 + i))
        a0 = a0.addingProduct(d0, v0)
        a1 = a1.addingProduct(d0, v1)
        a2 = a2.addingProduct(d0, v2)
        b0 = b0.addingProduct(d1, v0)
        b1 = b1.addingProduct(d1, v1)
        b2 = b2.addingProduct(d1, v2)
    }

    @inline(__always)
    mutating func add(_ other: TwoByThreeSums) {
        (a0, a1, a2) = (a0 + other.a0, a1 + other.a1, a2 + other.a2)
        (b0, b1, b2) = (b0 + other.b0, b1 + other.b1, b2 + other.b2)
    }
}
