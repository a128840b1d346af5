// ChapterPage.swift: the chapter as a page, output/<NN-name>/index.md and index.html, built from
// the very blocks the Notebook printed (so the page and the terminal never disagree): narration,
// printed cells, log lines, and the chapter's pictures inline. The HTML carries its own style
// and needs nothing but the images in the same folder; it is also well-formed XML (XHTML-style
// empty elements), so tests can parse it.

import Foundation

public final class ChapterPage {
    public enum Block: Equatable {
        case title(String)
        case section(String)
        /// One paragraph (or a "- " list) of narration, unwrapped.
        case prose(String)
        /// A printed cell: a result or a table.
        case result(String)
        /// A plain line (progress, warnings).
        case note(String)
        /// A picture in the chapter's folder.
        case figure(file: String, caption: String)
        /// A code cell: a snippet of the source file at `path` (relative to the repository).
        case code(path: String, text: String)
        /// A passage a reader may skip, from its start to its end.
        case asideStart(String)
        case asideEnd
    }

    /// The book's chapters written so far, in order: folder name and title, for the links
    /// between pages (a chapter joins the list when it exists, so no link leads nowhere).
    public static let chapters: [(folder: String, title: String)] = [
        ("01-tensors", "Tensors and the matmul ladder"), ("02-convolutions", "Convolutions"), ("03-lenet", "LeNet"),
        ("04-alexnet", "AlexNet"), ("05-vgg", "VGG"), ("06-nin", "NiN"), ("07-googlenet", "GoogLeNet"),
    ]

    public private(set) var blocks: [Block] = []

    public init() {}

    func append(_ block: Block) { blocks.append(block) }

    /// Writes index.md and index.html into `folder` (atomically), linking the chapters before
    /// and after `chapter` (its folder name, e.g. "03-lenet"). In the book's own layout (the
    /// folder is output/<chapter>), also the book's index, output/index.html, listing every
    /// chapter whose page exists.
    public func write(to folder: URL, chapter: String) throws {
        try writeAtomically(markdown(chapter: chapter), to: folder.appendingPathComponent("index.md"))
        try writeAtomically(html(chapter: chapter), to: folder.appendingPathComponent("index.html"))
        if folder.standardizedFileURL.lastPathComponent == chapter {
            let book = folder.standardizedFileURL.deletingLastPathComponent()
            try writeAtomically(Self.bookIndex(in: book), to: book.appendingPathComponent("index.html"))
        }
    }

    /// The book's contents page: every chapter in order, linked where its page exists.
    static func bookIndex(in book: URL) -> String {
        let items = chapters.map { chapter -> String in
            let title = "\(chapter.folder.prefix(2)) \(escapeXML(chapter.title))"
            let exists = FileManager.default.fileExists(
                atPath: book.appendingPathComponent(chapter.folder).appendingPathComponent("index.html").path)
            return exists
                ? "<li><a href=\"\(chapter.folder)/index.html\">\(title)</a></li>"
                : "<li>\(title) (not run yet: make \(chapter.folder.dropFirst(3)))</li>"
        }
        return document(
            title: "ModernCNN",
            style: """
                body { font-family: Georgia, "Times New Roman", serif; line-height: 1.6; color: #222; \
                max-width: 800px; margin: 2em auto; padding: 0 1.5em; }
                h1 { font-family: Helvetica, Arial, sans-serif; }
                """,
            body: """
                <h1>ModernCNN: modern convolutional networks from the metal up</h1>
                <p>The chapters, in order. Each page is what its chapter printed when it last ran here.</p>
                <ol>
                \(items.joined(separator: "\n"))
                </ol>
                """)
    }

