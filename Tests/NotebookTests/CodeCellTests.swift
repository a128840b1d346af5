// CodeCellTests.swift: code cells show what the sources hold. Every snippet a chapter names
// exists in the file it names; the excerpt is the marked lines, dedented, without markers.

import Foundation
import Testing

@testable import Notebook

/// Every `book.code("name", from: "path")` in the chapters' sources, and how many `.code(` calls
/// there are in all (so that a call written any other way cannot slip past the first list).
func chapterCodeCells() throws -> (cells: [(chapter: String, name: String, path: String)], calls: Int) {
    let chapters = SourceSnippet.repository.appendingPathComponent("chapters")
    let pattern = try NSRegularExpression(pattern: #"book\.code\(\s*"([^"]+)",\s*from:\s*"([^"]+)"\s*\)"#)
    var cells: [(String, String, String)] = [], calls = 0
    let folders = try FileManager.default.contentsOfDirectory(atPath: chapters.path).sorted()
    for folder in folders {
        let files = try FileManager.default.contentsOfDirectory(atPath: chapters.appendingPathComponent(folder).path)
            .filter { $0.hasSuffix(".swift") }.sorted()
        let source = try files.map {
            try String(contentsOf: chapters.appendingPathComponent(folder).appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
        calls += source.components(separatedBy: ".code(").count - 1
        let range = NSRange(source.startIndex..., in: source)
        for match in pattern.matches(in: source, range: range) {
            let name = String(source[Range(match.range(at: 1), in: source)!])
            let path = String(source[Range(match.range(at: 2), in: source)!])
            cells.append((folder, name, path))
        }
    }
    return (cells, calls)
}

@Test("every code cell a chapter names is a snippet in the file it names")
func chapterSnippetsExist() throws {
    let (cells, calls) = try chapterCodeCells()
    #expect(cells.count == calls, "every code cell names its snippet and file as string literals")
    let chapters = try FileManager.default.contentsOfDirectory(
        atPath: SourceSnippet.repository.appendingPathComponent("chapters").path)
    #expect(chapters.count >= 5 && Set(cells.map(\.chapter)).count == chapters.count, "every chapter shows code")
    for cell in cells {
        let snippet = try SourceSnippet.read(cell.name, from: cell.path)
        #expect(snippet.text.split(separator: "\n").count >= 3, "\(cell.chapter): \(cell.name)")
        #expect(!snippet.text.contains("// snippet:") && !snippet.text.contains("// end snippet:"))
    }
    // The models, the layer, the kernels and the training step the issue asks for.
    let names = Set(cells.map(\.name))
    for required in [
        "lenet", "alexnet-d2l", "alexnet-paper", "alexnet-cpu", "conv2d-forward", "conv2d-backward", "microkernel",
        "im2col", "winograd-input-transform", "training-step", "vgg-block", "vgg", "receptive-field-recurrence",
        "nin-block", "nin", "dead-units", "nin-stall-experiment",
    ] {
        #expect(names.contains(required), "\(required)")
    }
}

@Test("a snippet is the marked lines, dedented, without nested markers; errors name the file and snippet")
func snippetExtraction() throws {
    let source = """
        struct A {
            // snippet: outer
            func f() {
                // snippet: inner
                let x = 1
                // end snippet: inner

                return
            }
            // end snippet: outer
        }
        """
    let outer = try SourceSnippet("outer", in: source, path: "A.swift")
    #expect(outer.text == "func f() {\n    let x = 1\n\n    return\n}")
    #expect(try SourceSnippet("inner", in: source, path: "A.swift").text == "let x = 1")
    #expect(SourceSnippet.names(in: source) == ["outer", "inner"])
    #expect(throws: SnippetError.missing(name: "other", path: "A.swift")) {
        try SourceSnippet("other", in: source, path: "A.swift")
    }
    #expect(throws: SnippetError.unterminated(name: "open", path: "B.swift")) {
        try SourceSnippet("open", in: "// snippet: open\nlet y = 2\n", path: "B.swift")
    }
    #expect(throws: SnippetError.missingFile(path: "Sources/Nowhere.swift")) {
        try SourceSnippet.read("x", from: "Sources/Nowhere.swift")
    }
}

@Test("a code cell: indented under its path in the terminal, dimmed only on a terminal, highlighted on the page")
func codeCellRendering() throws {
    let path = "Sources/ModernCNN/Models/LeNet.swift"
    let plain = transcript(width: 80) { $0.code("lenet", from: path) }
    #expect(plain.hasPrefix("    // \(path)\n    // snippet") == false)
    #expect(plain.hasPrefix("    // \(path)\n"))
    #expect(plain.contains("    public static func d2l(") && !plain.contains("\u{1B}["))
    var styled = ""
    let terminal = Notebook(width: 80, styled: true) { styled += $0 }
    terminal.code("lenet", from: path)
    #expect(styled.contains("\u{1B}[2m    public static func d2l(") == false)
    #expect(styled.contains("    \u{1B}[2mpublic static func d2l("))
    let html = terminal.page.html(chapter: "03-lenet")
    #expect(html.contains("<div class=\"path\">\(path)</div>"))
    #expect(html.contains("<span class=\"keyword\">public</span> <span class=\"keyword\">static</span>"))
    #expect(html.contains("<span class=\"type\">Sequential</span>"))
    // A missing snippet is said, and the chapter goes on.
    let missing = transcript(width: 80) { $0.code("no-such-snippet", from: path) }
    #expect(missing.contains("(code cell: \(path) has no snippet 'no-such-snippet'"))
}

@Test("an aside is marked where it starts and ends, in the terminal and on the page")
func asides() throws {
    var text = ""
    let book = Notebook(width: 80) { text += $0 }
    book.aside("how the tile fills") { book.say("Inside.") }
    #expect(text.contains("Aside: how the tile fills") && text.contains("end of the aside"))
    let html = book.page.html(chapter: "01-tensors")
    #expect(html.contains("<aside><div class=\"aside-title\">Aside: how the tile fills</div>"))
    #expect(html.contains("<p>Inside.</p>\n</aside>"))
}

@Test("the highlighter escapes everything and keeps the text")
func highlighterKeepsText() {
    let source = "let a = \"<b>\" // x < y && z\nif a.count > 0x1F { return }"
    let html = SwiftHighlighter.html(source)
    let stripped = html.replacingOccurrences(of: #"<[^>]+>"#, with: "", options: .regularExpression)
    #expect(stripped == escapeXML(source))
    #expect(html.contains("<span class=\"comment\">// x &lt; y &amp;&amp; z</span>"))
    #expect(html.contains("<span class=\"string\">&quot;&lt;b&gt;&quot;</span>"))
}
