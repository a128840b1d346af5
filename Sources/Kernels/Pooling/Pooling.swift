// Pooling.swift: max, average and adaptive-average pooling, forward and backward.
//
// Letters: N batch, C channels, H W input size, R S window size, P Q output size.
//   x: [N, C, H, W] -> y: [N, C, P, Q], each of the N*C planes pooled on its own (so the planes
//   are spread over the workers). P = floor((H + 2*pad - R) / stride) + 1, as PyTorch rounds.
// Max pooling remembers, for every output, which input position won (Caffe's argmax), so that
// backward is a scatter rather than a second search. Padding never wins a max, and average
// pooling counts padded positions in its divisor (PyTorch's count_include_pad=True default).

public struct PoolingGeometry: Sendable, Hashable, CustomStringConvertible {
    public let batch: Int, channels: Int, inputHeight: Int, inputWidth: Int
    public let windowHeight: Int, windowWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let paddingHeight: Int, paddingWidth: Int
    /// Stored rather than computed: the per-plane loops ask for them on every plane, and each
    /// would be an integer division (LeNet's backward asks about 130 times per image).
    public let outputHeight: Int, outputWidth: Int

    public init(
        batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        windowHeight: Int, windowWidth: Int, strideHeight: Int, strideWidth: Int,
        paddingHeight: Int = 0, paddingWidth: Int = 0
    ) {
        self.batch = batch
        self.channels = channels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.windowHeight = windowHeight
        self.windowWidth = windowWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
        outputHeight = (inputHeight + 2 * paddingHeight - windowHeight) / strideHeight + 1
        outputWidth = (inputWidth + 2 * paddingWidth - windowWidth) / strideWidth + 1
        // PyTorch's rule: padding at most half the window, so every window touches the image.
        precondition(
            2 * paddingHeight <= windowHeight && 2 * paddingWidth <= windowWidth,
            "\(self): padding must be at most half the window")
        precondition(outputHeight >= 1 && outputWidth >= 1, "\(self): the window does not fit the input")
    }

    public var planes: Int { batch * channels }
    public var inputPlane: Int { inputHeight * inputWidth }
    public var outputPlane: Int { outputHeight * outputWidth }

    /// A 2x2 window without padding (LeNet's): it never leaves the image, so nothing needs clipping.
    var isUnpadded2x2: Bool { windowHeight == 2 && windowWidth == 2 && paddingHeight == 0 && paddingWidth == 0 }

    /// The input rows and columns window (p, q) covers, clipped to the image.
    @inline(__always)
    func window(_ p: Int, _ q: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let top = p * strideHeight - paddingHeight, left = q * strideWidth - paddingWidth
        return (
            max(top, 0)..<min(top + windowHeight, inputHeight),
            max(left, 0)..<min(left + windowWidth, inputWidth)
        )
    }

    public var description: String {
        "pool [\(batch), \(channels), \(inputHeight), \(inputWidth)], window \(windowHeight)x\(windowWidth), "
            + "stride \(strideHeight)x\(strideWidth), padding \(paddingHeight)x\(paddingWidth)"
    }
}

/// y = the maximum of each window; argmax[i] = the winning position h*W + w within its plane.
/// A NaN anywhere in a window wins, so that it propagates as in PyTorch.
public func maxPoolForward(
    _ g: PoolingGeometry, input x: UnsafePointer<Float>,
    output y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
) {
    PoolingForward(g, input: x, output: y, operation: .maximum(winners: argmax)).run()
}

/// dx = each output gradient sent back to the position that won its window (overwrites dx),
/// then, when the input came out of an activation, times that activation's slope.
public func maxPoolBackward(
    _ g: PoolingGeometry, outputGradient dy: UnsafePointer<Float>,
    argmax: UnsafePointer<Int32>, inputGradient dx: UnsafeMutablePointer<Float>,
    through activation: ActivationOutput? = nil
) {
    PooledGradient(g, outputGradient: dy, argmax: argmax, through: activation).write(into: dx)
}

/// y = the mean of each window, padding counted as zeros in the divisor R*S.
public func averagePoolForward(
    _ g: PoolingGeometry, input x: UnsafePointer<Float>,
    output y: UnsafeMutablePointer<Float>
) {
    PoolingForward(g, input: x, output: y, operation: .average).run()
}

