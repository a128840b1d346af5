// Convolutions.swift: chapter 02's exercises (d2l's, in our words), each a
// function whose doc comment asks the question in our words and whose return value is the
// answer. ExercisesTests checks each against a run of the real layers or kernels.

import Foundation
import Kernels
import ModernCNN
import Notebook

public enum ConvolutionsExercises {
    // MARK: Output shape

    /// An output shape worked out by the formula, and the same convolution actually run.
    public struct OutputShape: Sendable {
        public let byFormula: (height: Int, width: Int)
        public let byRunning: [Int]
    }

    // snippet: convolutions-output-shape
    /// What output does a kernel (3, 5) with padding (0, 1) and stride (3, 4) give on an 8x8
    /// input? By floor((n + 2p - k) / s) + 1 per axis, then by running that convolution.
    public static func outputShape() -> OutputShape {
        let formula = ((8 + 2 * 0 - 3) / 3 + 1, (8 + 2 * 1 - 5) / 4 + 1)
        let g = ConvolutionGeometry(
            batch: 1, inputChannels: 1, inputHeight: 8, inputWidth: 8, outputChannels: 1,
            kernelHeight: 3, kernelWidth: 5, strideHeight: 3, strideWidth: 4,
            paddingHeight: 0, paddingWidth: 1)
        let x = [Float](repeating: 1, count: 64), w = [Float](repeating: 1, count: 15)
        var y = [Float](repeating: 0, count: g.outputPlane)
        convolutionForward(
            g, input: x, weight: w, bias: nil, output: &y,
            workspace: ConvolutionWorkspace(g, workers: 1, passes: ExecutionRules.convolution(g).passes))
        return OutputShape(byFormula: formula, byRunning: [1, 1, g.outputHeight, g.outputWidth])
    }
    // end snippet: convolutions-output-shape

    // MARK: Mirror padding

    // snippet: convolutions-mirror-padding
    /// How would a convolution pad by mirroring the image instead of adding zeros? Reflects
    /// `padding` rows and columns about the edge (the edge itself not repeated, PyTorch's
    /// "reflect"): row -1 is row 1, row H is row H - 2. x: [H, W] -> [H + 2p, W + 2p].
    public static func mirrorPadded(_ x: [Float], height: Int, width: Int, padding p: Int) -> [Float] {
        precondition(p < height && p < width, "mirror padding must be smaller than the image")
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        var out: [Float] = []
        for h in -p..<(height + p) {
            for w in -p..<(width + p) { out.append(x[reflect(h, height) * width + reflect(w, width)]) }
        }
        return out
    }
    // end snippet: convolutions-mirror-padding

    // MARK: Two convolutions in a row

    // snippet: convolutions-combined-kernel
    /// Two stacked convolutions with no nonlinearity between them: are they one convolution,
    /// and of what size? Yes: sliding b over the result of sliding a sums products a[r] b[s]
    /// x[p + r + s], so the single kernel is c[t] = the sum of a[r] b[s] over r + s = t, of size
    /// (ka + kb - 1) per axis. a: [ka, ka], b: [kb, kb] -> c: [ka + kb - 1, ka + kb - 1].
    public static func combinedKernel(_ a: [Float], size ka: Int, _ b: [Float], size kb: Int) -> [Float] {
        let kc = ka + kb - 1
        var c = [Float](repeating: 0, count: kc * kc)
        for r0 in 0..<ka {
            for r1 in 0..<ka {
                for s0 in 0..<kb {
                    for s1 in 0..<kb { c[(r0 + s0) * kc + r1 + s1] += a[r0 * ka + r1] * b[s0 * kb + s1] }
                }
            }
        }
        return c
    }
    // end snippet: convolutions-combined-kernel

    // MARK: Groups

    /// What grouping saved, counted and timed.
    public struct GroupedCost: Sendable {
        public let groups: Int
        public let multiplyAdds: (full: Int, grouped: Int)
        public let seconds: (full: Double, grouped: Double)
    }

