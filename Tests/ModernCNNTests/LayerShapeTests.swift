// LayerShapeTests.swift: shape inference against the published traces and parameter counts, and
// errors that name the layer and both shapes before any compute.

import Testing

@testable import ModernCNN

/// The shape after each layer, for an input shape.
func trace(_ network: Sequential, _ input: [Int]) throws -> [[Int]] {
    var shape = input
    return try network.layers.map { layer in
        shape = try layer.outputShape(for: shape)
        return shape
    }
}

@Test("LeNet: 61,706 parameters and d2l's shape trace")
func lenetShapes() throws {
    let lenet = LeNet.d2l()
    #expect(lenet.parameterCount == 61_706)
    #expect(LeNet.modern().parameterCount == 61_706)
    #expect(try trace(LeNet.modern(), [1, 1, 28, 28]) == trace(lenet, [1, 1, 28, 28]))
    #expect(
        try trace(lenet, [1, 1, 28, 28]) == [
            [1, 6, 28, 28], [1, 6, 28, 28], [1, 6, 14, 14], [1, 16, 10, 10], [1, 16, 10, 10], [1, 16, 5, 5],
            [1, 400], [1, 120], [1, 120], [1, 84], [1, 84], [1, 10],
        ])
    // And forward computes what shape inference promised.
    var g = SeededGenerator(seed: 1)
    #expect(
        try lenet.forward(Tensor(uniform: [3, 1, 28, 28], in: 0...1, generator: &g), training: false).shape == [3, 10])
}

@Test("AlexNet (d2l): 46,764,746 parameters and the published shape trace")
func alexnetShapes() throws {
    let alexnet = AlexNet.d2l()
    #expect(alexnet.parameterCount == 46_764_746)
    let shapes = try trace(alexnet, [1, 1, 224, 224])
    #expect(shapes[0] == [1, 96, 54, 54] && shapes[2] == [1, 96, 26, 26] && shapes[3] == [1, 256, 26, 26])
    #expect(shapes[5] == [1, 256, 12, 12] && shapes[6] == [1, 384, 12, 12] && shapes[8] == [1, 384, 12, 12])
    #expect(shapes[10] == [1, 256, 12, 12] && shapes[12] == [1, 256, 5, 5] && shapes[13] == [1, 6400])
    #expect(shapes[14] == [1, 4096] && shapes.last == [1, 10])
}

@Test("a wrong input size fails in shape inference, naming the layer and the shapes")
func shapeErrors() throws {
    var g = SeededGenerator(seed: 0)
    let fc = Linear(inputFeatures: 6400, outputFeatures: 4096, generator: &g)
    #expect(throws: ShapeError.self) { try fc.outputShape(for: [1, 9216]) }
    do {
        _ = try fc.forward(Tensor(zeros: [1, 9216]), training: false)
    } catch let error as ShapeError {
        #expect(error.description.contains("Linear(6400 -> 4096)"))
        #expect(error.description.contains("[1, 9216]"))
        #expect(error.description.contains("got 9216 features for 6400"))
    }
    let conv = Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 5, generator: &g)
    #expect(throws: ShapeError.self) { try conv.outputShape(for: [1, 1, 28, 28]) }  // wrong channel count
    #expect(throws: ShapeError.self) { try conv.outputShape(for: [1, 3, 4, 4]) }  // kernel larger than image
    #expect(throws: ShapeError.self) { try MaxPool2d(kernelSize: 3).outputShape(for: [1, 3, 2, 2]) }
    // LeNet on a 32x32 image: the flattened features no longer match the first Linear.
    #expect(throws: ShapeError.self) { try LeNet.d2l().outputShape(for: [1, 1, 32, 32]) }
}
