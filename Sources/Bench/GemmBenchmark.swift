// GemmBenchmark.swift: SGEMM throughput on square sizes and on the matrix products that
// AlexNet's convolutions lower to at batch 128 (im2col over the whole batch), forward and the
// two transposed products of backward.

import Kernels
import ModernCNN
import Notebook

struct GemmShape {
    let name: String
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    static func square(_ size: Int) -> GemmShape {
        GemmShape(name: "square \(size)", transA: false, transB: false, m: size, n: size, k: size)
    }

    /// A convolution of K output channels, C*R*S patch length and P*Q*batch output positions:
    /// forward Y[K, PQN] = W[K, CRS] * col[CRS, PQN]; backward-data dcol = W^T * dY;
    /// backward-filter dW = dY * col^T.
    static func convolution(_ layer: String, outputChannels: Int, patch: Int, positions: Int) -> [GemmShape] {
        [GemmShape(name: "\(layer) forward", transA: false, transB: false,
                   m: outputChannels, n: positions, k: patch),
         GemmShape(name: "\(layer) backward-data", transA: true, transB: false,
                   m: patch, n: positions, k: outputChannels),
         GemmShape(name: "\(layer) backward-filter", transA: false, transB: true,
                   m: outputChannels, n: patch, k: positions)]
    }

    /// d2l's AlexNet on 1 x 224 x 224 inputs at batch 128.
    static let alexNet: [GemmShape] = {
        let batch = 128
        return [convolution("conv1", outputChannels: 96, patch: 1 * 11 * 11, positions: 54 * 54 * batch)[0]]
            + convolution("conv2", outputChannels: 256, patch: 96 * 5 * 5, positions: 26 * 26 * batch)
            + convolution("conv3", outputChannels: 384, patch: 256 * 3 * 3, positions: 12 * 12 * batch)
            + [convolution("conv4", outputChannels: 384, patch: 384 * 3 * 3, positions: 12 * 12 * batch)[0],
               convolution("conv5", outputChannels: 256, patch: 384 * 3 * 3, positions: 12 * 12 * batch)[0]]
    }()
}

struct GemmResult {
    let shape: GemmShape
    let ours: Double
    let openBLAS: Double?
}

/// Times our sgemm and OpenBLAS's on the same operands, alternating run by run so that both see
/// the same background load, and keeps each one's best.
func benchmarkGemm(_ shape: GemmShape, threads: Int, repeats: Int, openBLAS: OpenBLAS?) -> GemmResult {
    var generator = SeededGenerator(seed: 7)
    let aCount = shape.m * shape.k, bCount = shape.k * shape.n
    let a = AlignedBuffer(count: aCount), b = AlignedBuffer(count: bCount), c = AlignedBuffer(count: shape.m * shape.n)
    for i in 0..<aCount { a.pointer[i] = 2 * generator.nextUnitFloat() - 1 }
    for i in 0..<bCount { b.pointer[i] = 2 * generator.nextUnitFloat() - 1 }
    let lda = shape.transA ? shape.m : shape.k, ldb = shape.transB ? shape.k : shape.n
    let workspace = GemmWorkspace(workers: threads)
    let runOurs = {
        sgemm(transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k, alpha: 1,
              a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, beta: 0, c: c.pointer, ldc: shape.n,
              workspace: workspace)
    }
    let runTheirs = openBLAS.map { blas in {
        blas.sgemm(transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k, alpha: 1,
                   a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, beta: 0, c: c.pointer, ldc: shape.n)
    } }
    runOurs()
    runTheirs?()
    var ours = Double.infinity, theirs = Double.infinity
    for _ in 0..<repeats {
        ours = min(ours, bestTime(repeats: 1, warmUp: false, runOurs))
        if let runTheirs { theirs = min(theirs, bestTime(repeats: 1, warmUp: false, runTheirs)) }
    }
    return GemmResult(shape: shape, ours: shape.flops / ours / 1e9,
                      openBLAS: runTheirs == nil ? nil : shape.flops / theirs / 1e9)
}
