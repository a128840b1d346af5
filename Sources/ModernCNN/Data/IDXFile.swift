// IDXFile.swift: the IDX format of MNIST and Fashion-MNIST (LeCun's), here always gzip-compressed.
//
//   bytes 0-1  zero;  byte 2  element type (0x08 = unsigned byte);  byte 3  rank d
//   then d big-endian UInt32 sizes, then the elements, row-major.
// Everything is validated against the header, so a damaged file is reported with its name and
// what is wrong instead of becoming a crash or silently wrong images.

import Foundation

public struct IDXFile: Sendable {
    public let shape: [Int]
    public let bytes: [UInt8]

    /// The most data a file may declare: half the machine's memory. A header is read before its
    /// data, so a damaged one is refused before it costs anything.
    static var byteLimit: Int { sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE)) / 2 }

    /// Reads and validates a gzip-compressed IDX file of unsigned bytes. `acceptShape` sees the
    /// header's shape before any data is inflated, and throws if the caller cannot use it.
    public init(
        contentsOf path: String, missingFileHint: String = "",
        acceptShape: ([Int]) throws -> Void = { _ in }
    ) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.missingFile(path: path, hint: missingFileHint)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "permission denied or not a regular file")
        }
        try self.init(gzipped: [UInt8](data), path: path, acceptShape: acceptShape)
    }

    init(
        gzipped data: [UInt8], path: String, byteLimit: Int = IDXFile.byteLimit,
        acceptShape: ([Int]) throws -> Void = { _ in }
    ) throws {
        let reader = try GzipReader(data, path: path)
        var raw: [UInt8] = []
        _ = try reader.read(4, into: &raw)
        guard raw.count == 4, raw[0] == 0, raw[1] == 0, raw[2] == 0x08, (1...4).contains(raw[3]) else {
            throw DataError.badMagic(path: path, found: raw)
        }
        let rank = Int(raw[3]), headerLength = 4 + 4 * rank
        _ = try reader.read(headerLength - 4, into: &raw)
        guard raw.count == headerLength else {
            throw DataError.truncated(path: path, expectedBytes: headerLength, actualBytes: raw.count)
        }
        let shape = (0..<rank).map { axis in
            raw[(4 + 4 * axis)..<(8 + 4 * axis)].reduce(0) { $0 << 8 | Int($1) }
        }
        // A damaged header can declare sizes whose product overflows; that is a bad file, not a crash.
        var expected = 1
        for size in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw DataError.unexpectedShape(
                    path: path, expected: "sizes whose product fits in memory", found: shape)
            }
            expected = product
        }
        try acceptShape(shape)
        guard expected <= byteLimit else {
            throw DataError.tooLarge(path: path, declaredBytes: expected, limitBytes: byteLimit)
        }
        var body: [UInt8] = []
        body.reserveCapacity(expected)
        let actual = try reader.read(expected, into: &body)
        if actual < expected { throw DataError.truncated(path: path, expectedBytes: expected, actualBytes: actual) }
        // Count what follows, up to a megabyte, without keeping it.
        var extra: [UInt8] = []
        let surplus = try reader.read(1 << 20, into: &extra)
        if surplus > 0 {
            throw DataError.trailingBytes(path: path, expectedBytes: expected, actualBytes: expected + surplus)
        }
        self.shape = shape
        bytes = body
    }
    /// The bytes of an IDX file of unsigned bytes with this shape, gzip-compressed.
    static func encode(shape: [Int], bytes: [UInt8]) -> [UInt8] {
        var raw: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for size in shape { raw += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: size >> $0) } }
        return Gzip.compress(raw + bytes)
    }
}
