// AugmentationTests.swift: the paper's augmentations against direct loops and known answers:
// crops and flips move pixels where a naive loop puts them, shapes and value ranges are kept,
// and the PCA colour noise uses the true principal components.

import Testing

@testable import ModernCNN

@Test("random crops equal cutting the zero-padded image by hand, at the drawn corners")
func cropsMatchNaiveLoop() {
    var g = SeededGenerator(seed: 3)
    let (n, c, h, w, size, padding) = (3, 2, 7, 5, 6, 2)
    let images = Tensor(uniform: [n, c, h, w], in: 0...1, generator: &g)
    var draw = SeededGenerator(seed: 11), replay = SeededGenerator(seed: 11)
    let crops = randomCrops(images, size: size, padding: padding, generator: &draw)
    #expect(crops.shape == [n, c, size, size])
    let x = images.scalars, y = crops.scalars
    for image in 0..<n {
        let top = Int(replay.next() % UInt64(h + 2 * padding - size + 1)) - padding
        let left = Int(replay.next() % UInt64(w + 2 * padding - size + 1)) - padding
        for channel in 0..<c {
            for row in 0..<size {
                for column in 0..<size {
                    let (sr, sc) = (top + row, left + column)
                    let expected =
                        (0..<h).contains(sr) && (0..<w).contains(sc) ? x[((image * c + channel) * h + sr) * w + sc] : 0
                    #expect(y[((image * c + channel) * size + row) * size + column] == expected)
                }
            }
        }
    }
}

@Test("flips mirror exactly the images they report, and keep the values")
func flipsMirrorRows() {
    var g = SeededGenerator(seed: 5)
    let original = Tensor(uniform: [8, 3, 4, 5], in: 0...1, generator: &g)
    var flipped = original
    var draw = SeededGenerator(seed: 9)
    let flips = randomHorizontalFlips(&flipped, probability: 0.5, generator: &draw)
    #expect(flips.contains(true) && flips.contains(false))
    let (x, y) = (original.scalars, flipped.scalars)
    for image in 0..<8 {
        for row in 0..<(3 * 4) {
            for column in 0..<5 {
                let base = (image * 12 + row) * 5
                #expect(y[base + column] == x[base + (flips[image] ? 4 - column : column)])
            }
        }
    }
    #expect(x.sorted() == y.sorted())
}

@Test("the 3x3 eigen-decomposition reconstructs its matrix with orthonormal vectors")
func eigenDecomposition() {
    let matrix: [[Double]] = [[4, 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 1]]
    let (values, vectors) = symmetricEigen3(matrix)
    #expect(values[0] >= values[1] && values[1] >= values[2])
    for a in 0..<3 {
        for b in 0..<3 {
            let rebuilt = (0..<3).reduce(0.0) { $0 + values[$1] * vectors[$1][a] * vectors[$1][b] }
            #expect(abs(rebuilt - matrix[a][b]) < 1e-9)
            let dot = (0..<3).reduce(0.0) { $0 + vectors[a][$1] * vectors[b][$1] }
            #expect(abs(dot - (a == b ? 1 : 0)) < 1e-9)
        }
    }
}

@Test("PCA colour on grey images: one component along (1,1,1), an equal shift per channel")
func pcaColourOnGrey() {
    var g = SeededGenerator(seed: 7)
    let grey = Tensor(uniform: [6, 1, 5, 5], in: 0...1, generator: &g)
    let rgb = replicatedToRGB(grey)
    #expect(rgb.shape == [6, 3, 5, 5])
    let pca = PCAColorAugmentation(fittingPixelsOf: rgb)
    #expect(pca.eigenvalues[0] > 0 && abs(pca.eigenvalues[1]) < 1e-6 && abs(pca.eigenvalues[2]) < 1e-6)
    #expect(pca.eigenvectors[0].allSatisfy { abs(abs($0) - 1 / Float(3).squareRoot()) < 1e-5 })
    var shifted = rgb
    var draw = SeededGenerator(seed: 1)
    let shifts = pca.apply(to: &shifted, generator: &draw)
    #expect(shifted.shape == rgb.shape && shifts.count == 6)
    let (before, after) = (rgb.scalars, shifted.scalars)
    for image in 0..<6 {
        #expect(abs(shifts[image][0] - shifts[image][1]) < 1e-6 && abs(shifts[image][1] - shifts[image][2]) < 1e-6)
        for channel in 0..<3 {
            for i in 0..<25 {
                let index = (image * 3 + channel) * 25 + i
                #expect(abs(after[index] - before[index] - shifts[image][channel]) < 1e-6)
            }
        }
    }
}
