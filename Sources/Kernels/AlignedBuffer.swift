// AlignedBuffer.swift: 64-byte aligned Float storage, the alignment of one AVX-512 register and
// of one cache line, so that packed panels never straddle lines and aligned SIMD loads are legal.

/// Owns `count` floats aligned to 64 bytes; freed when the owner goes away. Non-copyable, so the
/// memory has exactly one owner and can never be freed twice.
public struct AlignedBuffer: ~Copyable {
    public static let alignment = 64
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: Self.alignment)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
