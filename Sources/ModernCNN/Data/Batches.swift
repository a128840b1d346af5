// Batches.swift: an epoch of shuffled mini-batches as tensors.
//
// Each epoch visits every example once, in an order drawn from the seed and the epoch number, so a
// run (and a resumed run) sees the same batches for the same seed. Like PyTorch's DataLoader with
// drop_last=False, the last batch of an epoch may be smaller. Images are turned into floats in
// [0, 1] (and resized, when the network wants 224 or 96 pixels) one batch at a time: the whole
// training set at 224x224 in Float32 would be 12 GB.

public struct Batch: Sendable {
    /// [B, 1, size, size] pixels in [0, 1].
    public let images: Tensor
    /// [B] class indices.
    public let labels: [Int32]
}

public struct BatchPlan: Sendable {
    public let dataset: FashionMNIST
    public let batchSize: Int
    public let imageSize: Int
    public let seed: UInt64
    /// Use only the first `limit` examples (a quick run says how many it used).
    public let limit: Int

    public init(
        dataset: FashionMNIST, batchSize: Int, imageSize: Int = FashionMNIST.side, seed: UInt64,
        limit: Int? = nil
    ) {
        precondition(batchSize >= 1 && imageSize >= 1, "batch size and image size must be positive")
        self.dataset = dataset
        self.batchSize = batchSize
        self.imageSize = imageSize
        self.seed = seed
        self.limit = min(limit ?? dataset.count, dataset.count)
    }

    public var batchesPerEpoch: Int { (limit + batchSize - 1) / batchSize }

    /// The example indices of `epoch` in visiting order: a Fisher-Yates shuffle seeded by the
    /// seed and the epoch, so every epoch differs and every run repeats.
    public func order(epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch))
        var indices = Array(0..<limit)
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            indices.swapAt(i, j)
        }
        return indices
    }

    /// Batch `index` of an epoch whose visiting order is `order`.
    public func batch(_ index: Int, of order: [Int]) -> Batch {
        let members = order[(index * batchSize)..<min((index + 1) * batchSize, order.count)]
        let side = FashionMNIST.side, pixels = imageSize * imageSize
        var images = Tensor(zeros: [members.count, 1, imageSize, imageSize])
        images.withUnsafeMutableBufferPointer { target in
            dataset.images.withUnsafeBufferPointer { source in
                for (slot, example) in members.enumerated() {
                    resizeBilinear(
                        source.baseAddress! + example * side * side, side: side, scale: 1 / 255,
                        into: target.baseAddress! + slot * pixels, outputSize: imageSize)
                }
            }
        }
        return Batch(images: images, labels: members.map { dataset.labels[$0] })
    }
}
