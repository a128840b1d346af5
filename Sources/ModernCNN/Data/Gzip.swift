// Gzip.swift: whole-file gzip decompression (and compression, for writing test files) on zlib.

import CZlib
import Foundation

enum Gzip {
    /// The decompressed bytes of a gzip member. `path` only names the file in errors.
    static func decompress(_ data: [UInt8], path: String) throws -> [UInt8] {
        guard data.count >= 2, data[0] == 0x1f, data[1] == 0x8b else { throw DataError.notGzip(path: path) }
        var stream = z_stream()
        // windowBits 16 + 15: expect a gzip header and trailer, with the largest window.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.corruptGzip(path: path, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var input = data
        return try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                switch status {
                case Z_STREAM_END:
                    return output
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    // No progress possible and no input left: the stream stopped mid-way.
                    throw DataError.truncatedGzip(path: path)
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                    throw DataError.corruptGzip(path: path, reason: reason)
                }
            }
        }
    }

    /// A gzip member holding `data` (used to write small IDX files in tests and examples).
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // Calls with side effects stay outside precondition(): an unchecked build skips the whole
        // expression, call included.
        let started = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                    ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(started == Z_OK, "zlib could not start compressing")
        defer { deflateEnd(&stream) }
        var input = data
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 32)
        let written: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate did not finish in one call")
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }
}
