// LabelledImage.swift: a PNG picture with text around it, as one SVG file. A grid of activation
// maps says little without its row and column names, and PNGImage draws no text; SVG text is
// sharp at any zoom and selectable. The picture is embedded as a data: URI, because a browser
// showing an SVG through <img> loads nothing the SVG points to outside itself.

import Foundation

public struct LabelledImage {
    /// One line of text; x and y are in the picture's pixels, offset by the margins (y is the
    /// text's baseline), so a label can sit in a margin by having a negative coordinate.
    public struct Label {
        public enum Anchor: String { case start, middle, end }
        public let text: String
        public let x: Double, y: Double
        public let anchor: Anchor
        public let bold: Bool
        /// A CSS colour ("#d62728"); nil is black.
        public let color: String?

        public init(
            _ text: String, x: Double, y: Double, anchor: Anchor = .start, bold: Bool = false, color: String? = nil
        ) {
            (self.text, self.x, self.y, self.anchor, self.bold, self.color) = (text, x, y, anchor, bold, color)
        }
    }

    public let image: PNGImage
    /// Blank space around the picture, in pixels, for the labels.
    public let left: Int, top: Int, right: Int, bottom: Int
    public var labels: [Label] = []

    public init(image: PNGImage, left: Int, top: Int, right: Int = 8, bottom: Int = 8) {
        (self.image, self.left, self.top, self.right, self.bottom) = (image, left, top, right, bottom)
    }

    public func svg() -> String {
        let (width, height) = (left + image.width + right, top + image.height + bottom)
        let data = Data(image.pngData()).base64EncodedString()
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <image x="\(left)" y="\(top)" width="\(image.width)" height="\(image.height)" \
            style="image-rendering: pixelated" href="data:image/png;base64,\(data)"/>

            """
        for label in labels {
            out +=
                "<text x=\"\(format(Double(left) + label.x))\" y=\"\(format(Double(top) + label.y))\" "
                + "text-anchor=\"\(label.anchor.rawValue)\"\(label.bold ? " font-weight=\"bold\"" : "")"
                + "\(label.color.map { " fill=\"\(escapeXML($0))\"" } ?? "")>"
                + "\(escapeXML(label.text))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// Writes the SVG atomically (a reader never sees half a figure).
    public func write(to url: URL) throws { try writeAtomically(svg(), to: url) }
}
