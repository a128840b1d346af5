// SVGPlot.swift: the two charts the chapters draw, written as SVG by hand (no dependency):
// line plots of per-epoch metrics, like d2l's Animator, and bar charts comparing models.

import Foundation
import ModernCNN

/// One curve of a line plot.
public struct PlotSeries {
    public let name: String
    public let points: [(x: Double, y: Double)]
    /// A CSS colour; dashed curves read apart in greyscale print too.
    public let color: String
    public let dashed: Bool

    public init(name: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
        (self.name, self.points, self.color, self.dashed) = (name, points, color, dashed)
    }
}

/// A line plot with axes, ticks, axis labels and a legend.
public struct LinePlot {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]
    /// Fixed y range (nil: fitted to the data, on nice tick values).
    public var yRange: ClosedRange<Double>?

    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries], yRange: ClosedRange<Double>? = nil)
    {
        (self.title, self.xLabel, self.yLabel, self.series, self.yRange) = (title, xLabel, yLabel, series, yRange)
    }

    /// d2l's training plot: train loss, train accuracy and test accuracy against the epoch.
    public static func learningCurves(_ history: [EpochMetrics], title: String) -> LinePlot {
        func points(_ value: (EpochMetrics) -> Float) -> [(x: Double, y: Double)] {
            history.map { (Double($0.epoch), Double(value($0))) }
        }
        let top = max(1, history.map { Double($0.trainLoss) }.max() ?? 1)
        return LinePlot(
            title: title, xLabel: "epoch", yLabel: "loss / accuracy",
            series: [
                PlotSeries(name: "train loss", points: points(\.trainLoss), color: "#1f77b4"),
                PlotSeries(name: "train acc", points: points(\.trainAccuracy), color: "#d62728", dashed: true),
                PlotSeries(name: "test acc", points: points(\.testAccuracy), color: "#2ca02c", dashed: true),
            ], yRange: 0...niceCeiling(top))
    }

    public func svg(width: Int = 560, height: Int = 360) -> String {
        let frame = PlotFrame(width: width, height: height)
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xTicks = niceTicks(xs.min() ?? 0, xs.max() ?? 1)
        let yTicks = yRange.map { niceTicks($0.lowerBound, $0.upperBound) } ?? niceTicks(ys.min() ?? 0, ys.max() ?? 1)
        let (x0, x1, y0, y1) = (xTicks.first!, xTicks.last!, yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { frame.left + (x - x0) / max(x1 - x0, 1e-12) * frame.plotWidth }
        func py(_ y: Double) -> Double { frame.bottom - (y - y0) / max(y1 - y0, 1e-12) * frame.plotHeight }
        var body = frame.axes(title: title, xLabel: xLabel, yLabel: yLabel)
        for tick in xTicks {
            body += frame.xTick(at: px(tick), label: tickLabel(tick))
        }
        for tick in yTicks {
            body += frame.yTick(at: py(tick), label: tickLabel(tick))
        }
        for curve in series where !curve.points.isEmpty {
            let path = curve.points.enumerated().map { index, point in
                "\(index == 0 ? "M" : "L")\(format(px(point.x))),\(format(py(point.y)))"
            }.joined(separator: " ")
            body +=
                "<path class=\"series\" d=\"\(path)\" fill=\"none\" stroke=\"\(curve.color)\" stroke-width=\"2\""
                + (curve.dashed ? " stroke-dasharray=\"6 4\"" : "")
                + "><title>\(escapeXML(curve.name))</title></path>\n"
            for point in curve.points {
                body +=
                    "<circle cx=\"\(format(px(point.x)))\" cy=\"\(format(py(point.y)))\" r=\"2.5\" fill=\"\(curve.color)\"/>\n"
            }
        }
        body += frame.legend(series.map { ($0.name, $0.color, $0.dashed) })
        return frame.document(body)
    }
}

/// A horizontal bar chart: one bar per model, for comparing one quantity.
public struct BarChart {
    public var title: String
    public var valueLabel: String
    public var bars: [(label: String, value: Double)]

    public init(title: String, valueLabel: String, bars: [(label: String, value: Double)]) {
        (self.title, self.valueLabel, self.bars) = (title, valueLabel, bars)
    }

    public func svg(width: Int = 560) -> String {
        let (body, frame) = drawing(width: width)
        return frame.document(body)
    }

    /// Several charts in one SVG, `columns` to a row, each `width` wide: a figure that compares
    /// networks on several quantities at once.
    public static func grid(_ charts: [BarChart], columns: Int, width: Int = 420) -> String {
        let drawings = charts.map { $0.drawing(width: width) }
        let columns = max(1, columns)
        var rowTops: [Int] = [0]
        for row in stride(from: 0, to: drawings.count, by: columns) {
            let tallest = drawings[row..<min(row + columns, drawings.count)].map(\.frame.height).max() ?? 0
            rowTops.append(rowTops.last! + tallest)
        }
        var body = ""
        for (index, drawing) in drawings.enumerated() {
            let (x, y) = ((index % columns) * width, rowTops[index / columns])
            body += "<g transform=\"translate(\(x),\(y))\">\n\(drawing.body)</g>\n"
        }
        let frame = PlotFrame(width: width * min(columns, max(drawings.count, 1)), height: rowTops.last!)
        return frame.document(body)
    }

