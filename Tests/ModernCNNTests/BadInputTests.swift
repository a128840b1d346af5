// BadInputTests.swift: the reliability cases, one test each. A damaged or foreign checkpoint is
// refused with the file's name and what is wrong, before it touches the model, the optimizer or
// the file; a diverging run stops at its step and keeps the last good checkpoint; gzip and IDX
// files are read header first; files are written atomically and stale temporary files cleared.

import Foundation
import Testing

@testable import ModernCNN

/// A finished one-epoch training run of the small network with `optimizer`, its checkpoint at
/// `path`; returns the trainer's configuration for resuming.
private func trainedCheckpoint(
    at path: String, optimizer: any Optimizer, data: FashionMNIST
) throws
    -> TrainingConfiguration
{
    let configuration = TrainingConfiguration(
        epochs: 1, batchSize: 32, seed: 3, trainLimit: 96, testLimit: 32,
        checkpointPath: path, modelName: "small")
    let trainer = try Trainer(
        model: smallNetwork(seed: 1), optimizer: optimizer, train: data, test: data,
        configuration: configuration)
    try trainer.run()
    return configuration
}

/// The checkpoint at `path` with its header's JSON changed by `edit` and its data kept.
private func rewriteHeader(
    of path: String, to target: String,
    _ edit: (inout [String: Any]) -> Void, data: ((inout [UInt8]) -> Void)? = nil
) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    var header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
    edit(&header)
    var json = [UInt8](try JSONSerialization.data(withJSONObject: header))
    while json.count % 8 != 0 { json.append(32) }
    var payload = Array(bytes[(8 + length)...])
    data?(&payload)
    var result = [UInt8]()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { result.append(contentsOf: $0) }
    try Data(result + json + payload).write(to: URL(fileURLWithPath: target))
}

/// A header edit that gives tensor `name` the smaller `shape`, its data cut to fit.
private func resizing(_ name: String, to shape: [Int]) -> (inout [String: Any]) -> Void {
    { header in
        var entry = header[name] as! [String: Any]
        let begin = (entry["data_offsets"] as! [Int])[0]
        entry["shape"] = shape
        entry["data_offsets"] = [begin, begin + 4 * shape.reduce(1, *)]
        header[name] = entry
    }
}

/// Resuming from `path` fails with a CheckpointError naming the file, for which `check` holds,
/// and leaves the file byte-identical.
private func expectRefused(
    _ path: String, configuration: TrainingConfiguration, optimizer: any Optimizer,
    data: FashionMNIST, _ check: (CheckpointError) -> Bool = { _ in true },
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    let trainer = try Trainer(
        model: smallNetwork(seed: 9), optimizer: optimizer, train: data, test: data,
        configuration: configuration)
    let weightsBefore = trainer.model.stateDict.map(\.tensor)
    do {
        try trainer.resume(from: path)
        Issue.record("resuming from \(path) should fail", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        #expect(error.description.contains(path), "\(error)", sourceLocation: sourceLocation)
        #expect(check(error), "\(error)", sourceLocation: sourceLocation)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, sourceLocation: sourceLocation)
    #expect(
        trainer.model.stateDict.map(\.tensor) == weightsBefore, "a refused checkpoint changed the model",
        sourceLocation: sourceLocation)
}

@Test("optimizer state of the wrong shape is refused before any pointer touches it")
func optimizerStateShapes() throws {
    let data = try FashionMNIST(split: .test), folder = try temporaryFolder()
    let good = folder + "/momentum.safetensors"
    let configuration = try trainedCheckpoint(at: good, optimizer: SGD(learningRate: 0.05, momentum: 0.9), data: data)
    let momentum = { SGD(learningRate: 0.05, momentum: 0.9) }
    // Shape [1] where the weights are [84, 400]: the SIGSEGV case.
    let tiny = folder + "/tiny.safetensors"
    try rewriteHeader(of: good, to: tiny, resizing("optimizer.momentum.7.weight", to: [1]))
    try expectRefused(tiny, configuration: configuration, optimizer: momentum(), data: data) {
        $0 == .shapeMismatch(path: tiny, name: "optimizer.momentum.7.weight", expected: [84, 400], found: [1])
    }
    // One float short of the bias: the silent out-of-bounds write.
    let short = folder + "/short.safetensors"
    try rewriteHeader(of: good, to: short, resizing("optimizer.momentum.0.bias", to: [5]))
    try expectRefused(short, configuration: configuration, optimizer: momentum(), data: data) {
        $0 == .shapeMismatch(path: short, name: "optimizer.momentum.0.bias", expected: [6], found: [5])
    }
    // Momentum state offered to Adam: another optimizer's state.
    try expectRefused(good, configuration: configuration, optimizer: Adam(), data: data) {
        if case .mismatch = $0 { return true } else { return false }
    }
    // Adam's step count must be a whole number: NaN or 1e30 would trap in Int(_:).
    let adamPath = folder + "/adam.safetensors"
    let adamConfiguration = try trainedCheckpoint(at: adamPath, optimizer: Adam(), data: data)
    for (name, value) in [("nan", Float.nan), ("huge", 1e30), ("half", 2.5)] {
        let damaged = folder + "/adam-\(name).safetensors"
        try rewriteSteps(adamPath, to: damaged, value: value)
        try expectRefused(damaged, configuration: adamConfiguration, optimizer: Adam(), data: data) {
            if case .badTensor(_, "optimizer.adam.steps", _) = $0 { return true } else { return false }
        }
    }
}

/// A copy of an Adam checkpoint whose step count holds `value`.
private func rewriteSteps(_ path: String, to target: String, value: Float) throws {
    let file = try SafeTensorsFile(path: path)
    let entry = try #require(file.header.entry(named: "optimizer.adam.steps"))
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    withUnsafeBytes(of: value.bitPattern.littleEndian) { raw in
        for (offset, byte) in raw.enumerated() { bytes[file.header.dataStart + entry.bytes.lowerBound + offset] = byte }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: target))
}

