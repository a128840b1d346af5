// NotebookTests.swift: narration wraps, tables align, cache sizes parse.

import Foundation
import ModernCNN
import Testing

@testable import Notebook

func transcript(width: Int = 40, _ body: (Notebook) -> Void) -> String {
    var text = ""
    body(Notebook(width: width) { text += $0 })
    return text
}

@Test("narration wraps at the width without breaking words")
func wrapping() {
    let text = transcript(width: 30) { book in
        book.say("The quick brown fox jumps over the lazy dog and keeps running far away.")
    }
    let lines = text.split(separator: "\n")
    #expect(lines.allSatisfy { $0.count <= 30 })
    #expect(lines.joined(separator: " ") == "The quick brown fox jumps over the lazy dog and keeps running far away.")
}

@Test("list paragraphs keep one item per line with a hanging indent")
func lists() {
    let text = transcript(width: 20) { book in
        book.say("- first item that is long enough to wrap\n- second")
    }
    #expect(text == "- first item that is\n  long enough to\n  wrap\n- second\n\n")
}

@Test("results carry a gutter; sections a heading")
func cells() {
    let text = transcript { book in
        book.section("1.1 Shapes")
        book.show("shape", [2, 3])
    }
    #expect(text == "\n## 1.1 Shapes\n\n  | shape: [2, 3]\n\n")
}

@Test("tables align text left and numbers right")
func table() {
    var table = TextTable(headers: ["layer", "params"])
    table.append(["conv1", "11,712"])
    table.append(["fc", "10"])
    #expect(
        table.rendered() == """
            layer  params
            -----  ------
            conv1  11,712
            fc         10
            """)
}

@Test("sysfs cache sizes parse", arguments: [("32K", 32768), ("1024K", 1 << 20), ("32M", 32 << 20), ("512", 512)])
func cacheSizes(example: (String, Int)) {
    #expect(CacheSizes.parseSize(example.0) == example.1)
}

@Test("byte counts read naturally")
func byteCounts() {
    #expect(byteCount(512 << 10) == "512 KB")
    #expect(byteCount(1 << 20) == "1.0 MB")
    #expect(byteCount(3 << 29) == "1.5 GB")
}

@Test("the profile's step verdict follows its numbers: near the fastest, the first step, or variation")
func stepSpeedVerdicts() {
    func speeds(first: Double, median: Double, fastest: Double, mean: Double) -> ProfileReport.StepSpeeds {
        .init(first: first, median: median, fastest: fastest, imagesPerStep: 64, meanImagesPerSecond: mean)
    }
    // 64 images in 1.0 s at best; a mean of 60 img/s is within 10%.
    let steady = stepSpeedVerdict(speeds(first: 1.1, median: 1.02, fastest: 1.0, mean: 60), steps: 10)
    #expect(steady.contains("within 10% of the fastest") && steady.contains("64.0 img/s"))
    // A mean of 40 img/s over 10 steps (16 s) with a first step 4 s slower than the median: 25%.
    let slowStart = stepSpeedVerdict(speeds(first: 5.0, median: 1.0, fastest: 1.0, mean: 40), steps: 10)
    #expect(slowStart.contains("38% below") && slowStart.contains("first step's extra time is 25%"))
    let noisy = stepSpeedVerdict(speeds(first: 1.0, median: 1.5, fastest: 1.0, mean: 40), steps: 10)
    #expect(noisy.contains("not the first step's allocations") && noisy.contains("variation between steps"))
}

@Test("paths are shown relative to where the chapter runs, never absolute")
func displayPaths() {
    #expect(
        displayPath("/work/book/output/03-lenet/x.safetensors", from: "/work/book") == "output/03-lenet/x.safetensors")
    #expect(displayPath("/tmp/run", from: "/work/book") == "../../tmp/run")
    #expect(displayPath("/work/book", from: "/work/book") == ".")
    #expect(displayPath("output/04-alexnet", from: FileManager.default.currentDirectoryPath) == "output/04-alexnet")
    #expect(!displayPath("/usr/share/x", from: "/home/reader").hasPrefix("/"))
}
