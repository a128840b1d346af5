// DirectChannelVectors.swift: the direct kernels turned around, with their vectors running along
// the output channels instead of along a row. For layers with 16 or more output channels
// (LeNet's conv2: 6 -> 16, 5x5, a 10x10 output).
//
// Why: the flat rows of DirectConvolution.swift pay for their plain loads with garbage lanes. For
// conv2 the output rows are 10 floats but 14 apart, so 44 of every 144 lanes are thrown away, and
// the filter gradient's tile needs five unaligned 16-lane loads (many straddling two cache lines)
// for six multiply-adds. With sixteen output channels in a vector, both passes become the SGEMM
// microkernel's 6 x 16 tile, with the zero-bordered image standing in for the packed A panel:
//   forward   y[p, k:k+16]  = b + sum over taps t of padded[at(p) + offset(t)] * w[t, k:k+16]
//   filter    dw[t, k:k+16] += sum over positions p of padded[at(p) + offset(t)] * dy[p, k:k+16]
// where at(p) is output position p's place in the flat plane. Each step is one aligned 16-lane
// load and six broadcast floats for six multiply-adds: no lane is wasted and no load is split.
// The price is a transpose per image, [P*Q][K] to and from NCHW, of one L1-sized block.

extension DirectProblem {
    /// Whether this problem's kernels vector along the output channels (this file) rather than
    /// along the flat rows: once there are enough channels to fill a vector.
    var vectorsAlongChannels: Bool { outputChannels >= Self.lanes }

    /// Output channels rounded up to whole vectors: the row length of the transposed blocks.
    var paddedOutputChannels: Int { GemmBlocking.roundedUp(outputChannels, toMultipleOf: Self.lanes) }

    /// Output positions rounded up to whole tiles of six.
    var paddedPositions: Int {
        GemmBlocking.roundedUp(outputHeight * outputWidth, toMultipleOf: ChannelVectorTile.rows)
    }

    /// Where output position p = h * Q + w sits in the flat plane: outputOrigin + h * rowStride + w.
    /// The spare positions of the last tile point at the plane's start; their results are dropped.
    func positionOffsets() -> [Int] {
        var offsets: [Int] = []
        for h in 0..<outputHeight {
            for w in 0..<outputWidth { offsets.append(outputOrigin + h * rowStride + w) }
        }
        return offsets + Array(repeating: 0, count: paddedPositions - offsets.count)
    }
}

/// The register tile: six rows (output positions forward, filter taps for the gradient) by one
/// 16-channel vector, twelve AVX2 registers of sums.
enum ChannelVectorTile {
    static let rows = 6

    /// Taps rounded up to whole tiles, for the filter gradient.
    static func paddedTaps(_ problem: DirectProblem) -> Int { GemmBlocking.roundedUp(problem.taps, toMultipleOf: rows) }

    /// Floats of partial filter gradients per worker: [padded taps][padded channels], then the
    /// bias's [padded channels].
    static func partials(_ problem: DirectProblem) -> Int {
        (paddedTaps(problem) + 1) * problem.paddedOutputChannels
    }
}

