// DiagramTests.swift: architecture diagrams: node and edge counts of the DOT graph for LeNet and
// for one Inception block, rendering through libgvc to SVG (valid XML, a node per layer) and PNG
// (signature, and the size Graphviz gave the SVG).

import Foundation
import ModernCNN
import Testing

@testable import Notebook

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// d2l's Inception block of GoogLeNet's stage 3 (192 -> 64 + 128 + 32 + 32 channels).
func inceptionBlock() -> Concat {
    var g = SeededGenerator(seed: 0)
    return Concat([
        ("b1", Sequential(Conv2d(inputChannels: 192, outputChannels: 64, kernelSize: 1, generator: &g), ReLU())),
        (
            "b2",
            Sequential(
                Conv2d(inputChannels: 192, outputChannels: 96, kernelSize: 1, generator: &g), ReLU(),
                Conv2d(inputChannels: 96, outputChannels: 128, kernelSize: 3, padding: 1, generator: &g), ReLU())
        ),
        (
            "b3",
            Sequential(
                Conv2d(inputChannels: 192, outputChannels: 16, kernelSize: 1, generator: &g), ReLU(),
                Conv2d(inputChannels: 16, outputChannels: 32, kernelSize: 5, padding: 2, generator: &g), ReLU())
        ),
        (
            "b4",
            Sequential(
                MaxPool2d(kernelSize: 3, stride: 1, padding: 1),
                Conv2d(inputChannels: 192, outputChannels: 32, kernelSize: 1, generator: &g), ReLU())
        ),
    ])
}

/// Statements of a DOT text: node lines ("id [label=...]") and edge lines ("a -> b").
func dotCounts(_ dot: String) -> (nodes: Int, edges: Int) {
    let lines = dot.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    let edges = lines.filter { $0.contains(" -> ") }.count
    let nodes = lines.filter { !$0.contains(" -> ") && $0.contains(" [label=") && !$0.hasPrefix("legend") }.count
    return (nodes, edges)
}

@Test("LeNet's diagram: input, 12 layers, output; a chain of 13 labelled edges")
func lenetDiagram() throws {
    let diagram = ArchitectureDiagram(try ModelProfile(LeNet.d2l(), inputShape: [1, 1, 28, 28]), title: "LeNet")
    #expect(diagram.nodeCount == 14 && diagram.edgeCount == 13)
    #expect(dotCounts(diagram.dot) == (14, 13))
    #expect(diagram.dot.contains("label=\" 6×28×28\""))  // conv1's output flowing to the sigmoid
    #expect(diagram.dot.contains("Conv2d 5x5 pad 2 → 6"))
    #expect(diagram.dot.contains("fillcolor=\"#a63603\""))  // conv2 has over 20% of the multiply-adds
}

@Test("an Inception block: four branches side by side, joined by one concatenation")
func inceptionDiagram() throws {
    let profile = try ModelProfile(Sequential(inceptionBlock()), inputShape: [1, 192, 28, 28])
    let diagram = ArchitectureDiagram(profile, title: "Inception (3a)")
    // input + 13 layers (2 + 4 + 4 + 3) + concat + output; the input fans out to 4 branches,
    // 13 - 4 edges inside the branches, 4 into the concatenation, 1 to the output.
    #expect(dotCounts(diagram.dot) == (16, 4 + 9 + 4 + 1))
    #expect(diagram.dot.components(separatedBy: "subgraph cluster_").count - 1 == 5)  // the block and 4 branches
    let folded = ArchitectureDiagram(profile, title: "Inception (3a)", style: .folded)
    #expect(dotCounts(folded.dot) == (3, 2))
}

@Test("the paper's AlexNet in two towers: grouped layers stay in their tower, conv3 and the FCs cross")
func towersDiagram() throws {
    let profile = try ModelProfile(AlexNet.paper(), inputShape: [1, 3, 227, 227])
    let diagram = ArchitectureDiagram(profile, title: "AlexNet (2012)", style: .towers)
    let leaves = profile.leaves.count
    #expect(diagram.nodeCount == 2 + 2 * (leaves - 1) + 1)
    #expect(diagram.dot.contains("GPU 1 half") && diagram.dot.contains("GPU 2 half"))
    // conv3 (leaf 8) reads both towers: 4 edges into its pair; conv4 (grouped) reads one each.
    #expect(diagram.dot.components(separatedBy: "-> n8_gpu").count - 1 == 4)
    #expect(diagram.dot.components(separatedBy: "-> n10_gpu").count - 1 == 2)
}

