// ConvolutionsExercisesTests.swift: chapter 02's answers, each against the real layers: the
// output shape against a run, mirror padding against a hand-written example, the combined
// kernel against two stacked layers, the grouped saving against the instrumented count, and
// pooling against the pooling layer.

import Foundation
import Kernels
import ModernCNN
import Testing

@testable import Exercises

@Test("output shape of kernel (3, 5), padding (0, 1), stride (3, 4) on 8x8: the formula agrees with a run")
func outputShapeAnswer() {
    let answer = ConvolutionsExercises.outputShape()
    #expect(answer.byRunning == [1, 1, answer.byFormula.height, answer.byFormula.width])
    #expect(answer.byFormula.height == 2 && answer.byFormula.width == 2)
}

@Test("mirror padding reflects about the edge, and keeps a constant image constant")
func mirrorPaddingAnswer() {
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let padded = ConvolutionsExercises.mirrorPadded(x, height: 3, width: 3, padding: 1)
    #expect(
        padded == [
            5, 4, 5, 6, 5,
            2, 1, 2, 3, 2,
            5, 4, 5, 6, 5,
            8, 7, 8, 9, 8,
            5, 4, 5, 6, 5,
        ])
    let constant = ConvolutionsExercises.mirrorPadded([Float](repeating: 7, count: 20), height: 4, width: 5, padding: 3)
    #expect(constant.count == 10 * 11 && constant.allSatisfy { $0 == 7 })
}

@Test("two stacked convolutions equal one with the combined (ka + kb - 1) kernel")
func combinedKernelAnswer() throws {
    var g = SeededGenerator(seed: 2)
    let a = Array(Tensor(uniform: [9], in: -1...1, generator: &g).scalars)
    let b = Array(Tensor(uniform: [4], in: -1...1, generator: &g).scalars)
    let x = Tensor(uniform: [2, 1, 10, 10], in: -1...1, generator: &g)
    func layer(_ weights: [Float], _ k: Int) throws -> Conv2d {
        var generator = SeededGenerator(seed: 0)
        let conv = Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: k, bias: false, generator: &generator)
        conv.weight.value = try Tensor(shape: [1, 1, k, k], values: weights)
        return conv
    }
    let stacked = try layer(b, 2).forward(try layer(a, 3).forward(x, training: false), training: false)
    let c = ConvolutionsExercises.combinedKernel(a, size: 3, b, size: 2)
    #expect(c.count == 16)
    let single = try layer(c, 4).forward(x, training: false)
    #expect(stacked.shape == [2, 1, 7, 7] && single.shape == stacked.shape)
    #expect(zip(stacked.scalars, single.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
}

@Test("b groups cost b times fewer multiply-adds, counted by the instrumented kernels")
func groupedCostAnswer() {
    let answer = ConvolutionsExercises.groupedCost(channels: 32, groups: 4, side: 14, batch: 2)
    #expect(answer.multiplyAdds.full == 2 * 32 * 14 * 14 * 32 * 9)
    #expect(answer.multiplyAdds.full == 4 * answer.multiplyAdds.grouped)
    #expect(answer.seconds.full > 0 && answer.seconds.grouped > 0)
}

