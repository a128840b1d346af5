// PNGImage.swift: a minimal PNG encoder (8-bit grey or RGB, no filtering) on zlib, for the
// image grids chapters save: sample predictions, augmented images. PNG is a signature and a
// list of chunks (length, type, data, CRC-32); the pixels are one zlib stream of rows, each
// row led by its filter byte (0: none).

import CZlib
import Foundation
import ModernCNN

public struct PNGImage {
    public let width: Int, height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// Row-major, `channels` bytes per pixel.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 1, fill: UInt8 = 255) {
        precondition(channels == 1 || channels == 3, "PNGImage supports grey or RGB")
        (self.width, self.height, self.channels) = (width, height, channels)
        pixels = [UInt8](repeating: fill, count: width * height * channels)
    }

    /// Copies a grey `side` x `side` image (0 is white paper here: Fashion-MNIST stores ink as
    /// high values, so it is inverted) into the tile at (x, y), each pixel `scale` x `scale`.
    public mutating func paste(
        grey source: UnsafeBufferPointer<UInt8>, side: Int, x: Int, y: Int, scale: Int = 1,
        invert: Bool = true
    ) {
        for row in 0..<(side * scale) {
            for column in 0..<(side * scale) {
                let value = source[(row / scale) * side + column / scale]
                let offset = ((y + row) * width + x + column) * channels
                for channel in 0..<channels { pixels[offset + channel] = invert ? 255 - value : value }
            }
        }
    }

    /// Fills a rectangle with one colour (grey images use the first component).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: (UInt8, UInt8, UInt8)) {
        let components = [color.0, color.1, color.2]
        for row in max(0, y)..<min(height, y + h) {
            for column in max(0, x)..<min(width, x + w) {
                for channel in 0..<channels {
                    pixels[(row * width + column) * channels + channel] = components[channel]
                }
            }
        }
    }

    /// The encoded file.
    public func pngData() -> [UInt8] {
        var raw = [UInt8]()
        raw.reserveCapacity(height * (1 + width * channels))
        for row in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(row * width * channels)..<((row + 1) * width * channels)])
        }
        var header = [UInt8]()
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]  // depth 8, colour type, deflate, no filter, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", header) + chunk("IDAT", Self.zlibCompress(raw)) + chunk("IEND", [])
    }

    public func write(to url: URL) throws {
        try writeFileAtomically(pngData(), to: url.path)
    }

    private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func zlibCompress(_ data: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = compress2(&output, &length, data, uLong(data.count), Z_BEST_COMPRESSION)
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Array(output[0..<Int(length)])
    }
}
