// BatchTests.swift: bilinear resizing by hand, and epochs of shuffled batches.

import Testing

@testable import ModernCNN

func resized(_ image: [UInt8], side: Int, to size: Int) -> [Float] {
    var output = [Float](repeating: .nan, count: size * size)
    image.withUnsafeBufferPointer {
        resizeBilinear($0.baseAddress!, side: side, scale: 1, into: &output, outputSize: size)
    }
    return output
}

@Test("2x2 -> 4x4 with half-pixel centres, worked out by hand")
func resizeByHand() {
    // Output x samples input (x + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamp, so a row
    // [a, b] becomes [a, 0.75a + 0.25b, 0.25a + 0.75b, b]; columns likewise.
    let out = resized([0, 80, 160, 240], side: 2, to: 4)
    let row0: [Float] = [0, 20, 60, 80], row3: [Float] = [160, 180, 220, 240]
    #expect(Array(out[0..<4]) == row0 && Array(out[12..<16]) == row3)
    #expect(Array(out[4..<8]) == zip(row0, row3).map { 0.75 * $0 + 0.25 * $1 })
}

@Test("resizing keeps constants constant and is the identity at the same size")
func resizeInvariants() {
    #expect(resized([UInt8](repeating: 77, count: 28 * 28), side: 28, to: 224).allSatisfy { $0 == 77 })
    let image = (0..<(28 * 28)).map { UInt8($0 % 251) }
    #expect(resized(image, side: 28, to: 28) == image.map(Float.init))
    // Bilinear interpolation reproduces a linear ramp exactly between the outermost pixel centres.
    let ramp = (0..<(28 * 28)).map { UInt8(($0 % 28) * 9) }
    let big = resized(ramp, side: 28, to: 96)
    for x in 2..<94 {
        let source = (Float(x) + 0.5) * 28 / 96 - 0.5
        #expect(abs(big[50 * 96 + x] - source * 9) < 1e-3)
    }
}

@Test("an epoch visits every example once, in a seeded order that changes by epoch")
func epochOrder() throws {
    let data = try FashionMNIST(split: .test)
    let plan = BatchPlan(dataset: data, batchSize: 256, seed: 42, limit: 1000)
    let first = plan.order(epoch: 0), second = plan.order(epoch: 1)
    #expect(first.sorted() == Array(0..<1000) && second.sorted() == Array(0..<1000))
    #expect(first != second && first != Array(0..<1000))
    #expect(first == BatchPlan(dataset: data, batchSize: 256, seed: 42, limit: 1000).order(epoch: 0))
    #expect(first != BatchPlan(dataset: data, batchSize: 256, seed: 43, limit: 1000).order(epoch: 0))
    #expect(plan.batchesPerEpoch == 4)
    #expect(plan.batch(3, of: first).labels.count == 1000 - 3 * 256)  // the last batch is partial
}

@Test("a batch holds the right images, scaled to [0, 1], beside their labels")
func batchContents() throws {
    let data = try FashionMNIST(split: .test)
    let plan = BatchPlan(dataset: data, batchSize: 8, seed: 1)
    let order = plan.order(epoch: 0)
    let batch = plan.batch(0, of: order)
    #expect(batch.images.shape == [8, 1, 28, 28])
    for slot in 0..<8 {
        let example = order[slot]
        #expect(batch.labels[slot] == data.labels[example])
        let expected = data.images[(example * 784)..<((example + 1) * 784)].map { Float($0) / 255 }
        let actual = batch.images.scalars[(slot * 784)..<((slot + 1) * 784)]
        // Scaling multiplies by 1/255, which may differ from dividing by 255 in the last bit.
        let worst = zip(actual, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-7, "slot \(slot) (example \(example)) differs by \(worst)")
    }
    let large = BatchPlan(dataset: data, batchSize: 2, imageSize: 224, seed: 1).batch(0, of: order)
    #expect(large.images.shape == [2, 1, 224, 224])
    #expect(large.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
}

@Test("the prefetcher hands out exactly the plan's batches, in order or out of it")
func prefetchedBatches() throws {
    let data = try FashionMNIST(split: .test)
    let plan = BatchPlan(dataset: data, batchSize: 64, imageSize: 32, seed: 7, limit: 300)
    let order = plan.order(epoch: 2)
    let prefetcher = BatchPrefetcher(plan: plan, order: order)
    // In order (each one was prepared in the background), then a jump back (made on the spot).
    for index in [0, 1, 2, 3, 4, 1, 2] {
        let expected = plan.batch(index, of: order), actual = prefetcher.batch(index)
        #expect(actual.labels == expected.labels && actual.images.scalars == expected.images.scalars, "batch \(index)")
    }
}
