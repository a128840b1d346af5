// LargeBlocksTests.swift: freed large blocks are reused at their exact size, never beyond the most
// ever in use at once, and a buffer asked for zeroed is zero even on a reused block.

import Testing

@testable import Kernels

@Test("a waiting block is reused only at its exact size, the newest of that size first")
func ledgerReusesExactSize() {
    var ledger = BlockLedger()
    let mb = 1 << 20
    #expect(ledger.take(byteCount: 40 * mb) == (nil, []))
    #expect(ledger.take(byteCount: 50 * mb) == (nil, []))
    #expect(ledger.take(byteCount: 40 * mb) == (nil, []))
    ledger.give(.init(byteCount: 40 * mb, address: 0x1000))
    ledger.give(.init(byteCount: 50 * mb, address: 0x2000))
    ledger.give(.init(byteCount: 40 * mb, address: 0x3000))
    #expect(ledger.take(byteCount: 40 * mb) == (0x3000, []))
    #expect(ledger.take(byteCount: 50 * mb) == (0x2000, []))
    #expect(ledger.waiting == [.init(byteCount: 40 * mb, address: 0x1000)])
    #expect(ledger.bytesInUse == 90 * mb && ledger.highWater == 130 * mb)
}

@Test("a new size releases the oldest waiting blocks until in use and waiting fit the high water")
func ledgerReleasesOldestBeyondHighWater() {
    var ledger = BlockLedger()
    let mb = 1 << 20
    _ = ledger.take(byteCount: 100 * mb)
    _ = ledger.take(byteCount: 60 * mb)
    ledger.give(.init(byteCount: 100 * mb, address: 0x1000))
    ledger.give(.init(byteCount: 60 * mb, address: 0x2000))
    // 160 MB is the most ever in use. 70 MB more in use with both waiting would hold 230.
    let (reuse, release) = ledger.take(byteCount: 70 * mb)
    #expect(reuse == nil)
    #expect(release == [.init(byteCount: 100 * mb, address: 0x1000)])
    #expect(ledger.waiting == [.init(byteCount: 60 * mb, address: 0x2000)])
    #expect(ledger.bytesInUse + ledger.waitingBytes <= ledger.highWater)
}

@Test(
    "over random takes and gives, reuse is of a waiting block of the size asked, and the held bytes never pass the high water"
)
func ledgerInvariantsHoldOverRandomTraffic() {
    var generator = LCG(seed: 7)
    var ledger = BlockLedger()
    // What the test expects to be in use and waiting, kept on its own.
    var (inUse, waiting, nextAddress) = ([BlockLedger.Block](), [UInt: Int](), UInt(0x1000))
    let sizes = [32, 33, 48, 96, 411].map { $0 << 20 }
    for _ in 0..<2_000 {
        if inUse.isEmpty || Int.random(in: 0..<3, using: &generator) > 0 {
            let size = sizes.randomElement(using: &generator)!
            let (reuse, release) = ledger.take(byteCount: size)
            for block in release { #expect(waiting.removeValue(forKey: block.address) == block.byteCount) }
            if let reuse {
                #expect(waiting.removeValue(forKey: reuse) == size)
                inUse.append(.init(byteCount: size, address: reuse))
            } else {
                inUse.append(.init(byteCount: size, address: nextAddress))
                nextAddress += 0x1000
            }
        } else {
            let block = inUse.remove(at: Int.random(in: 0..<inUse.count, using: &generator))
            ledger.give(block)
            waiting[block.address] = block.byteCount
        }
        #expect(ledger.bytesInUse == inUse.map(\.byteCount).reduce(0, +))
        #expect(ledger.waitingBytes == waiting.values.reduce(0, +))
        #expect(ledger.bytesInUse + ledger.waitingBytes <= ledger.highWater)
    }
}

@Test("a large zeroed buffer is zero, also on a block a dirty buffer of its size just gave back")
func largeZeroedBufferIsZero() {
    let count = (LargeBlocks.threshold + 12_345 * 64) / MemoryLayout<Float>.stride
    do {
        let dirty = AlignedBuffer(count: count)
        dirty.pointer.update(repeating: 3, count: count)
    }
    let clean = AlignedBuffer(count: count, zeroed: true)
    #expect(Int(bitPattern: clean.pointer) % AlignedBuffer.alignment == 0)
    #expect(UnsafeBufferPointer(start: clean.pointer, count: count).allSatisfy { $0 == 0 })
}
