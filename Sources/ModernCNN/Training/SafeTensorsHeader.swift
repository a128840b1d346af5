// SafeTensorsHeader.swift: the part of a safetensors file that says what the bytes are, parsed
// and checked before anything reads a tensor's data:
//
//   8 bytes   N, the header's length, little-endian UInt64
//   N bytes   JSON: {"0.weight": {"dtype": "F32", "shape": [6, 1, 5, 5], "data_offsets": [0, 600]},
//              ..., "__metadata__": {"epoch": "3"}}
//   the data  each tensor's bytes at its offsets, counted from the end of the header
//
// Every size a file states is untrusted: products of shapes are computed with overflow checks,
// offsets must lie inside the file, agree with the shape, and not overlap another tensor's.
// This file needs only Foundation, so the fuzzer (Tests/Fuzz) compiles it on its own.

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
    /// A valid checkpoint that does not belong to this run (another model, seed, flags).
    case mismatch(path: String, detail: String)
    /// Metadata that a training checkpoint needs, missing or out of range.
    case badMetadata(path: String, key: String, detail: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot be read (\(reason))"
        case let .truncated(path, detail): return "\(path): truncated checkpoint: \(detail)"
        case let .badHeader(path, detail): return "\(path): not a safetensors file: \(detail)"
        case let .unsupportedType(path, tensor, dtype):
            return "\(path): tensor \(tensor) has type \(dtype); only F32 is supported"
        case let .badTensor(path, tensor, detail): return "\(path): tensor \(tensor): \(detail)"
        case let .missingParameter(path, name):
            return "\(path): has no tensor for parameter \(name); is it this model's checkpoint?"
        case let .unexpectedParameter(path, name): return "\(path): holds \(name), which this model does not have"
        case let .shapeMismatch(path, name, expected, found):
            return "\(path): \(name) has shape \(found) but the model's is \(expected)"
        case let .mismatch(path, detail): return "\(path): \(detail)"
        case let .badMetadata(path, key, detail):
            return "\(path): metadata \"\(key)\" \(detail); the file is damaged or not a training checkpoint"
        case let .writeFailed(path, reason): return "\(path): could not be written (\(reason))"
        }
    }
}

public struct SafeTensorsHeader: Sendable, Equatable {
    /// One tensor as the header describes it; `bytes` is counted from the start of the data.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let bytes: Range<Int>
    }

    /// The tensors, in the order of their data.
    public let entries: [Entry]
    public let metadata: [String: String]
    /// Where the data starts in the file: 8 + the header's length.
    public let dataStart: Int

    /// Parses and checks the header of the safetensors file whose bytes are `file`; `path` only
    /// names the file in errors.
    public init(file: UnsafeRawBufferPointer, path: String) throws {
        guard file.count >= 8 else {
            throw CheckpointError.truncated(path: path, detail: "\(file.count) bytes, no header")
        }
        // A UInt64 on disk: as an Int it could read as a negative length.
        let declared = (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(file[$1]) }
        let available = UInt64(file.count - 8)
        guard declared >= 2, declared <= available else {
            throw CheckpointError.truncated(
                path: path,
                detail: "the header claims \(declared) bytes, the file holds \(available) after it "
                    + "(or it is not a safetensors file at all)")
        }
        let headerLength = Int(declared)
        let json = try? JSONSerialization.jsonObject(
            with: Data(UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])))
        guard let header = json as? [String: Any] else {
            throw CheckpointError.badHeader(path: path, detail: "the header is not a JSON object")
        }
        dataStart = 8 + headerLength
        let dataLength = file.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let pairs = value as? [String: String] else {
                    throw CheckpointError.badHeader(path: path, detail: "__metadata__ must map strings to strings")
                }
                metadata = pairs
                continue
            }
            entries.append(try Self.entry(name, value, dataLength: dataLength, path: path))
        }
        entries.sort {
            ($0.bytes.lowerBound, $0.bytes.upperBound, $0.name) < ($1.bytes.lowerBound, $1.bytes.upperBound, $1.name)
        }
        for (previous, next) in zip(entries, entries.dropFirst())
        where next.bytes.lowerBound < previous.bytes.upperBound {
            throw CheckpointError.badTensor(
                path: path, tensor: next.name,
                detail: "its bytes \(next.bytes) overlap those of \(previous.name) \(previous.bytes)")
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// The entry called `name`, if the file has one.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    private static func entry(_ name: String, _ value: Any, dataLength: Int, path: String) throws -> Entry {
        guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
            let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
        else {
            throw CheckpointError.badTensor(path: path, tensor: name, detail: "needs dtype, shape and two data_offsets")
        }
        guard dtype == "F32" else { throw CheckpointError.unsupportedType(path: path, tensor: name, dtype: dtype) }
        let (begin, end) = (offsets[0], offsets[1])
        guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, end >= begin else {
            throw CheckpointError.badTensor(
                path: path, tensor: name,
                detail: "negative size or offsets (shape \(shape), offsets \(offsets))")
        }
        guard end <= dataLength else {
            throw CheckpointError.truncated(
                path: path, detail: "tensor \(name) ends at byte \(end) of the data, which holds \(dataLength)")
        }
        guard let byteCount = float32Bytes(shape), byteCount == end - begin else {
            throw CheckpointError.badTensor(
                path: path, tensor: name,
                detail: "shape \(shape) does not fit the \(end - begin) bytes its offsets give")
        }
        return Entry(name: name, shape: shape, bytes: begin..<end)
    }
}

/// Bytes of a Float32 tensor of `shape`, or nil when the product overflows: for sizes read from
/// a file or a flag, before anything is allocated.
public func float32Bytes(_ shape: [Int]) -> Int? {
    var product = MemoryLayout<Float>.size
    for size in shape {
        let (next, overflow) = product.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        product = next
    }
    return product
}
