// FashionMNISTSplits.swift: the training and test sets, loaded together.

/// The two Fashion-MNIST splits, loaded once per chapter.
public struct FashionMNISTSplits: Sendable {
    public let train: FashionMNIST
    public let test: FashionMNIST

    /// Loads both splits from `directory`; a missing or damaged file throws a DataError that
    /// names the file and how to get it.
    public init(directory: String) throws {
        train = try FashionMNIST(split: .train, directory: directory)
        test = try FashionMNIST(split: .test, directory: directory)
    }
}