@Test("average pooling is a depthwise convolution of 1/k^2; max comes from ReLU")
func poolingAnswers() throws {
    var g = SeededGenerator(seed: 3)
    for (side, window, stride) in [(8, 2, 2), (9, 3, 2)] {
        let x = Tensor(uniform: [2, 3, side, side], in: -1...1, generator: &g)
        let pooled = try AvgPool2d(kernelSize: window, stride: stride).forward(x, training: false)
        let convolved = try ConvolutionsExercises.averagePoolAsConvolution(channels: 3, window: window, stride: stride)
            .forward(x, training: false)
        #expect(pooled.shape == convolved.shape)
        #expect(zip(pooled.scalars, convolved.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    }
    for a in [-2, -0.5, 0, 1.5, 3] as [Float] {
        for b in [-1, 0, 0.25, 3] as [Float] { #expect(ConvolutionsExercises.maximum(a, b) == max(a, b)) }
    }
}

@Test("a convolution's cost: forward, backward-data and backward-filter counted by the kernels, and its tensors' sizes")
func layerCostAnswer() {
    let costs = ConvolutionsExercises.layerCosts(inputChannels: 6, side: 12, outputChannels: 10, kernel: 3, padding: 1)
    #expect(costs.count == 4)
    for cost in costs {
        let g = cost.geometry
        let x = [Float](repeating: 0.5, count: cost.inputFloats), w = [Float](repeating: 0.25, count: cost.weightFloats)
        var y = [Float](repeating: 0, count: cost.outputFloats), dx = x, dw = w
        // im2col counts its own products; the same sizes whatever the algorithm.
        let workspace = ConvolutionWorkspace(g, workers: 1, algorithm: .im2col)
        let forward = MultiplyAddCounter.counting {
            convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
        }
        let data = MultiplyAddCounter.counting {
            convolutionBackwardData(g, outputGradient: y, weight: w, inputGradient: &dx, workspace: workspace)
        }
        let filter = MultiplyAddCounter.counting {
            convolutionBackwardFilter(
                g, input: x, outputGradient: y, weightGradient: &dw, biasGradient: nil,
                workspace: workspace)
        }
        #expect(forward == cost.forward && data == cost.forward && filter == cost.forward, "\(cost.name)")
        #expect(cost.training == forward + data + filter)
        #expect(cost.outputFloats == y.count && y.count == g.outputChannels * g.outputHeight * g.outputWidth)
    }
    #expect(costs[1].forward == 2 * costs[0].forward && costs[2].forward == 4 * costs[0].forward)
    // Padding 1 -> 2 with a 3x3 kernel: 12x12 outputs become 14x14.
    #expect(costs[3].geometry.outputHeight == 14 && costs[3].forward * 144 == costs[0].forward * 196)
}

@Test("kernels by hand: the edge detector gives the directional derivative; the d-th difference needs d + 1 taps")
func kernelsByHandAnswer() throws {
    // On a ramp image a * column + b * row, the edge kernel for (v1, v2) gives v1 * a + v2 * b.
    for (v, a, b) in [((Float(1), Float(0)), Float(2), Float(5)), ((0.6, 0.8), -1, 3), ((0, 1), 4, 0.5)] {
        let kernel = ConvolutionsExercises.edgeDetector(orthogonalTo: v)
        var generator = SeededGenerator(seed: 0)
        let conv = Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 2, bias: false, generator: &generator)
        conv.weight.value = try Tensor(shape: [1, 1, 2, 2], values: kernel)
        let ramp = try Tensor(shape: [1, 1, 6, 7], values: (0..<42).map { a * Float($0 % 7) + b * Float($0 / 7) })
        let response = try conv.forward(ramp, training: false)
        #expect(response.scalars.allSatisfy { abs($0 - (v.0 * a + v.1 * b)) < 1e-4 }, "\(v)")
    }
    for d in 1...5 {
        let kernel = ConvolutionsExercises.finiteDifference(order: d)
        #expect(kernel.count == d + 1)
        // Slid over x^j sampled at x0, x0 + 1, ...: zero below degree d, d! at degree d.
        for j in 0...d {
            for x0 in [0.0, 2.0, -3.0] {
                let value = kernel.enumerated().reduce(0.0) {
                    $0 + Double($1.element) * pow(x0 + Double($1.offset), Double(j))
                }
                let expected = j == d ? Double((1...d).reduce(1, *)) : 0
                #expect(abs(value - expected) < 1e-6 * max(1, expected), "order \(d), x^\(j)")
            }
        }
        // d taps cannot do it: the only d-tap kernel giving 0 on 1, x, ..., x^(d-1) is zero,
        // because that d x d system (entries k^j) has a nonzero determinant.
        var m = (0..<d).map { j in (0..<d).map { k in pow(Double(k), Double(j)) } }
        var determinant = 1.0
        for column in 0..<d {
            let pivot = (column..<d).max { abs(m[$0][column]) < abs(m[$1][column]) }!
            if pivot != column { m.swapAt(pivot, column); determinant = -determinant }
            determinant *= m[column][column]
            for row in (column + 1)..<d where m[column][column] != 0 {
                let factor = m[row][column] / m[column][column]
                for k in column..<d { m[row][k] -= factor * m[column][k] }
            }
        }
        #expect(abs(determinant) > 0.5, "order \(d)")
    }
    #expect(ConvolutionsExercises.finiteDifference(order: 2) == [1, -2, 1])
    #expect(abs(ConvolutionsExercises.blur(size: 3).reduce(0, +) - 1) < 1e-6)
}

@Test("a diagonal edge under [1, -1]: found along the diagonal all three ways, and the transposes agree")
func diagonalEdgesAnswer() {
    let n = 7
    let answer = ConvolutionsExercises.diagonalEdges(side: n)
    // The picture, and the three slides, by plain loops.
    let x = { (i: Int, j: Int) -> Float in j >= i ? 1 : 0 }
    #expect(answer.picture == (0..<(n * n)).map { x($0 / n, $0 % n) })
    var horizontal: [Float] = [], transposedPicture: [Float] = [], transposedKernel: [Float] = []
    for i in 0..<n { for j in 0..<(n - 1) { horizontal.append(x(i, j) - x(i, j + 1)) } }
    for i in 0..<n { for j in 0..<(n - 1) { transposedPicture.append(x(j, i) - x(j + 1, i)) } }
    for i in 0..<(n - 1) { for j in 0..<n { transposedKernel.append(x(i, j) - x(i + 1, j)) } }
    #expect(answer.horizontal == horizontal && answer.transposedPicture == transposedPicture)
    #expect(answer.transposedKernel == transposedKernel)
    // Sliding K^T over X is the transpose of sliding K over X^T.
    #expect(
        (0..<((n - 1) * n)).allSatisfy {
            answer.transposedKernel[$0] == answer.transposedPicture[($0 % n) * (n - 1) + $0 / n]
        })
    // Each finds the edge once per row (or column), on the diagonal: n - 1 nonzero outputs.
    for found in [answer.horizontal, answer.transposedPicture, answer.transposedKernel] {
        #expect(found.filter { $0 != 0 }.count == n - 1)
    }
    #expect(answer.horizontal.allSatisfy { $0 <= 0 } && answer.transposedPicture.allSatisfy { $0 >= 0 })
}

