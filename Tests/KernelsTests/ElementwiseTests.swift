// ElementwiseTests.swift: activations, softmax cross-entropy and local response normalisation
// against their formulas in Double, and their gradients against central differences in Double.

import Foundation
import Testing

@testable import Kernels

@Test("ReLU forward and backward, in place too", arguments: [1, 7, 100_000])
func relu(count: Int) {
    let x = testValues(count, seed: 31), dy = testValues(count, seed: 32)
    var y = [Float](repeating: .nan, count: count)
    reluForward(x, &y, count: count)
    #expect(y == x.map { max(0, $0) })
    var dx = [Float](repeating: .nan, count: count)
    reluBackward(outputGradient: dy, output: y, inputGradient: &dx, count: count)
    #expect(dx == zip(x, dy).map { $0 > 0 ? $1 : 0 })
    var inPlace = x
    inPlace.withUnsafeMutableBufferPointer { reluForward($0.baseAddress!, $0.baseAddress!, count: count) }
    #expect(inPlace == y)
}

@Test(
    "column sums (a bias's gradient) add onto the old sums, row by row, as the plain loop does",
    arguments: [(1, 1), (3, 15), (5, 16), (7, 17), (4, 37), (256, 120)])
func columnSums(shape: (rows: Int, columns: Int)) {
    let (rows, columns) = shape
    let matrix = testValues(rows * columns, seed: 11)
    var sums = testValues(columns, seed: 12)
    var expected = sums
    for row in 0..<rows { for j in 0..<columns { expected[j] += matrix[row * columns + j] } }
    accumulateColumnSums(of: matrix, rows: rows, columns: columns, into: &sums)
    #expect(sums == expected)
}

@Test("sigmoid is stable at the extremes and its backward matches finite differences")
func sigmoid() {
    let x: [Float] = [-100, -20, -1, -1e-3, 0, 1e-3, 1, 20, 100]
    var y = [Float](repeating: .nan, count: x.count)
    sigmoidForward(x, &y, count: x.count)
    for (input, output) in zip(x, y) {
        #expect(abs(Double(output) - 1 / (1 + exp(-Double(input)))) <= 1e-7)
    }
    let dy = testValues(x.count, seed: 33)
    var dx = [Float](repeating: .nan, count: x.count)
    sigmoidBackward(outputGradient: dy, output: y, inputGradient: &dx, count: x.count)
    for i in x.indices {
        let h = 1e-4, s = { (v: Double) in 1 / (1 + exp(-v)) }
        let numeric = Double(dy[i]) * (s(Double(x[i]) + h) - s(Double(x[i]) - h)) / (2 * h)
        #expect(abs(numeric - Double(dx[i])) <= 1e-6)
    }
}

@Test("the 16-lane sigmoid matches the definition over the whole range, to float accuracy")
func vectorSigmoid() {
    // 20,001 values from -100 to 100, so that the 16-lane path and the threaded split both run.
    let x = (0...20_000).map { Float($0) / 100 - 100 }
    var y = [Float](repeating: .nan, count: x.count)
    sigmoidForward(x, &y, count: x.count)
    var worst = 0.0
    for (input, output) in zip(x, y) {
        let exact = 1 / (1 + exp(-Double(input)))
        // Absolute error near 1, relative error near 0 (down to e^-87 where lanes are clamped).
        let error = abs(Double(output) - exact) / max(min(exact, 1e-1), input < -87 ? 1 : 1e-38)
        worst = max(worst, error)
        #expect(output >= 0 && output <= 1)
    }
    #expect(worst < 2e-6, "worst scaled error \(worst)")
}

/// Mean cross-entropy in Double, straight from the definition -log(e^{z_label} / sum e^{z_j}),
/// with the max shift the definition needs to be computable at all for large logits.
func referenceCrossEntropy(_ z: [Double], _ labels: [Int32], classes: Int) -> Double {
    var total = 0.0
    for b in labels.indices {
        let row = Array(z[(b * classes)..<((b + 1) * classes)])
        let m = row.max()!
        total += -(row[Int(labels[b])] - m - log(row.map { exp($0 - m) }.reduce(0, +)))
    }
    return total / Double(labels.count)
}