/// A pooling layer's forward, plane by plane: what maxPoolForward and averagePoolForward run
/// over the whole batch, and what a convolution before the pool runs image by image as it
/// writes each image's output (with its activation), while that output is still in L1.
public struct PoolingForward {
    let geometry: PoolingGeometry
    /// x: [N, C, H, W] and y: [N, C, P, Q].
    let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    let operation: PoolingOperation

    public init(
        _ geometry: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        operation: PoolingOperation
    ) {
        self.geometry = geometry
        self.input = input
        self.output = output
        self.operation = operation
    }

    /// Every plane, spread over the workers.
    public func run() { Parallel.parallelFor(geometry.planes) { plane($0) } }

    /// Image n's C planes, on the calling thread.
    public func image(_ n: Int) {
        for c in 0..<geometry.channels { plane(n * geometry.channels + c) }
    }

    func plane(_ plane: Int) {
        let g = geometry
        let (x, y) = (input + plane * g.inputPlane, output + plane * g.outputPlane)
        switch operation {
        case let .maximum(argmax):
            let winners = argmax.map { $0 + plane * g.outputPlane }
            if g.isUnpadded2x2 && g.strideHeight == 2 && g.strideWidth == 2 {
                maxPool2x2Plane(g, input: x, output: y, winners: winners)
            } else if rowMaxPoolFits(g) {
                rowMaxPoolPlane(g, input: x, output: y, winners: winners)
            } else {
                maxPoolPlane(g, input: x, output: y, winners: winners)
            }
        case .average:
            if g.isUnpadded2x2 {
                averagePool2x2Plane(g, input: x, output: y)
            } else {
                averagePoolPlane(g, input: x, output: y)
            }
        }
    }
}

/// What a pooling forward computes: the mean of each window, or its maximum, with each window's
/// winner (its position h * W + w in the plane) written where backward needs it ([N, C, P, Q];
/// nil in inference, where nothing will go backward).
public enum PoolingOperation {
    case average
    case maximum(winners: UnsafeMutablePointer<Int32>?)
}

/// One plane of max pooling, with each window's winner when `winners` is given.
func maxPoolPlane(
    _ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    winners: UnsafeMutablePointer<Int32>?
) {
    for p in 0..<g.outputHeight {
        for q in 0..<g.outputWidth { maxPoolWindow(g, input: input, output: output, winners: winners, p, q) }
    }
}

/// Output (p, q) of max pooling: its window's values in row-major order, a later one winning
/// only when it is greater, or when it is NaN (which ends the search, so NaN propagates).
@inline(__always)
private func maxPoolWindow(
    _ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    winners: UnsafeMutablePointer<Int32>?, _ p: Int, _ q: Int
) {
    let (rows, columns) = g.window(p, q)
    var best = -Float.infinity, bestIndex = rows.lowerBound * g.inputWidth + columns.lowerBound
    search: for h in rows {
        for w in columns {
            let value = input[h * g.inputWidth + w]
            if value > best || value.isNaN {
                best = value
                bestIndex = h * g.inputWidth + w
                if value.isNaN { break search }
            }
        }
    }
    output[p * g.outputWidth + q] = best
    winners?[p * g.outputWidth + q] = Int32(bestIndex)
}

/// Where a max pool's candidate values take their windows from `best`, lane by lane: when
/// greater, or NaN, unless the window already holds a NaN, so that the first NaN wins and
/// propagates as maxPoolWindow's search does. Every vector max-pool kernel decides by it.
/// One overload per concrete width, not one generic function: a generic SIMD's comparisons
/// resolve to the standard library's lane-by-lane loops, which made the pools 20x slower.
@inline(__always)
func maxPoolTakes(_ candidate: SIMD16<Float>, over best: SIMD16<Float>) -> SIMDMask<SIMD16<Int32>> {
    (candidate .> best .| candidate .!= candidate) .& (best .== best)
}

/// maxPoolTakes on eight lanes (the 2x2 row kernel's eight windows).
@inline(__always)
func maxPoolTakes(_ candidate: SIMD8<Float>, over best: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
    (candidate .> best .| candidate .!= candidate) .& (best .== best)
}