@Test("metadata out of range, a foreign model, other flags and NaN weights are refused by name")
func checkpointIdentityAndRanges() throws {
    let data = try FashionMNIST(split: .test), folder = try temporaryFolder()
    let good = folder + "/good.safetensors"
    let configuration = try trainedCheckpoint(at: good, optimizer: SGD(learningRate: 0.05), data: data)
    let sgd = { SGD(learningRate: 0.05) }
    func metadataCase(_ key: String, _ value: String, _ check: @escaping (CheckpointError) -> Bool) throws {
        let path = "\(folder)/\(key)-\(value.prefix(8)).safetensors"
        try rewriteHeader(of: good, to: path) { header in
            var metadata = header["__metadata__"] as! [String: String]
            metadata[key] = value
            header["__metadata__"] = metadata
        }
        try expectRefused(path, configuration: configuration, optimizer: sgd(), data: data, check)
    }
    func badMetadata(_ key: String) -> (CheckpointError) -> Bool {
        { if case .badMetadata(_, key, _) = $0 { return true } else { return false } }
    }
    try metadataCase("epoch", "-5", badMetadata("epoch"))
    try metadataCase("batch", "-1", badMetadata("batch"))
    try metadataCase("batch", "99999999999999999999", badMetadata("batch"))
    try metadataCase("seen", "7", badMetadata("seen"))
    try metadataCase("loss_sum", "nan", badMetadata("loss_sum"))
    try metadataCase("history", "{not json", badMetadata("history"))
    try metadataCase("epoch", "2", badMetadata("history"))
    try metadataCase("model", "LeNet (ReLU, max pooling)") {
        $0.description.contains("holds a checkpoint of LeNet (ReLU, max pooling), not of small")
    }
    try metadataCase("learning_rate", "0.9") { $0.description.contains("--lr 0.9, this run uses --lr 0.05") }
    try metadataCase("seed", "4") { $0.description.contains("--seed 4") }
    // A weight that is NaN: the run that wrote it diverged.
    let nan = folder + "/nan.safetensors"
    try rewriteHeader(of: good, to: nan, { _ in }) { payload in
        for offset in 0..<4 { payload[offset] = [0x00, 0x00, 0xc0, 0x7f][offset] }
    }
    try expectRefused(nan, configuration: configuration, optimizer: sgd(), data: data) {
        $0.description.contains("holds nan") && $0.description.contains("diverged")
    }
}