    // snippet: convolutions-grouped-cost
    /// Multiplying by a block-diagonal c x c matrix of b blocks, which is what a 1x1 convolution
    /// with b groups does: how much cheaper is it? b times fewer multiply-adds (b blocks of
    /// (c/b)^2 instead of c^2). Counted with the instrumented kernels and timed on one
    /// `channels`-channel layer of `side` x `side` pixels, 3x3.
    public static func groupedCost(channels: Int, groups: Int, side: Int = 28, batch: Int = 8) -> GroupedCost {
        func geometry(_ g: Int) -> ConvolutionGeometry {
            ConvolutionGeometry(
                batch: batch, inputChannels: channels, inputHeight: side, inputWidth: side,
                outputChannels: channels, kernelHeight: 3, kernelWidth: 3, paddingHeight: 1,
                paddingWidth: 1, groups: g)
        }
        func run(_ g: ConvolutionGeometry) -> (Int, Double) {
            var generator = SeededGenerator(seed: 5)
            let x = Array(
                Tensor(uniform: [g.batch * g.inputChannels * g.inputPlane], in: -1...1, generator: &generator).scalars)
            let w = Array(Tensor(uniform: [g.weightCount], in: -1...1, generator: &generator).scalars)
            var y = [Float](repeating: 0, count: g.batch * g.outputChannels * g.outputPlane)
            // im2col for both, so that the count and the time compare one algorithm.
            let workspace = ConvolutionWorkspace(g, algorithm: .im2col)
            let count = MultiplyAddCounter.counting {
                convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
            }
            let seconds = bestTime(repeats: 5) {
                convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
            }
            return (count, seconds)
        }
        let (full, grouped) = (run(geometry(1)), run(geometry(groups)))
        return GroupedCost(groups: groups, multiplyAdds: (full.0, grouped.0), seconds: (full.1, grouped.1))
    }
    // end snippet: convolutions-grouped-cost

    // MARK: im2col for any window

    // snippet: convolutions-im2col-any-window
    /// A convolution of any window, stride and padding as one matrix product: the columns from
    /// im2col, then W[K, C*R*S] x columns[C*R*S, P*Q] by the plain triple loop (no SGEMM), one
    /// image of `g`'s batch at a time. x: [N, C, H, W], w: [K, C, R, S] -> [N, K, P, Q].
    public static func convolutionByIm2col(_ g: ConvolutionGeometry, input x: [Float], weight w: [Float]) -> [Float] {
        precondition(g.groups == 1, "one group: a grouped layer is one such product per group")
        let (rows, columns) = (g.patchLength, g.outputPlane)
        var matrix = [Float](repeating: 0, count: rows * columns)
        var y = [Float](repeating: 0, count: g.batch * g.outputChannels * columns)
        for n in 0..<g.batch {
            x.withUnsafeBufferPointer { image in
                matrix.withUnsafeMutableBufferPointer {
                    im2col(g, image: image.baseAddress! + n * g.inputChannels * g.inputPlane, columns: $0.baseAddress!)
                }
            }
            for k in 0..<g.outputChannels {
                for column in 0..<columns {
                    var sum: Float = 0
                    for row in 0..<rows { sum += w[k * rows + row] * matrix[row * columns + column] }
                    y[(n * g.outputChannels + k) * columns + column] = sum
                }
            }
        }
        return y
    }
    // end snippet: convolutions-im2col-any-window

    // MARK: Pooling

    /// Comparisons of one max pool and multiply-adds of the convolution before it, per image:
    /// a pool does k*k - 1 comparisons per output, with no weights to read.
    public struct PoolingCost: Sendable {
        public let comparisons: Int
        public let convolutionMultiplyAdds: Int
    }

