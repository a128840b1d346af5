// FigureTests.swift: the SVG plots parse as XML and hold what they draw; PNG files carry the
// signature and the dimensions they claim.

import Foundation
import ModernCNN
import Testing

@testable import Notebook

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Every element name in an XML document, in order; fails the test if it does not parse.
func elementNames(_ text: String) throws -> [String] {
    final class Collector: NSObject, XMLParserDelegate {
        var names: [String] = []
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) { names.append(name) }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let collector = Collector()
    parser.delegate = collector
    #expect(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
    return collector.names
}

@Test("learning curves: one path per curve, a point per epoch, a legend entry per curve")
func learningCurvesSVG() throws {
    let history = (1...4).map {
        EpochMetrics(
            epoch: $0, trainLoss: 2 / Float($0), trainAccuracy: 0.2 * Float($0),
            testAccuracy: 0.19 * Float($0), imagesPerSecond: 1000)
    }
    let svg = LinePlot.learningCurves(history, title: "A & B <test>").svg()
    let names = try elementNames(svg)
    #expect(names.first == "svg")
    #expect(svg.components(separatedBy: "class=\"series\"").count - 1 == 3)
    #expect(names.filter { $0 == "circle" }.count == 12)
    #expect(svg.components(separatedBy: "class=\"legend\"").count - 1 == 3)
    #expect(svg.contains("A &amp; B &lt;test&gt;"))
}

@Test("bar chart: one bar per model")
func barChartSVG() throws {
    let svg = BarChart(
        title: "parameters", valueLabel: "millions",
        bars: [("LeNet", 0.06), ("AlexNet", 46.8), ("VGG-11", 128.8)]
    ).svg()
    _ = try elementNames(svg)
    #expect(svg.components(separatedBy: "class=\"bar\"").count - 1 == 3)
}

@Test("nice ticks cover the range on round steps", arguments: [(0.0, 1.0), (0.1, 0.93), (3.0, 10.0), (0.0, 2.3)])
func ticks(low: Double, high: Double) {
    let ticks = niceTicks(low, high)
    #expect(ticks.first! <= low && ticks.last! >= high)
    #expect((3...12).contains(ticks.count))
}

@Test("PNG: signature, IHDR dimensions and colour type, and the closing IEND chunk")
func pngEncoding() throws {
    var image = PNGImage(width: 7, height: 3, channels: 3)
    image.fill(x: 1, y: 1, width: 2, height: 1, color: (255, 0, 0))
    let bytes = image.pngData()
    #expect(Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
    func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    #expect(word(16) == 7 && word(20) == 3)
    #expect(bytes[24] == 8 && bytes[25] == 2)
    #expect(String(decoding: bytes.suffix(8).prefix(4), as: UTF8.self) == "IEND")
}

@Test("bar chart grid: every chart in one SVG, placed on a grid of two columns, values written beside the bars")
func barChartGrid() throws {
    let charts = (1...3).map { index in
        BarChart(title: "chart \(index)", valueLabel: "units", bars: [("a", Double(index)), ("b", 2.5)])
    }
    let svg = BarChart.grid(charts, columns: 2, width: 400)
    _ = try elementNames(svg)
    #expect(svg.components(separatedBy: "class=\"bar\"").count - 1 == 6)
    #expect(svg.contains("translate(0,0)") && svg.contains("translate(400,0)"))
    // The third chart starts a second row, below the first row's height.
    let rowHeight = 90 + 28 * 2
    #expect(svg.contains("translate(0,\(rowHeight))"))
    #expect(svg.contains("width=\"800\" height=\"\(2 * rowHeight)\""))
    #expect(svg.contains(">2.5</text>"))
}
