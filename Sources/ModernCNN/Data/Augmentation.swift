// Augmentation.swift: the AlexNet paper's data augmentation on [N, C, H, W] batches: random
// crops (the paper cut 224x224 patches out of 256x256 images), horizontal flips, and "PCA
// colour" noise, which shifts every pixel of an image along the principal components of the
// training set's RGB values by a random amount (Krizhevsky et al. 2012, section 4.1). All draws
// come from a seeded generator, so an augmented epoch repeats exactly.

/// Random `size` x `size` crops of `images` padded by `padding` zeros on every side (the
/// CIFAR-style crop; with padding 0 and a smaller size, the paper's). [N, C, H, W] -> [N, C, size, size].
public func randomCrops(_ images: Tensor, size: Int, padding: Int, generator: inout SeededGenerator) -> Tensor {
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    precondition(size <= h + 2 * padding && size <= w + 2 * padding, "randomCrops: a \(size) crop does not fit")
    var output = Tensor(zeros: [n, c, size, size])
    images.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            for image in 0..<n {
                // The crop's top-left corner in padded coordinates.
                let top = Int(generator.next() % UInt64(h + 2 * padding - size + 1)) - padding
                let left = Int(generator.next() % UInt64(w + 2 * padding - size + 1)) - padding
                for channel in 0..<c {
                    let source = (image * c + channel) * h * w, target = (image * c + channel) * size * size
                    for row in 0..<size where (0..<h).contains(top + row) {
                        for column in 0..<size where (0..<w).contains(left + column) {
                            y[target + row * size + column] = x[source + (top + row) * w + left + column]
                        }
                    }
                }
            }
        }
    }
    return output
}

/// Mirrors each image left to right with probability `probability`; returns which were flipped.
@discardableResult
public func randomHorizontalFlips(
    _ images: inout Tensor, probability: Double = 0.5,
    generator: inout SeededGenerator
) -> [Bool] {
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let flips = (0..<n).map { _ in Double(generator.next() >> 11) / Double(1 << 53) < probability }
    images.withUnsafeMutableBufferPointer { x in
        for image in 0..<n where flips[image] {
            for row in 0..<(c * h) {
                let start = (image * c * h + row) * w
                for column in 0..<(w / 2) { x.swapAt(start + column, start + w - 1 - column) }
            }
        }
    }
    return flips
}

/// The paper's colour augmentation: the eigenvectors p_i and eigenvalues lambda_i of the 3x3
/// covariance of RGB pixel values over the training set; each image gets
/// sum_i alpha_i * lambda_i * p_i added to every pixel, alpha_i ~ N(0, 0.1) drawn per image.
public struct PCAColorAugmentation: Sendable {
    /// Eigenvalues, largest first, and the unit eigenvectors that go with them.
    public let eigenvalues: [Float]
    public let eigenvectors: [[Float]]
    public let standardDeviation: Float

    /// Principal components of the pixels of `images` ([N, 3, H, W]).
    public init(fittingPixelsOf images: Tensor, standardDeviation: Float = 0.1) {
        precondition(images.shape.count == 4 && images.shape[1] == 3, "PCA colour needs [N, 3, H, W] images")
        let (n, plane) = (images.shape[0], images.shape[2] * images.shape[3])
        var mean = [Double](repeating: 0, count: 3)
        var covariance = [[Double]](repeating: [0, 0, 0], count: 3)
        images.withUnsafeBufferPointer { x in
            for image in 0..<n {
                for i in 0..<plane {
                    let rgb = (0..<3).map { Double(x[(image * 3 + $0) * plane + i]) }
                    for a in 0..<3 {
                        mean[a] += rgb[a]
                        for b in 0..<3 { covariance[a][b] += rgb[a] * rgb[b] }
                    }
                }
            }
        }
        let count = Double(n * plane)
        for a in 0..<3 { mean[a] /= count }
        for a in 0..<3 { for b in 0..<3 { covariance[a][b] = covariance[a][b] / count - mean[a] * mean[b] } }
        let (values, vectors) = symmetricEigen3(covariance)
        eigenvalues = values.map(Float.init)
        eigenvectors = vectors.map { $0.map(Float.init) }
        self.standardDeviation = standardDeviation
    }

    /// Adds each image's random colour shift in place; returns the shifts ([N] x RGB).
    @discardableResult
    public func apply(to images: inout Tensor, generator: inout SeededGenerator) -> [[Float]] {
        let (n, plane) = (images.shape[0], images.shape[2] * images.shape[3])
        var shifts: [[Float]] = []
        images.withUnsafeMutableBufferPointer { x in
            for image in 0..<n {
                let alphas = (0..<3).map { _ in generator.nextNormal() * standardDeviation }
                let shift = (0..<3).map { channel in
                    (0..<3).reduce(Float(0)) { $0 + alphas[$1] * eigenvalues[$1] * eigenvectors[$1][channel] }
                }
                for channel in 0..<3 {
                    let start = (image * 3 + channel) * plane
                    for i in start..<(start + plane) { x[i] += shift[channel] }
                }
                shifts.append(shift)
            }
        }
        return shifts
    }
}

/// Eigenvalues (largest first) and unit eigenvectors of a symmetric 3x3 matrix, by Jacobi
/// rotations: each step zeroes the largest off-diagonal entry; a handful of sweeps converge.
func symmetricEigen3(_ matrix: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
    var a = matrix
    var v: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    for _ in 0..<50 {
        var (p, q, largest) = (0, 1, 0.0)
        for i in 0..<3 { for j in (i + 1)..<3 where abs(a[i][j]) > largest { (p, q, largest) = (i, j, abs(a[i][j])) } }
        if largest < 1e-15 { break }
        let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
        let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
        let (cosine, sine) = (1 / (t * t + 1).squareRoot(), t / (t * t + 1).squareRoot())
        for k in 0..<3 {  // a = J^T a J, v = v J
            let (akp, akq) = (a[k][p], a[k][q])
            a[k][p] = cosine * akp - sine * akq
            a[k][q] = sine * akp + cosine * akq
        }
        for k in 0..<3 {
            let (apk, aqk) = (a[p][k], a[q][k])
            a[p][k] = cosine * apk - sine * aqk
            a[q][k] = sine * apk + cosine * aqk
        }
        for k in 0..<3 {
            let (vkp, vkq) = (v[k][p], v[k][q])
            v[k][p] = cosine * vkp - sine * vkq
            v[k][q] = sine * vkp + cosine * vkq
        }
    }
    let order = (0..<3).sorted { a[$0][$0] > a[$1][$1] }
    return (order.map { a[$0][$0] }, order.map { column in (0..<3).map { v[$0][column] } })
}

/// Grey [N, 1, H, W] images as RGB [N, 3, H, W] (the channel copied three times), which is how
/// Fashion-MNIST meets a network built for colour, such as the paper's AlexNet.
public func replicatedToRGB(_ images: Tensor) -> Tensor {
    let (n, plane) = (images.shape[0], images.shape[2] * images.shape[3])
    var output = Tensor(zeros: [n, 3, images.shape[2], images.shape[3]])
    images.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            for image in 0..<n {
                for channel in 0..<3 {
                    (y.baseAddress! + (image * 3 + channel) * plane).update(
                        from: x.baseAddress! + image * plane, count: plane)
                }
            }
        }
    }
    return output
}
