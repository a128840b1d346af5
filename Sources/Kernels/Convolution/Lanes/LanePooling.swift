// LanePooling.swift: average and max pooling in the lane layout (LaneLayout.swift), their
// backward fused with the slope of the activation before them, and the sum that turns per-lane
// filter-gradient sums into gradients. Each vector is 16 images, so a window is a handful of
// vector adds or compares, and max pooling keeps each image's winner in its own lane.

/// Pooling of one group, a square window with a stride and no padding, floor rounding as
/// PyTorch: out[c][py][px] = the mean (average) or the largest (max) of the window
/// in[c][py * stride + a][px * stride + b].
public struct LanePool: Sendable {
    public enum Kind: Sendable { case average, max }
    public let kind: Kind
    public let input: LanePlanes, output: LanePlanes
    public let window: Int, stride: Int

    /// out's interior is written; `outputBorder` is the zero border the next layer wants.
    public init(_ kind: Kind, input: LanePlanes, window: Int, stride: Int, outputBorder: Int = 0) {
        precondition(
            window >= 1 && stride >= 1 && input.height >= window && input.width >= window,
            "LanePool: the window does not fit")
        (self.kind, self.input, self.window, self.stride) = (kind, input, window, stride)
        output = LanePlanes(
            channels: input.channels, height: (input.height - window) / stride + 1,
            width: (input.width - window) / stride + 1, border: outputBorder)
    }

    /// Floats per group of max pooling's winners: for each output value, the index in its window
    /// (row-major) of each image's winner; none for average pooling.
    public var winnerFloats: Int {
        kind == .max ? output.channels * output.height * output.width * LanePlanes.lanes : 0
    }

    /// The winners' vector of output (c, py, px).
    @inline(__always)
    func winner(_ c: Int, _ py: Int, _ px: Int) -> Int { (c * output.height + py) * output.width + px }

    /// Pools one group; max pooling writes each window's winner to `winners` (winnerFloats).
    public func forward(
        input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
        winners: UnsafeMutablePointer<Float>? = nil
    ) {
        switch kind {
        case .average: averageForward(x, y)
        case .max:
            guard let winners else {
                preconditionFailure("LanePool: max pooling's forward needs somewhere for its winners")
            }
            maxForward(x, y, winners)
        }
    }