    /// The chart's elements and the frame they are drawn in.
    func drawing(width: Int) -> (body: String, frame: PlotFrame) {
        let rowHeight = 28.0
        let height = Int(90 + rowHeight * Double(bars.count))
        var frame = PlotFrame(width: width, height: height)
        frame.left = 150
        frame.right = 60
        let ticks = niceTicks(0, bars.map(\.value).max() ?? 1)
        let top = ticks.last!
        func px(_ value: Double) -> Double { frame.left + value / max(top, 1e-12) * frame.plotWidth }
        var body = frame.axes(title: title, xLabel: valueLabel, yLabel: nil)
        for tick in ticks { body += frame.xTick(at: px(tick), label: tickLabel(tick)) }
        for (index, bar) in bars.enumerated() {
            let y = frame.top + 8 + Double(index) * rowHeight
            body +=
                "<rect class=\"bar\" x=\"\(format(frame.left))\" y=\"\(format(y))\" width=\"\(format(px(bar.value) - frame.left))\" "
                + "height=\"\(format(rowHeight - 8))\" fill=\"#4c72b0\"><title>\(escapeXML(bar.label)): \(tickLabel(bar.value))</title></rect>\n"
            body +=
                "<text x=\"\(format(frame.left - 8))\" y=\"\(format(y + rowHeight / 2))\" text-anchor=\"end\">"
                + "\(escapeXML(bar.label))</text>\n"
            body +=
                "<text x=\"\(format(px(bar.value) + 4))\" y=\"\(format(y + rowHeight / 2))\" font-size=\"11\">"
                + "\(escapeXML(tickLabel(bar.value)))</text>\n"
        }
        return (body, frame)
    }
}

/// The drawing area inside an SVG canvas, with margins for ticks, labels and the title.
struct PlotFrame {
    let width: Int, height: Int
    var left = 64.0, right = 150.0, top = 40.0, bottomMargin = 50.0
    var bottom: Double { Double(height) - bottomMargin }
    var plotWidth: Double { Double(width) - left - right }
    var plotHeight: Double { bottom - top }

    func document(_ body: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        \(body)</svg>

        """
    }

    func axes(title: String, xLabel: String, yLabel: String?) -> String {
        var text =
            "<text x=\"\(format(left + plotWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" "
            + "font-weight=\"bold\">\(escapeXML(title))</text>\n"
        text +=
            "<path class=\"axis\" d=\"M\(format(left)),\(format(top)) L\(format(left)),\(format(bottom)) "
            + "L\(format(left + plotWidth)),\(format(bottom))\" fill=\"none\" stroke=\"black\"/>\n"
        text +=
            "<text x=\"\(format(left + plotWidth / 2))\" y=\"\(format(bottom + 38))\" text-anchor=\"middle\">"
            + "\(escapeXML(xLabel))</text>\n"
        if let yLabel {
            text +=
                "<text transform=\"translate(16,\(format(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">"
                + "\(escapeXML(yLabel))</text>\n"
        }
        return text
    }

    func xTick(at x: Double, label: String) -> String {
        "<path d=\"M\(format(x)),\(format(bottom)) L\(format(x)),\(format(bottom + 5))\" stroke=\"black\"/>"
            + "<text x=\"\(format(x))\" y=\"\(format(bottom + 18))\" text-anchor=\"middle\">\(label)</text>\n"
    }

    func yTick(at y: Double, label: String) -> String {
        "<path d=\"M\(format(left - 5)),\(format(y)) L\(format(left + plotWidth)),\(format(y))\" stroke=\"#ddd\"/>"
            + "<text x=\"\(format(left - 8))\" y=\"\(format(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
    }

    func legend(_ entries: [(name: String, color: String, dashed: Bool)]) -> String {
        var text = ""
        for (index, entry) in entries.enumerated() {
            let y = top + 10 + Double(index) * 20, x = left + plotWidth + 16
            text +=
                "<g class=\"legend\"><path d=\"M\(format(x)),\(format(y)) L\(format(x + 24)),\(format(y))\" "
                + "stroke=\"\(entry.color)\" stroke-width=\"2\"" + (entry.dashed ? " stroke-dasharray=\"6 4\"" : "")
                + "/>"
                + "<text x=\"\(format(x + 30))\" y=\"\(format(y + 4))\">\(escapeXML(entry.name))</text></g>\n"
        }
        return text
    }
}

/// Tick values at 1, 2 or 5 times a power of ten, covering low...high with about five steps.
func niceTicks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
    let (low, high) = high > low ? (low, high) : (low - 0.5, low + 0.5)
    let raw = (high - low) / Double(count)
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    let first = floor(low / step) * step
    let last = ceil(high / step - 1e-9) * step
    return stride(from: first, through: last + step / 2, by: step).map { ($0 / step).rounded() * step }
}

/// The smallest nice tick at or above `value`.
func niceCeiling(_ value: Double) -> Double { niceTicks(0, value).last! }

func tickLabel(_ value: Double) -> String {
    if value == value.rounded() && abs(value) < 1e15 { return grouped(Int(value)) }
    return String(format: "%g", value)
}

func format(_ value: Double) -> String { String(format: "%.1f", value) }

/// Text made safe for XML content and attributes.
public func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// Writes `text` to `url` atomically (a temporary file, flushed, then a rename), with an error
/// that names the file and the system's reason.
public func writeAtomically(_ text: String, to url: URL) throws {
    try writeFileAtomically(Array(text.utf8), to: url.path)
}
