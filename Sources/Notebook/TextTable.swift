// TextTable.swift: fixed-width tables for the terminal. Numbers align right and text left, so
// that a column of GFLOP/s can be compared at a glance.

import Foundation
import ModernCNN

public struct TextTable {
    public enum Alignment { case left, right }

    public let headers: [String]
    public private(set) var rows: [[String]] = []
    public let alignments: [Alignment]

    /// Columns default to left alignment for the first and right for the rest (labels, then numbers).
    public init(headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.indices.map { $0 == 0 ? .left : .right }
    }

    public mutating func append(_ row: [String]) {
        precondition(
            row.count == headers.count,
            "table row has \(row.count) cells for \(headers.count) columns: \(row)")
        rows.append(row)
    }

    public func rendered() -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - cells[column].count)
                return alignments[column] == .left ? cells[column] + padding : padding + cells[column]
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// `part` as a whole percentage of `whole`: `percent(48_120, of: 61_706)` is "78%".
public func percent(_ part: Int, of whole: Int) -> String {
    formatted(100 * Double(part) / Double(max(whole, 1)), digits: 0) + "%"
}

/// A share between 0 and 1 as a percentage with one decimal: `percent(0.125)` is "12.5%".
public func percent(_ share: Double) -> String { formatted(100 * share, digits: 1) + "%" }
