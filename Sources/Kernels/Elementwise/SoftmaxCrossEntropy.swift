// SoftmaxCrossEntropy.swift: the classification loss, fused with softmax because the fused
// gradient is simple and the fused forward is stable.
//
//   logits z: [B, K], labels: [B] in 0..<K
//   loss = mean over rows of ( log(sum_j e^{z_j}) - z_label )
//   dz[b, j] = (softmax(z_b)_j - [j == label_b]) / B
// Subtracting each row's maximum before exponentiating keeps every e^x in (0, 1]: logits of
// 1e4 give finite results instead of inf - inf = NaN.
//
// Label smoothing (Szegedy et al., 2016, with PyTorch's `label_smoothing` convention) trains
// toward q = (1 - s) * one_hot(label) + s / K instead of the one-hot target:
//   loss = mean over rows of ( log(sum_j e^{z_j}) - sum_j q_j z_j )
//   dz[b, j] = (softmax(z_b)_j - q_j) / B
// so the loss no longer falls to 0 by pushing the label's logit ever higher.

import Foundation

/// Returns the mean loss and how many rows had their label as the largest logit; writes the
/// gradient of the mean loss into `logitGradient` when given.
public func softmaxCrossEntropy(
    logits z: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
    rows: Int, classes: Int, labelSmoothing: Float = 0,
    logitGradient dz: UnsafeMutablePointer<Float>?
) -> (loss: Float, correct: Int) {
    precondition((0...1).contains(labelSmoothing), "label smoothing must be in [0, 1]")
    // Each class's share of the smoothing, and what is left for the label.
    let spread = labelSmoothing / Float(classes), onLabel = 1 - labelSmoothing
    var totalLoss = 0.0
    var correct = 0
    for b in 0..<rows {
        let row = z + b * classes
        let label = Int(labels[b])
        precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
        var largest = row[0], argmax = 0
        for j in 1..<classes where row[j] > largest {
            largest = row[j]
            argmax = j
        }
        var sum: Float = 0, shiftedSum: Float = 0
        for j in 0..<classes {
            sum += exp(row[j] - largest)
            shiftedSum += row[j] - largest
        }
        let logSum = log(sum)
        totalLoss += Double(logSum - onLabel * (row[label] - largest) - spread * shiftedSum)
        if argmax == label { correct += 1 }
        if let dz {
            let out = dz + b * classes
            let scale = 1 / Float(rows)
            for j in 0..<classes { out[j] = (exp(row[j] - largest - logSum) - spread) * scale }
            out[label] -= onLabel * scale
        }
    }
    return (Float(totalLoss / Double(rows)), correct)
}
