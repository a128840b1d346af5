// ChapterPageTests.swift: the chapter page holds what the terminal showed, as Markdown and as
// HTML that parses as XML, with the pictures inline and links to the neighbouring chapters.

import Foundation
import Testing

@testable import Notebook

@Test("the page is made of the same calls as the transcript")
func pageFromNarration() throws {
    var transcript = ""
    let book = Notebook(width: 40) { transcript += $0 }
    book.title("Chapter 03 · LeNet")
    book.section("3.1 Why <convolutions> & pooling")
    book.say("A paragraph with `code` in it.\n\n- first item\n- second item")
    book.show("Conv2d output shape: [1, 6, 28, 28]")
    book.note("epoch 1: train loss 2.3")
    book.note("epoch 2: train loss 1.9")
    book.figure("lenet.svg", caption: "LeNet, layer by layer", folder: URL(fileURLWithPath: "/tmp/03-lenet"))

    let html = book.page.html(chapter: "03-lenet")
    let names = try elementNames(html)
    #expect(names.first == "html")
    #expect(names.filter { $0 == "h1" }.count == 1 && names.filter { $0 == "h2" }.count == 1)
    // The list's two items, and the contents' one entry linking to the section.
    #expect(names.filter { $0 == "li" }.count == 3 && names.contains("code"))
    #expect(html.contains("<a href=\"#section-1\">3.1 Why &lt;convolutions&gt; &amp; pooling</a>"))
    #expect(html.contains("<h2 id=\"section-1\">"))
    // A figure links to its file at full size and scrolls in its frame instead of shrinking.
    #expect(html.contains("<a href=\"lenet.svg\">full size</a>") && !html.contains("max-height: 900px"))
    #expect(html.contains("href=\"../index.html\""))
    #expect(names.filter { $0 == "pre" }.count == 2)  // the cell, and the two log lines as one block
    #expect(names.contains("img") && html.contains("src=\"lenet.svg\""))
    #expect(html.contains("Why &lt;convolutions&gt; &amp; pooling"))
    #expect(html.contains("href=\"../02-convolutions/index.html\""))
    #expect(!html.contains("04-alexnet") || ChapterPage.chapters.contains { $0.folder == "04-alexnet" })

    let markdown = book.page.markdown(chapter: "03-lenet")
    #expect(markdown.hasPrefix("# Chapter 03 · LeNet\n"))
    #expect(markdown.contains("```text\nConv2d output shape: [1, 6, 28, 28]\n```"))
    #expect(markdown.contains("![LeNet, layer by layer](lenet.svg)"))
    // Everything the page says, the terminal said too.
    #expect(transcript.contains("Conv2d output shape: [1, 6, 28, 28]") && transcript.contains("[figure: lenet.svg]"))
}

@Test("in the book's layout a chapter also writes output/index.html, linking the pages that exist")
func bookIndexPage() throws {
    let book = FileManager.default.temporaryDirectory.appendingPathComponent(
        "book-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    defer { try? FileManager.default.removeItem(at: book) }
    let folder = book.appendingPathComponent("03-lenet")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let notebook = Notebook(width: 40) { _ in }
    notebook.title("Chapter 03 · LeNet")
    try notebook.page.write(to: folder, chapter: "03-lenet")
    let index = try String(contentsOf: book.appendingPathComponent("index.html"), encoding: .utf8)
    _ = try elementNames(index)
    #expect(index.contains("<a href=\"03-lenet/index.html\">03 LeNet</a>"))
    #expect(index.contains("01 Tensors and the matmul ladder (not run yet: make tensors)"))
    // Elsewhere (--output some/folder), no index is written beside it.
    let elsewhere = book.appendingPathComponent("mine")
    try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
    try FileManager.default.removeItem(at: book.appendingPathComponent("index.html"))
    try notebook.page.write(to: elsewhere, chapter: "03-lenet")
    #expect(!FileManager.default.fileExists(atPath: book.appendingPathComponent("index.html").path))
}
