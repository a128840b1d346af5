// ArchitectureDiagram.swift: a model's architecture as a Graphviz DOT graph, built from its
// ModelProfile. One node per layer (type, hyperparameters, output shape, parameters), edges
// labelled with the tensor shape flowing along them, blocks drawn as clusters (or folded into
// one node each), Concat branches side by side joined at a concatenation node, and nodes
// shaded by their share of the model's multiply-adds. For the AlexNet paper's grouped network,
// a "towers" view draws the two GPUs' halves side by side as the paper's figure does.

import Foundation
import ModernCNN

public struct ArchitectureDiagram {
    public enum Style: Sendable {
        /// Every layer a node, blocks as clusters.
        case layers
        /// Each of the model's own children one node (a VGG block, a NiN block).
        case folded
        /// One level deeper: each child of the model's own children one node (GoogLeNet's
        /// stages opened into their Inception blocks, pools and convolutions).
        case blocks
        /// Every layer split over two GPUs: grouped layers stay in their tower, the others
        /// read both towers (the AlexNet paper's figure 2).
        case towers
    }

    public let profile: ModelProfile
    public let title: String
    public let style: Style
    /// The DOT text.
    public private(set) var dot = ""
    /// Nodes and edges drawn, for tests and captions (the legend is not counted).
    public private(set) var nodeCount = 0
    public private(set) var edgeCount = 0

    /// With `measuredShares` (a layer's path -> its share of the measured time), nodes are
    /// shaded by time instead of by multiply-adds (`--profile`). Layers whose paths are in
    /// `highlighted` (what an ArchitectureDiff found changed) get a thick green border, and so
    /// does a folded node holding one of them.
    public init(
        _ profile: ModelProfile, title: String, style: Style = .layers, measuredShares: [String: Double]? = nil,
        highlighted: Set<String> = []
    ) {
        self.profile = profile
        self.title = title
        self.style = style
        var builder = Builder(
            profile: profile, style: style, measuredShares: measuredShares, highlighted: highlighted)
        dot = builder.build(title: title)
        (nodeCount, edgeCount) = (builder.nodes, builder.edges)
    }

    /// Writes `<name>.dot`, `.svg` and `.png` into `folder`; returns the paths. The .dot file is
    /// written first, so it is there even when Graphviz cannot render.
    @discardableResult
    public func write(to folder: URL, name: String) throws -> [String] {
        let base = folder.appendingPathComponent(name).path
        try writeAtomically(dot, to: URL(fileURLWithPath: base + ".dot"))
        return [base + ".dot"] + (try Graphviz.render(dot: dot, formats: ["svg", "png"], basePath: base))
    }

    /// The fill colour for a share of the model's multiply-adds, and the legend's buckets.
    static let shades: [(upTo: Double, color: String, label: String)] = [
        (0, "#ffffff", "none"), (0.02, "#fee6ce", "under 2%"), (0.08, "#fdae6b", "2% to 8%"),
        (0.2, "#f16913", "8% to 20%"), (1.01, "#a63603", "over 20%"),
    ]

    /// The border of a layer an ArchitectureDiff marks as changed.
    static let highlightColor = "#2ca02c"

    static func shade(_ share: Double) -> (fill: String, font: String) {
        let bucket = shades.firstIndex { share <= $0.upTo } ?? shades.count - 1
        return (shades[bucket].color, bucket >= 3 ? "white" : "black")
    }
}

/// Builds the DOT text; counts what it draws.
private struct Builder {
    let profile: ModelProfile
    let style: ArchitectureDiagram.Style
    let measuredShares: [String: Double]?
    let highlighted: Set<String>
    var lines: [String] = []
    var nodes = 0, edges = 0
    var nextCluster = 0

    init(
        profile: ModelProfile, style: ArchitectureDiagram.Style, measuredShares: [String: Double]?,
        highlighted: Set<String>
    ) {
        self.profile = profile
        self.style = style
        self.measuredShares = measuredShares
        self.highlighted = highlighted
    }

