// Resize.swift: bilinear resizing of one grey image, for feeding 28x28 Fashion-MNIST to networks
// built for 224x224 (AlexNet, VGG, NiN) or 96x96 (GoogLeNet), as d2l does.
//
// Pixel centres are aligned the way PIL, OpenCV and PyTorch's align_corners=False do it: output
// pixel x samples the input at (x + 0.5) * (inputSize / outputSize) - 0.5, clamped to the image,
// blending the two nearest input pixels along each axis.

/// Writes the outputSize x outputSize bilinear resize of a side x side image of bytes scaled by
/// `scale` (1/255 turns 0...255 into 0...1).
func resizeBilinear(
    _ input: UnsafePointer<UInt8>, side: Int, scale: Float,
    into output: UnsafeMutablePointer<Float>, outputSize: Int
) {
    if outputSize == side {
        for i in 0..<(side * side) { output[i] = Float(input[i]) * scale }
        return
    }
    // Per output column: the two input columns it blends and the weight of the second.
    let columns = (0..<outputSize).map { sampling($0, inputSize: side, outputSize: outputSize) }
    for y in 0..<outputSize {
        let (top, bottom, down) = sampling(y, inputSize: side, outputSize: outputSize)
        let upper = input + top * side, lower = input + bottom * side
        let row = output + y * outputSize
        for x in 0..<outputSize {
            let (left, right, across) = columns[x]
            let a = Float(upper[left]) + across * (Float(upper[right]) - Float(upper[left]))
            let b = Float(lower[left]) + across * (Float(lower[right]) - Float(lower[left]))
            row[x] = (a + down * (b - a)) * scale
        }
    }
}

/// The input pixels (first, second) output position i blends, and the weight of the second.
@inline(__always)
func sampling(_ i: Int, inputSize: Int, outputSize: Int) -> (Int, Int, Float) {
    let source = max(0, (Float(i) + 0.5) * Float(inputSize) / Float(outputSize) - 0.5)
    let first = min(Int(source), inputSize - 1)
    let second = min(first + 1, inputSize - 1)
    return (first, second, source - Float(first))
}
