// SafeTensors.swift: reading and writing the safetensors format (Hugging Face's), the checkpoint
// format PyTorch, JAX and numpy all read:
//
//   8 bytes   N, the header's length, little-endian UInt64
//   N bytes   JSON: {"0.weight": {"dtype": "F32", "shape": [6, 1, 5, 5], "data_offsets": [0, 600]},
//              ..., "__metadata__": {"epoch": "3"}}   (padded with spaces to a multiple of 8)
//   the data  each tensor's little-endian bytes at its offsets, counted from the end of the header
//
// Writes are atomic: the bytes go to a temporary file in the same folder, are flushed to disk,
// and only then renamed over the target, so an interrupted run never leaves half a checkpoint.

import Foundation

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case truncated(path: String, detail: String)
    case badHeader(path: String, detail: String)
    case unsupportedType(path: String, tensor: String, dtype: String)
    case badTensor(path: String, tensor: String, detail: String)
    case missingParameter(path: String, name: String)
    case unexpectedParameter(path: String, name: String)
    case shapeMismatch(path: String, name: String, expected: [Int], found: [Int])
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot be read (\(reason))"
        case let .truncated(path, detail): return "\(path): truncated checkpoint: \(detail)"
        case let .badHeader(path, detail): return "\(path): not a safetensors file: \(detail)"
        case let .unsupportedType(path, tensor, dtype):
            return "\(path): tensor \(tensor) has type \(dtype); only F32 is supported"
        case let .badTensor(path, tensor, detail): return "\(path): tensor \(tensor): \(detail)"
        case let .missingParameter(path, name): return "\(path): has no tensor for parameter \(name); is it this model's checkpoint?"
        case let .unexpectedParameter(path, name): return "\(path): holds \(name), which this model does not have"
        case let .shapeMismatch(path, name, expected, found):
            return "\(path): \(name) has shape \(found) but the model's is \(expected)"
        case let .writeFailed(path, reason): return "\(path): could not be written (\(reason))"
        }
    }
}

public enum SafeTensors {
    /// Writes `tensors` (in order) and `metadata` to `path`, atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to path: String) throws {
        var entries: [String] = []
        var offset = 0
        for (name, tensor) in tensors {
            let end = offset + tensor.count * MemoryLayout<Float>.size
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":\(tensor.shape),\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.insert("\"__metadata__\":{\(pairs.joined(separator: ","))}", at: 0)
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { values in bytes.append(contentsOf: UnsafeRawBufferPointer(values)) }
        }
        try writeAtomically(bytes, to: path)
    }

    /// Reads every tensor and the metadata of a safetensors file of F32 tensors, validating it.
    public static func read(from path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path)
                                             ? "permission denied or not a regular file" : "no such file")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw CheckpointError.truncated(path: path, detail: "\(bytes.count) bytes, no header") }
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard headerLength >= 2, headerLength <= bytes.count - 8 else {
            throw CheckpointError.truncated(path: path, detail: "the header claims \(headerLength) bytes, the file holds \(bytes.count - 8) after it")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])),
              let header = json as? [String: Any] else {
            throw CheckpointError.badHeader(path: path, detail: "the header is not a JSON object")
        }
        let dataStart = 8 + headerLength, dataLength = bytes.count - dataStart
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError.badTensor(path: path, tensor: name, detail: "needs dtype, shape and two data_offsets")
            }
            guard dtype == "F32" else { throw CheckpointError.unsupportedType(path: path, tensor: name, dtype: dtype) }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, end >= begin else {
                throw CheckpointError.badTensor(path: path, tensor: name, detail: "negative size or offsets \(offsets)")
            }
            guard end <= dataLength else {
                throw CheckpointError.truncated(path: path, detail: "tensor \(name) ends at byte \(end) of the data, which holds \(dataLength)")
            }
            let count = shape.reduce(1, *)
            guard count * 4 == end - begin else {
                throw CheckpointError.badTensor(path: path, tensor: name,
                                                detail: "shape \(shape) needs \(count * 4) bytes, offsets give \(end - begin)")
            }
            var tensor = Tensor(zeros: shape)
            tensor.withUnsafeMutableBufferPointer { target in
                bytes.withUnsafeBytes { source in
                    UnsafeMutableRawBufferPointer(target).copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: source[(dataStart + begin)..<(dataStart + end)]))
                }
            }
            tensors[name] = tensor
        }
        return (tensors, metadata)
    }

    static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Temporary file beside the target, flushed, then renamed over it: readers see the old file
    /// or the new one, never a mixture.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CheckpointError.writeFailed(path: path, reason: "cannot create \(temporary)")
        }
        do {
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CheckpointError.writeFailed(path: path, reason: "\(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw CheckpointError.writeFailed(path: path, reason: reason)
        }
    }
}

extension Layer {
    /// The model's parameters as PyTorch's state_dict would name them.
    public var stateDict: [(name: String, tensor: Tensor)] {
        namedParameters.map { ($0.name, $0.parameter.value) }
    }

    /// Copies `tensors` into the model's parameters. Every parameter must be present with its
    /// shape; a tensor the model does not have is an error unless its name has one of
    /// `ignoringPrefixes` (for example "optimizer." in a training checkpoint).
    public func loadStateDict(_ tensors: [String: Tensor], from path: String, ignoringPrefixes: [String] = []) throws {
        let parameters = namedParameters
        for (name, parameter) in parameters {
            guard let tensor = tensors[name] else { throw CheckpointError.missingParameter(path: path, name: name) }
            guard tensor.shape == parameter.value.shape else {
                throw CheckpointError.shapeMismatch(path: path, name: name, expected: parameter.value.shape, found: tensor.shape)
            }
        }
        let known = Set(parameters.map(\.name))
        if let stray = tensors.keys.sorted().first(where: { name in
            !known.contains(name) && !ignoringPrefixes.contains { name.hasPrefix($0) }
        }) {
            throw CheckpointError.unexpectedParameter(path: path, name: stray)
        }
        for (name, parameter) in parameters { parameter.value = tensors[name]! }
    }
}
