// Engine.swift: the ways a model can run, which a reader picks with --engine.
//
//   layers  every layer on its own: the model exactly as it reads, one kernel call per layer
//   fused   a convolution, its activation and a pooling layer after them as one pass, so the
//           batch's activations are not written out and read back between them
//   lanes   conv -> activation -> pool stages on small planes (and the dense layers after them)
//           with 16 images in each AVX-512 vector (LaneBlock); the rest fused
//   auto    lanes where the processor has AVX-512, else fused
//
// Every engine computes the same function; they differ in the order of additions, so results
// agree to rounding (the tests compare them).

import Kernels

public enum Engine: String, CaseIterable, Sendable {
    case auto, layers, fused, lanes

    /// Why this processor cannot run `self`, or nil when it can.
    public var unavailableReason: String? {
        guard self == .lanes, !GemmBlocking.wideTile else { return nil }
        return GemmBlocking.processorHasAVX512
            ? "the lanes engine runs AVX-512 tiles, and MODERNCNN_TILE=avx2 asks for the AVX2 ones"
            : "the lanes engine needs AVX-512 (16 floats per vector); this processor has AVX2 only"
    }

    /// The engines this processor runs, `auto` left out (it is one of them).
    public static var available: [Engine] { [.layers, .fused, .lanes].filter { $0.unavailableReason == nil } }

    /// `auto` made concrete for this processor.
    public var resolved: Engine {
        guard self == .auto else { return self }
        return Engine.lanes.unavailableReason == nil ? .lanes : .fused
    }

    var fuses: Bool { resolved != .layers }
    var usesLanes: Bool { resolved == .lanes }
}

/// An engine this processor cannot run.
public struct EngineError: Error, CustomStringConvertible {
    public let engine: Engine
    public let reason: String
    public var description: String {
        "--engine \(engine.rawValue): \(reason); choose one of "
            + Engine.available.map(\.rawValue).joined(separator: ", ") + " or auto"
    }
}
