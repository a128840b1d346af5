// Notebook.swift: how a chapter speaks. A chapter is a sequence of cells, as in a Jupyter
// notebook: a heading, some prose, the code's printed result, the next heading. Every word a
// chapter shows goes through one Notebook, so that the same calls fill both the terminal
// transcript and the chapter's page (ChapterPage), and a test can capture the transcript.

import Foundation
import ModernCNN

public struct Notebook {
    /// Column at which narration wraps; results and tables are never wrapped.
    public let width: Int
    /// Whether to dim code cells with terminal escapes (only when writing to a terminal).
    let styled: Bool
    private let write: (String) -> Void
    /// Everything said so far, as blocks for the chapter's Markdown and HTML page.
    public let page = ChapterPage()

    /// A notebook writing to standard output, unbuffered, so that its cells and a progress bar
    /// (which writes to the same file) appear in the order they happen.
    public init(width: Int = 92) {
        self.init(width: width, styled: isatty(STDOUT_FILENO) == 1) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// A notebook writing to `sink` (tests collect the transcript this way).
    public init(width: Int = 92, styled: Bool = false, sink: @escaping (String) -> Void) {
        self.width = width
        self.styled = styled
        write = sink
    }

    /// The chapter's title, once at the top.
    public func title(_ text: String) {
        Interrupt.setContext(text)
        let rule = String(repeating: "=", count: min(width, text.count + 8))
        write("\(rule)\n    \(text)\n\(rule)\n\n")
        page.append(.title(text))
    }

    /// A numbered section heading, e.g. "1.3 Strides".
    public func section(_ text: String) {
        Interrupt.setContext(text)
        write("\n## \(text)\n\n")
        page.append(.section(text))
    }

    /// Prose, wrapped at `width`. Blank lines in `text` separate paragraphs; a paragraph whose
    /// lines start with "- " is kept as a list, one item per line.
    public func say(_ text: String) {
        for paragraph in Self.paragraphs(of: text) {
            write(Self.wrap(paragraph, width: width) + "\n\n")
            page.append(.prose(paragraph))
        }
    }

    /// A cell's printed result, set off by a gutter so that it reads as output, not prose.
    public func show(_ result: String) {
        let lines = result.split(separator: "\n", omittingEmptySubsequences: false)
        write(lines.map { "  | \($0)" }.joined(separator: "\n") + "\n\n")
        page.append(.result(result))
    }

    /// A labelled result: `show("strides", [3, 1])` prints `  | strides: [3, 1]`; a value that starts
    /// with a newline (a printed tensor) goes below its label.
    public func show(_ label: String, _ value: Any) {
        let text = "\(value)"
        show("\(label):" + (text.hasPrefix("\n") ? "" : " ") + text)
    }

    /// A table as a cell result.
    public func show(_ table: TextTable) {
        show(table.rendered())
    }

    /// A plain line (progress, warnings) with no decoration.
    public func note(_ text: String) {
        write(text + "\n")
        page.append(.note(text))
    }

    static func paragraphs(of text: String) -> [String] {
        text.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    /// Greedy word wrap. List paragraphs ("- item" lines) wrap item by item with a hanging indent.
    static func wrap(_ paragraph: String, width: Int) -> String {
        let lines = paragraph.split(separator: "\n").map(String.init)
        if lines.allSatisfy({ $0.hasPrefix("- ") }) {
            return lines.map { fill(String($0.dropFirst(2)), width: width, first: "- ", rest: "  ") }
                .joined(separator: "\n")
        }
        return fill(lines.joined(separator: " "), width: width, first: "", rest: "")
    }

    private static func fill(_ text: String, width: Int, first: String, rest: String) -> String {
        var lines: [String] = []
        var line = first
        var lineHasWord = false
        for word in text.split(separator: " ") {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}

extension Notebook {
    /// A code cell: the snippet `name` of the source file at `path` (relative to the repository;
    /// see SourceSnippet), headed by the path. Indented, and dimmed on a terminal; a highlighted
    /// block on the page. A snippet that cannot be read is said, not shown: the chapter goes on.
    public func code(_ name: String, from path: String) {
        let snippet: SourceSnippet
        do {
            snippet = try SourceSnippet.read(name, from: path)
        } catch {
            return note("(code cell: \(error))")
        }
        let lines =
            ["// \(path)"] + snippet.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let (dim, plain) = styled ? ("\u{1B}[2m", "\u{1B}[0m") : ("", "")
        write(lines.map { $0.isEmpty ? "" : "    \(dim)\($0)\(plain)" }.joined(separator: "\n") + "\n\n")
        page.append(.code(path: path, text: snippet.text))
    }

    /// A passage a reader may skip (how the hardware does it, say): marked where it starts and
    /// ends in the terminal, set in a box on the page.
    public func aside(_ title: String, _ body: () throws -> Void) rethrows {
        write("  ── Aside: \(title) (a reader may skip to the end of the aside) ──\n\n")
        page.append(.asideStart(title))
        defer {
            write("  ── end of the aside ──\n\n")
            page.append(.asideEnd)
        }
        try body()
    }

    /// Writes `diagram` as .dot, .svg and .png into `folder` and says where; when Graphviz cannot
    /// render, says why and goes on (the chapter does not need its pictures to teach).
    public func diagram(_ diagram: ArchitectureDiagram, in folder: URL, name: String, caption: String) {
        do {
            try diagram.write(to: folder, name: name)
            figure("\(name).svg", caption: caption, folder: folder)
        } catch {
            note("(no diagram: \(error))")
        }
    }

    /// A picture the chapter wrote into its folder, with a caption: a line in the terminal (with the
    /// file's name only, so that transcripts do not depend on --output), the picture on the page.
    public func figure(_ file: String, caption: String, folder: URL) {
        write(Self.wrap("[figure: \(file)] \(caption)", width: width) + "\n\n")
        page.append(.figure(file: file, caption: caption))
    }
}