/// One plane of 2x2 max pooling at stride 2 without padding (all of VGG's pools), eight outputs
/// of a row at a time: a 16-float load from each of the two input rows, split into even and odd
/// columns, gives the four values of eight windows. The same result as maxPoolWindow, winners
/// included: the four in row-major order, each later one taking the window when it is greater or
/// NaN, unless the window already holds a NaN. The general loop clipped and searched each window
/// value by value. Outputs whose 16-float load would pass the row's end go through maxPoolWindow.
func maxPool2x2Plane(
    _ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    winners: UnsafeMutablePointer<Int32>?
) {
    let (W, Q) = (g.inputWidth, g.outputWidth)
    // Outputs q < vectorEnd are computed eight at a time: for the last start q, outputs
    // q ..< q + 8 exist and columns 2q ..< 2q + 16 lie in the row.
    let lastStart = W >= 16 ? min(Q - 8, (W - 16) / 2) : -1
    let vectorEnd = lastStart >= 0 ? (lastStart / 8 + 1) * 8 : 0
    let lane = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    for p in 0..<g.outputHeight {
        let (top, bottom) = (input + 2 * p * W, input + (2 * p + 1) * W)
        var q = 0
        while q < vectorEnd {
            let (upper, lower) = (loadVector(top + 2 * q), loadVector(bottom + 2 * q))
            var best = upper.evenHalf, which = SIMD8<Int32>(repeating: 0)
            @inline(__always) func consider(_ candidate: SIMD8<Float>, _ k: Int32) {
                let takes = maxPoolTakes(candidate, over: best)
                best.replace(with: candidate, where: takes)
                which.replace(with: k, where: takes)
            }
            consider(upper.oddHalf, 1)
            consider(lower.evenHalf, 2)
            consider(lower.oddHalf, 3)
            storeVector8(best, to: output + p * Q + q)
            if let winners {
                // Window k of the eight starts at (2p, 2(q + k)); which = 2 * row + column in it.
                let index = (Int32(2 * p) &+ (which &>> 1)) &* Int32(W) &+ Int32(2 * q) &+ 2 &* lane &+ (which & 1)
                UnsafeMutableRawPointer(winners + p * Q + q).storeBytes(of: index, as: SIMD8<Int32>.self)
            }
            q += 8
        }
        for q in vectorEnd..<Q { maxPoolWindow(g, input: input, output: output, winners: winners, p, q) }
    }
}

/// One plane of the general average pooling.
private func averagePoolPlane(_ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let divisor = Float(g.windowHeight * g.windowWidth)
    for p in 0..<g.outputHeight {
        for q in 0..<g.outputWidth {
            let (rows, columns) = g.window(p, q)
            var sum: Float = 0
            for h in rows { for w in columns { sum += input[h * g.inputWidth + w] } }
            output[p * g.outputWidth + q] = sum / divisor
        }
    }
}

/// dx = each output gradient spread evenly over its window (overwrites dx), then, when the
/// input came out of an activation, times that activation's slope.
public func averagePoolBackward(
    _ g: PoolingGeometry, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>,
    through activation: ActivationOutput? = nil
) {
    PooledGradient(g, outputGradient: dy, argmax: nil, through: activation).write(into: dx)
}

/// The input gradient of a pooling layer (and of the activation before it, when there is one),
/// plane by plane: what maxPoolBackward and averagePoolBackward write for the whole batch, and
/// what a convolution before them reads one image at a time (ImageBatch.throughPool), so that
/// the batch's gradient is never written out whole.
public struct PooledGradient {
    let geometry: PoolingGeometry
    /// dL/d(pool output): [N, C, P, Q].
    let outputGradient: UnsafePointer<Float>
    /// Max pooling's winners ([N, C, P, Q], positions within their plane); nil for average pooling.
    let argmax: UnsafePointer<Int32>?
    let activation: ActivationOutput?

    public init(
        _ geometry: PoolingGeometry, outputGradient: UnsafePointer<Float>, argmax: UnsafePointer<Int32>?,
        through activation: ActivationOutput?
    ) {
        self.geometry = geometry
        self.outputGradient = outputGradient
        self.argmax = argmax
        self.activation = activation
    }

    /// Floats in one image's input gradient: C * H * W.
    var imageSize: Int { geometry.channels * geometry.inputPlane }

    /// [N, C, H, W]: the shape of the input gradient.
    public var inputShape: [Int] { [geometry.batch, geometry.channels, geometry.inputHeight, geometry.inputWidth] }