@Test("softmax cross-entropy: loss, accuracy count, and gradient by central differences")
func softmaxCrossEntropyMatches() {
    let (rows, classes) = (5, 7)
    let z = testValues(rows * classes, seed: 34).map { $0 * 4 }
    let labels: [Int32] = [0, 6, 3, 3, 1]
    var dz = [Float](repeating: .nan, count: z.count)
    let (loss, correct) = softmaxCrossEntropy(
        logits: z, labels: labels, rows: rows, classes: classes, logitGradient: &dz)
    #expect(abs(Double(loss) - referenceCrossEntropy(z.map(Double.init), labels, classes: classes)) <= 1e-5)
    let predicted = (0..<rows).map { b in (0..<classes).max { z[b * classes + $0] < z[b * classes + $1] }! }
    #expect(correct == zip(predicted, labels).filter { $0 == Int($1) }.count)
    for i in z.indices {
        var plus = z.map(Double.init), minus = plus
        plus[i] += 1e-5
        minus[i] -= 1e-5
        let numeric =
            (referenceCrossEntropy(plus, labels, classes: classes)
                - referenceCrossEntropy(minus, labels, classes: classes)) / 2e-5
        #expect(abs(numeric - Double(dz[i])) <= 1e-5, "dz[\(i)]")
    }
    for b in 0..<rows {
        #expect(abs(dz[(b * classes)..<((b + 1) * classes)].reduce(0, +)) <= 1e-6, "each gradient row sums to 0")
    }
}

/// Cross-entropy against the smoothed target q = (1 - s) one_hot + s / K, in Double.
func referenceSmoothedCrossEntropy(_ z: [Double], _ labels: [Int32], classes: Int, smoothing s: Double) -> Double {
    var total = 0.0
    for (b, label) in labels.enumerated() {
        let row = Array(z[(b * classes)..<((b + 1) * classes)])
        let logSum = log(row.map { exp($0) }.reduce(0, +))
        for j in 0..<classes {
            let q = (j == Int(label) ? 1 - s : 0) + s / Double(classes)
            total -= q * (row[j] - logSum)
        }
    }
    return total / Double(labels.count)
}

@Test("label smoothing: PyTorch's loss and its gradient by central differences; 0 is plain cross-entropy")
func labelSmoothing() {
    let (rows, classes) = (4, 10)
    let z = testValues(rows * classes, seed: 35).map { $0 * 6 }
    let labels: [Int32] = [3, 0, 9, 3]
    var plain = [Float](repeating: .nan, count: z.count), smoothedZero = plain, dz = plain
    let unsmoothed = softmaxCrossEntropy(logits: z, labels: labels, rows: rows, classes: classes, logitGradient: &plain)
    let zero = softmaxCrossEntropy(
        logits: z, labels: labels, rows: rows, classes: classes, labelSmoothing: 0, logitGradient: &smoothedZero)
    #expect(unsmoothed.loss == zero.loss && plain == smoothedZero)
    let s = 0.1
    let (loss, correct) = softmaxCrossEntropy(
        logits: z, labels: labels, rows: rows, classes: classes, labelSmoothing: Float(s), logitGradient: &dz)
    let zd = z.map(Double.init)
    #expect(abs(Double(loss) - referenceSmoothedCrossEntropy(zd, labels, classes: classes, smoothing: s)) <= 1e-5)
    #expect(correct == unsmoothed.correct, "smoothing changes the target, not the prediction")
    for i in z.indices {
        var plus = zd, minus = zd
        plus[i] += 1e-5
        minus[i] -= 1e-5
        let numeric =
            (referenceSmoothedCrossEntropy(plus, labels, classes: classes, smoothing: s)
                - referenceSmoothedCrossEntropy(minus, labels, classes: classes, smoothing: s)) / 2e-5
        #expect(abs(numeric - Double(dz[i])) <= 1e-5, "dz[\(i)]")
    }
}

