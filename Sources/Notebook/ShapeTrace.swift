// ShapeTrace.swift: d2l's shape trace, one line per layer, read from a ModelProfile:
//
//   Conv2d output shape: [1, 96, 54, 54]      (224 + 2*1 - 11) / 4 + 1 = 54
//
// The optional right-hand column works out the output size of a sliding-window layer with
// out = floor((n + 2p - k) / s) + 1, the formula chapter 02 derives.

import ModernCNN

extension ModelProfile {
    /// One line per entry at `depth` (0: the model's own children, as d2l prints them; a larger
    /// depth opens blocks up), with the output-size arithmetic of convolutions and pools when
    /// `arithmetic` is set. Each line starts with the layer's type, or with its name in the
    /// model when `byName` is set, as a loop over PyTorch's `named_children()` prints it
    /// ("0 output shape: [1, 96, 54, 54]").
    public func shapeTrace(depth: Int = 0, arithmetic: Bool = false, byName: Bool = false) -> String {
        let lines = entries(toDepth: depth).map { entry in
            (
                "\(byName ? entry.path : entry.typeName) output shape: \(entry.outputShape)",
                arithmetic ? blockArithmetic(of: entry) : nil
            )
        }
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { text, note in
            guard let note else { return text }
            return text + String(repeating: " ", count: width - text.count) + "   " + note
        }.joined(separator: "\n")
    }

    /// A layer's arithmetic, or a block's: its windowed layers' in order, a repeated one once
    /// with its count ("2 x (28 + 2*1 - 3 + 1 = 28), then (28 - 2) / 2 + 1 = 14").
    /// A multi-branch block inside it is one step, "4 branches keep 12" (its branches' own
    /// arithmetic would be a line per branch layer).
    func blockArithmetic(of entry: Entry) -> String? {
        guard entry.isContainer else { return Self.arithmetic(of: entry) }
        let inside = entries.filter { $0.path.hasPrefix(entry.path + ".") }
        let branching = inside.filter { $0.layer is Concat }.map(\.path)
        let steps = inside.compactMap { step -> String? in
            if step.layer is Concat {
                let side = step.outputShape.count == 4 ? " keep \(step.outputShape[2])" : ""
                return "\(step.layer.children.count) branches\(side)"
            }
            let withinBranches = branching.contains { step.path.hasPrefix($0 + ".") }
            return step.isContainer || withinBranches ? nil : Self.arithmetic(of: step)
        }
        let runs = countedRuns(steps)
        return runs.isEmpty
            ? nil : runs.map { $0.count == 1 ? $0.text : "\($0.count) x (\($0.text))" }.joined(separator: ", then ")
    }

    /// "(224 + 2*1 - 11) / 4 + 1 = 54" for a conv or pool layer; nil for anything else.
    static func arithmetic(of entry: Entry) -> String? {
        guard let window = entry.layer as? SlidingWindowLayer, entry.inputShape.count == 4 else { return nil }
        func axis(_ n: Int) -> String {
            let padded = window.padding == 0 ? "\(n)" : "\(n) + 2*\(window.padding)"
            let out = (n + 2 * window.padding - window.kernelSize) / window.stride + 1
            return window.stride == 1
                ? "\(padded) - \(window.kernelSize) + 1 = \(out)"
                : "(\(padded) - \(window.kernelSize)) / \(window.stride) + 1 = \(out)"
        }
        let (h, w) = (entry.inputShape[2], entry.inputShape[3])
        return h == w ? axis(h) : "height \(axis(h)); width \(axis(w))"
    }
}

/// Neighbouring equal texts counted once each: ["a", "a", "b"] -> [("a", 2), ("b", 1)]. A block's
/// repeated layers are written once with their count, in the trace and on the diagram.
func countedRuns(_ texts: [String]) -> [(text: String, count: Int)] {
    var runs: [(text: String, count: Int)] = []
    for text in texts {
        if runs.last?.text == text { runs[runs.count - 1].count += 1 } else { runs.append((text, 1)) }
    }
    return runs
}