    private func averageForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let (lanes, scale) = (LanePlanes.lanes, 1 / Float(window * window))
        for c in 0..<input.channels {
            for py in 0..<output.height {
                for px in 0..<output.width {
                    let first = x + input.vector(channel: c, row: py * stride, column: px * stride) * lanes
                    var sum = LaneVector.zero
                    for a in 0..<window {
                        let row = first + a * input.rowStride * lanes
                        for b in 0..<window { sum += loadVector(row + b * lanes) }
                    }
                    storeVector(sum * scale, to: y + output.vector(channel: c, row: py, column: px) * lanes)
                }
            }
        }
    }

    /// The first largest value in the window's row-major order wins, and a NaN wins over
    /// numbers, as in PyTorch (and maxPoolForward).
    private func maxForward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        _ winners: UnsafeMutablePointer<Float>
    ) {
        let lanes = LanePlanes.lanes
        for c in 0..<input.channels {
            for py in 0..<output.height {
                for px in 0..<output.width {
                    let first = x + input.vector(channel: c, row: py * stride, column: px * stride) * lanes
                    var best = loadVector(first), index = LaneVector.zero
                    for a in 0..<window {
                        let row = first + a * input.rowStride * lanes
                        for b in 0..<window where a + b > 0 {
                            let value = loadVector(row + b * lanes)
                            let takes = maxPoolTakes(value, over: best)
                            best.replace(with: value, where: takes)
                            index.replace(with: Float(a * window + b), where: takes)
                        }
                    }
                    storeVector(best, to: y + output.vector(channel: c, row: py, column: px) * lanes)
                    storeVector(index, to: winners + winner(c, py, px) * lanes)
                }
            }
        }
    }

    /// dx = the pooling's input gradient times f'(a), where a = f(pre-activation) is the pooling's
    /// input (laid out as `input`): the gradient of the activation's input, written into dx's
    /// interior (laid out as `gradient`, whose border stays zero). dOut has `output`'s shape,
    /// laid out as `outputGradient`; max pooling sends it to the winners the forward pass kept.
    public func backward(
        outputGradient dOut: UnsafePointer<Float>, layout outputGradient: LanePlanes,
        winners: UnsafePointer<Float>? = nil, activationOutput a: UnsafePointer<Float>,
        _ activation: FusedActivation, gradient: LanePlanes, into dx: UnsafeMutablePointer<Float>
    ) {
        // Average pooling has no winners: whatever pointer came with it is never read.
        let winners = kind == .max ? winners : nil
        precondition(kind == .average || winners != nil, "LanePool: max pooling's backward needs its winners")
        let arguments = (dOut, outputGradient, winners, a, gradient, dx)
        switch (kind, activation) {
        case (.average, .none): spread(AverageShare.self, NoSlope.self, arguments)
        case (.average, .relu): spread(AverageShare.self, ReLUSlope.self, arguments)
        case (.average, .sigmoid): spread(AverageShare.self, SigmoidSlope.self, arguments)
        case (.max, .none): spread(WinnerShare.self, NoSlope.self, arguments)
        case (.max, .relu): spread(WinnerShare.self, ReLUSlope.self, arguments)
        case (.max, .sigmoid): spread(WinnerShare.self, SigmoidSlope.self, arguments)
        }
    }

    /// Each window's share of its gradient, times the slope, into its k x k inputs. The share and
    /// the slope are types, so that each pooling and activation gets a loop of its own with both
    /// inlined: as closures (or `Slope.apply` held in a local), the loop called them per vector,
    /// each vector passed as four 128-bit pieces, and LeNet's backward took up to 60% longer.
    private func spread<Share: LaneWindowShare, Slope: LaneSlope>(
        _: Share.Type, _: Slope.Type,
        _ arguments: (
            UnsafePointer<Float>, LanePlanes, UnsafePointer<Float>?, UnsafePointer<Float>, LanePlanes,
            UnsafeMutablePointer<Float>
        )
    ) {
        let (dOut, output, winners, a, gradient, dx) = arguments
        let (lanes, scale) = (LanePlanes.lanes, 1 / Float(window * window))
        @inline(__always)
        func share(_ d: LaneVector, _ won: LaneVector, _ position: Float) -> LaneVector {
            Share.share(d, winner: won, position: position, scale: scale)
        }
        @inline(__always)
        func winnerVector(_ c: Int, _ py: Int, _ px: Int) -> LaneVector {
            winners.map { loadVector($0 + winner(c, py, px) * lanes) } ?? .zero
        }
        if stride == window {
            // Each input position lies in at most one window: one pass, no accumulation. Rows and
            // columns past the last window (floor rounding) get no gradient.
            for c in 0..<input.channels {
                for py in 0..<output.height {
                    let shares = dOut + output.vector(channel: c, row: py, column: 0) * lanes
                    for i in 0..<window {
                        let row = py * stride + i
                        let y = a + input.vector(channel: c, row: row, column: 0) * lanes
                        let target = dx + gradient.vector(channel: c, row: row, column: 0) * lanes
                        for px in 0..<output.width {
                            let (d, won) = (loadVector(shares + px * lanes), winnerVector(c, py, px))
                            for j in 0..<window {
                                let column = (px * stride + j) * lanes
                                let value = share(d, won, Float(i * window + j))
                                storeVector(Slope.apply(value, loadVector(y + column)), to: target + column)
                            }
                        }
                    }
                }
                zeroUncovered(
                    channel: c, gradient: gradient, covered: output.height * stride, output.width * stride, dx)
            }
            return
        }
        // Overlapping windows (or gaps between them): add up each window's shares, then the slope.
        for c in 0..<input.channels {
            for row in 0..<input.height {
                (dx + gradient.vector(channel: c, row: row, column: 0) * lanes).update(
                    repeating: 0, count: input.width * lanes)
            }
            for py in 0..<output.height {
                for px in 0..<output.width {
                    let d = loadVector(dOut + output.vector(channel: c, row: py, column: px) * lanes)
                    let won = winnerVector(c, py, px)
                    for i in 0..<window {
                        for j in 0..<window {
                            let target =
                                dx + gradient.vector(channel: c, row: py * stride + i, column: px * stride + j) * lanes
                            storeVector(loadVector(target) + share(d, won, Float(i * window + j)), to: target)
                        }
                    }
                }
            }
            for row in 0..<input.height {
                for column in 0..<input.width {
                    let target = dx + gradient.vector(channel: c, row: row, column: column) * lanes
                    let y = loadVector(a + input.vector(channel: c, row: row, column: column) * lanes)
                    storeVector(Slope.apply(loadVector(target), y), to: target)
                }
            }
        }
    }

    /// Zeros the gradient of the input rows and columns that no window reaches (floor rounding
    /// leaves up to stride - 1 of each).
    private func zeroUncovered(
        channel c: Int, gradient: LanePlanes, covered rows: Int, _ columns: Int,
        _ dx: UnsafeMutablePointer<Float>
    ) {
        let lanes = LanePlanes.lanes
        for row in 0..<input.height {
            let first = row < rows ? columns : 0
            if first < input.width {
                (dx + gradient.vector(channel: c, row: row, column: first) * lanes)
                    .update(repeating: 0, count: (input.width - first) * lanes)
            }
        }
    }
}

