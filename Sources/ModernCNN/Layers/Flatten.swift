// Flatten.swift: [N, C, H, W] -> [N, C*H*W], the hinge between convolutions and fully connected
// layers. A reshape: no floats move.

public final class Flatten: Layer {
    private var cachedInputShape: [Int]?
    public init() {}
    public var description: String { "Flatten()" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard let batch = input.first else {
            throw ShapeError(layer: description, input: input, problem: "empty shape")
        }
        return [batch, input.dropFirst().reduce(1, *)]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        cachedInputShape = training ? x.shape : nil
        return try x.reshaped(try outputShape(for: x.shape))
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let shape = cachedInputShape else { preconditionFailure("Flatten: backward without a training forward") }
        // The gradient has the output's element count by construction; only its shape changes.
        return try! dOutput.reshaped(shape)
    }
}
