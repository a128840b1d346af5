// MultiplyAddCounterTests.swift: the instrument counts exactly the GEMMs of the work it wraps,
// including work handed to the worker pool, and nothing another thread does meanwhile.

import Foundation
import Testing

@testable import Kernels

@Test("counts a threaded, batch-split convolution exactly, ignoring another thread's GEMMs")
func countsOnlyItsOwnWork() throws {
    // Small images: the batch is split over the workers, so the GEMMs run on pool threads.
    let g = ConvolutionGeometry(
        batch: 8, inputChannels: 3, inputHeight: 12, inputWidth: 12, outputChannels: 5,
        kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1)
    let x = [Float](repeating: 0.5, count: 8 * 3 * 144), w = [Float](repeating: 0.1, count: 5 * 27)
    var y = [Float](repeating: 0, count: 8 * 5 * 144)
    let workspace = ConvolutionWorkspace(g, workers: 2, algorithm: .im2col)
    // Meanwhile another thread runs its own GEMMs, which must not be counted.
    let noise = Thread {
        var c = [Float](repeating: 0, count: 64 * 64)
        let a = [Float](repeating: 1, count: 64 * 64)
        for _ in 0..<50 {
            sgemm(
                transA: false, transB: false, m: 64, n: 64, k: 64, alpha: 1, a: a, lda: 64, b: a, ldb: 64,
                beta: 0, c: &c, ldc: 64, threads: 1)
        }
    }
    noise.start()
    let counted = MultiplyAddCounter.counting {
        convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
    }
    #expect(counted == 8 * 5 * 144 * 27)
    #expect(MultiplyAddCounter.counting {} == 0)
}

@Test("a Winograd convolution counts the multiply-adds of the convolution it computes")
func countsWinogradNominally() {
    let g = ConvolutionGeometry(
        batch: 3, inputChannels: 16, inputHeight: 10, inputWidth: 10, outputChannels: 16,
        kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1)
    let workspace = ConvolutionWorkspace(g, workers: 2, algorithm: .winograd)
    let x = [Float](repeating: 0.5, count: 3 * 16 * 100), w = [Float](repeating: 0.1, count: 16 * 16 * 9)
    var y = [Float](repeating: 0, count: 3 * 16 * 100), dx = x
    let direct = 3 * 16 * 100 * 16 * 9
    #expect(
        MultiplyAddCounter.counting {
            convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
        } == direct)
    #expect(
        MultiplyAddCounter.counting {
            convolutionBackwardData(g, outputGradient: y, weight: w, inputGradient: &dx, workspace: workspace)
        } == direct)
    var dw = w
    #expect(
        MultiplyAddCounter.counting {
            convolutionBackwardFilter(
                g, input: x, outputGradient: y, weightGradient: &dw, biasGradient: nil,
                workspace: workspace)
        } == direct)
}
