// Formatting.swift: numbers for people, shared by the training code's messages and the chapters.

import Foundation

/// Fixed-point formatting for tables: `formatted(3.14159, digits: 2)` is "3.14".
public func formatted(_ value: Double, digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

/// A byte count for people: "512 KB", "1.0 MB", "16.0 MB".
public func byteCount(_ bytes: Int) -> String {
    if bytes < 1 << 10 { return "\(bytes) B" }
    if bytes < 1 << 20 {
        return bytes % 1024 == 0 ? "\(bytes >> 10) KB" : formatted(Double(bytes) / Double(1 << 10), digits: 1) + " KB"
    }
    if bytes < 1 << 30 { return formatted(Double(bytes) / Double(1 << 20), digits: 1) + " MB" }
    return formatted(Double(bytes) / Double(1 << 30), digits: 1) + " GB"
}

/// Items as prose: "a", "a and b", "a, b and c".
public func listed(_ items: [String]) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + " and " + items.last!
}
