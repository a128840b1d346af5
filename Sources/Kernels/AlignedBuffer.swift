// AlignedBuffer.swift: 64-byte aligned Float storage, the alignment of one AVX-512 register and
// of one cache line, so that packed panels never straddle lines and aligned SIMD loads are legal.

import CPUHints

/// Owns `count` floats aligned to 64 bytes; freed when the owner goes away. Non-copyable, so the
/// memory has exactly one owner and can never be freed twice.
public struct AlignedBuffer: ~Copyable {
    public static let alignment = 64
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// glibc serves blocks over 32 MB with fresh mmap'd pages and unmaps them on free, so a
    /// training step that allocates the same 143 MB activation every batch page-faults through
    /// all of it every time (the kernel zeroes each 4 KB page; MEASUREMENTS.md has the cost).
    /// Keeping large blocks on the heap lets the next batch reuse them, as PyTorch's caching
    /// allocator does. Set once, before the first allocation.
    static let heapConfigured: Bool = {
        moderncnnKeepLargeBlocksOnHeap()
        return true
    }()

    /// zeroed: for buffers whose zeros are read (borders that kernels never write).
    public init(count: Int, zeroed: Bool = false) {
        _ = Self.heapConfigured
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: Self.alignment)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.update(repeating: 0, count: count) }
    }

    deinit { pointer.deallocate() }
}
