// AlignedBuffer.swift: 64-byte aligned Float storage, the alignment of one AVX-512 register and
// of one cache line, so that packed panels never straddle lines and aligned SIMD loads are legal.

import CPUHints

/// Owns `count` floats aligned to 64 bytes; freed when the owner goes away. Non-copyable, so the
/// memory has exactly one owner and can never be freed twice.
public struct AlignedBuffer: ~Copyable {
    public static let alignment = 64
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Whether the floats came from LargeBlocks (blocks of 32 MB and more, kept when freed for
    /// the next request of their size: a training step asks for the same ones every batch)
    /// rather than the allocator.
    let large: Bool

    /// zeroed: for buffers whose zeros are read (borders that kernels never write).
    public init(count: Int, zeroed: Bool = false) {
        self.count = count
        let byteCount = max(count, 1) * MemoryLayout<Float>.stride
        if byteCount >= LargeBlocks.threshold, let block = LargeBlocks.take(byteCount: byteCount) {
            (pointer, large) = (block.bindMemory(to: Float.self, capacity: max(count, 1)), true)
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: Self.alignment)
            (pointer, large) = (raw.bindMemory(to: Float.self, capacity: max(count, 1)), false)
        }
        if zeroed { pointer.update(repeating: 0, count: count) }
    }

    deinit {
        if large {
            LargeBlocks.give(pointer, byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        } else {
            pointer.deallocate()
        }
    }
}
