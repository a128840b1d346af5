// MemoryBudget.swift: whether a run fits in this machine's memory, decided before anything
// large is allocated: a batch of 10^8 images, or a matrix of 10^6 x 10^6, is refused with the
// flag to lower, not attempted until the kernel kills the process.

import Foundation

/// A run that would not fit: what needed how much, and which flag to lower.
public struct NotEnoughMemory: Error, CustomStringConvertible {
    /// nil when the estimate overflowed a 64-bit count.
    public let neededBytes: Int?
    public let what: String, fix: String

    public var description: String {
        "\(what) needs \(neededBytes.map(byteCount) ?? "more bytes than a 64-bit count holds"), "
            + "more than this machine's \(byteCount(MemoryBudget.physicalBytes)) of memory allows; \(fix)"
    }
}

/// The machine's memory, and a check that a run fits in it before it allocates.
public enum MemoryBudget {
    /// Physical memory in bytes.
    public static var physicalBytes: Int { sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE)) }

    /// Throws NotEnoughMemory when `bytes` (what `what` needs) exceed `share` of the memory.
    /// `fix` says which flag to lower. An overflowing estimate (nil) counts as too much.
    public static func require(_ bytes: Int?, for what: String, share: Double = 0.8, fix: String) throws {
        let limit = Int(Double(physicalBytes) * share)
        guard let bytes, bytes <= limit else { throw NotEnoughMemory(neededBytes: bytes, what: what, fix: fix) }
    }

    /// Bytes that training `model` on batches of `batchSize` inputs of `inputShape` ([C, H, W])
    /// holds at once: the weights four times (values, gradients, up to two optimizer slots) and,
    /// per image, every layer's output twice (saved for backward, and its gradient). In Double,
    /// so that a batch size near Int.max is an estimate too large, not an overflow.
    public static func trainingBytes(_ model: any Layer, inputShape: [Int], batchSize: Int) throws -> Double {
        let perImage = try activationCount(model, input: [1] + inputShape).count
        return 4 * 4 * Double(model.parameterCount) + 2 * 4 * Double(perImage) * Double(batchSize)
    }

    /// Floats of every plain layer's output for `input`, and the output's shape. A Concat or a
    /// Residual feeds its input to every child; any other container chains its children.
    static func activationCount(_ layer: any Layer, input: [Int]) throws -> (count: Int, output: [Int]) {
        let output = try layer.outputShape(for: input)
        if layer.children.isEmpty { return (output.reduce(1, *), output) }
        var (count, flowing) = (0, input)
        for child in layer.children {
            let inner = try activationCount(child.layer, input: layer.childrenReadTheSameInput ? input : flowing)
            (count, flowing) = (count + inner.count, inner.output)
        }
        return (count, output)
    }
}
