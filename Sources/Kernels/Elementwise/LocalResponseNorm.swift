// LocalResponseNorm.swift: AlexNet's local response normalisation across channels.
//
//   x, y: [N, C, H, W];  window(c) = channels c - n/2 ... c + (n-1)/2 (clipped), n = size
//   scale[c] = k + (alpha / n) * sum over c' in window(c) of x[c']^2
//   y[c] = x[c] * scale[c]^(-beta)
// This is PyTorch's (and Caffe's) convention: alpha is divided by the window size. The AlexNet
// paper writes the same formula with alpha undivided (alpha = 1e-4, n = 5, k = 2, beta = 0.75), so
// its network in PyTorch terms has alpha = 5e-4; the model code says which it means.
//
// Backward (Caffe's derivation): with t[c] = dy[c] * y[c] / scale[c],
//   dx[i] = dy[i] * scale[i]^(-beta) - (2 * alpha * beta / n) * x[i] * sum over c with i in window(c) of t[c]

import Foundation

public struct LocalResponseNormParameters: Sendable, Hashable {
    public var size: Int, alpha: Float, beta: Float, k: Float
    public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
        precondition(size >= 1, "LRN window size must be at least 1")
        (self.size, self.alpha, self.beta, self.k) = (size, alpha, beta, k)
    }

    /// The channels whose squares enter channel c's scale.
    @inline(__always)
    func window(_ c: Int, channels: Int) -> Range<Int> {
        max(0, c - size / 2)..<min(channels, c + (size - 1) / 2 + 1)
    }

    /// The channels c whose window contains channel i (the mirror image of `window`).
    @inline(__always)
    func windowsContaining(_ i: Int, channels: Int) -> Range<Int> {
        max(0, i - (size - 1) / 2)..<min(channels, i + size / 2 + 1)
    }
}

/// y = LRN(x); scale receives the per-element scale for backward. Planes: [N, C] of H*W pixels.
public func localResponseNormForward(
    _ parameters: LocalResponseNormParameters, batch: Int, channels: Int,
    pixels: Int, input x: UnsafePointer<Float>,
    output y: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>
) {
    let p = parameters
    Parallel.parallelFor(batch) { n in
        let offset = n * channels * pixels
        for c in 0..<channels {
            for i in 0..<pixels {
                var sum: Float = 0
                for c2 in p.window(c, channels: channels) {
                    let v = x[offset + c2 * pixels + i]
                    sum += v * v
                }
                let s = p.k + p.alpha / Float(p.size) * sum
                scale[offset + c * pixels + i] = s
                y[offset + c * pixels + i] = x[offset + c * pixels + i] * pow(s, -p.beta)
            }
        }
    }
}

/// dx from dy, the forward's input x, output y and scale (overwrites dx).
public func localResponseNormBackward(
    _ parameters: LocalResponseNormParameters, batch: Int, channels: Int,
    pixels: Int, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
    scale: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>
) {
    let p = parameters
    let coefficient = 2 * p.alpha * p.beta / Float(p.size)
    Parallel.parallelFor(batch) { n in
        let offset = n * channels * pixels
        for i in 0..<channels {
            for pixel in 0..<pixels {
                var sum: Float = 0
                for c in p.windowsContaining(i, channels: channels) {
                    let index = offset + c * pixels + pixel
                    sum += dy[index] * y[index] / scale[index]
                }
                let index = offset + i * pixels + pixel
                dx[index] = dy[index] * pow(scale[index], -p.beta) - coefficient * x[index] * sum
            }
        }
    }
}
