// LocalResponseNorm.swift: AlexNet's normalisation across neighbouring channels, with PyTorch's
// parameter convention (alpha is divided by the window size; see the kernel's file for how the
// paper's numbers translate).

import Kernels

public final class LocalResponseNorm: Layer {
    public let normalization: LocalResponseNormParameters
    private var cached: (input: Tensor, output: Tensor, scale: Tensor)?

    public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
        normalization = LocalResponseNormParameters(size: size, alpha: alpha, beta: beta, k: k)
    }

    public var description: String {
        let p = normalization
        return
            "LocalResponseNorm(size: \(p.size), alpha: \(compact(p.alpha)), beta: \(compact(p.beta)), k: \(compact(p.k)))"
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4 else {
            throw ShapeError(layer: description, input: input, problem: "expected [N, C, H, W]")
        }
        return input
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        _ = try outputShape(for: x.shape)
        var y = Tensor(uninitializedShape: x.shape), scale = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { output in
                scale.withUnsafeMutableBufferPointer { s in
                    localResponseNormForward(
                        normalization, batch: x.shape[0], channels: x.shape[1],
                        pixels: x.shape[2] * x.shape[3], input: input.baseAddress!,
                        output: output.baseAddress!, scale: s.baseAddress!)
                }
            }
        }
        cached = training ? (x, y, scale) : nil
        return y
    }

    public func releaseSavedTensors() { cached = nil }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let (x, y, scale) = cached else {
            preconditionFailure("\(description): backward without a training forward")
        }
        var dx = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeBufferPointer { output in
                scale.withUnsafeBufferPointer { s in
                    dOutput.withUnsafeBufferPointer { dy in
                        dx.withUnsafeMutableBufferPointer { dInput in
                            localResponseNormBackward(
                                normalization, batch: x.shape[0], channels: x.shape[1],
                                pixels: x.shape[2] * x.shape[3], input: input.baseAddress!,
                                output: output.baseAddress!, scale: s.baseAddress!,
                                outputGradient: dy.baseAddress!, inputGradient: dInput.baseAddress!)
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// 0.00049999997 -> "0.0005": a Float with the digits it was written with.
func compact(_ value: Float) -> String {
    var text = "\(Double(String(format: "%.6g", Double(value)))!)"
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}
