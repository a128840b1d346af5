// ArchitectureDiff.swift: what changed between two versions of a network, layer by layer. The
// plain layers of each (in the order they run, as the profile lists them) are matched by a
// longest common subsequence on what each layer is (its description and parameter count), the
// way a text diff matches lines; what is left over in the second network was added or changed,
// what is left over in the first was removed. Paths are not compared: inserting a batch norm
// after a convolution renumbers every layer after it in that block, but changes none of them.

import ModernCNN

public struct ArchitectureDiff {
    /// Plain layers of the second network with no match in the first (added or changed).
    public let added: [ModelProfile.Entry]
    /// Plain layers of the first network with no match in the second (removed or changed).
    public let removed: [ModelProfile.Entry]
    public let before: ModelProfile, after: ModelProfile

    public init(from before: ModelProfile, to after: ModelProfile) {
        (self.before, self.after) = (before, after)
        let (a, b) = (before.leaves, after.leaves)
        func key(_ entry: ModelProfile.Entry) -> String { "\(entry.layer.description) \(entry.parameterCount)" }
        let (keysA, keysB) = (a.map(key), b.map(key))
        // lengths[i][j]: the longest common subsequence of keysA[i...] and keysB[j...].
        var lengths = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] =
                    keysA[i] == keysB[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var (i, j) = (0, 0)
        var (added, removed): ([ModelProfile.Entry], [ModelProfile.Entry]) = ([], [])
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, keysA[i] == keysB[j] {
                (i, j) = (i + 1, j + 1)
            } else if j < b.count, i == a.count || lengths[i][j + 1] >= lengths[i + 1][j] {
                added.append(b[j])
                j += 1
            } else {
                removed.append(a[i])
                i += 1
            }
        }
        (self.added, self.removed) = (added, removed)
    }

    /// The paths of the added layers, for ArchitectureDiagram's `highlighted`.
    public var addedPaths: Set<String> { Set(added.map(\.path)) }

    /// The changed layers counted by type: "9 x BatchNorm2d added" per line, added then removed.
    public var summary: [String] {
        func counted(_ entries: [ModelProfile.Entry], _ verb: String) -> [String] {
            var order: [String] = []
            var counts: [String: Int] = [:]
            for entry in entries {
                if counts[entry.typeName] == nil { order.append(entry.typeName) }
                counts[entry.typeName, default: 0] += 1
            }
            return order.map { "\(counts[$0]!) x \($0) \(verb)" }
        }
        return counted(added, "added") + counted(removed, "removed")
    }
}