    // snippet: convolutions-pooling-cost
    /// What does a pooling layer cost next to the convolution before it? AlexNet's conv1 and
    /// first max pool (3x3, stride 2), counted per image from their geometry.
    public static func poolingCost() throws -> PoolingCost {
        let model = AlexNet.d2l()
        let conv = model.layers[0] as! Conv2d, pool = model.layers[2] as! MaxPool2d
        let convOutput = try conv.outputShape(for: [1, 1, 224, 224])
        let poolOutput = try pool.outputShape(for: convOutput)
        let convolution = convOutput.reduce(1, *) * conv.inputChannels * conv.kernelSize * conv.kernelSize
        return PoolingCost(
            comparisons: poolOutput.reduce(1, *) * (pool.kernelSize * pool.kernelSize - 1),
            convolutionMultiplyAdds: convolution)
    }
    // end snippet: convolutions-pooling-cost

    // snippet: convolutions-pool-as-convolution
    /// Average pooling is a convolution: each channel convolved on its own (groups = channels)
    /// with a k x k kernel of 1 / k^2, stride as the pool's. This returns that layer.
    public static func averagePoolAsConvolution(channels: Int, window k: Int, stride: Int) throws -> Conv2d {
        var g = SeededGenerator(seed: 0)
        let conv = Conv2d(
            inputChannels: channels, outputChannels: channels, kernelSize: k, stride: stride,
            groups: channels, bias: false, generator: &g)
        conv.weight.value = Tensor(shape: [channels, 1, k, k], repeating: 1 / Float(k * k))
        return conv
    }
    // end snippet: convolutions-pool-as-convolution

    /// Max pooling is not a convolution (a maximum is not a weighted sum), but ReLU builds it:
    /// max(a, b) = b + ReLU(a - b).
    public static func maximum(_ a: Float, _ b: Float) -> Float { b + Swift.max(a - b, 0) }
}

// MARK: Cost of a convolution

extension ConvolutionsExercises {
    /// What one convolution layer costs, per image.
    public struct LayerCost: Sendable {
        public let name: String
        public let geometry: ConvolutionGeometry
        /// Multiply-adds of the forward pass; backward-data and backward-filter do as many each.
        public let forward: Int
        public var training: Int { 3 * forward }
        /// Floats: the input, the output (and their gradients in training), the weights.
        public let inputFloats: Int, outputFloats: Int, weightFloats: Int
    }

    // snippet: convolutions-layer-costs
    /// What does a convolution cost forward and backward, for an input c_i x h x w and a kernel
    /// c_o x c_i x k_h x k_w, and what does doubling the channels or the padding do? Forward is
    /// c_o * P * Q * c_i * k_h * k_w multiply-adds (each output sums one window per input
    /// channel); backward-data and backward-filter are products of the same three sizes, so a
    /// training step costs three times that. Doubling both channel counts quadruples it;
    /// doubling the padding adds rows and columns of output, each as dear as the others.
    public static func layerCosts(
        inputChannels c: Int, side: Int, outputChannels k: Int, kernel r: Int,
        padding p: Int
    ) -> [LayerCost] {
        func cost(_ name: String, _ c: Int, _ k: Int, _ p: Int) -> LayerCost {
            let g = ConvolutionGeometry(
                batch: 1, inputChannels: c, inputHeight: side, inputWidth: side,
                outputChannels: k, kernelHeight: r, kernelWidth: r, paddingHeight: p,
                paddingWidth: p)
            return LayerCost(
                name: name, geometry: g, forward: k * g.outputPlane * c * r * r,
                inputFloats: c * side * side, outputFloats: k * g.outputPlane, weightFloats: k * c * r * r)
        }
        return [
            cost("as given", c, k, p), cost("input channels doubled", 2 * c, k, p),
            cost("both channel counts doubled", 2 * c, 2 * k, p), cost("padding doubled", c, k, 2 * p),
        ]
    }
    // end snippet: convolutions-layer-costs
}

// MARK: Kernels by hand

