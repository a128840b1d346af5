// SwiftHighlighter.swift: a code cell on the page, coloured as an editor would colour it.
// A small scanner, not a parser: comments, string literals, numbers, keywords and type names
// (identifiers that start with a capital) are wrapped in <span class="..."> elements; all else
// is escaped text. That is enough for a reader to see a function's shape at a glance.

enum SwiftHighlighter {
    static let keywords: Set<String> = [
        "let", "var", "func", "return", "if", "else", "guard", "for", "in", "while", "repeat", "switch", "case",
        "default", "break", "continue", "where", "struct", "class", "enum", "protocol", "extension", "init",
        "self", "Self", "public", "private", "fileprivate", "internal", "static", "final", "throws", "throw",
        "try", "rethrows", "do", "catch", "defer", "inout", "import", "true", "false", "nil", "some", "any",
        "as", "is", "mutating", "borrowing", "consuming", "lazy", "weak", "unowned", "override", "subscript",
        "typealias", "associatedtype", "@inline", "@inlinable", "@usableFromInline", "@discardableResult",
    ]

    /// `source` as XHTML: escaped, with spans of class comment, string, number, keyword, type.
    static func html(_ source: String) -> String {
        let characters = Array(source)
        var out = ""
        var i = 0
        func span(_ kind: String, _ text: String) { out += "<span class=\"\(kind)\">\(escapeXML(text))</span>" }
        while i < characters.count {
            let c = characters[i]
            if c == "/" && i + 1 < characters.count && characters[i + 1] == "/" {
                let end = characters[i...].firstIndex(of: "\n") ?? characters.count
                span("comment", String(characters[i..<end]))
                i = end
            } else if c == "\"" {
                var end = i + 1
                while end < characters.count && characters[end] != "\"" && characters[end] != "\n" {
                    end += characters[end] == "\\" ? 2 : 1
                }
                end = min(end + 1, characters.count)
                span("string", String(characters[i..<end]))
                i = end
            } else if c.isNumber {
                var end = i
                while end < characters.count
                    && (characters[end].isHexDigit || "._xe".contains(characters[end]))
                {
                    end += 1
                }
                span("number", String(characters[i..<end]))
                i = end
            } else if c.isLetter || c == "_" || c == "@" {
                var end = i + 1
                while end < characters.count
                    && (characters[end].isLetter || characters[end].isNumber || characters[end] == "_")
                {
                    end += 1
                }
                let word = String(characters[i..<end])
                if keywords.contains(word) {
                    span("keyword", word)
                } else if word.first?.isUppercase == true {
                    span("type", word)
                } else {
                    out += escapeXML(word)
                }
                i = end
            } else {
                out += escapeXML(String(c))
                i += 1
            }
        }
        return out
    }
}
