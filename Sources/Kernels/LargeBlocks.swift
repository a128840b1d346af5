// LargeBlocks.swift: where buffers of 32 MB and more come from. Mapped pages (transparent huge
// pages asked for), kept when freed for the next request of the same size, and released only
// when keeping them would take the process past its own peak.
//
// Why: glibc serves blocks this large with fresh mmap'd pages and unmaps them on free. A training
// step allocates the same activations every batch (VGG's first block: 411 MB at batch 128), so
// every step page-faulted through all of them, a fault per 4 KB page and each page zeroed by the
// kernel. Telling glibc to keep such blocks on its heap reused them but fragmented it: NiN's peak
// rose from 1.7 to 2.3 GB (MEASUREMENTS.md). Here a freed block waits for the next request of
// its exact size, which in a training loop comes within the step. Waiting blocks are released,
// oldest first, whenever they and the blocks in use would together exceed the most the blocks in
// use have ever needed at once: so the process holds no more than its own peak, and the peak is
// what the live tensors need, as with glibc's mmap.

import CPUHints
import Synchronization

enum LargeBlocks {
    /// Blocks from this many bytes come from here (glibc's largest mmap threshold).
    static let threshold = 32 << 20

    private static let ledger = Mutex(BlockLedger())

    /// A block of `byteCount` bytes, page-aligned: a waiting one of that size, or fresh zeroed
    /// pages. nil if the system has none to give.
    static func take(byteCount: Int) -> UnsafeMutableRawPointer? {
        let (reused, released) = ledger.withLock { $0.take(byteCount: byteCount) }
        for block in released {
            moderncnnUnmapPages(UnsafeMutableRawPointer(bitPattern: block.address), block.byteCount)
        }
        if let reused { return UnsafeMutableRawPointer(bitPattern: reused) }
        guard let fresh = moderncnnMapHugePages(byteCount) else {
            ledger.withLock { $0.mappingFailed(byteCount: byteCount) }
            return nil
        }
        return fresh
    }

    /// Hands back a block `take` gave, to wait for the next request of its size.
    static func give(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        ledger.withLock { $0.give(BlockLedger.Block(byteCount: byteCount, address: UInt(bitPattern: block))) }
    }
}

/// LargeBlocks' bookkeeping, apart from the pages themselves: which freed blocks wait, and which
/// to release. A value, so that its rules are tested without mapping anything.
struct BlockLedger {
    struct Block: Equatable {
        let byteCount: Int
        /// The address (a pointer is not Sendable).
        let address: UInt
    }

    /// Freed blocks, oldest first.
    private(set) var waiting: [Block] = []
    private(set) var waitingBytes = 0, bytesInUse = 0
    /// The most bytes in use at once so far.
    private(set) var highWater = 0

    /// A request for `byteCount` bytes: the address of a waiting block of that size to reuse, or
    /// nil (map a fresh one), and the waiting blocks to release first, oldest first, so that
    /// blocks in use and waiting stay within the high water.
    mutating func take(byteCount: Int) -> (reuse: UInt?, release: [Block]) {
        bytesInUse += byteCount
        if let i = waiting.lastIndex(where: { $0.byteCount == byteCount }) {
            waitingBytes -= byteCount
            return (waiting.remove(at: i).address, [])
        }
        highWater = max(highWater, bytesInUse)
        var released: [Block] = []
        while let oldest = waiting.first, bytesInUse + waitingBytes > highWater {
            released.append(waiting.removeFirst())
            waitingBytes -= oldest.byteCount
        }
        return (nil, released)
    }

    /// A fresh block could not be mapped: it is not in use after all.
    mutating func mappingFailed(byteCount: Int) { bytesInUse -= byteCount }

    mutating func give(_ block: Block) {
        bytesInUse -= block.byteCount
        waiting.append(block)
        waitingBytes += block.byteCount
    }
}
