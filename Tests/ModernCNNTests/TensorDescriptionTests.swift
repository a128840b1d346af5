// TensorDescriptionTests.swift: tensors print the way PyTorch prints them (checked against
// PyTorch 2.x's output for the same values).

import ModernCNN
import Testing

@Test("integer-valued matrix")
func integerMatrix() throws {
    #expect(
        try arange([2, 3]).description == """
            tensor([[0., 1., 2.],
                    [3., 4., 5.]])
            """)
}

@Test("fixed-point values share one width, signs aligned")
func fixedPoint() throws {
    let x = try Tensor(shape: [2, 3], values: [0.3367, 0.1288, 0.2345, 0.2303, -1.1229, -0.1863])
    #expect(
        x.description == """
            tensor([[ 0.3367,  0.1288,  0.2345],
                    [ 0.2303, -1.1229, -0.1863]])
            """)
}

@Test("rank 3 separates matrices with a blank line")
func rankThree() throws {
    #expect(
        try arange([2, 2, 2]).description == """
            tensor([[[0., 1.],
                     [2., 3.]],

                    [[4., 5.],
                     [6., 7.]]])
            """)
}

@Test("vectors, scalars and empty tensors")
func smallShapes() throws {
    #expect(try Tensor(shape: [3], values: [1, 2.5, -3]).description == "tensor([ 1.0000,  2.5000, -3.0000])")
    #expect(try Tensor(shape: [], values: [7]).description == "tensor(7.)")
    #expect(Tensor(zeros: [0, 3]).description == "tensor([], shape: [0, 3])")
}

@Test("values spanning many orders of magnitude switch to scientific notation")
func scientific() throws {
    #expect(try Tensor(shape: [2], values: [1e-5, 1]).description == "tensor([1.0000e-05, 1.0000e+00])")
}

@Test("more than 1000 elements are summarised with three items at each edge")
func summarised() throws {
    let x = try arange([1000, 1000])
    let lines = x.description.split(separator: "\n")
    #expect(lines.count == 7)  // three rows, "...", three rows
    #expect(lines[0] == "tensor([[     0.,      1.,      2.,  ...,    997.,    998.,    999.],")
    #expect(lines[3] == "        ...,")
    #expect(lines[6] == "        [999000., 999001., 999002.,  ..., 999997., 999998., 999999.]])")
}

@Test("long rows wrap at 80 columns")
func wrapping() throws {
    let x = try Tensor(shape: [20], values: (0..<20).map { Float($0) + 0.5 })
    let lines = x.description.split(separator: "\n")
    #expect(lines.count > 1)
    #expect(lines.allSatisfy { $0.count <= 80 })
    #expect(lines[1].hasPrefix("        "))
}
