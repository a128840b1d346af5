// Sequential.swift: layers applied one after another, named "0", "1", ... as in PyTorch's
// nn.Sequential, so that parameter names match its state_dict ("3.weight").

public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public var description: String { "Sequential(\(layers.count) layers)" }
    public var children: [(name: String, layer: any Layer)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }

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
