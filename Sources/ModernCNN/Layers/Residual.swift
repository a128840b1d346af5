// Residual.swift: y = body(x) + shortcut(x), a residual connection (He et al., 2015) around any
// block. The shortcut is the identity when the body keeps the shape, or a layer (usually a 1x1
// convolution) that maps x to the body's output channels when it does not:
//   x [N, C, H, W] -> body -> [N, C', H, W]
//                  -> shortcut (identity when C' = C) -> [N, C', H, W]   summed
// Backward: the sum passes dL/dy unchanged to both paths, and x's gradient is the sum of what
// the two paths send back, because x fed both.

public final class Residual: Layer {
    public let body: any Layer
    /// nil: the identity.
    public let shortcut: (any Layer)?

    public init(_ body: any Layer, shortcut: (any Layer)? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    public var description: String {
        "Residual(\(body.description) + \(shortcut.map(\.description) ?? "identity"))"
    }

    public var childrenReadTheSameInput: Bool { true }

    public var children: [(name: String, layer: any Layer)] {
        [("body", body)] + (shortcut.map { [("shortcut", $0)] } ?? [])
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let bodyShape = try body.outputShape(for: input)
        let shortcutShape = try shortcut?.outputShape(for: input) ?? input
        guard bodyShape == shortcutShape else {
            throw ShapeError(
                layer: description, input: input,
                problem: "the body gives \(bodyShape) but the shortcut gives \(shortcutShape); "
                    + (shortcut == nil ? "an identity shortcut needs a body that keeps the shape" : "they must agree"))
        }
        return bodyShape
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        _ = try outputShape(for: x.shape)
        return Self.sum(try body.forward(x, training: training), try shortcut?.forward(x, training: training) ?? x)
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        Self.sum(body.backward(dOutput), shortcut?.backward(dOutput) ?? dOutput)
    }

    /// a + b for two tensors of the same shape, written into a's storage (copied first if shared).
    static func sum(_ a: Tensor, _ b: Tensor) -> Tensor {
        var total = a
        total.add(b)
        return total
    }
}
