// CacheSizes.swift: this machine's data caches, read from Linux's sysfs, so a chapter can say
// "B is 16 MB and the L3 is 32 MB" about the machine it runs on rather than a spec sheet.

import Foundation
import ModernCNN

public struct CacheSizes: Sendable {
    /// Bytes per level (1, 2, 3) of the data or unified caches seen by CPU 0; missing levels are absent.
    public let bytes: [Int: Int]

    public static func current() -> CacheSizes {
        var levels: [Int: Int] = [:]
        let root = "/sys/devices/system/cpu/cpu0/cache"
        for index in 0..<8 {
            let folder = "\(root)/index\(index)"
            guard let type = read("\(folder)/type"), type != "Instruction",
                let level = read("\(folder)/level").flatMap(Int.init),
                let size = read("\(folder)/size").flatMap(parseSize)
            else { continue }
            levels[level] = size
        }
        return CacheSizes(bytes: levels)
    }

    /// "32K" -> 32768, "1024K" -> 1048576, "32M" -> 33554432.
    static func parseSize(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let unit = text.last, let scale = units[unit], let value = Int(text.dropLast()) { return value * scale }
        return Int(text)
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// "L1 32 KB, L2 512 KB, L3 32 MB" (per core for L1 and L2 on most CPUs).
    public var summary: String {
        bytes.keys.sorted().map { "L\($0) \(byteCount(bytes[$0]!))" }.joined(separator: ", ")
    }
}
