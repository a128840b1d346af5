// TensorDescription.swift: printing a tensor the way PyTorch does, so that a reader can hold our
// output beside d2l's and compare by eye:
//
//   tensor([[ 0.3367,  0.1288,  0.2345],
//           [ 0.2303, -1.1229, -0.1863]])
//
// Every element shares one format and width chosen from the values shown; integer-valued
// tensors print as `1.`; tensors over 1,000 elements show three items at each edge of each
// dimension with `...` between; rows longer than 80 columns wrap.

import Foundation

extension Tensor: CustomStringConvertible {
    public var description: String { formatted() }

    /// PyTorch's print options: `threshold` elements before summarising, `edgeItems` shown at
    /// each end of a summarised dimension, `lineWidth` columns before a row wraps.
    public func formatted(threshold: Int = 1000, edgeItems: Int = 3, lineWidth: Int = 80) -> String {
        if count == 0 { return "tensor([], shape: \(shape))" }
        if rank == 0 { return "tensor(\(ElementFormat(for: scalars).string(for: scalars[0])))" }
        let printer = TensorPrinter(
            tensor: self, summarize: count > threshold, edgeItems: edgeItems,
            lineWidth: lineWidth)
        return "tensor(" + printer.block(axis: 0, offset: 0, indent: "tensor(".count) + ")"
    }
}

/// One shared number format for all printed elements.
struct ElementFormat {
    private enum Style { case integer, fixed, scientific }
    private let style: Style
    let width: Int

    init(for values: [Float]) {
        let finite = values.filter { $0.isFinite }
        let magnitudes = finite.map { abs($0) }.filter { $0 > 0 }
        if finite.allSatisfy({ $0 == $0.rounded() }) && (magnitudes.max() ?? 0) < 1e8 {
            style = .integer
        } else if let largest = magnitudes.max(), let smallest = magnitudes.min(),
            largest / smallest > 1000 || largest > 1e8 || smallest < 1e-4
        {
            style = .scientific
        } else {
            style = .fixed
        }
        var widest = 0
        for value in values { widest = max(widest, Self.render(value, style).count) }
        width = widest
    }

    func string(for value: Float) -> String {
        let text = Self.render(value, style)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func render(_ value: Float, _ style: Style) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        switch style {
        case .integer: return String(format: "%.0f.", value)
        case .fixed: return String(format: "%.4f", value)
        case .scientific: return String(format: "%.4e", value)
        }
    }
}

/// Walks the tensor axis by axis, building the nested bracketed text.
private struct TensorPrinter {
    let shape: [Int]
    let strides: [Int]
    let values: [Float]
    let summarize: Bool
    let edgeItems: Int
    let lineWidth: Int
    let format: ElementFormat

    init(tensor: Tensor, summarize: Bool, edgeItems: Int, lineWidth: Int) {
        shape = tensor.shape
        strides = tensor.strides
        values = tensor.scalars
        self.summarize = summarize
        self.edgeItems = edgeItems
        self.lineWidth = lineWidth
        // The width comes only from the elements that will be shown, as in PyTorch.
        format = ElementFormat(
            for: Self.shownValues(
                shape: shape, strides: strides, values: values,
                summarize: summarize, edgeItems: edgeItems))
    }

    static func shownValues(
        shape: [Int], strides: [Int], values: [Float], summarize: Bool,
        edgeItems: Int
    ) -> [Float] {
        var shown: [Float] = []
        func collect(_ axis: Int, _ offset: Int) {
            for i in visible(shape[axis], summarize, edgeItems).compactMap({ $0 }) {
                let position = offset + i * strides[axis]
                if axis == shape.count - 1 { shown.append(values[position]) } else { collect(axis + 1, position) }
            }
        }
        collect(0, 0)
        return shown
    }

    /// The indices shown along an axis of `size`; nil marks where `...` stands.
    static func visible(_ size: Int, _ summarize: Bool, _ edgeItems: Int) -> [Int?] {
        guard summarize, size > 2 * edgeItems else { return Array(0..<size) }
        return Array(0..<edgeItems) + [nil] + Array((size - edgeItems)..<size)
    }

    func block(axis: Int, offset: Int, indent: Int) -> String {
        let indices = Self.visible(shape[axis], summarize, edgeItems)
        if axis == shape.count - 1 {
            // PyTorch's in-row ellipsis carries a leading space: "2.,  ..., 997."
            let items = indices.map { $0.map { format.string(for: values[offset + $0]) } ?? " ..." }
            return "[" + wrapped(items, indent: indent + 1) + "]"
        }
        // Between sub-blocks: one newline per remaining axis, as PyTorch separates matrices of a
        // rank-3 tensor with a blank line.
        let separator =
            "," + String(repeating: "\n", count: shape.count - axis - 1)
            + String(repeating: " ", count: indent + 1)
        let parts = indices.map { index in
            index.map { block(axis: axis + 1, offset: offset + $0 * strides[axis], indent: indent + 1) } ?? "..."
        }
        return "[" + parts.joined(separator: separator) + "]"
    }

    private func wrapped(_ items: [String], indent: Int) -> String {
        let perLine = max(1, (lineWidth - indent) / (format.width + 2))
        var lines: [String] = []
        var start = 0
        while start < items.count {
            lines.append(items[start..<min(start + perLine, items.count)].joined(separator: ", "))
            start += perLine
        }
        return lines.joined(separator: ",\n" + String(repeating: " ", count: indent))
    }
}