    mutating func build(title: String) -> String {
        lines = [
            "digraph model {",
            "  graph [rankdir=TB, label=\(quote(title)), labelloc=t, fontname=\"Helvetica\", fontsize=16, "
                + "nodesep=0.35, ranksep=0.45, newrank=true];",
            "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, margin=\"0.12,0.05\"];",
            "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];",
        ]
        let input = addNode(
            id: "input", label: "input\n\(shapeText(profile.inputShape))", fill: "#deebf7", font: "black")
        var exits = [input]
        switch style {
        case .layers:
            exits = emit(entryIndex: 0, from: exits, indent: "  ", cluster: false)
        case .folded, .blocks:
            for entry in profile.entries(toDepth: style == .blocks ? 1 : 0) {
                exits = connect(exits, to: addLayerNode(entry, indent: "  "), shape: entry.inputShape)
            }
        case .towers:
            exits = emitTowers(from: input)
        }
        let output = addNode(
            id: "output", label: "output\n\(shapeText(profile.model.outputShape))", fill: "#deebf7",
            font: "black")
        _ = connect(exits, to: output, shape: profile.model.outputShape)
        lines.append(legend())
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: layers and blocks

    /// Draws entry `index` (and its subtree) fed by `sources`; returns the nodes its output leaves from.
    mutating func emit(entryIndex index: Int, from sources: [String], indent: String, cluster: Bool) -> [String] {
        let entry = profile.entries[index]
        let childIndices = directChildren(of: index)
        if childIndices.isEmpty {
            return connect(sources, to: addLayerNode(entry, indent: indent), shape: entry.inputShape)
        }
        var body = indent
        if cluster {
            nextCluster += 1
            lines.append("\(indent)subgraph cluster_\(nextCluster) {")
            lines.append(
                "\(indent)  label=\(quote("\(entry.path)  \(entry.typeName)  ·  \(grouped(entry.parameterCount)) params"));"
                    + " style=\"rounded,dashed\"; color=\"#888888\"; fontsize=10;")
            body = indent + "  "
        }
        var exits: [String]
        if entry.layer.childrenReadTheSameInput {
            // Branches side by side, all fed by the block's input, joined at one node (a Concat
            // stacks their channels; a Residual adds body and shortcut, an identity shortcut
            // being the edge from the block's input itself).
            var branchExits: [(node: String, shape: [Int])] = []
            for child in childIndices {
                let shape = profile.entries[child].outputShape
                branchExits += emit(entryIndex: child, from: sources, indent: body, cluster: true).map { ($0, shape) }
            }
            let isSum = entry.layer is Residual
            if let residual = entry.layer as? Residual, residual.shortcut == nil {
                branchExits += sources.map { ($0, entry.inputShape) }
            }
            let join = addNode(
                id: "join_\(sanitize(entry.path))",
                label: "\(isSum ? "add" : "concatenate channels")\n\(shapeText(entry.outputShape))",
                fill: "#ffffff", font: "black", indent: body)
            for exit in branchExits { addEdge(exit.node, join, shape: exit.shape, indent: body) }
            exits = [join]
        } else {
            exits = sources
            for child in childIndices {
                exits = emit(entryIndex: child, from: exits, indent: body, cluster: true)
            }
        }
        if cluster { lines.append("\(indent)}") }
        return exits
    }

    /// Indices of the entries directly below entry `index` (the walk is depth first).
    func directChildren(of index: Int) -> [Int] {
        let depth = profile.entries[index].depth
        var result: [Int] = []
        var i = index + 1
        while i < profile.entries.count && profile.entries[i].depth > depth {
            if profile.entries[i].depth == depth + 1 { result.append(i) }
            i += 1
        }
        return result
    }

    // MARK: the two-GPU view

    /// Every layer before the classifier's last one is drawn twice, one half per GPU. A layer
    /// with groups = 2, and any layer without weights, reads only its own tower; any other layer
    /// with weights (conv1, conv3, the fully connected layers) reads both towers' outputs.
    mutating func emitTowers(from input: String) -> [String] {
        let leaves = profile.leaves
        var previous = [input, input]
        for (position, entry) in leaves.enumerated() {
            if position == leaves.count - 1 {
                let node = addLayerNode(entry, indent: "  ")
                for source in Set(previous).sorted() {
                    addEdge(source, node, shape: entry.inputShape, halved: true, indent: "  ")
                }
                return [node]
            }
            let grouped = (entry.layer as? Conv2d).map { $0.groups == 2 } ?? false
            let crossesTowers = !grouped && entry.parameterCount > 0
            var pair: [String] = []
            for tower in 0..<2 {
                nextCluster += 1
                lines.append("  subgraph cluster_gpu\(tower + 1)_\(position) { style=invis;")
                let node = addLayerNode(entry, indent: "    ", suffix: "_gpu\(tower + 1)", half: true)
                lines.append("  }")
                pair.append(node)
                let sources = crossesTowers ? Array(Set(previous)).sorted() : [previous[tower]]
                for source in sources {
                    addEdge(source, node, shape: entry.inputShape, halved: source != "input", indent: "  ")
                }
            }
            lines.append("  { rank=same; \(pair[0]); \(pair[1]); }")
            previous = pair
        }
        return previous
    }

    // MARK: nodes, edges, legend

    mutating func addLayerNode(
        _ entry: ModelProfile.Entry, indent: String, suffix: String = "", half: Bool = false
    ) -> String {
        let share =
            measuredShares.map { $0[entry.path] ?? 0 }
            ?? Double(entry.multiplyAdds) / Double(max(profile.model.multiplyAdds, 1))
        let (fill, font) = ArchitectureDiagram.shade(share)
        var label = entry.path.isEmpty ? entry.typeName : "\(entry.path)  \(hyperparameters(entry.layer, half: half))"
        if half { label += "\n\(suffix == "_gpu1" ? "GPU 1" : "GPU 2") half" }
        let output = half ? halvedChannels(entry.outputShape) : entry.outputShape
        label += "\n\(shapeText(output))"
        if entry.parameterCount > 0 {
            label += "\n\(grouped(half ? entry.parameterCount / 2 : entry.parameterCount)) params"
        }
        let changed = highlighted.contains { $0 == entry.path || $0.hasPrefix(entry.path + ".") }
        return addNode(
            id: "n\(sanitize(entry.path))\(suffix)", label: label, fill: fill, font: font, indent: indent,
            highlighted: changed)
    }

    mutating func addNode(
        id: String, label: String, fill: String, font: String, indent: String = "  ", highlighted: Bool = false
    ) -> String {
        let border = highlighted ? ", color=\"\(ArchitectureDiagram.highlightColor)\", penwidth=3" : ""
        lines.append("\(indent)\(id) [label=\(quote(label)), fillcolor=\"\(fill)\", fontcolor=\"\(font)\"\(border)];")
        nodes += 1
        return id
    }

    mutating func connect(_ sources: [String], to node: String, shape: [Int]) -> [String] {
        for source in sources { addEdge(source, node, shape: shape, indent: "  ") }
        return [node]
    }

    mutating func addEdge(_ from: String, _ to: String, shape: [Int], halved: Bool = false, indent: String) {
        let text = shapeText(halved ? halvedChannels(shape) : shape)
        lines.append("\(indent)\(from) -> \(to) [label=\(quote(" " + text))];")
        edges += 1
    }

    func legend() -> String {
        let rows = ArchitectureDiagram.shades.map { shade in
            "<tr><td bgcolor=\"\(shade.color)\" width=\"18\"> </td><td align=\"left\">\(shade.label)</td></tr>"
        }.joined()
        let heading = measuredShares == nil ? "share of multiply-adds" : "share of measured time"
        let changed =
            highlighted.isEmpty
            ? ""
            : "<tr><td border=\"3\" color=\"\(ArchitectureDiagram.highlightColor)\" width=\"18\"> </td>"
                + "<td align=\"left\">changed by the diff</td></tr>"
        return "  legend [shape=plaintext, style=\"\", label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" "
            + "cellpadding=\"3\"><tr><td colspan=\"2\"><b>\(heading)</b></td></tr>\(rows)\(changed)</table>>];"
    }

    /// "Conv2d 11x11 /4 pad 1 → 96": what a reader needs to redo the shape arithmetic.
    func hyperparameters(_ layer: any Layer, half: Bool) -> String {
        switch layer {
        case let conv as Conv2d:
            let outputs = half ? conv.outputChannels / 2 : conv.outputChannels
            return "Conv2d \(conv.kernelSize)x\(conv.kernelSize)" + (conv.stride > 1 ? " /\(conv.stride)" : "")
                + (conv.padding > 0 ? " pad \(conv.padding)" : "") + (conv.groups > 1 ? " groups \(conv.groups)" : "")
                + " → \(outputs)"
        case let pool as SlidingWindowLayer:
            return "\(String(describing: type(of: pool))) \(pool.kernelSize)x\(pool.kernelSize)"
                + (pool.stride > 1 ? " /\(pool.stride)" : "") + (pool.padding > 0 ? " pad \(pool.padding)" : "")
        case let linear as Linear:
            return "Linear \(linear.inputFeatures) → \(half ? linear.outputFeatures / 2 : linear.outputFeatures)"
        case let block as Concat:
            // A folded multi-branch block: one line per branch, its layers in order.
            return "\n"
                + block.branches.map { branch in
                    branch.name + ": "
                        + branch.layer.allLayers.filter {
                            $0.children.isEmpty && ($0 is SlidingWindowLayer || $0 is Linear)
                        }.map { hyperparameters($0, half: half) }.joined(separator: ", ")
                }.joined(separator: "\n")
        case let block as Sequential:
            // A folded block: its layers with weights or windows, a run of equal ones counted
            // ("2 × Conv2d 3x3 pad 1 → 256"), one a line.
            let runs = countedRuns(
                block.allLayers.filter { $0.children.isEmpty && ($0 is SlidingWindowLayer || $0 is Linear) }
                    .map { hyperparameters($0, half: half) })
            return runs.isEmpty
                ? layer.description
                : "\n" + runs.map { $0.count == 1 ? $0.text : "\($0.count) × \($0.text)" }.joined(separator: "\n")
        default:
            return layer.description
        }
    }

    func shapeText(_ shape: [Int]) -> String {
        shape.dropFirst().map(String.init).joined(separator: "×")
    }

    func halvedChannels(_ shape: [Int]) -> [Int] {
        shape.count >= 2 ? [shape[0], shape[1] / 2] + shape.dropFirst(2) : shape
    }

    func sanitize(_ path: String) -> String {
        path.isEmpty ? "root" : path.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    func quote(_ text: String) -> String {
        "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
