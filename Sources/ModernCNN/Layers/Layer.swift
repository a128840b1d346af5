// Layer.swift: what every layer is. No tape and no general autograd: each layer owns an explicit
// forward and backward, the way Caffe and llm.c write them, so that every gradient is visible.
//
// A layer caches, during a training forward, exactly what its backward needs; backward takes
// dL/dy and returns dL/dx, adding its parameter gradients into `Parameter.gradient` (so that
// gradients of several uses add up, and an optimizer step reads and then zeroes them).

public protocol Layer: AnyObject, CustomStringConvertible {
    /// The output shape for an input shape, without computing anything: what shape traces and
    /// summaries use, and what forward checks first so that a mismatch fails before any work.
    func outputShape(for input: [Int]) throws -> [Int]
    /// y = layer(x). With `training`, caches what backward needs (and dropout drops).
    func forward(_ x: Tensor, training: Bool) throws -> Tensor
    /// dL/dx from dL/dy, for the input of the most recent training forward.
    func backward(_ dOutput: Tensor) -> Tensor
    /// This layer's own parameters (not its children's), named as in PyTorch ("weight", "bias").
    var parameters: [Parameter] { get }
    /// State that is saved with the parameters but not learned by gradient descent: batch
    /// normalisation's running statistics ("running_mean"), PyTorch's buffers.
    var buffers: [Buffer] { get }
    /// Named sub-layers of a container ("0", "1", ... or "p1_1"); empty for a plain layer.
    var children: [(name: String, layer: any Layer)] { get }
    /// What a child's state_dict names start with: "name." for most containers; "" for one whose
    /// PyTorch module names its children's layers directly (Inception's branches, Concat.swift).
    func statePrefix(forChild name: String) -> String
    /// Whether every child reads this layer's input (Concat's branches, a Residual's body and
    /// shortcut) rather than each the one before it (Sequential): what shape walks follow.
    var childrenReadTheSameInput: Bool { get }
    /// Drops what the last training forward saved for backward (not the children's). A training
    /// forward calls it first on every layer below it (Sequential.forward).
    func releaseSavedTensors()
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }
    public func releaseSavedTensors() {}
    public func statePrefix(forChild name: String) -> String { "\(name)." }
    public var childrenReadTheSameInput: Bool { false }

    /// Every parameter in this layer and below, with PyTorch state_dict names ("3.weight").
    public var namedParameters: [(name: String, parameter: Parameter)] {
        parameters.map { ($0.name, $0) }
            + children.flatMap { child in
                child.layer.namedParameters.map { (statePrefix(forChild: child.name) + $0.name, $0.parameter) }
            }
    }

    /// Every buffer in this layer and below, named as in PyTorch's state_dict ("1.running_mean").
    public var namedBuffers: [(name: String, buffer: Buffer)] {
        buffers.map { ($0.name, $0) }
            + children.flatMap { child in
                child.layer.namedBuffers.map { (statePrefix(forChild: child.name) + $0.name, $0.buffer) }
            }
    }

    /// Names and shapes of everything a checkpoint of this model holds: parameters, then buffers.
    public var stateShapes: [(name: String, shape: [Int])] {
        namedParameters.map { ($0.name, $0.parameter.value.shape) }
            + namedBuffers.map { ($0.name, $0.buffer.value.shape) }
    }

    /// Sets every parameter and buffer from `tensor(name)`, which the caller has checked.
    func assignState(_ tensor: (String) -> Tensor) {
        for (name, parameter) in namedParameters { parameter.value = tensor(name) }
        for (name, buffer) in namedBuffers { buffer.value = tensor(name) }
    }

    /// This layer and every layer below it, depth first.
    public var allLayers: [any Layer] { [self] + children.flatMap { $0.layer.allLayers } }

    /// Number of learnable floats in this layer and below.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }
}

/// A layer that slides a square window over H and W: convolutions and pools. Its output size
/// along each axis is floor((n + 2 * padding - kernelSize) / stride) + 1, which shape traces print.
public protocol SlidingWindowLayer: Layer {
    var kernelSize: Int { get }
    var stride: Int { get }
    var padding: Int { get }
}

/// A learnable tensor and the gradient that backward accumulates for it. A class, because the
/// layer, the optimizer and a checkpoint must all see the same one.
public final class Parameter {
    public let name: String
    public var value: Tensor
    public var gradient: Tensor

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        gradient = Tensor(zeros: value.shape)
    }

    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// A tensor a layer keeps and a checkpoint saves, which no optimizer touches (it has no gradient).
public final class Buffer {
    public let name: String
    public var value: Tensor

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }
}

extension Optional where Wrapped == Parameter {
    /// body(the value's pointer, or nil for a missing parameter): a layer's optional bias passed
    /// to a kernel that takes an optional pointer, in one call instead of one per case.
    func withValuePointer<Result>(_ body: (UnsafePointer<Float>?) throws -> Result) rethrows -> Result {
        guard let parameter = self else { return try body(nil) }
        return try parameter.value.withUnsafeBufferPointer { try body($0.baseAddress) }
    }

    /// body(the gradient's pointer, or nil for a missing parameter).
    func withGradientPointer<Result>(_ body: (UnsafeMutablePointer<Float>?) throws -> Result) rethrows -> Result {
        guard let parameter = self else { return try body(nil) }
        return try parameter.gradient.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
    }
}

/// An input that a layer cannot take, found before any compute. The message names the layer and
/// both shapes, and says what probably went wrong.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let layer: String
    public let input: [Int]
    public let problem: String

    public var description: String { "\(layer) cannot take input of shape \(input): \(problem)" }
}
