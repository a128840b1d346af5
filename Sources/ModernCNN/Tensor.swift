// Tensor.swift: an n-dimensional array of Float32, the one data type every chapter uses.
//
// Storage is contiguous and row-major ("C order"): the last index moves fastest. An image batch
// is [N, C, H, W] (NCHW), so one channel of one image is an H x W plane of adjacent floats, the
// layout the convolution kernels lower to matrix products. Storage is 64-byte aligned (a cache
// line, one AVX-512 register) and shared copy-on-write: copying a Tensor is cheap, and the first
// write to a shared copy duplicates the floats.

import Kernels

public struct Tensor {
    /// The size of each dimension, outermost first: [N, C, H, W] for an image batch.
    public private(set) var shape: [Int]
    private var storage: TensorStorage

    /// Zero-filled tensor of the given shape.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, repeating: 0)
    }

    public init(shape: [Int], repeating value: Float) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
        storage.buffer.pointer.update(repeating: value, count: storage.count)
    }

    /// Storage for a layer's output that its kernel overwrites completely: skipping the zero fill
    /// saves a pass over memory, which for AlexNet's 143 MB activations is a tenth of a ReLU.
    init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A tensor holding `values` in row-major order; their number must match the shape.
    public init(shape: [Int], values: [Float]) throws {
        let count = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }), values.count == count else {
            throw TensorError.valueCount(shape: shape, expected: count, got: values.count)
        }
        self.shape = shape
        storage = TensorStorage(count: count)
        values.withUnsafeBufferPointer { storage.buffer.pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// Number of elements (the product of the shape).
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// How many floats to step over to move one position along each dimension. For contiguous
    /// row-major storage the last stride is 1 and each earlier one is the product of the sizes
    /// after it: [C*H*W, H*W, W, 1] for NCHW.
    public var strides: [Int] { Tensor.contiguousStrides(for: shape) }

    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    /// The element at a full index, e.g. `x[0, 2, 5, 5]` for an NCHW tensor.
    public subscript(indices: Int...) -> Float {
        get { storage.buffer.pointer[offset(of: indices)] }
        set {
            let position = offset(of: indices)
            makeUnique()
            storage.buffer.pointer[position] = newValue
        }
    }

    /// The flat position of an index: the dot product of index and strides.
    public func offset(of indices: [Int]) -> Int {
        precondition(
            indices.count == shape.count,
            "index \(indices) has \(indices.count) components; the tensor has rank \(rank)")
        var position = 0
        for (axis, (index, stride)) in zip(indices, strides).enumerated() {
            precondition(index >= 0 && index < shape[axis], "index \(indices) is outside shape \(shape)")
            position += index * stride
        }
        return position
    }

    /// The same floats viewed with another shape of the same element count. One dimension may be
    /// -1, meaning "whatever makes the count match" (PyTorch's `view(-1, 6400)`).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let inferred = newShape.filter { $0 == -1 }.count
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        var resolved = newShape
        if inferred == 1, known > 0, count % known == 0 {
            resolved[newShape.firstIndex(of: -1)!] = count / known
        }
        guard inferred <= 1, resolved.allSatisfy({ $0 >= 0 }), resolved.reduce(1, *) == count else {
            throw TensorError.invalidReshape(from: shape, to: newShape)
        }
        var result = self
        result.shape = resolved
        return result
    }

    /// All elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.buffer.pointer, count: count))
    }

    /// Read-only access to the contiguous floats, for kernels.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.buffer.pointer, count: count))
    }

    /// Writable access to the contiguous floats; copies them first if the storage is shared.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.buffer.pointer, count: count))
    }

    /// Whether both tensors read the same floats (one storage, shared copy-on-write): how a test
    /// sees that an output is held once rather than copied.
    func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
        }
    }
}

/// The reference-counted owner of a tensor's floats, shared between copies until one writes.
final class TensorStorage {
    let buffer: AlignedBuffer
    var count: Int { buffer.count }

    init(count: Int) { buffer = AlignedBuffer(count: count) }

    func copy() -> TensorStorage {
        let duplicate = TensorStorage(count: count)
        duplicate.buffer.pointer.update(from: buffer.pointer, count: count)
        return duplicate
    }
}

/// What can go wrong when tensors meet; each case names the shapes involved.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(operation: String, lhs: [Int], rhs: [Int])
    case invalidReshape(from: [Int], to: [Int])
    case valueCount(shape: [Int], expected: Int, got: Int)
    case rankMismatch(operation: String, expected: Int, shape: [Int])

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, lhs, rhs):
            return "\(operation): shapes \(lhs) and \(rhs) do not match"
        case let .invalidReshape(from, to):
            return "cannot reshape \(from) (\(from.reduce(1, *)) elements) to \(to)"
        case let .valueCount(shape, expected, got):
            return "shape \(shape) holds \(expected) elements but \(got) values were given"
        case let .rankMismatch(operation, expected, shape):
            return "\(operation) needs a rank-\(expected) tensor, got shape \(shape)"
        }
    }
}

/// Tensors cross threads (a batch prepared in the background, a result handed back) the way
/// Arrays do: the shared storage is only read, its reference count is atomic, and the first write
/// to a shared copy duplicates it (copy-on-write), so no two threads ever write the same floats.
extension Tensor: @unchecked Sendable {}
