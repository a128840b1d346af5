// EpochMetrics.swift: one finished epoch, what d2l's Animator plots, as metrics.json and a
// checkpoint's "history" store it. JSON has no NaN or infinity, so a value that is not finite
// (a run that diverged) is written as null and read back as NaN. Foundation only: the fuzzer
// (Tests/Fuzz) compiles it with the checkpoint checks.

import Foundation

public struct EpochMetrics: Sendable, Codable, Equatable {
    public let epoch: Int
    public let trainLoss: Float
    public let trainAccuracy: Float
    public let testAccuracy: Float
    public let imagesPerSecond: Double

    public init(epoch: Int, trainLoss: Float, trainAccuracy: Float, testAccuracy: Float, imagesPerSecond: Double) {
        (self.epoch, self.trainLoss, self.trainAccuracy) = (epoch, trainLoss, trainAccuracy)
        (self.testAccuracy, self.imagesPerSecond) = (testAccuracy, imagesPerSecond)
    }

    enum CodingKeys: String, CodingKey { case epoch, trainLoss, trainAccuracy, testAccuracy, imagesPerSecond }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try values.decode(Int.self, forKey: .epoch)
        trainLoss = try values.decodeIfPresent(Float.self, forKey: .trainLoss) ?? .nan
        trainAccuracy = try values.decodeIfPresent(Float.self, forKey: .trainAccuracy) ?? .nan
        testAccuracy = try values.decodeIfPresent(Float.self, forKey: .testAccuracy) ?? .nan
        imagesPerSecond = try values.decodeIfPresent(Double.self, forKey: .imagesPerSecond) ?? .nan
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(epoch, forKey: .epoch)
        func finite<T: BinaryFloatingPoint>(_ value: T) -> T? { value.isFinite ? value : nil }
        // encode(Optional) writes null for nil, where encodeIfPresent would drop the key.
        try values.encode(finite(trainLoss), forKey: .trainLoss)
        try values.encode(finite(trainAccuracy), forKey: .trainAccuracy)
        try values.encode(finite(testAccuracy), forKey: .testAccuracy)
        try values.encode(finite(imagesPerSecond), forKey: .imagesPerSecond)
    }

    /// A history as JSON (pretty for metrics.json, compact for a checkpoint's metadata).
    public static func json(_ history: [EpochMetrics], pretty: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        // Cannot fail: every value is an Int, a finite float or null.
        return [UInt8]((try? encoder.encode(history)) ?? Data("[]".utf8))
    }

    /// The history stored in `text`; `path` and `key` name where it came from in the error.
    public static func history(from text: String, path: String, key: String) throws -> [EpochMetrics] {
        do {
            return try JSONDecoder().decode([EpochMetrics].self, from: Data(text.utf8))
        } catch {
            throw CheckpointError.badMetadata(
                path: path, key: key, detail: "is not a list of epoch metrics (\(error.localizedDescription))")
        }
    }
}
