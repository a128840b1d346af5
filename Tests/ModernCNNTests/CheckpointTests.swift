// CheckpointTests.swift: safetensors round trips, atomic overwrite, a model's state dict moved
// between models, and damaged or mismatched files reported with their name and the problem.

import Foundation
import Testing

@testable import ModernCNN

@Test("tensors and metadata round-trip")
func safetensorsRoundTrip() throws {
    let path = try temporaryFolder() + "/round.safetensors"
    var generator = SeededGenerator(seed: 1)
    let tensors: [(name: String, tensor: Tensor)] = [
        ("0.weight", Tensor(normal: [6, 1, 5, 5], standardDeviation: 1, generator: &generator)),
        ("0.bias", Tensor(uniform: [6], in: -1...1, generator: &generator)),
        ("optimizer.momentum.\"odd\" name", Tensor(shape: [2, 3], repeating: 7)),
        ("empty", Tensor(zeros: [0])),
    ]
    try SafeTensors.write(tensors, metadata: ["epoch": "3", "seed": "42"], to: path)
    let (read, metadata) = try SafeTensors.read(from: path)
    #expect(metadata == ["epoch": "3", "seed": "42"])
    #expect(read.count == tensors.count)
    for (name, tensor) in tensors { #expect(read[name] == tensor, "\(name)") }
    // The format's own rules: header length first, header padded to 8 bytes, data after it.
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
    #expect(headerLength % 8 == 0)
    #expect(bytes.count == 8 + headerLength + (150 + 6 + 6) * 4)
}

@Test("overwriting is atomic and leaves no temporary file behind")
func atomicOverwrite() throws {
    let folder = try temporaryFolder(), path = folder + "/model.safetensors"
    try SafeTensors.write([("a", Tensor(shape: [2], repeating: 1))], to: path)
    try SafeTensors.write([("a", Tensor(shape: [3], repeating: 2))], to: path)
    #expect(try SafeTensors.read(from: path).tensors["a"] == Tensor(shape: [3], repeating: 2))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
}

@Test("a model's state dict moves into another model with the same names")
func stateDictTransfer() throws {
    let path = try temporaryFolder() + "/lenet.safetensors"
    let source = LeNet.d2l()
    try SafeTensors.write(source.stateDict, metadata: ["epoch": "1"], to: path)
    let target = LeNet.d2l(seed: 5)
    var g = SeededGenerator(seed: 6)
    let x = Tensor(uniform: [2, 1, 28, 28], in: 0...1, generator: &g)
    #expect(try target.forward(x, training: false) != source.forward(x, training: false))
    try target.loadStateDict(try SafeTensors.read(from: path).tensors, from: path)
    #expect(try target.forward(x, training: false) == source.forward(x, training: false))
    #expect(
        source.stateDict.map(\.name) == [
            "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias",
            "9.weight", "9.bias", "11.weight", "11.bias",
        ])
}

@Test("batch norm's running statistics travel with the weights, under PyTorch's names; a file without them is refused")
func batchNormStateTransfer() throws {
    let folder = try temporaryFolder(), path = folder + "/bn.safetensors"
    func model(_ seed: UInt64) -> Sequential {
        var g = SeededGenerator(seed: seed)
        return Sequential(
            Conv2d(inputChannels: 1, outputChannels: 3, kernelSize: 3, generator: &g), BatchNorm2d(channels: 3),
            ReLU())
    }
    let source = model(1)
    var g = SeededGenerator(seed: 2)
    let x = Tensor(uniform: [4, 1, 6, 6], in: 0...1, generator: &g)
    for _ in 0..<3 { _ = try source.forward(x, training: true) }
    try SafeTensors.write(source.stateDict, to: path)
    #expect(
        source.stateDict.map(\.name) == [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        ])
    let target = model(3)
    try target.loadStateDict(try SafeTensors.read(from: path).tensors, from: path)
    #expect(try target.forward(x, training: false) == source.forward(x, training: false))
    #expect((target.layers[1] as! BatchNorm2d).batchesTracked.value.scalars == [3])
    // Weights without the statistics: evaluation would silently use mean 0 and variance 1.
    let weightsOnly = folder + "/weights-only.safetensors"
    try SafeTensors.write(source.stateDict.filter { !$0.name.contains("running") }, to: weightsOnly)
    #expect(throws: CheckpointError.missingParameter(path: weightsOnly, name: "1.running_mean")) {
        try model(4).loadStateDict(try SafeTensors.read(from: weightsOnly).tensors, from: weightsOnly)
    }
}

@Test("damaged files and mismatched models fail with the file's name and the problem")
func damagedCheckpoints() throws {
    let folder = try temporaryFolder(), good = folder + "/good.safetensors"
    try SafeTensors.write([("w", Tensor(shape: [4], repeating: 1))], to: good)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
    func failure(_ damaged: [UInt8], _ name: String) throws -> CheckpointError? {
        let path = "\(folder)/\(name)"
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SafeTensors.read(from: path)
            return nil
        } catch let error as CheckpointError {
            #expect(error.description.contains(path))
            return error
        }
    }
    if case .truncated = try failure(Array(bytes.dropLast(5)), "cut") {} else { Issue.record("cut data") }
    if case .truncated = try failure(Array(bytes.prefix(5)), "stub") {} else { Issue.record("5-byte file") }
    var huge = bytes
    huge[6] = 0xff
    if case .truncated = try failure(huge, "huge") {} else { Issue.record("absurd header length") }
    func withHeader(_ json: String) -> [UInt8] {
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(32) }
        var result = [UInt8]()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { result.append(contentsOf: $0) }
        return result + header + Array(repeating: 0, count: 16)
    }
    if case .badHeader = try failure(withHeader("[1, 2]"), "array") {} else { Issue.record("non-object header") }
    #expect(
        try failure(withHeader(#"{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#), "f16")
            == .unsupportedType(path: "\(folder)/f16", tensor: "w", dtype: "F16"))
    if case .badTensor = try failure(withHeader(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#), "size") {
    } else {
        Issue.record("shape and offsets disagree")
    }
    #expect(throws: CheckpointError.unreadable(path: "\(folder)/absent", reason: "no such file")) {
        try SafeTensors.read(from: "\(folder)/absent")
    }

    let lenet = LeNet.d2l()
    var state = Dictionary(uniqueKeysWithValues: lenet.stateDict.map { ($0.name, $0.tensor) })
    state["optimizer.momentum.0.weight"] = Tensor(zeros: [1])
    try lenet.loadStateDict(state, from: "ok", ignoringPrefixes: ["optimizer."])
    #expect(throws: CheckpointError.unexpectedParameter(path: "p", name: "optimizer.momentum.0.weight")) {
        try lenet.loadStateDict(state, from: "p")
    }
    state["0.weight"] = Tensor(zeros: [6, 1, 3, 3])
    #expect(
        throws: CheckpointError.shapeMismatch(
            path: "p", name: "0.weight", expected: [6, 1, 5, 5], found: [6, 1, 3, 3])
    ) {
        try lenet.loadStateDict(state, from: "p", ignoringPrefixes: ["optimizer."])
    }
    state["0.weight"] = nil
    #expect(throws: CheckpointError.missingParameter(path: "p", name: "0.weight")) {
        try lenet.loadStateDict(state, from: "p", ignoringPrefixes: ["optimizer."])
    }
}