@Test("a diverging run stops at the step, reports it, and leaves the last good checkpoint as it was")
func divergenceStopsTheRun() throws {
    let data = try FashionMNIST(split: .test), folder = try temporaryFolder()
    let path = folder + "/run.safetensors", metrics = folder + "/metrics.json"
    var configuration = TrainingConfiguration(
        epochs: 1, batchSize: 32, seed: 3, trainLimit: 96, testLimit: 32,
        checkpointPath: path, metricsPath: metrics)
    try Trainer(
        model: smallNetwork(seed: 1), optimizer: SGD(learningRate: 0.05), train: data, test: data,
        configuration: configuration
    ).run()
    let good = try Data(contentsOf: URL(fileURLWithPath: path))
    let goodMetrics = try Data(contentsOf: URL(fileURLWithPath: metrics))
    // A fresh run with an absurd rate: it diverges before its first save, so the previous
    // run's checkpoint is neither replaced nor moved aside.
    configuration.epochs = 2
    let trainer = try Trainer(
        model: smallNetwork(seed: 1), optimizer: SGD(learningRate: 3e38), train: data, test: data,
        configuration: configuration)
    do {
        try trainer.run()
        Issue.record("a learning rate of 3e38 should diverge")
    } catch let stop as TrainingStopped {
        guard case let .diverged(epoch, step, _, checkpoint, lastEpoch) = stop else { throw stop }
        #expect(epoch == 1 && (1...3).contains(step) && checkpoint == path && lastEpoch == 0, "\(stop)")
        #expect(
            stop.description.contains("epoch 1, step \(step)") && stop.description.contains("\(path) is as it was")
                && stop.description.contains("smaller --lr"), "\(stop)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == good)
    #expect(try Data(contentsOf: URL(fileURLWithPath: metrics)) == goodMetrics)
    #expect(!FileManager.default.fileExists(atPath: Trainer.previousCheckpointPath(path)))
    let later = TrainingStopped.diverged(
        epoch: 3, step: 7, what: "the loss became nan", lastCheckpoint: path,
        lastEpoch: 2)
    #expect(later.description.contains("the last good checkpoint is \(path) (after epoch 2)"))
}

@Test("metrics that are not finite are stored as null and read back as NaN")
func nonFiniteMetrics() throws {
    let history = [
        EpochMetrics(
            epoch: 1, trainLoss: .nan, trainAccuracy: 0.5, testAccuracy: .infinity,
            imagesPerSecond: 10)
    ]
    let json = String(decoding: EpochMetrics.json(history), as: UTF8.self)
    #expect(json.contains("\"trainLoss\":null") && json.contains("\"testAccuracy\":null"), "\(json)")
    let back = try EpochMetrics.history(from: json, path: "p", key: "history")
    #expect(back[0].trainLoss.isNaN && back[0].testAccuracy.isNaN && back[0].trainAccuracy == 0.5)
    #expect(throws: CheckpointError.self) { try EpochMetrics.history(from: "[1,", path: "p", key: "history") }
}

@Test("safetensors headers: overflowing shapes, overlapping offsets and absurd lengths are errors")
func hostileSafetensorsHeaders() throws {
    func header(_ json: String, data: Int = 16, length: UInt64? = nil) -> [UInt8] {
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(32) }
        var result = [UInt8]()
        withUnsafeBytes(of: (length ?? UInt64(bytes.count)).littleEndian) { result.append(contentsOf: $0) }
        return result + bytes + Array(repeating: 0, count: data)
    }
    func parse(_ bytes: [UInt8]) -> CheckpointError? {
        bytes.withUnsafeBytes { raw in
            do {
                _ = try SafeTensorsHeader(file: raw, path: "f")
                return nil
            } catch { return error as? CheckpointError }
        }
    }
    for shape in ["[4611686018427387904]", "[4294967296, 4294967296]", "[-1]"] {
        let error = parse(header(#"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,16]}}"#))
        if case .badTensor(_, "w", _) = error {} else { Issue.record("shape \(shape): \(String(describing: error))") }
    }
    let overlap = parse(
        header(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#))
    #expect(overlap?.description.contains("overlap") == true, "\(String(describing: overlap))")
    let absurd = parse(header(#"{}"#, length: 1 << 63))
    #expect(absurd?.description.contains("9223372036854775808") == true, "\(String(describing: absurd))")
    let badMetadata = parse(header(#"{"__metadata__":{"epoch":3}}"#))
    if case .badHeader = badMetadata {} else { Issue.record("numeric metadata: \(String(describing: badMetadata))") }
}

@Test("gzip: several members are one file, junk after the data is an error, a bomb is refused early")
func gzipMembersJunkAndBombs() throws {
    let folder = try temporaryFolder()
    let shape: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 6]
    // `cat a.gz b.gz`: the IDX header in one member, its data in the next.
    let members = Gzip.compress(shape) + Gzip.compress([1, 2, 3]) + Gzip.compress([4, 5, 6])
    try write(members, to: "\(folder)/members.gz")
    #expect(try IDXFile(contentsOf: "\(folder)/members.gz").bytes == [1, 2, 3, 4, 5, 6])
    try write(members + [0, 0, 0, 0], to: "\(folder)/padded.gz")
    #expect(try IDXFile(contentsOf: "\(folder)/padded.gz").bytes == [1, 2, 3, 4, 5, 6])
    try write(members + Array("junk".utf8), to: "\(folder)/junk.gz")
    #expect(throws: DataError.trailingGzipData(path: "\(folder)/junk.gz", bytes: 4)) {
        try IDXFile(contentsOf: "\(folder)/junk.gz")
    }
    // 64 MB of zeros compress to about 64 KB: no valid magic, refused after four bytes.
    let zeros = Gzip.compress(Array(repeating: 0, count: 64 << 20))
    #expect(zeros.count < 1 << 20)
    #expect(throws: DataError.badMagic(path: "bomb", found: [0, 0, 0, 0])) {
        try IDXFile(gzipped: zeros, path: "bomb")
    }
    // A valid header for 8 bytes, then 64 MB more: only a megabyte past the data is inflated.
    let padded = Gzip.compress(shape.dropLast() + [8] + Array(repeating: 0, count: 64 << 20))
    #expect(throws: DataError.trailingBytes(path: "long", expectedBytes: 8, actualBytes: 8 + (1 << 20))) {
        try IDXFile(gzipped: padded, path: "long")
    }
    // A header declaring more than the limit is refused before its data is read.
    #expect(throws: DataError.tooLarge(path: "big", declaredBytes: 6, limitBytes: 4)) {
        try IDXFile(gzipped: Gzip.compress(shape), path: "big", byteLimit: 4)
    }
    // Fashion-MNIST's own check sees the header first: an empty image file is a clear error.
    try write(IDXFile.encode(shape: [0, 28, 28], bytes: []), to: "\(folder)/t10k-images-idx3-ubyte.gz")
    try write(IDXFile.encode(shape: [0], bytes: []), to: "\(folder)/t10k-labels-idx1-ubyte.gz")
    #expect(throws: DataError.empty(path: "\(folder)/t10k-images-idx3-ubyte.gz")) {
        try FashionMNIST(split: .test, directory: folder)
    }
}

@Test("writes are atomic, a fresh run keeps the checkpoint it replaces, stale temporary files go")
func writesAndStaleFiles() throws {
    let data = try FashionMNIST(split: .test), folder = try temporaryFolder()
    let path = folder + "/checkpoint.safetensors"
    _ = try trainedCheckpoint(at: path, optimizer: SGD(learningRate: 0.05), data: data)
    let first = try Data(contentsOf: URL(fileURLWithPath: path))
    _ = try trainedCheckpoint(at: path, optimizer: SGD(learningRate: 0.05), data: data)
    #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/checkpoint.prev.safetensors")) == first)
    // A temporary file of a process that no longer runs goes; one of a running process stays.
    let deadPid = Int32(Int32.max - 7)
    try write([1], to: "\(path).tmp-\(deadPid)")
    try write([1], to: "\(path).tmp-1")
    #expect(removeStaleTemporaryFiles(in: folder) == ["checkpoint.safetensors.tmp-\(deadPid)"])
    #expect(FileManager.default.fileExists(atPath: "\(path).tmp-1"))
    // A folder that cannot be written: the error names the file and the reason, not Foundation's code.
    #expect(throws: CheckpointError.self) { try writeFileAtomically([1], to: "/proc/no-such-folder/x") }
    do {
        try writeFileAtomically([1], to: "\(folder)/missing/x")
    } catch let error as CheckpointError {
        #expect(error.description.contains("\(folder)/missing/x") && error.description.contains("No such file"))
    }
}