extension ConvolutionsExercises {
    /// A 2x2 kernel that responds to change along `direction` (v1 across, v2 down) and not at
    /// all across it, so it finds edges orthogonal to that direction: v1 times the horizontal
    /// difference plus v2 times the vertical one, [[-(v1 + v2), v1], [v2, 0]]. On an image that
    /// grows by a per column and b per row it gives v1 * a + v2 * b everywhere.
    public static func edgeDetector(orthogonalTo direction: (Float, Float)) -> [Float] {
        [-(direction.0 + direction.1), direction.0, direction.1, 0]
    }

    // snippet: convolutions-finite-difference
    /// The row kernel of the d-th derivative: the d-th finite difference, the binomial
    /// coefficients with alternating signs, (-1)^(d-k) C(d, k) for k = 0 ... d. The second
    /// derivative is [1, -2, 1]. It needs d + 1 taps: on samples 0 ... d it must give 0 for
    /// 1, x, ..., x^(d-1) and d! for x^d, d + 1 conditions that d taps cannot all meet.
    public static func finiteDifference(order d: Int) -> [Float] {
        var coefficients: [Float] = []
        var binomial = 1
        for k in 0...d {
            coefficients.append(Float((d - k) % 2 == 0 ? binomial : -binomial))
            binomial = binomial * (d - k) / (k + 1)
        }
        return coefficients
    }
    // end snippet: convolutions-finite-difference

    /// A blur: the k x k mean, each weight 1 / k^2.
    public static func blur(size k: Int) -> [Float] { [Float](repeating: 1 / Float(k * k), count: k * k) }
}

// MARK: Edges on a diagonal

extension ConvolutionsExercises {
    /// A picture, and what a difference kernel finds in it three ways. Matrices are row-major.
    public struct DiagonalEdges: Sendable {
        public let side: Int
        /// 1 on and above the diagonal, 0 below: an edge running diagonally.
        public let picture: [Float]
        /// [1, -1] across the picture: side x (side - 1).
        public let horizontal: [Float]
        /// [1, -1] across the transposed picture: side x (side - 1).
        public let transposedPicture: [Float]
        /// The kernel transposed, [1; -1], down the picture: (side - 1) x side.
        public let transposedKernel: [Float]
    }

    // snippet: convolutions-diagonal-edges
    /// What does the edge kernel [1, -1] find in a picture with a diagonal edge; in the
    /// picture transposed; and when the kernel is transposed instead? A diagonal edge is both a
    /// horizontal and a vertical change, so all three find it, along the diagonal. Transposing
    /// the picture moves the edge to the other side of the step (the sign flips: dark-to-light
    /// becomes light-to-dark along the rows), and transposing the kernel gives the transpose of
    /// what the kernel finds in the transposed picture.
    public static func diagonalEdges(side n: Int = 6) -> DiagonalEdges {
        let picture = (0..<(n * n)).map { Float($0 % n >= $0 / n ? 1 : 0) }
        let transposed = (0..<(n * n)).map { picture[($0 % n) * n + $0 / n] }
        func slide(_ x: [Float], kernelHeight: Int, kernelWidth: Int) -> [Float] {
            let g = ConvolutionGeometry(
                batch: 1, inputChannels: 1, inputHeight: n, inputWidth: n, outputChannels: 1,
                kernelHeight: kernelHeight, kernelWidth: kernelWidth)
            var y = [Float](repeating: 0, count: g.outputPlane)
            convolutionForward(
                g, input: x, weight: [1, -1], bias: nil, output: &y,
                workspace: ConvolutionWorkspace(g, workers: 1, passes: ExecutionRules.convolution(g).passes))
            return y
        }
        return DiagonalEdges(
            side: n, picture: picture, horizontal: slide(picture, kernelHeight: 1, kernelWidth: 2),
            transposedPicture: slide(transposed, kernelHeight: 1, kernelWidth: 2),
            transposedKernel: slide(picture, kernelHeight: 2, kernelWidth: 1))
    }
    // end snippet: convolutions-diagonal-edges
}
