// FashionMNIST.swift: Zalando's Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), the data set every
// chapter trains on: 28x28 grey images of ten kinds of clothing, 60,000 for training and 10,000
// for testing. It comes from the Debian package dataset-fashion-mnist; nothing is downloaded.
// Images stay as bytes in memory (47 MB for the training set) and become floats batch by batch.

public struct FashionMNIST: Sendable {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let side = 28
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    static let missingHint =
        "The real Fashion-MNIST comes from the Debian package dataset-fashion-mnist: "
        + "run `make setup` (or `apt-get install dataset-fashion-mnist`), or pass --data-dir with a folder "
        + "holding the four *-ubyte.gz files."

    public enum Split: String, Sendable { case train, test }

    public let split: Split
    /// [count, 28, 28] pixels, 0 (background) to 255, row-major.
    public let images: [UInt8]
    /// [count] class indices in 0..<10.
    public let labels: [Int32]
    public var count: Int { labels.count }

    public init(split: Split, directory: String = FashionMNIST.defaultDirectory) throws {
        let prefix = split == .train ? "train" : "t10k"
        let imagePath = "\(directory)/\(prefix)-images-idx3-ubyte.gz"
        let labelPath = "\(directory)/\(prefix)-labels-idx1-ubyte.gz"
        // Shapes are checked on the headers, before the data is inflated.
        let imageFile = try IDXFile(contentsOf: imagePath, missingFileHint: Self.missingHint) { shape in
            guard shape.count == 3, shape[1] == Self.side, shape[2] == Self.side else {
                throw DataError.unexpectedShape(path: imagePath, expected: "[count, 28, 28] images", found: shape)
            }
            guard shape[0] > 0 else { throw DataError.empty(path: imagePath) }
        }
        let labelFile = try IDXFile(contentsOf: labelPath, missingFileHint: Self.missingHint) { shape in
            guard shape.count == 1 else {
                throw DataError.unexpectedShape(path: labelPath, expected: "[count] labels", found: shape)
            }
            guard shape[0] == imageFile.shape[0] else {
                throw DataError.countMismatch(
                    images: imagePath, imageCount: imageFile.shape[0],
                    labels: labelPath, labelCount: shape[0])
            }
        }
        if let bad = labelFile.bytes.first(where: { Int($0) >= Self.classNames.count }) {
            throw DataError.labelOutOfRange(path: labelPath, label: Int(bad), classes: Self.classNames.count)
        }
        self.split = split
        images = imageFile.bytes
        labels = labelFile.bytes.map(Int32.init)
    }
}