/// y = f(conv(x) + b) as in `directConvolve`, sixteen output channels per vector.
func channelVectorConvolve(
    _ problem: DirectProblem, input x: ImageBatch, weight w: UnsafePointer<Float>,
    bias b: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
    activation: FusedActivation, buffers: borrowing DirectBuffers, workers: Int,
    afterImage: (Int) -> Void
) {
    let (K, kPadded, taps) = (problem.outputChannels, problem.paddedOutputChannels, problem.taps)
    let (filters, biases) = (buffers.packedFilters.pointer, buffers.packedBias.pointer)
    problem.packFilters(w, into: filters, block: kPadded)
    biases.update(repeating: 0, count: kPadded)
    if let b { biases.update(from: b, count: K) }
    let plane = problem.outputHeight * problem.outputWidth
    let workers = max(1, min(workers, problem.batch))
    let tiles = kPadded / DirectProblem.lanes * problem.paddedPositions / ChannelVectorTile.rows
    let linesPerTile = (K * plane + DirectProblem.lanes * tiles - 1) / (DirectProblem.lanes * tiles)
    let (tapOffsets, positionOffsets) = (buffers.tapOffsets(for: problem), buffers.positionOffsets(for: problem))
    tapOffsets.withUnsafeBufferPointer { tapOffsets in
        positionOffsets.withUnsafeBufferPointer { positionOffsets in
            Parallel.forEachItem(problem.batch, workers: workers) { worker, n in
                // rows: [padded positions][padded channels], the output before its transpose.
                let (image, rows) = (buffers.paddedImage(for: problem, worker: worker), buffers.flat[worker])
                // The image's output lines, requested a few per tile (see OutputPlanes).
                let out = y + n * problem.outputImageStride,
                    destination = OutputPlanes(start: out, size: K * plane, count: 1)
                problem.pad(x.image(n, size: problem.inputImageSize, scratch: buffers.madeImages[worker]), into: image)
                var tile = 0
                for k in stride(from: 0, to: kPadded, by: DirectProblem.lanes) {
                    for p in stride(from: 0, to: problem.paddedPositions, by: ChannelVectorTile.rows) {
                        for line in (tile * linesPerTile)..<((tile + 1) * linesPerTile) {
                            destination.prefetchLine(at: line * DirectProblem.lanes)
                        }
                        tile += 1
                        positionTile(
                            taps: taps, tapOffsets: tapOffsets.baseAddress!, image: image,
                            positions: positionOffsets.baseAddress! + p, filters: filters + k,
                            filterStride: kPadded, bias: biases + k,
                            output: rows + p * kPadded + k, outputStride: kPadded)
                    }
                }
                for k in 0..<K {
                    for p in 0..<plane { out[k * plane + p] = rows[p * kPadded + k] }
                }
                if activation != .none { applyActivation(out, out, count: K * plane, bias: 0, activation) }
                afterImage(n)
            }
        }
    }
}

/// Six output positions by sixteen channels: output[j * outputStride ..< +16] = bias + the sum
/// over taps t of image[positions[j] + tapOffsets[t]] * filters[t * filterStride ..< +16].
/// Not inlined: inside the caller's loops the optimizer unrolled the tap loop twice, loaded all
/// twelve broadcasts first and spilled half the sums to the stack.
@inline(never) @_optimize(size)
private func positionTile(
    taps: Int, tapOffsets: UnsafePointer<Int>, image: UnsafePointer<Float>,
    positions: UnsafePointer<Int>, filters: UnsafePointer<Float>, filterStride: Int,
    bias: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int
) {
    let b = loadVector(bias)
    var (c0, c1, c2, c3, c4, c5) = (b, b, b, b, b, b)
    let (p0, p1, p2) = (positions[0], positions[1], positions[2])
    let (p3, p4, p5) = (positions[3], positions[4], positions[5])
    var f = filters
    for t in 0..<taps {
        let window = image + tapOffsets[t]
        let g = loadVector(f)
        c0 = c0.addingProduct(window[p0], g)
        c1 = c1.addingProduct(window[p1], g)
        c2 = c2.addingProduct(window[p2], g)
        c3 = c3.addingProduct(window[p3], g)
        c4 = c4.addingProduct(window[p4], g)
        c5 = c5.addingProduct(window[p5], g)
        f += filterStride
    }
    storeVector(c0, to: output)
    storeVector(c1, to: output + outputStride)
    storeVector(c2, to: output + 2 * outputStride)
    storeVector(c3, to: output + 3 * outputStride)
    storeVector(c4, to: output + 4 * outputStride)
    storeVector(c5, to: output + 5 * outputStride)
}