    /// The whole batch's input gradient into dx, the planes spread over the workers.
    public func write(into dx: UnsafeMutablePointer<Float>) {
        Parallel.parallelFor(geometry.planes) { plane in self.plane(plane, into: dx + plane * geometry.inputPlane) }
    }

    /// Plane `plane` (of N * C) of the input gradient into `gradient` (H * W floats), overwritten.
    func plane(_ plane: Int, into gradient: UnsafeMutablePointer<Float>) {
        let g = geometry
        let upstream = outputGradient + plane * g.outputPlane
        activation?.prefetch(offset: plane * g.inputPlane, count: g.inputPlane)
        if let argmax {
            gradient.update(repeating: 0, count: g.inputPlane)
            let winners = argmax + plane * g.outputPlane
            // Overlapping windows (AlexNet's 3x3 stride 2) can share a winner: gradients add up.
            for i in 0..<g.outputPlane { gradient[Int(winners[i])] += upstream[i] }
        } else if g.isUnpadded2x2 {
            averagePool2x2Backward(g, upstream: upstream, into: gradient)
        } else {
            averagePoolPlaneBackward(g, upstream: upstream, into: gradient)
        }
        activation?.applySlope(to: gradient, offset: plane * g.inputPlane, count: g.inputPlane)
    }

    /// Image n's input gradient into C planes `planeStride` floats apart, their rows `rowStride`
    /// floats apart (the direct kernels' flat layout); only the H x W values of each are
    /// written. `scratch` holds one plane, for the poolings this cannot write in place.
    public func image(
        _ n: Int, into gradient: UnsafeMutablePointer<Float>, rowStride: Int, planeStride: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, inPlace = spreadsInPlace
        for c in 0..<g.channels {
            let plane = n * g.channels + c, target = gradient + c * planeStride
            if inPlace {
                spread(plane, into: target, rowStride: rowStride)
                continue
            }
            self.plane(plane, into: scratch)
            copyRows(
                from: scratch, sourceStride: g.inputWidth, to: target, targetStride: rowStride,
                rows: g.inputHeight, width: g.inputWidth)
        }
    }

    /// Whether `spread` can make a plane: LeNet's 2x2 average pools, whose windows tile the
    /// plane exactly, after a sigmoid or no activation.
    var spreadsInPlace: Bool {
        let g = geometry
        let slopeIsSimple = activation.map { $0.activation != .relu } ?? true
        return argmax == nil && g.isUnpadded2x2 && g.strideHeight == 2 && g.strideWidth == 2 && g.outputWidth >= 8
            && g.inputWidth == 2 * g.outputWidth && g.inputHeight == 2 * g.outputHeight && slopeIsSimple
    }

    /// One plane of the input gradient straight into rows `rowStride` apart: each output
    /// gradient's quarter to its four inputs, times the sigmoid's slope there, in one pass (the
    /// same arithmetic as `plane` and then applySlope, so the same bits).
    private func spread(_ plane: Int, into target: UnsafeMutablePointer<Float>, rowStride: Int) {
        let g = geometry, Q = g.outputWidth, W = g.inputWidth
        let upstream = outputGradient + plane * g.outputPlane
        let offset = plane * g.inputPlane
        activation?.prefetch(offset: offset, count: g.inputPlane)
        let slopes = activation.flatMap { $0.activation == .sigmoid ? $0.output + offset : nil }
        for p in 0..<g.outputHeight {
            let (top, bottom) = (target + 2 * p * rowStride, target + (2 * p + 1) * rowStride)
            guard let slopes else {
                spreadQuarters(upstream + p * Q, into: top, and: bottom, count: Q)
                continue
            }
            forEachStep(8, covering: Q) { q in
                let pairs = quarteredPairs(upstream + p * Q + q)
                let upper = loadVector(slopes + 2 * p * W + 2 * q), lower = loadVector(slopes + (2 * p + 1) * W + 2 * q)
                storeVector(timesSigmoidSlope(pairs, output: upper), to: top + 2 * q)
                storeVector(timesSigmoidSlope(pairs, output: lower), to: bottom + 2 * q)
            }
        }
    }

    /// Image n's input gradient, [C, H, W], into `gradient`, on the calling thread.
    public func image(_ n: Int, into gradient: UnsafeMutablePointer<Float>) {
        for c in 0..<geometry.channels {
            plane(n * geometry.channels + c, into: gradient + c * geometry.inputPlane)
        }
    }
}

