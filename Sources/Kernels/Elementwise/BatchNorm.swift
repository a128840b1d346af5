// BatchNorm.swift: batch normalisation over the images and pixels of each channel (Ioffe and
// Szegedy, 2015), with PyTorch's conventions.
//
//   x, y: [N, C, H, W];  per channel c, over its M = N * H * W values:
//   training:   mean = sum x / M,  var = sum (x - mean)^2 / M          (the batch's own)
//               xhat = (x - mean) / sqrt(var + eps),  y = gamma * xhat + beta
//               running_mean += momentum * (mean - running_mean)
//               running_var  += momentum * (var * M / (M - 1) - running_var)   (unbiased, as PyTorch)
//   evaluation: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
//   backward:   dbeta = sum dy,  dgamma = sum dy * xhat
//               dx = gamma / sqrt(var + eps) * (dy - dbeta / M - xhat * dgamma / M)
// Each plane is summed in sixteen Float lanes and the planes' sums are added in Double: a
// channel of a 96 px batch of 128 holds over a million values, and one Float sum of that many
// drifts in its fourth digit, while a lane of one plane adds at most a few hundred. Channels are
// independent, so the work is split by channel and every result is the same whichever worker
// computed it.

import Foundation

public struct BatchNormGeometry: Sendable, Equatable {
    public let batch: Int, channels: Int, pixels: Int
    public init(batch: Int, channels: Int, pixels: Int) {
        (self.batch, self.channels, self.pixels) = (batch, channels, pixels)
    }

    /// Values per channel.
    public var count: Int { batch * pixels }

    /// body(pointer to image n's plane of channel c) for every image n, in order.
    @inline(__always)
    func forEachPlane(_ c: Int, _ body: (_ offset: Int) -> Void) {
        for n in 0..<batch { body((n * channels + c) * pixels) }
    }
}

/// sum of f(i) over 0..<count, with f(i) a vector of the sixteen values from i: in sixteen
/// lanes, then the tail one value at a time (g(i), the same function on one value).
@inline(__always)
private func laneSum(
    _ count: Int, _ f: (Int) -> SIMD16<Float>, _ g: (Int) -> Float
) -> Double {
    var lanes = SIMD16<Float>.zero
    var i = 0
    while i + 16 <= count {
        lanes += f(i)
        i += 16
    }
    var tail: Float = 0
    while i < count {
        tail += g(i)
        i += 1
    }
    return Double(lanes.sum()) + Double(tail)
}

/// Training forward: y from the batch's statistics, which go to `mean` and `inverseDeviation`
/// (1 / sqrt(var + eps), per channel, for backward); the running statistics are updated.
public func batchNormTrainingForward(
    _ g: BatchNormGeometry, input x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    beta: UnsafePointer<Float>, epsilon: Float, momentum: Float,
    runningMean: UnsafeMutablePointer<Float>, runningVariance: UnsafeMutablePointer<Float>,
    output y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    inverseDeviation: UnsafeMutablePointer<Float>
) {
    precondition(g.count > 1, "batch normalisation needs more than one value per channel in training")
    Parallel.parallelFor(g.channels) { c in
        var sum = 0.0
        g.forEachPlane(c) { offset in
            let plane = x + offset
            sum += laneSum(g.pixels, { loadVector(plane + $0) }, { plane[$0] })
        }
        let mu = sum / Double(g.count)
        var squares = 0.0
        let center = Float(mu)
        g.forEachPlane(c) { offset in
            let plane = x + offset
            squares += laneSum(
                g.pixels,
                {
                    let d = loadVector(plane + $0) - center
                    return d * d
                },
                {
                    let d = plane[$0] - center
                    return d * d
                })
        }
        let variance = squares / Double(g.count)
        let inverse = Float(1 / (variance + Double(epsilon)).squareRoot())
        let scale = gamma[c] * inverse, shift = beta[c] - Float(mu) * scale
        g.forEachPlane(c) { offset in
            for i in 0..<g.pixels { y[offset + i] = x[offset + i] * scale + shift }
        }
        mean[c] = Float(mu)
        inverseDeviation[c] = inverse
        let unbiased = variance * Double(g.count) / Double(g.count - 1)
        runningMean[c] += momentum * (Float(mu) - runningMean[c])
        runningVariance[c] += momentum * (Float(unbiased) - runningVariance[c])
    }
}

/// Evaluation forward: y from the running statistics, one multiply-add per value.
public func batchNormEvaluationForward(
    _ g: BatchNormGeometry, input x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    beta: UnsafePointer<Float>, epsilon: Float, runningMean: UnsafePointer<Float>,
    runningVariance: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>
) {
    Parallel.parallelFor(g.channels) { c in
        let scale = gamma[c] / (runningVariance[c] + epsilon).squareRoot()
        let shift = beta[c] - runningMean[c] * scale
        g.forEachPlane(c) { offset in
            for i in 0..<g.pixels { y[offset + i] = x[offset + i] * scale + shift }
        }
    }
}

/// Backward of the training forward: dx, and dgamma and dbeta added into their gradients.
/// `mean` and `inverseDeviation` are what the forward wrote.
public func batchNormBackward(
    _ g: BatchNormGeometry, input x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>,
    outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
    gammaGradient: UnsafeMutablePointer<Float>, betaGradient: UnsafeMutablePointer<Float>
) {
    Parallel.parallelFor(g.channels) { c in
        let (mu, inverse) = (mean[c], inverseDeviation[c])
        var dySum = 0.0, dyXhatSum = 0.0
        g.forEachPlane(c) { offset in
            let (gradient, plane) = (dy + offset, x + offset)
            dySum += laneSum(g.pixels, { loadVector(gradient + $0) }, { gradient[$0] })
            // sum dy * (x - mean), times 1 / sqrt(var + eps) once at the end.
            dyXhatSum += laneSum(
                g.pixels, { loadVector(gradient + $0) * (loadVector(plane + $0) - mu) },
                { gradient[$0] * (plane[$0] - mu) })
        }
        dyXhatSum *= Double(inverse)
        gammaGradient[c] += Float(dyXhatSum)
        betaGradient[c] += Float(dySum)
        let m = Float(g.count)
        let (meanDy, meanDyXhat) = (Float(dySum) / m, Float(dyXhatSum) / m)
        let scale = gamma[c] * inverse
        g.forEachPlane(c) { offset in
            for i in 0..<g.pixels {
                let xhat = (x[offset + i] - mu) * inverse
                dx[offset + i] = scale * (dy[offset + i] - meanDy - xhat * meanDyXhat)
            }
        }
    }
}
