// GemmBenchmark.swift: SGEMM throughput on square sizes and on the matrix products that
// AlexNet's convolutions lower to at batch 128 (im2col over the whole batch), forward and the
// two transposed products of backward.
// How the two libraries are kept from disturbing each other is in main.swift.

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
        [
            GemmShape(
                name: "\(layer) forward", transA: false, transB: false,
                m: outputChannels, n: positions, k: patch),
            GemmShape(
                name: "\(layer) backward-data", transA: true, transB: false,
                m: patch, n: positions, k: outputChannels),
            GemmShape(
                name: "\(layer) backward-filter", transA: false, transB: true,
                m: outputChannels, n: patch, k: positions),
        ]
    }

    /// d2l's AlexNet on 1 x 224 x 224 inputs at batch 128.
    static let alexNet: [GemmShape] = {
        let batch = 128
        return [convolution("conv1", outputChannels: 96, patch: 1 * 11 * 11, positions: 54 * 54 * batch)[0]]
            + convolution("conv2", outputChannels: 256, patch: 96 * 5 * 5, positions: 26 * 26 * batch)
            + convolution("conv3", outputChannels: 384, patch: 256 * 3 * 3, positions: 12 * 12 * batch)
            + [
                convolution("conv4", outputChannels: 384, patch: 384 * 3 * 3, positions: 12 * 12 * batch)[0],
                convolution("conv5", outputChannels: 256, patch: 384 * 3 * 3, positions: 12 * 12 * batch)[0],
            ]
    }()
}

/// Operands for one shape, filled with seeded values in [-1, 1).
struct GemmOperandsForBench: ~Copyable {
    let a: AlignedBuffer, b: AlignedBuffer, c: AlignedBuffer
    let lda: Int, ldb: Int

    init(_ shape: GemmShape) {
        var generator = SeededGenerator(seed: 7)
        a = AlignedBuffer(count: shape.m * shape.k)
        b = AlignedBuffer(count: shape.k * shape.n)
        c = AlignedBuffer(count: shape.m * shape.n)
        for i in 0..<a.count { a.pointer[i] = 2 * generator.nextUnitFloat() - 1 }
        for i in 0..<b.count { b.pointer[i] = 2 * generator.nextUnitFloat() - 1 }
        lda = shape.transA ? shape.m : shape.k
        ldb = shape.transB ? shape.k : shape.n
    }
}

/// How long each library times one shape in a round, at least `--repeats` calls, keeping the
/// fastest. On this shared machine a product's speed moves in steps of half a second or more
/// (AlexNet's conv3 forward, call after call in one process: 155-161 GFLOP/s, then 130, then
/// 100), so three calls of a short product saw one moment of it; half a second of calls gives
/// each side the same stretch of time to show its undisturbed speed.
let gemmTimedSeconds = 0.5

/// Our sgemm's best GFLOP/s on `shape` over `repeats` runs (or `gemmTimedSeconds` of runs,
/// whichever is more) after a warm-up.
func measureOurs(_ shape: GemmShape, threads: Int, repeats: Int) -> Double {
    let operands = GemmOperandsForBench(shape)
    let workspace = GemmWorkspace(workers: threads)
    let seconds = bestTime(repeats: repeats, timedSeconds: gemmTimedSeconds) {
        sgemm(
            transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k, alpha: 1,
            a: operands.a.pointer, lda: operands.lda, b: operands.b.pointer, ldb: operands.ldb,
            beta: 0, c: operands.c.pointer, ldc: shape.n, workspace: workspace)
    }
    return shape.flops / seconds / 1e9
}

/// OpenBLAS's best GFLOP/s on the same operands, timed the same way.
func measureOpenBLAS(_ shape: GemmShape, _ blas: OpenBLAS, repeats: Int) -> Double {
    let operands = GemmOperandsForBench(shape)
    let seconds = bestTime(repeats: repeats, timedSeconds: gemmTimedSeconds) {
        blas.sgemm(
            transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k, alpha: 1,
            a: operands.a.pointer, lda: operands.lda, b: operands.b.pointer, ldb: operands.ldb,
            beta: 0, c: operands.c.pointer, ldc: shape.n)
    }
    return shape.flops / seconds / 1e9
}
