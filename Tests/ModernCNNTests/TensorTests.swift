// TensorTests.swift: layout, copy-on-write, arithmetic and its shape errors, matmul, random
// initialisation.

import ModernCNN
import Testing

func arange(_ shape: [Int]) throws -> Tensor {
    try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map(Float.init))
}

@Test(
    "strides are row-major",
    arguments: [
        ([Int](), [Int]()), ([5], [1]), ([2, 3], [3, 1]), ([2, 3, 4, 4], [48, 16, 4, 1]),
        ([1, 96, 54, 54], [279936, 2916, 54, 1]),
    ])
func strides(example: ([Int], [Int])) {
    #expect(Tensor(zeros: example.0).strides == example.1)
}

@Test("subscripts read and write the row-major position")
func subscripts() throws {
    var x = try arange([2, 3, 4])
    #expect(x[1, 2, 3] == 23)
    #expect(x.offset(of: [1, 0, 2]) == 14)
    x[0, 1, 1] = -1
    #expect(x.scalars[5] == -1)
}

@Test("copies share storage until one of them writes")
func copyOnWrite() throws {
    let original = try arange([2, 2])
    var copy = original
    copy[0, 0] = 99
    #expect(original[0, 0] == 0)
    #expect(copy[0, 0] == 99)
}

@Test("reshape keeps the elements, infers -1, and rejects impossible shapes")
func reshape() throws {
    let x = try arange([2, 3, 4])
    #expect(try x.reshaped([6, 4]).shape == [6, 4])
    #expect(try x.reshaped([-1]).shape == [24])
    #expect(try x.reshaped([2, -1]).shape == [2, 12])
    #expect(try x.reshaped([4, -1, 2]).scalars == x.scalars)
    #expect(throws: TensorError.invalidReshape(from: [2, 3, 4], to: [5, 5])) { try x.reshaped([5, 5]) }
    #expect(throws: TensorError.invalidReshape(from: [2, 3, 4], to: [-1, -1])) { try x.reshaped([-1, -1]) }
    #expect(throws: TensorError.invalidReshape(from: [2, 3, 4], to: [5, -1])) { try x.reshaped([5, -1]) }
}

@Test("a value count that does not fill the shape is an error")
func valueCountMismatch() {
    #expect(throws: TensorError.valueCount(shape: [2, 2], expected: 4, got: 3)) {
        try Tensor(shape: [2, 2], values: [1, 2, 3])
    }
}

@Test("elementwise arithmetic")
func arithmetic() throws {
    let a = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
    let b = try Tensor(shape: [2, 2], values: [10, 20, 30, 40])
    #expect(try (a + b).scalars == [11, 22, 33, 44])
    #expect(try (b - a).scalars == [9, 18, 27, 36])
    #expect(try (a * b).scalars == [10, 40, 90, 160])
    #expect(try (b / a).scalars == [10, 10, 10, 10])
    #expect((a * 2 + 1).scalars == [3, 5, 7, 9])
    #expect((-a).scalars == [-1, -2, -3, -4])
    #expect(a.sum() == 10)
}

@Test("mismatched shapes throw an error that names both shapes")
func shapeMismatch() throws {
    let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [3, 2])
    do {
        _ = try a + b
        Issue.record("adding [2, 3] and [3, 2] should throw")
    } catch let error as TensorError {
        #expect(error == .shapeMismatch(operation: "+", lhs: [2, 3], rhs: [3, 2]))
        #expect(error.description == "+: shapes [2, 3] and [3, 2] do not match")
    }
    #expect(throws: TensorError.shapeMismatch(operation: "matmul", lhs: [2, 3], rhs: [2, 3])) {
        try a.matmul(a)
    }
    #expect(throws: TensorError.rankMismatch(operation: "matmul", expected: 2, shape: [2, 3, 1])) {
        try Tensor(zeros: [2, 3, 1]).matmul(a)
    }
}

