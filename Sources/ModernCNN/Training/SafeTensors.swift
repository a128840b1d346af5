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
// Reads map the file instead of copying it, check its header (SafeTensorsHeader) and only then
// copy each tensor's bytes out: a 374 MB AlexNet checkpoint costs its tensors, not twice that.

import Foundation

public enum SafeTensors {
    /// Writes `tensors` (in order) and `metadata` to `path`, atomically.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
        to path: String
    ) throws {
        var entries: [String] = []
        var offset = 0
        for (name, tensor) in tensors {
            let end = offset + tensor.count * MemoryLayout<Float>.size
            entries.append(
                "\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":\(tensor.shape),\"data_offsets\":[\(offset),\(end)]}")
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
        try writeFileAtomically(bytes, to: path)
    }

    /// Reads every tensor and the metadata of a safetensors file of F32 tensors, validating it.
    public static func read(from path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try SafeTensorsFile(path: path)
        let tensors = Dictionary(uniqueKeysWithValues: file.header.entries.map { ($0.name, file.tensor($0)) })
        return (tensors, file.header.metadata)
    }

    static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// A safetensors file mapped into memory, its header checked; tensors are copied out on request.
///
/// The mapping's pages count as this process's memory once read. Each tensor's pages are given
/// back (madvise) as soon as the tensor is copied out, and `releaseAll()` gives back what a check
/// read, so loading a checkpoint costs its tensors plus the largest one, not the file twice over.
public final class SafeTensorsFile {
    public let path: String
    public let header: SafeTensorsHeader
    private let base: UnsafeMutableRawPointer?
    private let size: Int

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CheckpointError.unreadable(
                path: path, reason: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.unreadable(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        var mapped: UnsafeMutableRawPointer?
        if size > 0 {
            guard let pages = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), pages != MAP_FAILED else {
                throw CheckpointError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            mapped = pages
        }
        do {
            header = try SafeTensorsHeader(file: UnsafeRawBufferPointer(start: mapped, count: size), path: path)
        } catch {
            if let mapped { munmap(mapped, size) }
            throw error
        }
        (base, self.size) = (mapped, size)
    }

    deinit {
        if let base { munmap(base, size) }
    }

    /// The file's bytes, for checks that read values before they are copied (CheckpointExpectation).
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: size))
    }

    /// A copy of the tensor `entry` describes (an entry of this file's header).
    public func tensor(_ entry: SafeTensorsHeader.Entry) -> Tensor {
        var tensor = Tensor(zeros: entry.shape)
        let start = header.dataStart + entry.bytes.lowerBound
        tensor.withUnsafeMutableBufferPointer { target in
            withBytes { source in
                UnsafeMutableRawBufferPointer(target).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[start..<(start + entry.bytes.count)]))
            }
        }
        release(start..<(start + entry.bytes.count))
        return tensor
    }

    /// Gives back every page read so far (they are read again from the file if needed).
    public func releaseAll() { release(0..<size) }

    /// The whole pages inside `range`, given back to the kernel.
    private func release(_ range: Range<Int>) {
        guard let base else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + page - 1) / page * page, last = range.upperBound / page * page
        if first < last { madvise(base + first, last - first, Int32(MADV_DONTNEED)) }
    }
}

extension Layer {
    /// The model's parameters and buffers as PyTorch's state_dict would name them.
    public var stateDict: [(name: String, tensor: Tensor)] {
        namedParameters.map { ($0.name, $0.parameter.value) } + namedBuffers.map { ($0.name, $0.buffer.value) }
    }

    /// Copies `tensors` into the model's parameters. Every parameter must be present with its
    /// shape; a tensor the model does not have is an error unless its name has one of
    /// `ignoringPrefixes` (for example "optimizer." in a training checkpoint).
    public func loadStateDict(_ tensors: [String: Tensor], from path: String, ignoringPrefixes: [String] = []) throws {
        let expected = stateShapes
        for (name, shape) in expected {
            guard let tensor = tensors[name] else { throw CheckpointError.missingParameter(path: path, name: name) }
            guard tensor.shape == shape else {
                throw CheckpointError.shapeMismatch(path: path, name: name, expected: shape, found: tensor.shape)
            }
        }
        let known = Set(expected.map(\.name))
        if let stray = tensors.keys.sorted().first(where: { name in
            !known.contains(name) && !ignoringPrefixes.contains { name.hasPrefix($0) }
        }) {
            throw CheckpointError.unexpectedParameter(path: path, name: stray)
        }
        assignState { tensors[$0]! }
    }
}
