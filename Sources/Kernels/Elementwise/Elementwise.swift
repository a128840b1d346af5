// Elementwise.swift: activations and their gradients, threaded over contiguous chunks for large
// tensors. Simple loops are left to the compiler to vectorise; the sigmoid and its slope are
// written sixteen lanes at a time, where it would not (a call to exp, or a gradient computed in
// place).

import CPUHints
import Foundation

/// Below this many elements a single thread is faster than waking the pool.
let elementwiseThreadingThreshold = 1 << 16

@inline(__always)
func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
    let workers = count >= elementwiseThreadingThreshold ? Parallel.threadCount : 1
    Parallel.forEachWorker(workers) { worker in body(Parallel.chunk(worker, of: workers, splitting: count)) }
}

/// y = max(0, x). May run in place (y == x).
public func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in for i in range { y[i] = max(0, x[i]) } }
}

/// dx = dy where the forward output was positive, else 0. Uses the output y rather than the input:
/// y > 0 exactly where x > 0, and y is what an in-place ReLU leaves behind.
public func reluBackward(
    outputGradient dy: UnsafePointer<Float>, output y: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>, count: Int
) {
    forEachChunk(count) { range in
        let start = range.lowerBound
        applyActivationGradient(
            .relu, outputGradient: dy + start, output: y + start, inputGradient: dx + start,
            count: range.count)
    }
}

/// y = 1 / (1 + e^-x). Sixteen lanes at a time with our own exp (the C library's takes one float
/// per call, which made this LeNet's slowest layer); x is clamped to [-87, 87], where e^-x
/// stays a normal Float and y is already 0 or 1 to within a Float's rounding.
public func sigmoidForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in
        applyActivation(x + range.lowerBound, y + range.lowerBound, count: range.count, bias: 0, .sigmoid)
    }
}

/// An activation a convolution applies to its output as it writes it, instead of a pass of its own.
public enum FusedActivation: Sendable {
    case none, relu, sigmoid
}

/// y[i] = f(x[i] + bias), sixteen lanes at a time (a short tail is padded to sixteen, so every
/// element goes through the same arithmetic and the result does not depend on where a chunk
/// starts). x and y may be the same row.
@inline(__always)
func applyActivation(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, bias: Float,
    _ activation: FusedActivation
) {
    @inline(__always)
    func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { activate(v + bias, activation) }
    var i = 0
    while i + 16 <= count {
        storeVector(apply(loadVector(x + i)), to: y + i)
        i += 16
    }
    if i < count {
        var v = SIMD16<Float>()
        for j in i..<count { v[j - i] = x[j] }
        let result = apply(v)
        for j in i..<count { y[j] = result[j - i] }
    }
}

/// f(v) in sixteen lanes: the one place each fused activation's formula is written.
@inline(__always)
func activate(_ v: SIMD16<Float>, _ activation: FusedActivation) -> SIMD16<Float> {
    switch activation {
    case .none: return v
    case .relu: return pointwiseMax(v, .zero)
    case .sigmoid: return 1 / (1 + exp16(-v))
    }
}

/// e^v in 16 lanes for v clamped to [-87, 87]: v = n ln 2 + r with |r| <= ln 2 / 2 (ln 2 split in
/// two parts so r keeps its low bits, after Cody and Waite), e^r by its Taylor series to r^7
/// (truncation error under 1e-8), and 2^n written straight into the exponent bits. Only
/// lane-wise arithmetic, min and max and bit casts: no masks, which Swift lowers lane by lane.
/// Every a * b + c is written as a fused multiply-add: Swift never contracts `p * r + c` on its
/// own, and as a multiply then an add the polynomial took twice the instructions and twice the
/// latency (LeNet's sigmoids were 7% of a training step).
@inline(__always)
func exp16(_ v: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    let x = pointwiseMin(pointwiseMax(v, V(repeating: -87)), V(repeating: 87))
    // Adding 1.5 * 2^23 rounds to an integer and leaves it in the low mantissa bits.
    let magic = V(repeating: 12_582_912)
    let shifted = magic.addingProduct(x, 1.442_695_04)
    let n = shifted - magic
    let r = x.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
    var p = V(repeating: 1.0 / 720).addingProduct(V(repeating: 1.0 / 5040), r)
    p = V(repeating: 1.0 / 120).addingProduct(p, r)
    p = V(repeating: 1.0 / 24).addingProduct(p, r)
    p = V(repeating: 1.0 / 6).addingProduct(p, r)
    p = V(repeating: 0.5).addingProduct(p, r)
    p = V(repeating: 1).addingProduct(p, r)
    p = V(repeating: 1).addingProduct(p, r)
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    return p * unsafeBitCast((integer &+ 127) &<< 23, to: SIMD16<Float>.self)
}

/// dx = dy * y * (1 - y): the sigmoid's slope, largest (1/4) at 0 and vanishing for large |x|,
/// which is why deep sigmoid networks (LeNet's era) learned slowly.
public func sigmoidBackward(
    outputGradient dy: UnsafePointer<Float>, output y: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>, count: Int
) {
    forEachChunk(count) { range in
        let start = range.lowerBound
        applyActivationGradient(
            .sigmoid, outputGradient: dy + start, output: y + start, inputGradient: dx + start,
            count: range.count)
    }
}

