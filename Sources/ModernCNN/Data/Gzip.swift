// Gzip.swift: gzip decompression on zlib, a piece at a time, and compression for test files.
//
// A reader asks for as many bytes as it is ready to take (an IDX file: 4, then the rest of its
// header, then exactly what the header declares), so a damaged or hostile file never makes us
// inflate more than we checked we want: 4 MB that inflate to 4 GB are rejected after a few bytes.
// Several gzip members one after another are one file (RFC 1952, section 2.2, as `cat a.gz
// b.gz` makes); anything else after the last member, except zero padding, is an error.

import CZlib
import Foundation

final class GzipReader {
    private let path: String
    private var stream = z_stream()
    /// The compressed bytes; zlib keeps a pointer into them between calls.
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// The current member ended (Z_STREAM_END); what follows is another member or the end.
    private var memberEnded = false
    private(set) var finished = false

    /// `path` only names the file in errors.
    init(_ data: [UInt8], path: String) throws {
        guard data.count >= 2, data[0] == 0x1f, data[1] == 0x8b else { throw DataError.notGzip(path: path) }
        self.path = path
        input = .allocate(capacity: data.count)
        _ = input.initialize(from: data)
        // windowBits 16 + 15: expect a gzip header and trailer, with the largest window.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            input.deallocate()
            throw DataError.corruptGzip(path: path, reason: "zlib could not start")
        }
        stream.next_in = input.baseAddress
        stream.avail_in = uInt(input.count)
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Appends up to `count` decompressed bytes to `output` and returns how many it appended:
    /// fewer only when the data ends.
    func read(_ count: Int, into output: inout [UInt8]) throws -> Int {
        var produced = 0
        while produced < count && !finished {
            if memberEnded { try startNextMember(); continue }
            let want = min(count - produced, 1 << 20)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: want))
            let status: Int32 = output.withUnsafeMutableBufferPointer { target in
                stream.next_out = target.baseAddress! + start
                stream.avail_out = uInt(want)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let got = want - Int(stream.avail_out)
            output.removeLast(want - got)
            produced += got
            switch status {
            case Z_STREAM_END:
                memberEnded = true
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
        return produced
    }

    /// After a member's end: the next member, zero padding to the end, or an error.
    private func startNextMember() throws {
        let rest = UnsafeBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
        if rest.allSatisfy({ $0 == 0 }) {
            finished = true
        } else if rest.count >= 2, rest[0] == 0x1f, rest[1] == 0x8b {
            guard inflateReset(&stream) == Z_OK else {
                throw DataError.corruptGzip(path: path, reason: "zlib reset failed")
            }
            memberEnded = false
        } else {
            throw DataError.trailingGzipData(path: path, bytes: rest.count)
        }
    }
}

enum Gzip {
    /// All the decompressed bytes of gzip `data` (tests and small files; IDXFile reads by parts).
    static func decompress(_ data: [UInt8], path: String) throws -> [UInt8] {
        let reader = try GzipReader(data, path: path)
        var output: [UInt8] = []
        while try reader.read(1 << 20, into: &output) > 0 {}
        return output
    }

    /// A gzip member holding `data` (used to write small IDX files in tests and examples).
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // Calls with side effects stay outside precondition(): an unchecked build skips the whole
        // expression, call included.
        let started = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
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
