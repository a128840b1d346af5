// Prediction.swift: a model's predicted classes on chosen examples, in inference mode.

/// The index of the largest logit in each row of [N, classes] logits.
public func argmaxRows(_ logits: Tensor) -> [Int] {
    let classes = logits.shape[1]
    return logits.withUnsafeBufferPointer { z in
        (0..<logits.shape[0]).map { row in
            let values = z[(row * classes)..<((row + 1) * classes)]
            return values.indices.max { values[$0] < values[$1] }! - row * classes
        }
    }
}

/// Predicted classes of `model` for the examples `indices` of `dataset`, `batchSize` at a time,
/// resized to `imageSize` as in training.
public func predictedClasses(
    of model: any Layer, on dataset: FashionMNIST, indices: [Int], batchSize: Int = 256,
    imageSize: Int = FashionMNIST.side
) throws -> [Int] {
    let batches = BatchPlan(dataset: dataset, batchSize: batchSize, imageSize: imageSize, seed: 0)
    let plan = try ExecutionPlan(
        model, inputShape: [batchSize, 1, imageSize, imageSize], firstLayerNeedsGradient: true)
    var predictions: [Int] = []
    for index in 0..<((indices.count + batchSize - 1) / batchSize) {
        predictions += argmaxRows(try plan.forward(batches.batch(index, of: indices).images, training: false))
    }
    return predictions
}
