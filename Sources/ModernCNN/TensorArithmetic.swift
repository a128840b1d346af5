// TensorArithmetic.swift: elementwise arithmetic, matrix product, and comparison.
//
// Binary operations need equal shapes (no broadcasting: a reader should see every expansion),
// and throw a TensorError naming both shapes when they differ, so `try a + b` fails with
// "+: shapes [2, 3] and [3, 2] do not match" rather than reading past a buffer.

import Kernels

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.combined(with: rhs, "+", +) }
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.combined(with: rhs, "-", -) }
    /// Elementwise (Hadamard) product; `matmul` is the matrix product.
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.combined(with: rhs, "*", *) }
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.combined(with: rhs, "/", /) }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped { $0 + rhs } }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped { $0 - rhs } }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped { $0 * rhs } }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.mapped { lhs * $0 } }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped { $0 / rhs } }
    public static prefix func - (operand: Tensor) -> Tensor { operand.mapped { -$0 } }

    /// self += other, elementwise with the vector kernel, in place (copied first if shared): how
    /// a layer joins what several paths gave (Concat's branch gradients, a Residual's two paths).
    /// The shapes are the caller's to guarantee.
    mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "Tensor.add: \(shape) and \(other.shape) do not match")
        other.withUnsafeBufferPointer { source in
            withUnsafeMutableBufferPointer { target in
                Kernels.add(source.baseAddress!, into: target.baseAddress!, count: target.count)
            }
        }
    }

    /// A tensor of the same shape with `transform` applied to every element.
    public func mapped(_ transform: (Float) -> Float) -> Tensor {
        var result = Tensor(zeros: shape)
        withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for i in source.indices { target[i] = transform(source[i]) }
            }
        }
        return result
    }

    private func combined(
        with other: Tensor, _ operation: String,
        _ combine: (Float, Float) -> Float
    ) throws -> Tensor {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch(operation: operation, lhs: shape, rhs: other.shape)
        }
        var result = Tensor(zeros: shape)
        withUnsafeBufferPointer { left in
            other.withUnsafeBufferPointer { right in
                result.withUnsafeMutableBufferPointer { target in
                    for i in left.indices { target[i] = combine(left[i], right[i]) }
                }
            }
        }
        return result
    }

    public func sum() -> Float {
        withUnsafeBufferPointer { values in values.reduce(0, +) }
    }

    /// The matrix product of two rank-2 tensors, [M, K] x [K, N] -> [M, N], on the packed SGEMM.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank == 2 else { throw TensorError.rankMismatch(operation: "matmul", expected: 2, shape: shape) }
        guard other.rank == 2 else {
            throw TensorError.rankMismatch(operation: "matmul", expected: 2, shape: other.shape)
        }
        guard shape[1] == other.shape[0] else {
            throw TensorError.shapeMismatch(operation: "matmul", lhs: shape, rhs: other.shape)
        }
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        var result = Tensor(zeros: [m, n])
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    sgemm(
                        transA: false, transB: false, m: m, n: n, k: k,
                        alpha: 1, a: a.baseAddress!, lda: max(k, 1), b: b.baseAddress!, ldb: max(n, 1),
                        beta: 0, c: c.baseAddress!, ldc: max(n, 1))
                }
            }
        }
        return result
    }

    /// The transpose of a rank-2 tensor, [M, N] -> [N, M], materialised.
    public func transposed() throws -> Tensor {
        guard rank == 2 else { throw TensorError.rankMismatch(operation: "transposed", expected: 2, shape: shape) }
        let (rows, columns) = (shape[0], shape[1])
        var result = Tensor(zeros: [columns, rows])
        withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for i in 0..<rows { for j in 0..<columns { target[j * rows + i] = source[i * columns + j] } }
            }
        }
        return result
    }

    /// The largest |self - other| over all elements; shapes must match.
    public func maxAbsoluteDifference(from other: Tensor) throws -> Float {
        try (self - other).withUnsafeBufferPointer { values in values.reduce(0) { max($0, abs($1)) } }
    }

    /// True when shapes match and every element is within `absoluteTolerance +
    /// relativeTolerance * |other|` (numpy's `allclose`, with its defaults).
    public func isApproximatelyEqual(
        to other: Tensor, relativeTolerance: Float = 1e-5,
        absoluteTolerance: Float = 1e-8
    ) -> Bool {
        guard shape == other.shape else { return false }
        return withUnsafeBufferPointer { left in
            other.withUnsafeBufferPointer { right in
                zip(left, right).allSatisfy { abs($0 - $1) <= absoluteTolerance + relativeTolerance * abs($1) }
            }
        }
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and every element.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape
            && lhs.withUnsafeBufferPointer { l in rhs.withUnsafeBufferPointer { r in l.elementsEqual(r) } }
    }
}
