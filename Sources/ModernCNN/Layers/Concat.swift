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
        let shape = try outputShape(for: x.shape)
        let outputs = try branches.map { try $0.layer.forward(x, training: training) }
        let plane = shape[2] * shape[3]
        var y = Tensor(uninitializedShape: shape)
        y.withUnsafeMutableBufferPointer { target in
            var channelOffset = 0
            for output in outputs {
                let channels = output.shape[1]
                output.withUnsafeBufferPointer { source in
                    for n in 0..<shape[0] {
                        (target.baseAddress! + (n * shape[1] + channelOffset) * plane)
                            .update(from: source.baseAddress! + n * channels * plane, count: channels * plane)
                    }
                }
                channelOffset += channels
            }
        }
        cachedChannels = training ? outputs.map { $0.shape[1] } : nil
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let channels = cachedChannels else {
            preconditionFailure("\(description): backward without a training forward")
        }
        let (batch, total, plane) = (dOutput.shape[0], dOutput.shape[1], dOutput.shape[2] * dOutput.shape[3])
        var dx: Tensor?
        var channelOffset = 0
        for (branch, count) in zip(branches, channels) {
            var slice = Tensor(uninitializedShape: [batch, count, dOutput.shape[2], dOutput.shape[3]])
            dOutput.withUnsafeBufferPointer { source in
                slice.withUnsafeMutableBufferPointer { target in
                    for n in 0..<batch {
                        (target.baseAddress! + n * count * plane)
                            .update(
                                from: source.baseAddress! + (n * total + channelOffset) * plane, count: count * plane)
                    }
                }
            }
            channelOffset += count
            let branchGradient = branch.layer.backward(slice)
            // Every branch read the same input, so their input gradients add.
            dx = try! dx.map { try $0 + branchGradient } ?? branchGradient
        }
        return dx!
    }
}