@Test(
    "im2col for any window: the columns times the weights equal the definition",
    arguments: [(1, 1, 1, 1, 0, 0), (2, 3, 2, 1, 1, 0), (5, 5, 3, 3, 2, 2), (3, 1, 1, 2, 0, 3)])
func im2colAnyWindow(r: Int, s: Int, strideH: Int, strideW: Int, padH: Int, padW: Int) {
    let g = ConvolutionGeometry(
        batch: 2, inputChannels: 3, inputHeight: 9, inputWidth: 10, outputChannels: 4,
        kernelHeight: r, kernelWidth: s, strideHeight: strideH, strideWidth: strideW,
        paddingHeight: padH, paddingWidth: padW)
    var generator = SeededGenerator(seed: 5)
    let x = (0..<(2 * 3 * 90)).map { _ in generator.nextUnitFloat() - 0.5 }
    let w = (0..<g.weightCount).map { _ in generator.nextUnitFloat() - 0.5 }
    let lowered = ConvolutionsExercises.convolutionByIm2col(g, input: x, weight: w)
    let reference = ConvolutionReference.forward(g, input: x, weight: w, bias: nil)
    #expect(lowered.count == reference.count)
    #expect(zip(lowered, reference).allSatisfy { abs($0 - $1) < 1e-5 }, "\(g)")
}

@Test("pooling's cost: AlexNet's first max pool against conv1, counted from their shapes")
func poolingCostAnswer() throws {
    let cost = try ConvolutionsExercises.poolingCost()
    // pool: 96 x 26 x 26 outputs, 8 comparisons each; conv1: 96 x 54 x 54 outputs, 11 x 11 taps each.
    #expect(cost.comparisons == 96 * 26 * 26 * 8 && cost.convolutionMultiplyAdds == 96 * 54 * 54 * 121)
}