@Test("softmax cross-entropy survives extreme logits")
func extremeLogits() {
    let z: [Float] = [1e4, -1e4, 0, 3e4, 3e4, -3e4]
    var dz = [Float](repeating: .nan, count: 6)
    let (loss, correct) = softmaxCrossEntropy(logits: z, labels: [1, 0], rows: 2, classes: 3, logitGradient: &dz)
    // Row 0: the label's logit is 2e4 below the winner: loss 2e4. Row 1: a tie at the top: log 2.
    #expect(loss.isFinite && abs(Double(loss) - (2e4 + log(2.0)) / 2) <= 1)
    #expect(correct == 1)
    #expect(dz.allSatisfy { $0.isFinite })
    #expect(abs(dz[0] - 0.5) <= 1e-6 && abs(dz[1] + 0.5) <= 1e-6)
}

/// LRN in Double with the window written as a condition on the channel distance, an indexing
/// independent of the kernel's ranges: c' belongs to window(c) when -n/2 <= c' - c <= (n-1)/2.
func referenceLRN(_ p: LocalResponseNormParameters, _ x: [Double], batch: Int, channels: Int, pixels: Int) -> [Double] {
    var y = x
    for n in 0..<batch {
        for c in 0..<channels {
            for i in 0..<pixels {
                var sum = 0.0
                for c2 in 0..<channels where c2 - c >= -(p.size / 2) && c2 - c <= (p.size - 1) / 2 {
                    sum += x[(n * channels + c2) * pixels + i] * x[(n * channels + c2) * pixels + i]
                }
                let scale = Double(p.k) + Double(p.alpha) / Double(p.size) * sum
                y[(n * channels + c) * pixels + i] = x[(n * channels + c) * pixels + i] * pow(scale, -Double(p.beta))
            }
        }
    }
    return y
}

@Test(
    "LRN forward matches its formula; backward matches central differences",
    arguments: [
        LocalResponseNormParameters(size: 5, alpha: 0.5, beta: 0.75, k: 2),
        LocalResponseNormParameters(size: 4, alpha: 0.3, beta: 0.6, k: 1),
        LocalResponseNormParameters(size: 1, alpha: 1, beta: 0.5, k: 1),
    ])
func localResponseNorm(p: LocalResponseNormParameters) {
    let (batch, channels, pixels) = (2, 7, 3)
    let count = batch * channels * pixels
    let x = testValues(count, seed: 35).map { $0 * 2 }, dy = testValues(count, seed: 36)
    var y = [Float](repeating: .nan, count: count), scale = y, dx = y
    localResponseNormForward(p, batch: batch, channels: channels, pixels: pixels, input: x, output: &y, scale: &scale)
    let reference = referenceLRN(p, x.map(Double.init), batch: batch, channels: channels, pixels: pixels)
    #expect(zip(y, reference).allSatisfy { abs(Double($0) - $1) <= 1e-6 })
    localResponseNormBackward(
        p, batch: batch, channels: channels, pixels: pixels, input: x, output: y,
        scale: scale, outputGradient: dy, inputGradient: &dx)
    for i in 0..<count {
        var plus = x.map(Double.init), minus = plus
        plus[i] += 1e-5
        minus[i] -= 1e-5
        let loss = { (input: [Double]) in
            zip(referenceLRN(p, input, batch: batch, channels: channels, pixels: pixels), dy).reduce(0.0) {
                $0 + $1.0 * Double($1.1)
            }
        }
        let numeric = (loss(plus) - loss(minus)) / 2e-5
        #expect(abs(numeric - Double(dx[i])) <= 2e-5, "size \(p.size): dx[\(i)] numeric \(numeric) kernel \(dx[i])")
    }
}
