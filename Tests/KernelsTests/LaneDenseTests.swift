// LaneDenseTests.swift: the lane-layout dense products (16 images per vector) against plain
// loops over each image: the forward with bias and each activation, backward-data with and
// without an activation's slope, features packed 16 floats apart or strided as columns of a
// batch matrix, on row counts that take the 12-row tile exactly, with an overlapping last block,
// and with single rows. Also the row sums that make a bias's gradient from such a matrix.

import Foundation
import Testing

@testable import Kernels

/// rows x depth weights, and the stride of the features in the input and output.
struct LaneDenseCase: CustomStringConvertible, Sendable {
    let rows: Int, depth: Int, inputStride: Int, outputStride: Int
    var description: String { "\(rows) x \(depth), strides \(inputStride) and \(outputStride)" }
}

let laneDenseCases: [LaneDenseCase] = [
    .init(rows: 120, depth: 400, inputStride: 16, outputStride: 272),  // LeNet's fc1: ten whole tiles
    .init(rows: 13, depth: 7, inputStride: 48, outputStride: 16),  // an overlapping last block
    .init(rows: 5, depth: 37, inputStride: 16, outputStride: 32),  // fewer rows than a tile
    .init(rows: 30, depth: 1, inputStride: 80, outputStride: 80),  // one step of depth
]

/// Lane j of feature f, at stride `stride` floats between features.
private func lane(_ values: [Float], _ f: Int, _ j: Int, stride: Int) -> Float { values[f * stride + j] }

private func relativeError(_ ours: Float, _ reference: Float) -> Float {
    abs(ours - reference) / max(1, abs(reference))
}

@Test("lane dense forward: bias, the sums and each activation, per image", arguments: laneDenseCases)
func laneDenseForward(_ test: LaneDenseCase) {
    let dense = LaneDense(rows: test.rows, depth: test.depth)
    let w = testValues(test.rows * test.depth, seed: 60), b = testValues(test.rows, seed: 61)
    let x = testValues(test.depth * test.inputStride, seed: 62)
    var packed = [Float](repeating: .nan, count: dense.packedCount)
    dense.pack(weight: w, into: &packed)
    for activation in [FusedActivation.none, .relu, .sigmoid] {
        // NaN between the features: the kernel must write the 16 lanes of each and nothing else.
        var y = [Float](repeating: .nan, count: test.rows * test.outputStride)
        dense.forward(
            input: x, inputStride: test.inputStride, packedWeight: packed, bias: b, output: &y,
            outputStride: test.outputStride, activation: activation)
        var worst: Float = 0
        for o in 0..<test.rows {
            for j in 0..<16 {
                var sum = Double(b[o])
                for i in 0..<test.depth {
                    sum += Double(w[o * test.depth + i]) * Double(lane(x, i, j, stride: test.inputStride))
                }
                let expected: Float =
                    switch activation {
                    case .none: Float(sum)
                    case .relu: Float(max(sum, 0))
                    case .sigmoid: Float(1 / (1 + exp(-sum)))
                    }
                worst = max(worst, relativeError(lane(y, o, j, stride: test.outputStride), expected))
            }
            for j in 16..<test.outputStride { #expect(y[o * test.outputStride + j].isNaN) }
        }
        #expect(worst <= 2e-5, "\(test), \(activation)")
    }
}

@Test(
    "lane dense backward-data: the weights turned, then the slope of the activation before", arguments: laneDenseCases)
func laneDenseBackward(_ test: LaneDenseCase) {
    // Backward-data of a layer with `rows` inputs and `depth` outputs: w is [depth][rows].
    let dense = LaneDense(rows: test.rows, depth: test.depth)
    let w = testValues(test.depth * test.rows, seed: 63)
    let dy = testValues(test.depth * test.inputStride, seed: 64)
    // The activation's outputs: in (0, 1) as a sigmoid's; about half positive, as a ReLU's.
    let a = testValues(test.rows * test.outputStride, seed: 65).map { $0 < 0 ? 0 : $0 }
    for activation in [FusedActivation.none, .relu, .sigmoid] {
        var dx = [Float](repeating: .nan, count: test.rows * test.outputStride)
        dense.backward(
            outputGradient: dy, stride: test.inputStride, weight: w,
            activationOutput: activation == .none ? nil : a, activationStride: test.outputStride,
            activation, into: &dx, outputStride: test.outputStride)
        var worst: Float = 0
        for i in 0..<test.rows {
            for j in 0..<16 {
                var sum = 0.0
                for o in 0..<test.depth {
                    sum += Double(w[o * test.rows + i]) * Double(lane(dy, o, j, stride: test.inputStride))
                }
                let y = Double(lane(a, i, j, stride: test.outputStride))
                let slope: Double =
                    switch activation {
                    case .none: 1
                    case .relu: y > 0 ? 1 : 0
                    case .sigmoid: y * (1 - y)
                    }
                worst = max(worst, relativeError(lane(dx, i, j, stride: test.outputStride), Float(sum * slope)))
            }
        }
        #expect(worst <= 2e-5, "\(test), \(activation)")
    }
}

@Test("row sums of a strided matrix add each row's first columns into the sums")
func rowSumsOfStridedMatrix() {
    let (rows, columns, stride) = (7, 37, 48)
    let matrix = testValues(rows * stride, seed: 66)
    var sums = testValues(rows, seed: 67)
    let before = sums
    accumulateRowSums(of: matrix, rows: rows, columns: columns, stride: stride, into: &sums)
    for r in 0..<rows {
        let expected = before[r] + (0..<columns).map { matrix[r * stride + $0] }.reduce(0, +)
        #expect(abs(sums[r] - expected) <= 1e-5 * max(1, abs(expected)), "row \(r)")
    }
}
