// SourceSnippet.swift: the code cells' source. A chapter shows the Swift that does the work by
// naming a snippet in a source file; the excerpt is read from that file when the chapter runs,
// so what a reader sees is the code that was compiled, and can never go stale.
//
// A snippet is marked in its file by two comment lines:
//     // snippet: lenet
//     ...the lines shown...
//     // end snippet: lenet
// Snippets may nest or overlap; a line holding any marker is never part of an excerpt. The
// excerpt loses the indentation its lines share, so a method reads from the left margin.

import Foundation

public struct SourceSnippet: Equatable, Sendable {
    /// The file, relative to the repository: "Sources/ModernCNN/Models/LeNet.swift".
    public let path: String
    public let name: String
    /// The lines between the markers, dedented.
    public let text: String

    /// Where the sources are: the repository this file was compiled from (two folders above
    /// Sources/Notebook/).
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The snippet `name` of the file at `path` (relative to `repository`).
    public static func read(_ name: String, from path: String, repository: URL = repository) throws -> SourceSnippet {
        let url = repository.appendingPathComponent(path)
        guard let source = try? String(contentsOf: url, encoding: .utf8) else {
            throw SnippetError.missingFile(path: path)
        }
        return try SourceSnippet(name, in: source, path: path)
    }

    /// The snippet `name` of `source`, the text of the file at `path`.
    public init(_ name: String, in source: String, path: String) throws {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let open = "// snippet: \(name)", close = "// end snippet: \(name)"
        let trimmed = lines.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = trimmed.firstIndex(of: open) else { throw SnippetError.missing(name: name, path: path) }
        guard let end = trimmed[(start + 1)...].firstIndex(of: close) else {
            throw SnippetError.unterminated(name: name, path: path)
        }
        let body = (start + 1..<end).filter { !Self.isMarker(trimmed[$0]) }.map { lines[$0] }
        guard body.contains(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw SnippetError.empty(name: name, path: path)
        }
        self.path = path
        self.name = name
        text = Self.dedented(body)
    }

    /// The names of every snippet `source` opens, in order.
    public static func names(in source: String) -> [String] {
        source.split(separator: "\n").compactMap { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("// snippet: ") ? String(text.dropFirst("// snippet: ".count)) : nil
        }
    }

    static func isMarker(_ trimmedLine: String) -> Bool {
        trimmedLine.hasPrefix("// snippet: ") || trimmedLine.hasPrefix("// end snippet: ")
    }

    /// The lines without the leading spaces they all share (blank lines do not count).
    static func dedented(_ lines: [String]) -> String {
        let indents = lines.filter { !$0.allSatisfy(\.isWhitespace) }.map { $0.prefix { $0 == " " }.count }
        let shared = indents.min() ?? 0
        var result = lines.map { $0.allSatisfy(\.isWhitespace) ? "" : String($0.dropFirst(shared)) }
        while result.first == "" { result.removeFirst() }
        while result.last == "" { result.removeLast() }
        return result.joined(separator: "\n")
    }
}

public enum SnippetError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case missing(name: String, path: String)
    case unterminated(name: String, path: String)
    case empty(name: String, path: String)

    public var description: String {
        switch self {
        case let .missingFile(path): "no source file \(path) in this repository"
        case let .missing(name, path): "\(path) has no snippet '\(name)' (a line `// snippet: \(name)`)"
        case let .unterminated(name, path): "\(path): snippet '\(name)' has no `// end snippet: \(name)`"
        case let .empty(name, path): "\(path): snippet '\(name)' is empty"
        }
    }
}