/// One plane of the general average pooling's backward.
private func averagePoolPlaneBackward(
    _ g: PoolingGeometry, upstream: UnsafePointer<Float>,
    into gradient: UnsafeMutablePointer<Float>
) {
    let divisor = Float(g.windowHeight * g.windowWidth)
    gradient.update(repeating: 0, count: g.inputPlane)
    for p in 0..<g.outputHeight {
        for q in 0..<g.outputWidth {
            let (rows, columns) = g.window(p, q)
            let share = upstream[p * g.outputWidth + q] / divisor
            for h in rows { for w in columns { gradient[h * g.inputWidth + w] += share } }
        }
    }
}

/// One plane of LeNet's pooling (2x2, no padding) without the general path's window clipping:
/// every window lies inside the plane, so each output is four loads at fixed offsets, and the
/// loop has no bounds to check.
private func averagePool2x2Plane(
    _ g: PoolingGeometry, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>
) {
    let (W, Q, sh, sw) = (g.inputWidth, g.outputWidth, g.strideHeight, g.strideWidth)
    for p in 0..<g.outputHeight {
        let top = input + p * sh * W, out = output + p * Q
        if sh == 2 && sw == 2 && Q >= 4 {
            averagePairsOfRows(top, top + W, into: out, count: Q)
            continue
        }
        for q in 0..<Q {
            let corner = top + q * sw
            out[q] = (corner[0] + corner[1] + corner[W] + corner[W + 1]) * 0.25
        }
    }
}

/// out[q] = the mean of top[2q], top[2q + 1], bottom[2q], bottom[2q + 1] for q in 0..<count
/// (count >= 4), eight outputs from two 16-float loads, the last eight overlapping the ones
/// before; four from two 8-float loads when count < 8 (LeNet's second pool: 5 wide). Summed in
/// the scalar path's order, so both give the same bits.
@inline(__always)
private func averagePairsOfRows(
    _ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>,
    into out: UnsafeMutablePointer<Float>, count: Int
) {
    if count < 8 {
        forEachStep(4, covering: count) { q in
            let (upper, lower) = (loadVector8(top + 2 * q), loadVector8(bottom + 2 * q))
            storeVector4((upper.evenHalf + upper.oddHalf + lower.evenHalf + lower.oddHalf) * 0.25, to: out + q)
        }
        return
    }
    forEachStep(8, covering: count) { q in
        let (upper, lower) = (loadVector(top + 2 * q), loadVector(bottom + 2 * q))
        storeVector8((upper.evenHalf + upper.oddHalf + lower.evenHalf + lower.oddHalf) * 0.25, to: out + q)
    }
}

/// top[2q] = top[2q + 1] = bottom[2q] = bottom[2q + 1] = values[q] / 4 for q in 0..<count
/// (count >= 4): one output gradient's share to the four inputs of its window, eight at a time,
/// or four when count < 8 (LeNet's second pool), the last step overlapping the one before.
/// Both rows are stored from the register. Copying the top row down instead read back vectors
/// that straddled two of the stores just made, which the store buffer cannot forward (perf
/// put a fifth of the pool's backward time on that load; now its stores wait on memory).
@inline(__always)
private func spreadQuarters(
    _ values: UnsafePointer<Float>, into top: UnsafeMutablePointer<Float>,
    and bottom: UnsafeMutablePointer<Float>, count: Int
) {
    if count < 8 {
        forEachStep(4, covering: count) { q in
            let v = loadVector4(values + q) * 0.25
            let pairs = SIMD8(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3])
            storeVector8(pairs, to: top + 2 * q)
            storeVector8(pairs, to: bottom + 2 * q)
        }
        return
    }
    forEachStep(8, covering: count) { q in
        let pairs = quarteredPairs(values + q)
        storeVector(pairs, to: top + 2 * q)
        storeVector(pairs, to: bottom + 2 * q)
    }
}

/// values[0 ..< 8] / 4, each twice in a row: one 2x2 window's share for a row of its inputs.
@inline(__always)
private func quarteredPairs(_ values: UnsafePointer<Float>) -> SIMD16<Float> {
    let v = loadVector8(values) * 0.25
    return SIMD16(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3], v[4], v[4], v[5], v[5], v[6], v[6], v[7], v[7])
}

