// LanePooling.swift: average pooling in the lane layout (LaneLayout.swift), its backward fused
// with the slope of the activation before it, and the sum that turns per-lane filter-gradient
// sums into gradients. Each vector is 16 images, so a window is a handful of vector adds.

/// Average pooling of one group, a square window with a stride and no padding, floor rounding
/// as PyTorch: out[c][py][px] = the mean of in[c][py * stride + a][px * stride + b].
public struct LaneAveragePool: Sendable {
    public let input: LanePlanes, output: LanePlanes
    public let window: Int, stride: Int

    /// out's interior is written; `outputBorder` is the zero border the next layer wants.
    public init(input: LanePlanes, window: Int, stride: Int, outputBorder: Int = 0) {
        precondition(window >= 1 && stride >= 1 && input.height >= window && input.width >= window,
                     "LaneAveragePool: the window does not fit")
        (self.input, self.window, self.stride) = (input, window, stride)
        output = LanePlanes(channels: input.channels, height: (input.height - window) / stride + 1,
                            width: (input.width - window) / stride + 1, border: outputBorder)
    }

    public func forward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        let (lanes, scale) = (LanePlanes.lanes, 1 / Float(window * window))
        for c in 0..<input.channels {
            for py in 0..<output.height {
                for px in 0..<output.width {
                    var sum = LaneVector.zero
                    for a in 0..<window {
                        let row = x + input.vector(channel: c, row: py * stride + a, column: px * stride) * lanes
                        for b in 0..<window { sum += loadVector(row + b * lanes) }
                    }
                    storeVector(sum * scale, to: y + output.vector(channel: c, row: py, column: px) * lanes)
                }
            }
        }
    }

    /// dx = the pooling's input gradient times f'(a), where a = f(pre-activation) is the pooling's
    /// input (laid out as `input`): the gradient of the activation's input, written into dx's
    /// interior (laid out as `gradient`, whose border stays zero). dOut has `output`'s shape,
    /// laid out as `outputGradient`.
    public func backward(outputGradient dOut: UnsafePointer<Float>, layout outputGradient: LanePlanes,
                         activationOutput a: UnsafePointer<Float>, _ activation: FusedActivation,
                         gradient: LanePlanes, into dx: UnsafeMutablePointer<Float>) {
        let output = outputGradient
        let (lanes, scale) = (LanePlanes.lanes, 1 / Float(window * window))
        if stride == window {
            // Each input position lies in at most one window: one pass, no accumulation.
            switch activation {
            case .none: spread(dOut, output, a, gradient, dx, scale) { d, _ in d }
            case .relu: spread(dOut, output, a, gradient, dx, scale) { d, y in timesSlope(d, output: y, .relu) }
            case .sigmoid: spread(dOut, output, a, gradient, dx, scale) { d, y in timesSigmoidSlope(d, output: y) }
            }
            return
        }
        // Overlapping windows (or gaps between them): spread each window's share, then the slope.
        for c in 0..<input.channels {
            for row in 0..<input.height {
                (dx + gradient.vector(channel: c, row: row, column: 0) * lanes).update(repeating: 0, count: input.width * lanes)
            }
            for py in 0..<output.height {
                for px in 0..<output.width {
                    let share = loadVector(dOut + output.vector(channel: c, row: py, column: px) * lanes) * scale
                    for r in 0..<window {
                        for s in 0..<window {
                            let target = dx + gradient.vector(channel: c, row: py * stride + r, column: px * stride + s) * lanes
                            storeVector(loadVector(target) + share, to: target)
                        }
                    }
                }
            }
            for row in 0..<input.height {
                for column in 0..<input.width {
                    let target = dx + gradient.vector(channel: c, row: row, column: column) * lanes
                    let y = loadVector(a + input.vector(channel: c, row: row, column: column) * lanes)
                    storeVector(timesSlope(loadVector(target), output: y, activation), to: target)
                }
            }
        }
    }
}

extension LaneAveragePool {
    /// Non-overlapping windows: each window's share, times the slope, into its k x k inputs; rows
    /// and columns past the last window (floor rounding) get no gradient. The slope is a
    /// parameter so that each activation gets a loop of its own, with no switch per vector.
    @inline(__always)
    func spread(_ dOut: UnsafePointer<Float>, _ output: LanePlanes, _ a: UnsafePointer<Float>, _ gradient: LanePlanes,
                _ dx: UnsafeMutablePointer<Float>, _ scale: Float, slope: (LaneVector, LaneVector) -> LaneVector) {
        let lanes = LanePlanes.lanes
        for c in 0..<input.channels {
            for py in 0..<output.height {
                let shares = dOut + output.vector(channel: c, row: py, column: 0) * lanes
                for i in 0..<window {
                    let row = py * stride + i
                    let y = a + input.vector(channel: c, row: row, column: 0) * lanes
                    let target = dx + gradient.vector(channel: c, row: row, column: 0) * lanes
                    for px in 0..<output.width {
                        let share = loadVector(shares + px * lanes) * scale
                        for j in 0..<window {
                            let column = (px * stride + j) * lanes
                            storeVector(slope(share, loadVector(y + column)), to: target + column)
                        }
                    }
                }
            }
            zeroUncovered(channel: c, gradient: gradient, covered: output.height * stride, output.width * stride, dx)
        }
    }

    /// Zeros the gradient of the input rows and columns that no window reaches (floor rounding
    /// leaves up to stride - 1 of each).
    func zeroUncovered(channel c: Int, gradient: LanePlanes, covered rows: Int, _ columns: Int,
                       _ dx: UnsafeMutablePointer<Float>) {
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
public func laneSumsReduce(_ sums: UnsafePointer<Float>, vectorsPerWorker: Int, workers: Int, count: Int,
                           into target: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        // The workers' vectors first (vertical adds), then one sum across the lanes.
        var total = loadVector(sums + i * LanePlanes.lanes)
        for worker in 1..<max(1, workers) { total += loadVector(sums + (worker * vectorsPerWorker + i) * LanePlanes.lanes) }
        target[i] += total.sum()
    }
}
