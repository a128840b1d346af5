// ReceptiveFieldFigure.swift: section 5.4's picture. One input image, and for each stage of a
// network (a VGG block, an AlexNet convolution) the square of the input its centre unit sees,
// drawn as a coloured outline; one panel per network, side by side.

import Foundation
import ModernCNN
import Notebook

struct ReceptiveFieldFigure {
    /// A point in a network where the figure draws the field: after a block or a convolution.
    struct Stage {
        let name: String
        let field: ReceptiveField
        /// Side of the stage's output plane (its centre unit is at side / 2).
        let outputSide: Int
    }

    enum Stages { case blocks, convolutions }

    /// The stages of `model` on `inputSize`-pixel inputs: after each top-level block (VGG) or
    /// after each convolution (AlexNet), until the first layer that mixes all positions.
    static func stages(of model: Sequential, _ kind: Stages, inputSize: Int = 224) throws -> [Stage] {
        var (field, shape, stages) = (ReceptiveField.pixel, [1, 1, inputSize, inputSize], [Stage]())
        for child in model.layers {
            for leaf in child.allLayers where leaf.children.isEmpty {
                guard let next = field.after(leaf) else { return stages }
                (field, shape) = (next, try leaf.outputShape(for: shape))
                if kind == .convolutions, leaf is Conv2d {
                    stages.append(Stage(name: "conv\(stages.count + 1)", field: field, outputSide: shape[3]))
                }
            }
            if kind == .blocks, child is Sequential {
                stages.append(Stage(name: "block \(stages.count + 1)", field: field, outputSide: shape[3]))
            }
        }
        return stages
    }

    /// Outline colours, one per stage, light to dark so that nested squares stay apart.
    static let colors: [(UInt8, UInt8, UInt8)] = [
        (255, 127, 14), (44, 160, 44), (31, 119, 180), (148, 103, 189), (214, 39, 40), (140, 86, 75),
    ]

    /// The image: side x side values in [0, 1], ink high (Fashion-MNIST's convention).
    let image: [Float]
    let side: Int

    /// Writes `<name>.png` (the panels) and `<name>.svg` (the same with titles and a legend).
    func draw(panels: [(title: String, stages: [Stage])], to folder: URL, name: String) throws {
        let gap = 40
        var picture = PNGImage(width: panels.count * side + (panels.count - 1) * gap, height: side, channels: 3)
        for (panel, (_, stages)) in panels.enumerated() {
            let left = panel * (side + gap)
            for y in 0..<side {
                for x in 0..<side {
                    let paper = UInt8(255 * (1 - max(0, min(1, image[y * side + x]))))
                    picture.fill(x: left + x, y: y, width: 1, height: 1, color: (paper, paper, paper))
                }
            }
            for (index, stage) in stages.enumerated() {
                let span = stage.field.pixels(ofUnit: stage.outputSide / 2, inputSize: side)
                outline(
                    &picture, x: left + span.lowerBound, y: span.lowerBound, size: span.count,
                    color: Self.colors[index % Self.colors.count])
            }
        }
        try picture.write(to: folder.appendingPathComponent("\(name).png"))
        let legendLines = panels.map(\.stages.count).max() ?? 0
        var labelled = LabelledImage(image: picture, left: 8, top: 26, right: 8, bottom: 18 * legendLines + 10)
        for (panel, (title, stages)) in panels.enumerated() {
            let left = Double(panel * (side + gap))
            labelled.labels.append(.init(title, x: left + Double(side) / 2, y: -9, anchor: .middle, bold: true))
            for (index, stage) in stages.enumerated() {
                let color = Self.colors[index % Self.colors.count]
                labelled.labels.append(
                    .init(
                        "\(stage.name): \(stage.field.size)x\(stage.field.size), jump \(stage.field.jump)",
                        x: left, y: Double(side + 18 * (index + 1)), bold: true,
                        color: String(format: "#%02x%02x%02x", color.0, color.1, color.2)))
            }
        }
        try labelled.write(to: folder.appendingPathComponent("\(name).svg"))
    }

    /// A two-pixel square outline, clipped to the picture.
    private func outline(_ picture: inout PNGImage, x: Int, y: Int, size: Int, color: (UInt8, UInt8, UInt8)) {
        let thickness = 2
        picture.fill(x: x, y: y, width: size, height: thickness, color: color)
        picture.fill(x: x, y: y + size - thickness, width: size, height: thickness, color: color)
        picture.fill(x: x, y: y, width: thickness, height: size, color: color)
        picture.fill(x: x + size - thickness, y: y, width: thickness, height: size, color: color)
    }
}