/// How a pooling window shares out its gradient d among its positions.
protocol LaneWindowShare {
    static func share(_ d: LaneVector, winner: LaneVector, position: Float, scale: Float) -> LaneVector
}

/// Average pooling: every position gets d / (k * k).
enum AverageShare: LaneWindowShare {
    @inline(__always)
    static func share(_ d: LaneVector, winner: LaneVector, position: Float, scale: Float) -> LaneVector { d * scale }
}

/// Max pooling: each image's winner gets all of d, the other positions nothing.
enum WinnerShare: LaneWindowShare {
    @inline(__always)
    static func share(_ d: LaneVector, winner: LaneVector, position: Float, scale: Float) -> LaneVector {
        LaneVector.zero.replacing(with: d, where: winner .== position)
    }
}

/// An activation's slope applied to a gradient, from the activation's output y.
protocol LaneSlope {
    static func apply(_ gradient: LaneVector, _ y: LaneVector) -> LaneVector
}

enum NoSlope: LaneSlope {
    @inline(__always)
    static func apply(_ gradient: LaneVector, _ y: LaneVector) -> LaneVector { gradient }
}

enum ReLUSlope: LaneSlope {
    @inline(__always)
    static func apply(_ gradient: LaneVector, _ y: LaneVector) -> LaneVector { timesSlope(gradient, output: y, .relu) }
}

enum SigmoidSlope: LaneSlope {
    @inline(__always)
    static func apply(_ gradient: LaneVector, _ y: LaneVector) -> LaneVector { timesSigmoidSlope(gradient, output: y) }
}

/// gradient * f'(x), from the activation's output y, sixteen lanes: the same arithmetic as
/// applyActivationGradient.
@inline(__always)
func timesSlope(_ gradient: LaneVector, output y: LaneVector, _ activation: FusedActivation) -> LaneVector {
    switch activation {
    case .none: return gradient
    case .relu: return LaneVector.zero.replacing(with: gradient, where: y .> 0)
    case .sigmoid: return timesSigmoidSlope(gradient, output: y)
    }
}

/// target[i] += the sum over workers w (in order) and lanes of sums[w][i], for i in 0 ..< count:
/// per-lane, per-worker sums (LaneFilterGradient) made into one gradient, the same every run.
public func laneSumsReduce(
    _ sums: UnsafePointer<Float>, vectorsPerWorker: Int, workers: Int, count: Int,
    into target: UnsafeMutablePointer<Float>
) {
    for i in 0..<count {
        // The workers' vectors first (vertical adds), then one sum across the lanes.
        var total = loadVector(sums + i * LanePlanes.lanes)
        for worker in 1..<max(1, workers) {
            total += loadVector(sums + (worker * vectorsPerWorker + i) * LanePlanes.lanes)
        }
        target[i] += total.sum()
    }
}