@Test("rendered through libgvc: the .dot, an SVG with a node per layer, and a PNG of the SVG's size")
func renderedDiagram() throws {
    let folder = try temporaryFolder("diagram")
    defer { try? FileManager.default.removeItem(at: folder) }
    let diagram = ArchitectureDiagram(try ModelProfile(LeNet.d2l(), inputShape: [1, 1, 28, 28]), title: "LeNet")
    let paths = try diagram.write(to: folder, name: "lenet")
    #expect(paths.map { URL(fileURLWithPath: $0).lastPathComponent } == ["lenet.dot", "lenet.svg", "lenet.png"])
    let svg = try String(contentsOfFile: paths[1], encoding: .utf8)
    let names = try elementNames(svg)
    #expect(svg.components(separatedBy: "class=\"node\"").count - 1 == diagram.nodeCount + 1)  // + the legend
    #expect(names.filter { $0 == "g" }.count >= diagram.nodeCount + diagram.edgeCount)
    let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: paths[2])))
    #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    func word(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    // Graphviz sizes the SVG in points and the PNG at 96 dpi: 4/3 pixel per point.
    let size = try #require(svg.firstMatch(of: /width="(\d+)pt" height="(\d+)pt"/))
    #expect(abs(Double(word(16)) - Double(size.1)! * 4 / 3) <= 3)
    #expect(abs(Double(word(20)) - Double(size.2)! * 4 / 3) <= 3)
}

@Test("architecture diff: batch norm added after every convolution is found as added layers, nothing removed")
func architectureDiffFindsInsertedLayers() throws {
    let shape = [1, 1, 96, 96]
    let before = try ModelProfile(GoogLeNet.model(), inputShape: shape)
    let after = try ModelProfile(GoogLeNet.model(GoogLeNet.Design(batchNorm: true)), inputShape: shape)
    let diff = ArchitectureDiff(from: before, to: after)
    #expect(diff.added.count == 3 + 9 * 6)
    #expect(diff.added.allSatisfy { $0.layer is BatchNorm2d })
    #expect(diff.removed.isEmpty)
    #expect(diff.summary == ["57 x BatchNorm2d added"])
    // And back: the same layers, removed.
    let back = ArchitectureDiff(from: after, to: before)
    #expect(back.added.isEmpty && back.removed.count == 57)
    // A changed layer is one removed and one added: a 5x5 that became two 3x3.
    let reshaped = try ModelProfile(GoogLeNet.model(GoogLeNet.Design(factorizedFiveByFive: true)), inputShape: shape)
    let change = ArchitectureDiff(from: before, to: reshaped)
    #expect(change.removed.count == 9 && change.removed.allSatisfy { ($0.layer as? Conv2d)?.kernelSize == 5 })
    #expect(change.added.count == 9 * 3)  // per block: two 3x3 convolutions and the new ReLU
    #expect(change.summary == ["18 x Conv2d added", "9 x ReLU added", "9 x Conv2d removed"])
}

@Test("a diagram outlines the layers it is told are changed, and a folded node holding one")
func diagramHighlights() throws {
    let model = GoogLeNet.model(GoogLeNet.Design(batchNorm: true))
    let profile = try ModelProfile(model, inputShape: [1, 1, 96, 96])
    let diff = ArchitectureDiff(from: try ModelProfile(GoogLeNet.model(), inputShape: [1, 1, 96, 96]), to: profile)
    let drawn = ArchitectureDiagram(profile, title: "with BN", highlighted: diff.addedPaths)
    #expect(drawn.dot.components(separatedBy: "penwidth=3").count - 1 == 57)
    #expect(drawn.dot.contains("changed by the diff"))
    // Folded by stage: every stage holds a batch norm, the dense head does not.
    let folded = ArchitectureDiagram(profile, title: "folded", style: .folded, highlighted: diff.addedPaths)
    #expect(folded.dot.components(separatedBy: "penwidth=3").count - 1 == 5)
    #expect(!ArchitectureDiagram(profile, title: "plain").dot.contains("penwidth=3"))
}

@Test("a residual block is drawn with its body and shortcut side by side, joined at an add node")
func residualDiagram() throws {
    var g = SeededGenerator(seed: 1)
    let identity = Residual(
        Sequential(Conv2d(inputChannels: 4, outputChannels: 4, kernelSize: 3, padding: 1, generator: &g), ReLU()))
    let projected = Residual(
        Conv2d(inputChannels: 4, outputChannels: 8, kernelSize: 3, padding: 1, generator: &g),
        shortcut: Conv2d(inputChannels: 4, outputChannels: 8, kernelSize: 1, generator: &g))
    let model = Sequential(identity, projected)
    let profile = try ModelProfile(model, inputShape: [1, 4, 6, 6])
    #expect(profile.model.multiplyAdds == 36 * (4 * 4 * 9 + 8 * 4 * 9 + 8 * 4))
    let dot = ArchitectureDiagram(profile, title: "residual").dot
    #expect(dot.components(separatedBy: "label=\"add\\n").count - 1 == 2)
    // The identity block's add node is fed by its body and by the block's input itself.
    #expect(dot.contains("input -> join_0"))
    #expect(dot.contains("n1_shortcut -> join_1"))
}