/// dw += dL/dw and db += dL/db as in `directFilterGradient`, sixteen output channels per vector.
/// Each worker sums its images into its own partials; they are added in worker order at the end,
/// so the result repeats exactly.
func channelVectorFilterGradient(
    _ problem: DirectProblem, input x: UnsafePointer<Float>,
    outputGradient dy: ImageBatch, weightGradient dw: UnsafeMutablePointer<Float>,
    biasGradient db: UnsafeMutablePointer<Float>?, buffers: borrowing DirectBuffers,
    workers: Int
) {
    let (K, kPadded, taps) = (problem.outputChannels, problem.paddedOutputChannels, problem.taps)
    let tPadded = ChannelVectorTile.paddedTaps(problem)
    let plane = problem.outputHeight * problem.outputWidth
    // The spare taps of the last tile read the window's first float; their sums are never used.
    let tapOffsets = buffers.tapOffsets(for: problem) + Array(repeating: 0, count: tPadded - taps)
    let partialStride = buffers.partialGradients.perWorker
    let workers = max(1, min(workers, problem.batch))
    buffers.positionOffsets(for: problem).withUnsafeBufferPointer { positionOffsets in
        Parallel.forEachWorker(workers) { worker in
            // transposed: dy of one image as [positions][padded channels]; the channels past K were
            // zeroed when the buffer was made and stay zero.
            let (image, transposed) = (buffers.paddedImage(for: problem, worker: worker), buffers.gradientRows[worker])
            let sums = buffers.partialGradients[worker]
            sums.update(repeating: 0, count: partialStride)
            for n in Parallel.chunk(worker, of: workers, splitting: problem.batch) {
                problem.pad(x + n * problem.inputImageSize, into: image)
                let source = dy.image(n, size: K * plane, scratch: buffers.madeImages[worker])
                for k in 0..<K {
                    for p in 0..<plane { transposed[p * kPadded + k] = source[k * plane + p] }
                }
                for k in stride(from: 0, to: kPadded, by: DirectProblem.lanes) {
                    for t in stride(from: 0, to: tPadded, by: ChannelVectorTile.rows) {
                        tapTile(
                            offsets: (
                                tapOffsets[t], tapOffsets[t + 1], tapOffsets[t + 2],
                                tapOffsets[t + 3], tapOffsets[t + 4], tapOffsets[t + 5]
                            ),
                            image: image, positions: positionOffsets.baseAddress!, count: plane,
                            gradient: transposed + k, gradientStride: kPadded,
                            into: sums + t * kPadded + k, slotStride: kPadded)
                    }
                    var total = Vector16()
                    for p in 0..<plane { total += loadVector(transposed + p * kPadded + k) }
                    let slot = sums + tPadded * kPadded + k
                    storeVector(loadVector(slot) + total, to: slot)
                }
            }
        }
    }
    func reduced(_ index: Int) -> Float {
        buffers.partialGradients.sumInWorkerOrder(from: index, count: 1, workers: workers)
    }
    for k in 0..<K {
        for t in 0..<taps { dw[k * taps + t] += reduced(t * kPadded + k) }
        db?[k] += reduced(tPadded * kPadded + k)
    }
}

/// Six taps by sixteen channels over one image's positions: slots[j * slotStride ..< +16] += the
/// sum over p of image[positions[p] + offsets.j] * gradient[p * gradientStride ..< +16].
@inline(__always)
private func tapTile(
    offsets: (Int, Int, Int, Int, Int, Int), image: UnsafePointer<Float>,
    positions: UnsafePointer<Int>, count: Int, gradient: UnsafePointer<Float>, gradientStride: Int,
    into slots: UnsafeMutablePointer<Float>, slotStride: Int
) {
    var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16(), a4 = Vector16(), a5 = Vector16()
    let (o0, o1, o2, o3, o4, o5) = offsets
    var d = gradient
    for p in 0..<count {
        let window = image + positions[p]
        let g = loadVector(d)
        a0 = a0.addingProduct(window[o0], g)
        a1 = a1.addingProduct(window[o1], g)
        a2 = a2.addingProduct(window[o2], g)
        a3 = a3.addingProduct(window[o3], g)
        a4 = a4.addingProduct(window[o4], g)
        a5 = a5.addingProduct(window[o5], g)
        d += gradientStride
    }
    func add(_ v: Vector16, at row: Int) {
        let slot = slots + row * slotStride
        storeVector(loadVector(slot) + v, to: slot)
    }
    add(a0, at: 0)
    add(a1, at: 1)
    add(a2, at: 2)
    add(a3, at: 3)
    add(a4, at: 4)
    add(a5, at: 5)
}
