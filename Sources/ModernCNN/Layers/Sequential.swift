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

    public var description: String { "Sequential(\(layers.count) layers)" }
    public var children: [(name: String, layer: any Layer)] { Array(zip(names, layers)).map { ($0.0, $0.1) } }

    public func outputShape(for input: [Int]) throws -> [Int] {
        try layers.reduce(input) { shape, layer in try layer.outputShape(for: shape) }
    }

    /// Each layer in turn: the model as it reads. (How it runs fast, fused or in lanes, is an
    /// ExecutionPlan's business; this is the reference the plans are tested against.) A training
    /// forward first drops what the last one saved for backward, so that the heap does not hold
    /// two steps' activations at once.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { for layer in allLayers where layer !== self { layer.releaseSavedTensors() } }
        var value = x
        for layer in layers { value = try layer.forward(value, training: training) }
        return value
    }

    /// Each layer's backward, last to first.
    public func backward(_ dOutput: Tensor) -> Tensor {
        layers.reversed().reduce(dOutput) { gradient, layer in layer.backward(gradient) }
    }
}
