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

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try layers.reduce(x) { value, layer in try layer.forward(value, training: training) }
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        layers.reversed().reduce(dOutput) { gradient, layer in layer.backward(gradient) }
    }
}
