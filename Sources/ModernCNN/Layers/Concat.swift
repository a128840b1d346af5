// Concat.swift: run several branches on the same input and stack their outputs along the channel
// axis, [N, C1, H, W] ++ [N, C2, H, W] -> [N, C1 + C2, H, W]: Inception's four paths.
// Backward splits dL/dy by channels, sends each slice back through its branch, and adds the
// branches' input gradients: the input fed all of them. This is the readable reference; an
// ExecutionPlan runs the same block without the copies (ConcatenationInPlace.swift).

public final class Concat: Layer {
    public let branches: [(name: String, layer: any Layer)]
    /// Whether the branches' names begin their parameters' names ("p2.0.weight"). PyTorch's
    /// Inception module has no branch modules, only its layers ("p2_1.weight"); a Concat built
    /// to load its state_dict leaves the branch names out, and its branches name their layers.
    public let namesBranchesInState: Bool
    private var cachedChannels: [Int]?

    public init(_ branches: [(name: String, layer: any Layer)], namesBranchesInState: Bool = true) {
        precondition(!branches.isEmpty, "Concat needs at least one branch")
        self.branches = branches
        self.namesBranchesInState = namesBranchesInState
    }

    public func statePrefix(forChild name: String) -> String { namesBranchesInState ? "\(name)." : "" }
    public var childrenReadTheSameInput: Bool { true }

    public var description: String { "Concat(\(branches.map(\.name).joined(separator: ", ")))" }
    public var children: [(name: String, layer: any Layer)] { branches }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let shapes = try branches.map { try $0.layer.outputShape(for: input) }
        let first = shapes[0]
        for (branch, shape) in zip(branches, shapes)
        where shape.count != 4 || shape[0] != first[0] || shape[2...] != first[2...] {
            throw ShapeError(
                layer: description, input: input,
                problem: "branch \(branch.name) gives \(shape), but branch \(branches[0].name) gives \(first); "
                    + "only the channel count may differ")
        }
        return [first[0], shapes.reduce(0) { $0 + $1[1] }, first[2], first[3]]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        _ = try outputShape(for: x.shape)
        let outputs = try branches.map { try $0.layer.forward(x, training: training) }
        cachedChannels = training ? outputs.map { $0.shape[1] } : nil
        return Self.stacked(outputs)
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let channels = cachedChannels else {
            preconditionFailure("\(description): backward without a training forward")
        }
        return Self.summedGradients(split: channels) { branches[$0].layer.backward(dOutput.copying(channels: $1)) }
    }

    /// dL/dx of a concatenation whose branches gave `channels` each: `gradient(branch, its
    /// channels of the output)` for every branch, added, because every branch read the same
    /// input. Shared with ExecutionPlan's branch steps, which read the channels in place.
    static func summedGradients(
        split channels: [Int], _ gradient: (_ branch: Int, _ channels: Range<Int>) -> Tensor
    ) -> Tensor {
        var dx: Tensor?
        var first = 0
        for (branch, count) in channels.enumerated() {
            let branchGradient = gradient(branch, first..<(first + count))
            first += count
            if dx == nil { dx = branchGradient } else { dx!.add(branchGradient) }
        }
        return dx!
    }

    /// [N, C1, H, W], [N, C2, H, W], ... -> [N, C1 + C2 + ..., H, W]: each image's planes of
    /// every output, one after another. (ExecutionPlan has the branches write there directly.)
    private static func stacked(_ outputs: [Tensor]) -> Tensor {
        let first = outputs[0].shape
        let total = outputs.reduce(0) { $0 + $1.shape[1] }
        var y = Tensor(uninitializedShape: [first[0], total, first[2], first[3]])
        y.withUnsafeMutableBufferPointer { target in
            var channelOffset = 0
            for output in outputs {
                let channels = channelOffset..<(channelOffset + output.shape[1])
                ChannelSlice(
                    start: target.baseAddress!, batch: first[0], channels: channels, totalChannels: total,
                    plane: first[2] * first[3]
                ).update(from: output)
                channelOffset = channels.upperBound
            }
        }
        return y
    }
}
