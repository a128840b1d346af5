// DataTests.swift: the IDX reader on good and damaged synthetic files (each error must say what
// is wrong with which file), and the real Fashion-MNIST from its Debian package.

import Foundation
import Testing

@testable import ModernCNN

/// A fresh temporary folder for one test's files.
func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("moderncnn-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

@Test("a well-formed IDX file round-trips through gzip")
func idxRoundTrip() throws {
    let folder = try temporaryFolder(), path = folder + "/good.gz"
    let pixels = (0..<(3 * 4 * 5)).map { UInt8($0 * 4) }
    try write(IDXFile.encode(shape: [3, 4, 5], bytes: pixels), to: path)
    let file = try IDXFile(contentsOf: path)
    #expect(file.shape == [3, 4, 5] && file.bytes == pixels)
}

@Test("damaged files fail with an error naming the file and the damage")
func damagedFiles() throws {
    let folder = try temporaryFolder()
    let good = IDXFile.encode(shape: [4, 2], bytes: [1, 2, 3, 4, 5, 6, 7, 8])
    func error(for bytes: [UInt8], _ name: String) throws -> DataError? {
        let path = "\(folder)/\(name)"
        try write(bytes, to: path)
        do {
            _ = try IDXFile(contentsOf: path)
            return nil
        } catch let error as DataError {
            #expect(error.description.contains(path), "the message should name the file: \(error)")
            return error
        }
    }
    #expect(try error(for: Array(good.prefix(good.count / 2)), "cut.gz") == .truncatedGzip(path: "\(folder)/cut.gz"))
    #expect(try error(for: [0, 0, 8, 2, 0, 0, 0, 4], "plain.gz") == .notGzip(path: "\(folder)/plain.gz"))
    var corrupt = good
    corrupt[12] ^= 0xff
    corrupt[13] ^= 0xff
    if case .corruptGzip = try error(for: corrupt, "flipped.gz") {
    } else {
        Issue.record("flipped bits should be corrupt")
    }
    #expect(
        try error(for: Gzip.compress([0, 0, 9, 1, 0, 0, 0, 1, 7]), "floats.gz")
            == .badMagic(path: "\(folder)/floats.gz", found: [0, 0, 9, 1]))
    // The header promises 4 x 2 = 8 bytes; give 6, then 10.
    let header: [UInt8] = [0, 0, 8, 2, 0, 0, 0, 4, 0, 0, 0, 2]
    #expect(
        try error(for: Gzip.compress(header + [1, 2, 3, 4, 5, 6]), "short.gz")
            == .truncated(path: "\(folder)/short.gz", expectedBytes: 8, actualBytes: 6))
    #expect(
        try error(for: Gzip.compress(header + Array(repeating: 1, count: 10)), "long.gz")
            == .trailingBytes(path: "\(folder)/long.gz", expectedBytes: 8, actualBytes: 10))
    #expect(try error(for: [], "empty.gz") == .notGzip(path: "\(folder)/empty.gz"))
    // Four dimensions of 2^32 - 1: their product overflows, which must be an error, not a crash.
    let huge: [UInt8] = [0, 0, 8, 4] + Array(repeating: 0xff, count: 16)
    #expect(
        try error(for: Gzip.compress(huge), "huge.gz")
            == .unexpectedShape(
                path: "\(folder)/huge.gz", expected: "sizes whose product fits in memory",
                found: Array(repeating: 4_294_967_295, count: 4)))
}

@Test("a missing data set says which package and which flag provide it")
func missingDataSet() throws {
    let folder = try temporaryFolder()
    do {
        _ = try FashionMNIST(split: .train, directory: folder)
        Issue.record("an empty folder should not load")
    } catch let error as DataError {
        #expect(error.description.contains("dataset-fashion-mnist"))
        #expect(error.description.contains("--data-dir"))
        #expect(error.description.contains("train-images-idx3-ubyte.gz"))
    }
}

@Test("images and labels of different counts are refused")
func countMismatch() throws {
    let folder = try temporaryFolder()
    try write(
        IDXFile.encode(shape: [3, 28, 28], bytes: Array(repeating: 0, count: 3 * 784)),
        to: "\(folder)/t10k-images-idx3-ubyte.gz")
    try write(IDXFile.encode(shape: [2], bytes: [1, 2]), to: "\(folder)/t10k-labels-idx1-ubyte.gz")
    #expect(
        throws: DataError.countMismatch(
            images: "\(folder)/t10k-images-idx3-ubyte.gz", imageCount: 3,
            labels: "\(folder)/t10k-labels-idx1-ubyte.gz", labelCount: 2)
    ) {
        try FashionMNIST(split: .test, directory: folder)
    }
    try write(IDXFile.encode(shape: [3], bytes: [1, 12, 2]), to: "\(folder)/t10k-labels-idx1-ubyte.gz")
    #expect(throws: DataError.labelOutOfRange(path: "\(folder)/t10k-labels-idx1-ubyte.gz", label: 12, classes: 10)) {
        try FashionMNIST(split: .test, directory: folder)
    }
}

@Test("the real Fashion-MNIST: sizes, first labels and first images as the files hold them")
func realFashionMNIST() throws {
    // Facts read from the package's files with Python's gzip module, independently of this code.
    let train = try FashionMNIST(split: .train), test = try FashionMNIST(split: .test)
    #expect(train.count == 60_000 && test.count == 10_000)
    #expect(train.images.count == 60_000 * 784)
    #expect(Array(train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    #expect(Array(test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
    #expect(train.images.prefix(784).reduce(0) { $0 + Int($1) } == 76_247)
    #expect(test.images.prefix(784).reduce(0) { $0 + Int($1) } == 33_456)
    #expect(FashionMNIST.classNames[Int(train.labels[0])] == "Ankle boot")
    // Balanced classes: 6,000 of each in training.
    #expect((0..<10).allSatisfy { c in train.labels.filter { $0 == c }.count == 6_000 })
}
