// ModelProfile.swift: a model walked layer by layer at one input shape, from shape inference
// alone (nothing is computed). Shape traces, summary tables and diagrams all read this one walk,
// so they cannot disagree with each other or with what forward would do.
//
// Multiply-adds (MACs) count what the layer's GEMM does, per example batch:
//   Conv2d  N * K * P * Q * (C / G) * R * S   each output value is a dot product over its
//                                             group's C/G channels and the R x S window
//   Linear  N * out * in
// Everything else (pooling, activations, LRN, dropout, concatenation) is counted as 0: those are
// a few elementwise operations per value, memory-bound and negligible next to the products,
// which is also how torchinfo and the papers count.

import ModernCNN

public struct ModelProfile {
    /// One layer (or container) of the walk.
    public struct Entry {
        /// PyTorch's name for the layer: "3", "4.1.p2_2"; "" for the model itself.
        public let path: String
        /// 0 for the model's own children, 1 for theirs, and so on (the model itself is -1).
        public let depth: Int
        public let layer: any Layer
        public let inputShape: [Int]
        public let outputShape: [Int]
        /// Parameters and MACs of this layer and everything below it.
        public let parameterCount: Int
        public let multiplyAdds: Int

        public var isContainer: Bool { !layer.children.isEmpty }
        /// "Conv2d", "Sequential", "Concat": the layer's type, as d2l's trace prints it.
        public var typeName: String { String(describing: type(of: layer)) }
        /// Bytes of this layer's output (Float32).
        public var outputBytes: Int { outputShape.reduce(1, *) * MemoryLayout<Float>.size }
    }

    public let inputShape: [Int]
    /// Depth first, a container before its children.
    public let entries: [Entry]

    /// Walks `model` for an input of `inputShape`; throws the first layer's ShapeError if the
    /// input does not fit.
    public init(_ model: any Layer, inputShape: [Int]) throws {
        self.inputShape = inputShape
        var entries: [Entry] = []
        _ = try Self.walk(model, path: "", depth: -1, input: inputShape, into: &entries)
        self.entries = entries
    }

    /// The model's own entry (totals).
    public var model: Entry { entries[0] }
    /// Plain layers only (no containers): what the network actually computes.
    public var leaves: [Entry] { entries.filter { !$0.isContainer } }

    /// Entries down to `depth`: containers at that depth stand for everything inside them.
    public func entries(toDepth depth: Int) -> [Entry] {
        entries.filter { $0.depth >= 0 && ($0.depth == depth || ($0.depth < depth && !$0.isContainer)) }
    }

    /// Multiply-adds of one plain layer for an input shape (formulas at the top of this file).
    public static func multiplyAdds(of layer: any Layer, input: [Int], output: [Int]) -> Int {
        switch layer {
        case let conv as Conv2d:
            let perOutput = (conv.inputChannels / conv.groups) * conv.kernelSize * conv.kernelSize
            return output.reduce(1, *) * perOutput
        case let linear as Linear:
            return output.reduce(1, *) * linear.inputFeatures
        default:
            return 0
        }
    }

    private static func walk(
        _ layer: any Layer, path: String, depth: Int, input: [Int],
        into entries: inout [Entry]
    ) throws -> [Int] {
        let slot = entries.count
        entries.append(
            Entry(
                path: path, depth: depth, layer: layer, inputShape: input, outputShape: [],
                parameterCount: 0, multiplyAdds: 0))
        let output = try layer.outputShape(for: input)
        var macs = 0
        if layer.children.isEmpty {
            macs = multiplyAdds(of: layer, input: input, output: output)
        } else {
            // A Concat or a Residual feeds its input to every child; any other container chains them.
            var flowing = input
            for child in layer.children {
                let childPath = path.isEmpty ? child.name : "\(path).\(child.name)"
                let childOutput = try walk(
                    child.layer, path: childPath, depth: depth + 1,
                    input: layer.childrenReadTheSameInput ? input : flowing, into: &entries)
                flowing = childOutput
            }
            macs = entries[(slot + 1)...].filter { !$0.isContainer }.reduce(0) { $0 + $1.multiplyAdds }
        }
        entries[slot] = Entry(
            path: path, depth: depth, layer: layer, inputShape: input, outputShape: output,
            parameterCount: layer.parameterCount, multiplyAdds: macs)
        return output
    }
}