    /// An XHTML-style page: the head every page shares, `style` and `body` inside it.
    static func document(title: String, style: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(escapeXML(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    // MARK: Markdown

    public func markdown(chapter: String) -> String {
        var out: [String] = []
        for block in mergedNotes() {
            switch block {
            case let .title(text): out.append("# \(text)")
            case let .section(text): out.append("## \(text)")
            case let .prose(text): out.append(text)
            case let .result(text): out.append("```text\n\(text)\n```")
            case let .note(text): out.append("```text\n\(text)\n```")
            case let .figure(file, caption): out.append("![\(caption)](\(file))\n\n*\(caption)*")
            case let .code(path, text): out.append("`\(path)`\n\n```swift\n\(text)\n```")
            case let .asideStart(title): out.append("> **Aside: \(title)** (a reader may skip to its end)")
            case .asideEnd: out.append("> *End of the aside.*")
            }
        }
        out.append(
            navigation(chapter: chapter).map { "[\($0.label)](../\($0.folder)/index.md)" }.joined(separator: " · "))
        return out.joined(separator: "\n\n") + "\n"
    }

    // MARK: HTML

    public func html(chapter: String) -> String {
        let title =
            blocks.lazy.compactMap { block -> String? in
                if case let .title(text) = block { return text }
                return nil
            }.first ?? chapter
        var body: [String] = []
        let sections = blocks.compactMap { block -> String? in
            if case let .section(text) = block { return text }
            return nil
        }
        var sectionNumber = 0
        for block in mergedNotes() {
            switch block {
            case let .title(text):
                body.append("<h1>\(escapeXML(text))</h1>")
                let entries = sections.enumerated().map { index, section in
                    "<li><a href=\"#section-\(index + 1)\">\(escapeXML(section))</a></li>"
                }
                if !entries.isEmpty {
                    body.append(
                        "<nav class=\"toc\"><div>Contents</div><ul>\n\(entries.joined(separator: "\n"))\n</ul></nav>")
                }
            case let .section(text):
                sectionNumber += 1
                body.append("<h2 id=\"section-\(sectionNumber)\">\(escapeXML(text))</h2>")
            case let .prose(text): body.append(Self.proseHTML(text))
            case let .result(text): body.append("<pre class=\"cell\">\(escapeXML(text))</pre>")
            case let .note(text): body.append("<pre class=\"log\">\(escapeXML(text))</pre>")
            case let .figure(file, caption):
                // A tall diagram scrolls inside its frame instead of being squashed; the picture
                // links to the file at full size.
                body.append(
                    "<figure><div class=\"frame\"><a href=\"\(escapeXML(file))\"><img src=\"\(escapeXML(file))\" "
                        + "alt=\"\(escapeXML(caption))\"/></a></div>"
                        + "<figcaption>\(escapeXML(caption)) (<a href=\"\(escapeXML(file))\">full size</a>)</figcaption></figure>"
                )
            case let .code(path, text):
                body.append(
                    "<div class=\"code\"><div class=\"path\">\(escapeXML(path))</div>"
                        + "<pre><code>\(SwiftHighlighter.html(text))</code></pre></div>")
            case let .asideStart(title):
                body.append(
                    "<aside><div class=\"aside-title\">Aside: \(escapeXML(title))</div>"
                        + "<div class=\"aside-note\">A passage a reader may skip.</div>")
            case .asideEnd: body.append("</aside>")
            }
        }
        let links =
            ["<a href=\"../index.html\">Contents of the book</a>"]
            + navigation(chapter: chapter).map { "<a href=\"../\($0.folder)/index.html\">\(escapeXML($0.label))</a>" }
        return Self.document(
            title: title,
            style: """
                body { font-family: Georgia, "Times New Roman", serif; line-height: 1.55; color: #222; \
                max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }
                h1, h2 { font-family: Helvetica, Arial, sans-serif; }
                h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
                pre { font-family: Menlo, Consolas, monospace; font-size: 13px; background: #f6f8fa; \
                border: 1px solid #e1e4e8; border-radius: 4px; padding: 0.7em 1em; overflow-x: auto; }
                pre.log { background: #fff; color: #555; }
                div.code { margin: 1em 0; }
                div.code .path { font-family: Menlo, Consolas, monospace; font-size: 12px; color: #57606a; \
                background: #eaeef2; border: 1px solid #d0d7de; border-bottom: none; border-radius: 4px 4px 0 0; \
                padding: 0.3em 1em; }
                div.code pre { background: #fbfbfb; border-color: #d0d7de; border-radius: 0 0 4px 4px; margin-top: 0; }
                div.code pre code { background: none; padding: 0; font-size: inherit; }
                .comment { color: #6a737d; font-style: italic; } .string { color: #0a3069; }
                .keyword { color: #a626a4; font-weight: bold; } .number { color: #986801; } .type { color: #0550ae; }
                aside { border-left: 4px solid #d4a72c; background: #fffbea; padding: 0.3em 1.2em 0.6em; margin: 1.5em 0; }
                .aside-title { font-family: Helvetica, Arial, sans-serif; font-weight: bold; margin-top: 0.5em; }
                .aside-note { font-size: 0.85em; color: #7a6520; }
                code { font-family: Menlo, Consolas, monospace; font-size: 0.92em; background: #f3f3f3; padding: 0 0.2em; }
                figure { margin: 1.5em 0; text-align: center; }
                figure .frame { max-height: 85vh; overflow: auto; }
                figure img { max-width: 100%; border: 1px solid #eee; }
                nav.toc { font-family: Helvetica, Arial, sans-serif; background: #f6f8fa; border: 1px solid #e1e4e8; \
                border-radius: 4px; padding: 0.5em 1.2em; margin: 1em 0 2em; }
                nav.toc div { font-weight: bold; } nav.toc ul { margin: 0.3em 0; padding-left: 1.2em; }
                figcaption { font-size: 0.9em; color: #555; margin-top: 0.4em; }
                nav { font-family: Helvetica, Arial, sans-serif; margin: 2em 0; }
                nav a { margin-right: 1.5em; }
                """,
            body: body.joined(separator: "\n") + "\n<nav>\(links.joined(separator: "\n"))</nav>")
    }

    /// A paragraph as HTML: a list when every line starts with "- ", `backticks` as code.
    static func proseHTML(_ text: String) -> String {
        let lines = text.split(separator: "\n").map(String.init)
        if lines.allSatisfy({ $0.hasPrefix("- ") }) {
            return "<ul>\n" + lines.map { "<li>\(inlineHTML(String($0.dropFirst(2))))</li>" }.joined(separator: "\n")
                + "\n</ul>"
        }
        return "<p>\(inlineHTML(lines.joined(separator: " ")))</p>"
    }

    /// Escapes the text and turns `code` spans into <code> elements.
    static func inlineHTML(_ text: String) -> String {
        let parts = escapeXML(text).split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return escapeXML(text) }
        return parts.enumerated().map { index, part in
            index % 2 == 1 && index < parts.count - 1 ? "<code>\(part)</code>" : String(part)
        }.joined()
    }

    /// Runs of log lines become one block, as they appeared in the terminal.
    func mergedNotes() -> [Block] {
        var merged: [Block] = []
        for block in blocks {
            if case let .note(text) = block, case let .note(previous)? = merged.last {
                merged[merged.count - 1] = .note(previous + "\n" + text)
            } else if case let .note(text) = block, text.isEmpty {
                continue
            } else {
                merged.append(block)
            }
        }
        return merged
    }

    /// Links to the chapters before and after this one, and to the first (the contents).
    func navigation(chapter: String) -> [(label: String, folder: String)] {
        guard let index = Self.chapters.firstIndex(where: { $0.folder == chapter }) else { return [] }
        var links: [(label: String, folder: String)] = []
        if index > 0 {
            let previous = Self.chapters[index - 1]
            links.append(("← \(previous.folder.prefix(2)) \(previous.title)", previous.folder))
        }
        if index + 1 < Self.chapters.count {
            let next = Self.chapters[index + 1]
            links.append(("\(next.folder.prefix(2)) \(next.title) →", next.folder))
        }
        return links
    }
}
