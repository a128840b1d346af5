// Graphviz.swift: DOT text laid out and rendered by the Graphviz C library (libgvc) inside this
// process; no `dot` binary is needed. Debian's libgvc6 registers its plugins (dot layout, cairo
// PNG, SVG) when installed; when they are missing, rendering fails with a DiagramError that says
// so and the chapter goes on without its pictures.

import CGraphviz
import Foundation

public enum DiagramError: Error, CustomStringConvertible, Equatable {
    case unreadableDot(detail: String)
    case layoutFailed
    case renderFailed(format: String, path: String)

    public var description: String {
        let fix =
            "Graphviz's plugins come with the Debian package libgvc6 (installed by `make setup` through "
            + "libgraphviz-dev); the .dot file was written and can be drawn later with `dot -Tsvg`."
        switch self {
        case let .unreadableDot(detail): return "Graphviz could not parse the diagram: \(detail)"
        case .layoutFailed: return "Graphviz could not lay out the diagram (no 'dot' layout plugin?). " + fix
        case let .renderFailed(format, path):
            return "Graphviz could not render \(format) to \(path) (no \(format) plugin?). " + fix
        }
    }
}

public enum Graphviz {
    /// Lays `dot` out top to bottom and writes one file per format ("svg", "png") at
    /// `basePath` + "." + format. Returns the paths written.
    @discardableResult
    public static func render(dot: String, formats: [String], basePath: String) throws -> [String] {
        guard let context = gvContext() else { throw DiagramError.layoutFailed }
        defer { gvFreeContext(context) }
        guard let graph = dot.withCString({ moderncnn_read_dot($0) }) else {
            throw DiagramError.unreadableDot(detail: "syntax error in the generated DOT text")
        }
        defer { moderncnn_close_graph(graph) }
        guard gvLayout(context, graph, "dot") == 0 else { throw DiagramError.layoutFailed }
        defer { gvFreeLayout(context, graph) }
        var written: [String] = []
        for format in formats {
            // Render to a temporary name and rename, so a reader never sees half a picture.
            let path = "\(basePath).\(format)", temporary = "\(basePath).partial.\(format)"
            guard gvRenderFilename(context, graph, format, temporary) == 0 else {
                try? FileManager.default.removeItem(atPath: temporary)
                throw DiagramError.renderFailed(format: format, path: path)
            }
            _ = try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
            written.append(path)
        }
        return written
    }
}
