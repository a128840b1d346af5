// Sequential.swift: layers applied one after another, named "0", "1", ... as in PyTorch's
// nn.Sequential, so that parameter names match its state_dict ("3.weight"). A model written as a
// PyTorch module with named parts (`self.conv`, `self.fc`) is a Sequential with those names.

public final class Sequential: Layer {
    public let layers: [any Layer]
    private let names: [String]

    public init(_ layers: [any Layer]) {
        self.layers = layers
        names = layers.indices.map(String.init)
    }

    public convenience init(_ layers: any Layer...) { self.init(layers) }

    /// Children with their own names, e.g. [("conv", features), ("fc", classifier)].
    public init(named children: [(name: String, layer: any Layer)]) {
        precondition(Set(children.map(\.name)).count == children.count, "Sequential: child names must differ")
        layers = children.map(\.layer)
        names = children.map(\.name)
    }

    /// Told each block's wall time as a forward or backward pass runs it: the layers of the block
    /// (a convolution with its fused activation and pool is one block of three), whether it was
    /// the backward pass, and the seconds. Where a fused training step's time goes, which the
    /// layers timed one by one cannot show (`bench --layers`). nil, the default, reads no clock.
    public var blockTimer: ((_ layers: Range<Int>, _ backward: Bool, _ seconds: Double) -> Void)?

    private func startBlock() -> ContinuousClock.Instant? { blockTimer == nil ? nil : ContinuousClock.now }

    private func endBlock(_ layers: Range<Int>, backward: Bool, startedAt start: ContinuousClock.Instant?) {
        guard let start, let blockTimer else { return }
        let elapsed = (ContinuousClock.now - start).components
        blockTimer(layers, backward, Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18)
    }

    /// Whether runs of convolution -> activation -> pool stages on small images, and the dense
    /// layers after them, go to a LaneBlock, which computes them with 16 images in each vector
    /// (LaneBlock.swift). Off, each layer runs on its own kernels; the results agree to rounding
    /// (the tests compare them).
    public var usesLaneLayout = true
    /// The lane block that starts at each layer index, kept between batches for its buffers.
    private var laneBlocks: [Int: LaneBlock] = [:]
    /// The blocks the last training forward ran, by the index of their last layer: where backward
    /// hands the gradient to them.
    private var laneBlocksToBackward: [Int: LaneBlock] = [:]

    public var description: String { "Sequential(\(layers.count) layers)" }
    public var children: [(name: String, layer: any Layer)] { Array(zip(names, layers)).map { ($0.0, $0.1) } }

    public func outputShape(for input: [Int]) throws -> [Int] {
        try layers.reduce(input) { shape, layer in try layer.outputShape(for: shape) }
    }

    /// A convolution followed by a ReLU or a sigmoid runs as one fused pass: the convolution
    /// applies the activation as it writes each image's output, instead of the activation layer
    /// reading and writing the whole batch's activations again (143 MB for AlexNet's conv1 at
    /// batch 128). The activation layer keeps that output for its backward, so backward is
    /// unchanged, and so is the result, bit for bit.
    ///
    /// A pooling layer right after them joins the pass too: each image is pooled as soon as its
    /// activations are written, while they are still in L1, rather than read back from memory
    /// in a pass over the whole batch (4.8 MB for LeNet's conv1 at batch 256).
    ///
    /// A training forward first drops what the last one saved for backward: otherwise every
    /// layer still holds last step's activations while it makes this step's, so the heap holds
    /// two sets. LeNet's grew by one 4.8 MB block a step for six steps (page-faulted in each
    /// time) and by more later, to 84 MB of resident memory after a hundred steps against 50.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { for layer in allLayers { layer.releaseSavedTensors() } }
        var value = x, i = 0
        while i < layers.count {
            let (first, start) = (i, startBlock())
            if let block = laneBlock(at: i, inputShape: value.shape) {
                value = block.forward(value, training: training)
                i += block.layerCount
                if training { laneBlocksToBackward[i - 1] = block }
            } else if let convolution = layers[i] as? Conv2d, i + 1 < layers.count, let activation = layers[i + 1] as? Activation,
               let fused = activation.fusedKind {
                if i + 2 < layers.count, let pool = layers[i + 2] as? any ActivationFusingPool {
                    let input = value
                    var activations: Tensor?
                    value = try pool.forward(inputShape: try convolution.outputShape(for: input.shape), training: training) {
                        pooling in
                        activations = try convolution.forward(input, training: training, activation: fused) {
                            pooling($0).image($1)
                        }
                    }
                    _ = activation.adopt(fusedOutput: activations!, training: training)
                    i += 3
                } else {
                    let y = try convolution.forward(value, training: training, activation: fused)
                    value = activation.adopt(fusedOutput: y, training: training)
                    i += 2
                }
            } else {
                value = try layers[i].forward(value, training: training)
                i += 1
            }
            endBlock(first..<i, backward: false, startedAt: start)
        }
        return value
    }

    /// The lane block for the layers from `start` on an input of `shape`, made (or remade for a
    /// new shape or thread count) when that run of layers can use one; nil otherwise.
    private func laneBlock(at start: Int, inputShape shape: [Int]) -> LaneBlock? {
        guard usesLaneLayout else { return nil }
        let count = LaneBlock.layerCount(layers, from: start, inputShape: shape)
        guard count > 0 else { return nil }
        if let block = laneBlocks[start], block.fits(layerCount: count, inputShape: shape) { return block }
        let block = LaneBlock(layers[start..<(start + count)], layerCount: count, inputShape: shape)
        laneBlocks[start] = block
        return block
    }

    public func releaseSavedTensors() {
        for block in laneBlocksToBackward.values { block.releaseSavedTensors() }
        laneBlocksToBackward.removeAll()
    }

    /// An activation followed by a pooling layer runs backward as one pass: the pooling backward
    /// applies the activation's slope to each plane of the gradient as it writes it, instead of
    /// the activation layer reading and writing the whole batch's gradient again (4.8 MB for
    /// LeNet's first sigmoid at batch 256, 143 MB for AlexNet's first ReLU at 128). Same
    /// arithmetic, same result, bit for bit.
    ///
    /// When a convolution comes before the activation, the pooling backward goes one step further
    /// into it: the convolution gets the pool's gradient (ImageBatch.throughPool) and makes dy
    /// from it where that costs least. For LeNet's conv1 its kernel makes each image's dy as it
    /// reads it, so that dy is never written out whole and read back (Conv2d.backward says when
    /// it is made whole instead). The same arithmetic again, so the same result.
    public func backward(_ dOutput: Tensor) -> Tensor {
        var gradient = dOutput, i = layers.count - 1
        while i >= 0 {
            let (last, start) = (i, startBlock())
            defer { endBlock((i + 1)..<(last + 1), backward: true, startedAt: start) }
            if let block = laneBlocksToBackward[i] {
                gradient = block.backward(gradient)
                i -= block.layerCount
            } else if i >= 1, let pool = layers[i] as? any ActivationFusingPool, let activation = layers[i - 1] as? Activation,
               activation.fusedKind != nil {
                if i >= 2, let convolution = layers[i - 2] as? Conv2d {
                    gradient = activation.backward(gradient, throughPool: pool, andConvolution: convolution)
                    i -= 3
                } else {
                    gradient = activation.backward(gradient, throughPool: pool)
                    i -= 2
                }
            } else {
                gradient = layers[i].backward(gradient)
                i -= 1
            }
        }
        return gradient
    }
}
