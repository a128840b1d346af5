// Concat.swift: run several branches on the same input and stack their outputs along the channel
// axis, [N, C1, H, W] ++ [N, C2, H, W] -> [N, C1 + C2, H, W]: Inception's four paths.
// Backward splits dL/dy by channels, sends each slice back through its branch, and adds the
// branches' input gradients: the input fed all of them.

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
        return Self.summedGradients(of: dOutput, split: channels) { branch, slice in
            branches[branch].layer.backward(slice)
        }
    }

    // MARK: the two halves of concatenation, shared with ExecutionPlan's branch steps

    /// [N, C1, H, W], [N, C2, H, W], ... -> [N, C1 + C2 + ..., H, W]: each image's planes of
    /// every output, one after another.
    static func stacked(_ outputs: [Tensor]) -> Tensor {
        let first = outputs[0].shape
        let (batch, plane) = (first[0], first[2] * first[3])
        let total = outputs.reduce(0) { $0 + $1.shape[1] }
        var y = Tensor(uninitializedShape: [batch, total, first[2], first[3]])
        y.withUnsafeMutableBufferPointer { target in
            var channelOffset = 0
            for output in outputs {
                let channels = output.shape[1]
                output.withUnsafeBufferPointer { source in
                    for n in 0..<batch {
                        (target.baseAddress! + (n * total + channelOffset) * plane)
                            .update(from: source.baseAddress! + n * channels * plane, count: channels * plane)
                    }
                }
                channelOffset += channels
            }
        }
        return y
    }

    /// dL/dx of a concatenation whose branches gave `channels` each: dy cut into each branch's
    /// channel slice, `backward(branch, slice)` for each, and their input gradients added,
    /// because every branch read the same input.
    static func summedGradients(
        of dy: Tensor, split channels: [Int], _ backward: (_ branch: Int, _ slice: Tensor) -> Tensor
    ) -> Tensor {
        let (batch, total, plane) = (dy.shape[0], dy.shape[1], dy.shape[2] * dy.shape[3])
        var dx: Tensor?
        var channelOffset = 0
        for (branch, count) in channels.enumerated() {
            var slice = Tensor(uninitializedShape: [batch, count, dy.shape[2], dy.shape[3]])
            dy.withUnsafeBufferPointer { source in
                slice.withUnsafeMutableBufferPointer { target in
                    for n in 0..<batch {
                        (target.baseAddress! + n * count * plane)
                            .update(
                                from: source.baseAddress! + (n * total + channelOffset) * plane, count: count * plane)
                    }
                }
            }
            channelOffset += count
            let gradient = backward(branch, slice)
            guard dx != nil else {
                dx = gradient
                continue
            }
            dx!.add(gradient)
        }
        return dx!
    }
}