/// body(q) for q = 0, width, 2 * width, ... while q + width <= count, then once more for
/// count - width if a remainder is left: steps of `width` covering 0..<count (count >= width),
/// the last one overlapping the one before, so a row of any length needs no scalar tail.
@inline(__always)
private func forEachStep(_ width: Int, covering count: Int, _ body: (Int) -> Void) {
    var q = 0
    while q + width <= count {
        body(q)
        q += width
    }
    if q < count { body(count - width) }
}

/// The adjoint of averagePool2x2Forward on one plane: a quarter of each output gradient to its
/// four inputs.
private func averagePool2x2Backward(
    _ g: PoolingGeometry, upstream: UnsafePointer<Float>,
    into gradient: UnsafeMutablePointer<Float>
) {
    let (W, Q, sh, sw) = (g.inputWidth, g.outputWidth, g.strideHeight, g.strideWidth)
    if sh == 2 && sw == 2 && Q >= 4 {
        // Windows tile the plane without overlap: each covered input gets its share once;
        // an odd last column or row, which no window covers, gets zero.
        for p in 0..<g.outputHeight {
            let top = gradient + 2 * p * W
            spreadQuarters(upstream + p * Q, into: top, and: top + W, count: Q)
            if W > 2 * Q { top[W - 1] = 0; top[2 * W - 1] = 0 }
        }
        let covered = 2 * g.outputHeight * W
        (gradient + covered).update(repeating: 0, count: g.inputPlane - covered)
        return
    }
    // Inputs no window covers (a stride above 2, or an odd edge) get zero; overlapping
    // windows (stride 1) add up.
    gradient.update(repeating: 0, count: g.inputPlane)
    for p in 0..<g.outputHeight {
        let top = gradient + p * sh * W, row = upstream + p * Q
        for q in 0..<Q {
            let corner = top + q * sw, share = row[q] * 0.25
            corner[0] += share
            corner[1] += share
            corner[W] += share
            corner[W + 1] += share
        }
    }
}

/// The input range adaptive pooling averages for output index i of `outputSize`, as PyTorch
/// computes it: from floor(i * n / out) to ceil((i + 1) * n / out).
@inline(__always)
func adaptiveRange(_ i: Int, inputSize n: Int, outputSize out: Int) -> Range<Int> {
    (i * n / out)..<(((i + 1) * n + out - 1) / out)
}

/// y[n, c] = averages over an outputHeight x outputWidth grid of near-equal regions of each plane
/// (NiN's and GoogLeNet's global average pooling is the 1 x 1 case).
public func adaptiveAveragePoolForward(
    planes: Int, inputHeight: Int, inputWidth: Int,
    outputHeight: Int, outputWidth: Int,
    input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>
) {
    Parallel.parallelFor(planes) { plane in
        let input = x + plane * inputHeight * inputWidth, output = y + plane * outputHeight * outputWidth
        for p in 0..<outputHeight {
            let rows = adaptiveRange(p, inputSize: inputHeight, outputSize: outputHeight)
            for q in 0..<outputWidth {
                let columns = adaptiveRange(q, inputSize: inputWidth, outputSize: outputWidth)
                var sum: Float = 0
                for h in rows { for w in columns { sum += input[h * inputWidth + w] } }
                output[p * outputWidth + q] = sum / Float(rows.count * columns.count)
            }
        }
    }
}

/// dx = each output gradient spread evenly over its region (overwrites dx).
public func adaptiveAveragePoolBackward(
    planes: Int, inputHeight: Int, inputWidth: Int,
    outputHeight: Int, outputWidth: Int,
    outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>
) {
    Parallel.parallelFor(planes) { plane in
        let gradient = dx + plane * inputHeight * inputWidth, upstream = dy + plane * outputHeight * outputWidth
        gradient.update(repeating: 0, count: inputHeight * inputWidth)
        for p in 0..<outputHeight {
            let rows = adaptiveRange(p, inputSize: inputHeight, outputSize: outputHeight)
            for q in 0..<outputWidth {
                let columns = adaptiveRange(q, inputSize: inputWidth, outputSize: outputWidth)
                let share = upstream[p * outputWidth + q] / Float(rows.count * columns.count)
                for h in rows { for w in columns { gradient[h * inputWidth + w] += share } }
            }
        }
    }
}