@Test("matmul equals the sum-of-products definition", arguments: [(1, 1, 1), (2, 3, 4), (7, 33, 19), (70, 20, 301)])
func matmul(shape: (Int, Int, Int)) throws {
    let (m, k, n) = shape
    var generator = SeededGenerator(seed: 3)
    let a = Tensor(uniform: [m, k], in: -1...1, generator: &generator)
    let b = Tensor(uniform: [k, n], in: -1...1, generator: &generator)
    let c = try a.matmul(b)
    #expect(c.shape == [m, n])
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k { sum += Double(a[i, p]) * Double(b[p, j]) }
            #expect(abs(Double(c[i, j]) - sum) <= 1e-5 * Double(k).squareRoot() + 1e-6)
        }
    }
}

@Test("transposed swaps rows and columns")
func transposed() throws {
    let x = try arange([2, 3])
    let t = try x.transposed()
    #expect(t.shape == [3, 2])
    #expect(t.scalars == [0, 3, 1, 4, 2, 5])
}

@Test("approximate equality follows numpy's allclose")
func approximateEquality() throws {
    let a = try Tensor(shape: [3], values: [1, 100, -5])
    let nearly = try Tensor(shape: [3], values: [1.000001, 100.0005, -5])
    let far = try Tensor(shape: [3], values: [1.01, 100, -5])
    #expect(a.isApproximatelyEqual(to: nearly))
    #expect(!a.isApproximatelyEqual(to: far))
    #expect(!a.isApproximatelyEqual(to: Tensor(zeros: [1, 3])))
    #expect(abs(try a.maxAbsoluteDifference(from: far) - 0.01) < 1e-6)
}

@Test("random initialisers are reproducible by seed and have the intended scale")
func randomInitialisation() {
    var first = SeededGenerator(seed: 9), second = SeededGenerator(seed: 9), other = SeededGenerator(seed: 10)
    let x = Tensor(xavierUniform: [256, 96, 5, 5], generator: &first)
    #expect(x == Tensor(xavierUniform: [256, 96, 5, 5], generator: &second))
    #expect(x != Tensor(xavierUniform: [256, 96, 5, 5], generator: &other))
    // fanIn = 96*25, fanOut = 256*25: bound sqrt(6 / 8800).
    let bound = (6 / Float(96 * 25 + 256 * 25)).squareRoot()
    let values = x.scalars
    #expect(values.allSatisfy { abs($0) <= bound })
    #expect(values.max()! > 0.99 * bound && values.min()! < -0.99 * bound)
    // U(-a, a) has variance a^2 / 3.
    let variance = values.map { Double($0 * $0) }.reduce(0, +) / Double(values.count)
    #expect(abs(variance - Double(bound * bound) / 3) < 0.01 * Double(bound * bound))

    var generator = SeededGenerator(seed: 1)
    let normal = Tensor(normal: [200_000], mean: 0.5, standardDeviation: 0.01, generator: &generator).scalars
    let mean = normal.map(Double.init).reduce(0, +) / Double(normal.count)
    let std = (normal.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(normal.count))
        .squareRoot()
    #expect(abs(mean - 0.5) < 1e-4)
    #expect(abs(std - 0.01) < 1e-4)
}

@Test("fans of weight shapes follow PyTorch")
func fans() {
    #expect(Tensor.fans(of: [4096, 6400]) == (6400, 4096))
    #expect(Tensor.fans(of: [96, 1, 11, 11]) == (121, 96 * 121))
}

@Test("resident memory: the peak can be reset, and holds at least what is resident now")
func residentMemoryPeak() throws {
    #expect(ResidentMemory.resetPeak())
    let count = 64 << 20  // 256 MB, touched page by page
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    // The tests share this process and run in parallel, so only bounds that other tests cannot
    // break: the buffer is resident while we look, and the peak is at least what is resident.
    let now = try #require(ResidentMemory.current)
    #expect(now >= count * 4 && ResidentMemory.peak >= now)
}
