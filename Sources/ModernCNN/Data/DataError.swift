// DataError.swift: everything that can be wrong with a data file, each case naming the file and
// what is wrong, and where it helps, how to fix it.

public enum DataError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String, hint: String)
    case unreadable(path: String, reason: String)
    case notGzip(path: String)
    case truncatedGzip(path: String)
    case corruptGzip(path: String, reason: String)
    case badMagic(path: String, found: [UInt8])
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case trailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    case unexpectedShape(path: String, expected: String, found: [Int])
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    case labelOutOfRange(path: String, label: Int, classes: Int)
    case empty(path: String)
    case tooLarge(path: String, declaredBytes: Int, limitBytes: Int)
    case trailingGzipData(path: String, bytes: Int)

    public var description: String {
        switch self {
        case let .missingFile(path, hint):
            return "\(path): no such file. \(hint)"
        case let .unreadable(path, reason):
            return "\(path): cannot be read (\(reason))"
        case let .notGzip(path):
            return "\(path): not a gzip file (it does not start with the gzip signature 1f 8b)"
        case let .truncatedGzip(path):
            return "\(path): the gzip stream ends early; the file is truncated (download or copy it again)"
        case let .corruptGzip(path, reason):
            return "\(path): the gzip data is corrupt (\(reason))"
        case let .badMagic(path, found):
            return "\(path): not an IDX file of unsigned bytes (magic number "
                + found.map { String($0, radix: 16) }.joined(separator: " ") + ", expected 0 0 8 and a rank of 1 to 4)"
        case let .truncated(path, expected, actual):
            return "\(path): truncated: its header promises \(expected) bytes of data but it holds \(actual)"
        case let .trailingBytes(path, expected, actual):
            // IDXFile counts the surplus only up to a megabyte.
            let surplus = actual - expected
            return "\(path): \(surplus >= 1 << 20 ? "at least " : "")\(surplus) unexpected bytes after the \(expected) "
                + "its header describes"
        case let .unexpectedShape(path, expected, found):
            return "\(path): expected \(expected), found dimensions \(found)"
        case let .countMismatch(images, imageCount, labels, labelCount):
            return "\(images) holds \(imageCount) images but \(labels) holds \(labelCount) labels"
        case let .labelOutOfRange(path, label, classes):
            return "\(path): label \(label) is outside 0..<\(classes)"
        case let .empty(path):
            return "\(path): holds no examples; a data set needs at least one"
        case let .tooLarge(path, declared, limit):
            return "\(path): its header declares \(declared) bytes of data, more than the \(limit) this data set "
                + "can hold; the file is damaged or not Fashion-MNIST"
        case let .trailingGzipData(path, bytes):
            return "\(path): \(bytes) bytes after the end of the gzip data that are not another gzip member"
        }
    }
}