/// dx = dy * f'(x), on this thread, from f's output y: the one place each activation's slope is
/// written, shared by the backward passes above and by the pooling backward that runs them
/// fused (Pooling.swift). dx may be dy.
@inline(__always)
func applyActivationGradient(
    _ activation: FusedActivation, outputGradient dy: UnsafePointer<Float>,
    output y: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
    count: Int
) {
    switch activation {
    case .none: if UnsafePointer(dx) != dy { dx.update(from: dy, count: count) }
    case .relu: for i in 0..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
    case .sigmoid:
        // Sixteen at a time by hand: dx may be dy, so the optimizer will not vectorize the
        // scalar loop itself. The same operations in the same order, so the same bits.
        var i = 0
        while i + 16 <= count {
            storeVector(timesSigmoidSlope(loadVector(dy + i), output: loadVector(y + i)), to: dx + i)
            i += 16
        }
        while i < count {
            dx[i] = dy[i] * y[i] * (1 - y[i])
            i += 1
        }
    }
}

/// gradient * y * (1 - y), sixteen lanes: the sigmoid's slope from its output, in the one order
/// that every fused and unfused backward uses, so that they agree bit for bit.
@inline(__always)
func timesSigmoidSlope(_ gradient: Vector16, output y: Vector16) -> Vector16 {
    gradient * y * (1 - y)
}

/// The output of the activation that a pooling layer's input came from: with it, the pooling
/// backward applies the activation's slope to each plane while the plane is still in cache,
/// instead of the activation layer reading and writing the whole batch's gradient again.
public struct ActivationOutput {
    public let activation: FusedActivation
    /// y = f(x), shaped like the pooling layer's input.
    public let output: UnsafePointer<Float>

    public init(_ activation: FusedActivation, output: UnsafePointer<Float>) {
        self.activation = activation
        self.output = output
    }

    /// Starts loading the outputs of the plane `offset` floats in: they were written in the
    /// forward pass and are read here from memory (LeNet's first sigmoid: 4.8 MB per batch).
    @inline(__always)
    func prefetch(offset: Int, count: Int) {
        for line in stride(from: 0, to: count, by: 16) { prefetchForRead(output + offset + line) }
    }

    /// gradient[0 ..< count] *= f'(x) for the plane starting `offset` floats in.
    @inline(__always)
    func applySlope(to gradient: UnsafeMutablePointer<Float>, offset: Int, count: Int) {
        applyActivationGradient(
            activation, outputGradient: gradient, output: output + offset, inputGradient: gradient,
            count: count)
    }
}

/// y = x * mask, elementwise: dropout's forward (mask holds 0 or 1/(1-p)) and its backward.
public func multiply(
    _ x: UnsafePointer<Float>, by mask: UnsafePointer<Float>,
    into y: UnsafeMutablePointer<Float>, count: Int
) {
    forEachChunk(count) { range in for i in range { y[i] = x[i] * mask[i] } }
}

/// y += x, elementwise: the input gradients of branches that read the same input (Concat).
public func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in for i in range { y[i] += x[i] } }
}

/// sums[r] += the sum of matrix[r * stride + j] for j < columns: a bias's gradient from output
/// gradients laid out [features][batch] (LaneDense's batch matrices). Sixteen columns at a time,
/// then one sum across the lanes and the last columns one by one.
public func accumulateRowSums(
    of matrix: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
    into sums: UnsafeMutablePointer<Float>
) {
    let vectorColumns = columns / Vector16.scalarCount * Vector16.scalarCount
    for r in 0..<rows {
        let row = matrix + r * stride
        var total = Vector16.zero
        for j in Swift.stride(from: 0, to: vectorColumns, by: Vector16.scalarCount) { total += loadVector(row + j) }
        var sum = total.sum()
        for j in vectorColumns..<columns { sum += row[j] }
        sums[r] += sum
    }
}

/// sums[j] += the sum over rows of matrix[row * columns + j], added row by row: a bias's gradient
/// from a batch of output gradients [rows, columns]. Sixteen columns at a time; as a plain loop
/// the compiler could not vectorise it (it cannot rule out that `sums` overlaps `matrix`). The
/// additions keep the plain loop's order, so the sums are the same to the bit.
public func accumulateColumnSums(
    of matrix: UnsafePointer<Float>, rows: Int, columns: Int,
    into sums: UnsafeMutablePointer<Float>
) {
    let vectorColumns = columns / Vector16.scalarCount * Vector16.scalarCount
    for j in stride(from: 0, to: vectorColumns, by: Vector16.scalarCount) {
        var total = loadVector(sums + j)
        for row in 0..<rows { total += loadVector(matrix + row * columns + j) }
        storeVector(total, to: sums + j)
    }
    for j in vectorColumns..<columns {
        var total = sums[j]
        for row in 0..<rows { total += matrix[row * columns + j] }
        sums[j] = total
    }
}
