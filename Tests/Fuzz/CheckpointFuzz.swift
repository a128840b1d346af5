// CheckpointFuzz.swift: libFuzzer harness for resuming: a file parsed (SafeTensorsHeader.swift)
// and checked against a run (CheckpointValidation.swift, EpochMetrics.swift). The run is a tiny
// network trained with SGD and momentum, or with Adam, as the seed corpus's files are. Whatever
// the bytes, a checkpoint the checks accept must have exactly the shapes the run's pointers will
// assume, finite values and a position inside the epoch.

let parameters: [(name: String, shape: [Int])] = [
    ("0.weight", [2, 1, 3, 3]), ("0.bias", [2]),
    ("3.weight", [10, 8]), ("3.bias", [10]),
]

func expectation(adam: Bool) -> CheckpointExpectation {
    var state: [String: [Int]] = [:]
    for (name, shape) in parameters {
        if adam {
            state["optimizer.adam.m.\(name)"] = shape
            state["optimizer.adam.v.\(name)"] = shape
        } else {
            state["optimizer.momentum.\(name)"] = shape
        }
    }
    if adam { state["optimizer.adam.steps"] = [1] }
    return CheckpointExpectation(
        parameters: parameters, optimizerState: state, optimizerCounters: adam ? ["optimizer.adam.steps"] : [],
        facts: [
            .init(key: "model", flag: nil, value: "tiny", optional: true),
            .init(key: "seed", flag: "--seed", value: "42"),
            .init(key: "batch_size", flag: "--batch-size", value: "4"),
        ],
        batchSize: 4, batchesPerEpoch: 3, trainImages: 10)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let file = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? SafeTensorsHeader(file: file, path: "fuzz") else { return 0 }
    for adam in [false, true] {
        let run = expectation(adam: adam)
        guard let position = try? run.validate(header, file: file, path: "fuzz") else { continue }
        for (name, shape) in parameters { precondition(header.entry(named: name)?.shape == shape, "\(name)") }
        for entry in header.entries where entry.name.hasPrefix(optimizerPrefix) {
            precondition(run.optimizerState[entry.name] == entry.shape, "\(entry.name)")
        }
        precondition((0...3).contains(position.batch) && position.correct <= position.seen, "position")
        precondition(position.history.count == position.epoch, "history")
    }
    return 0
}
