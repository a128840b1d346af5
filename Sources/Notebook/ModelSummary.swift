// ModelSummary.swift: a torchinfo-style summary of a ModelProfile (name, type, output shape,
// parameters, multiply-adds and activation memory per layer, then totals) and an estimate of
// the memory a batch needs for inference and for training.

import ModernCNN

/// What one training or inference step keeps in memory, in bytes (Float32 everywhere).
public struct MemoryEstimate: Equatable, Sendable {
    public let weights: Int
    public let gradients: Int
    /// Momentum (SGD) or the two moment estimates (Adam).
    public let optimizerState: Int
    /// The outputs that a training forward keeps for backward, for the whole batch.
    public let savedActivations: Int
    /// Weights plus the largest input and output alive at once during an inference forward.
    public let inference: Int

    public var training: Int { weights + gradients + optimizerState + savedActivations }
}

extension ModelProfile {
    /// The summary as a table. `depth` folds every block below it into one row (nil: every layer).
    /// With `receptiveFields`, a column gives what one output unit sees of the input: its
    /// field's size, the jump between neighbouring units' fields, and the first one's centre
    /// (ReceptiveField), "all" once a layer mixes every position.
    public func summaryTable(depth: Int? = nil, receptiveFields: Bool = false) -> TextTable {
        var table = TextTable(
            headers: ["Layer", "Type", "Output shape", "Params", "Mult-adds", "Activations"]
                + (receptiveFields ? ["Receptive field"] : []),
            alignments: [.left, .left, .left, .right, .right, .right] + (receptiveFields ? [.left] : []))
        let fields = receptiveFields ? receptiveFieldsByPath() : [:]
        let shown = depth.map { entries(toDepth: $0) } ?? entries.filter { $0.depth >= 0 }
        for entry in shown {
            let indent = String(repeating: "  ", count: entry.depth)
            table.append(
                [
                    indent + entry.path, entry.isContainer ? entry.typeName : entry.layer.description,
                    "\(entry.outputShape)", grouped(entry.parameterCount), grouped(entry.multiplyAdds),
                    byteCount(entry.outputBytes),
                ] + (receptiveFields ? [fields[entry.path].map { $0?.description ?? "all" } ?? ""] : []))
        }
        table.append(
            [
                "Total", "", "\(model.outputShape)", grouped(model.parameterCount), grouped(model.multiplyAdds),
                byteCount(activationBytes),
            ] + (receptiveFields ? [""] : []))
        return table
    }

    /// Each entry's receptive field by path: a layer's own, a block's that of its last layer
    /// (nil: the unit sees the whole input).
    func receptiveFieldsByPath() -> [String: ReceptiveField?] {
        var field: ReceptiveField? = .pixel
        var byPath: [String: ReceptiveField?] = [:]
        for entry in leaves {
            field = field?.after(entry.layer)
            byPath[entry.path] = .some(field)
            // Every block this layer ends so far: its field is the latest layer's inside it.
            var prefix = entry.path
            while let dot = prefix.lastIndex(of: ".") {
                prefix = String(prefix[..<dot])
                byPath[prefix] = .some(field)
            }
        }
        return byPath
    }

    /// Training memory beside inference memory at `batchSize`, as a table (what the summary's
    /// footer shows: where a batch's bytes go).
    public func memoryTable(batchSize: Int, optimizerSlots: Int, optimizer: String) -> TextTable {
        let estimate = memoryEstimate(batchSize: batchSize, optimizerSlots: optimizerSlots)
        var table = TextTable(headers: ["memory at batch \(batchSize)", "training (\(optimizer))", "inference"])
        table.append(["weights", byteCount(estimate.weights), byteCount(estimate.weights)])
        table.append(["gradients", byteCount(estimate.gradients), "-"])
        table.append(["optimizer state", byteCount(estimate.optimizerState), "-"])
        table.append([
            "activations (saved / live)", byteCount(estimate.savedActivations),
            byteCount(estimate.inference - estimate.weights),
        ])
        table.append(["total", byteCount(estimate.training), byteCount(estimate.inference)])
        return table
    }

    /// Bytes of every plain layer's output for the profiled input: a training forward's footprint.
    public var activationBytes: Int { leaves.reduce(0) { $0 + $1.outputBytes } }

    /// Memory for a batch of `batchSize` (the profile's own batch is taken as 1 per example),
    /// with `optimizerSlots` floats of optimizer state per parameter (SGD 0, momentum 1, Adam 2).
    public func memoryEstimate(batchSize: Int, optimizerSlots: Int) -> MemoryEstimate {
        let perExample = inputShape.first.map { max($0, 1) } ?? 1
        let scale = { (bytes: Int) in bytes / perExample * batchSize }
        let weights = model.parameterCount * MemoryLayout<Float>.size
        let inputBytes = inputShape.reduce(1, *) * MemoryLayout<Float>.size
        let widest = leaves.map { $0.inputShape.reduce(1, *) * MemoryLayout<Float>.size + $0.outputBytes }.max() ?? 0
        return MemoryEstimate(
            weights: weights, gradients: weights, optimizerState: optimizerSlots * weights,
            savedActivations: scale(inputBytes + activationBytes), inference: weights + scale(widest))
    }
}

/// A measured rate, rounded to a whole number and grouped: 22987.6 -> "22,988". Every speed in
/// the book is printed this way, so a figure reads the same in the table and the log line.
public func grouped(rounding value: Double) -> String {
    value.isFinite ? grouped(Int(value.rounded())) : "-"
}

/// 61706 -> "61,706": digits grouped by thousands, as tables print counts.
public func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0 && index % 3 == 0 { result.append(",") }
        result.append(character)
    }
    return (value < 0 ? "-" : "") + String(result.reversed())
}
