// Linear.swift: fully connected layer, y = x W^T + b. x: [B, in], W: [out, in] (PyTorch's
// layout), b: [out], y: [B, out]. Three SGEMMs:
//   forward          y[B, out]   = x[B, in] * W^T
//   backward-data    dx[B, in]   = dy[B, out] * W[out, in]
//   backward-filter  dW[out, in] += dy^T * x;   db += column sums of dy

import Kernels

public final class Linear: Layer {
    public let inputFeatures: Int, outputFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var cachedInput: Tensor?
    /// SGEMM's packing space, kept across batches: the one-call form of sgemm allocates 2 MB per
    /// worker each time, three times per training step.
    private var gemmScratch: GemmScratch?

    public init(
        inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
        initialization: WeightInitialization = .pytorchDefault, generator: inout SeededGenerator
    ) {
        (self.inputFeatures, self.outputFeatures) = (inputFeatures, outputFeatures)
        let (w, b) = initialization.values(weightShape: [outputFeatures, inputFeatures], generator: &generator)
        weight = Parameter(name: "weight", value: w)
        self.bias = bias ? Parameter(name: "bias", value: b) : nil
    }

    public var description: String { "Linear(\(inputFeatures) -> \(outputFeatures))" }
    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 2 else {
            throw ShapeError(layer: description, input: input, problem: "expected [batch, features]; flatten first")
        }
        guard input[1] == inputFeatures else {
            throw ShapeError(
                layer: description, input: input,
                problem: "got \(input[1]) features for \(inputFeatures): is the image the size "
                    + "this network was built for?")
        }
        return [input[0], outputFeatures]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let rows = try outputShape(for: x.shape)[0]
        var y = Tensor(uninitializedShape: [rows, outputFeatures])
        let scratch = GemmScratch.reused(&gemmScratch)
        y.withUnsafeMutableBufferPointer { output in
            // Start each row at the bias, then let the GEMM add x W^T onto it.
            if let bias {
                bias.value.withUnsafeBufferPointer { b in
                    for row in 0..<rows {
                        (output.baseAddress! + row * outputFeatures).update(from: b.baseAddress!, count: outputFeatures)
                    }
                }
            }
            x.withUnsafeBufferPointer { input in
                weight.value.withUnsafeBufferPointer { w in
                    sgemm(
                        transA: false, transB: true, m: rows, n: outputFeatures, k: inputFeatures, alpha: 1,
                        a: input.baseAddress!, lda: inputFeatures, b: w.baseAddress!, ldb: inputFeatures,
                        beta: bias == nil ? 0 : 1, c: output.baseAddress!, ldc: outputFeatures,
                        workspace: scratch.workspace)
                }
            }
        }
        cachedInput = training ? x : nil
        return y
    }

    public func releaseSavedTensors() { cachedInput = nil }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(description): backward without a training forward") }
        let rows = x.shape[0]
        var dx = Tensor(uninitializedShape: x.shape)
        let scratch = GemmScratch.reused(&gemmScratch)
        dOutput.withUnsafeBufferPointer { dy in
            weight.value.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dInput in
                    sgemm(
                        transA: false, transB: false, m: rows, n: inputFeatures, k: outputFeatures, alpha: 1,
                        a: dy.baseAddress!, lda: outputFeatures, b: w.baseAddress!, ldb: inputFeatures,
                        beta: 0, c: dInput.baseAddress!, ldc: inputFeatures, workspace: scratch.workspace)
                }
            }
            x.withUnsafeBufferPointer { input in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    sgemm(
                        transA: true, transB: false, m: outputFeatures, n: inputFeatures, k: rows, alpha: 1,
                        a: dy.baseAddress!, lda: outputFeatures, b: input.baseAddress!, ldb: inputFeatures,
                        beta: 1, c: dw.baseAddress!, ldc: inputFeatures, workspace: scratch.workspace)
                }
            }
            bias?.gradient.withUnsafeMutableBufferPointer { db in
                accumulateColumnSums(of: dy.baseAddress!, rows: rows, columns: outputFeatures, into: db.baseAddress!)
            }
        }
        return dx
    }
}

/// Owns a GemmWorkspace (non-copyable) so that a layer can keep one between batches.
final class GemmScratch {
    let workspace = GemmWorkspace(workers: Parallel.threadCount)

    /// The scratch in `slot`, made again when there is none or the thread count has changed.
    static func reused(_ slot: inout GemmScratch?) -> GemmScratch {
        if let scratch = slot, scratch.workspace.workers == Parallel.threadCount { return scratch }
        let fresh = GemmScratch()
        slot = fresh
        return fresh
    }
}
