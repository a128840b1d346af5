// SafeTensorsFuzz.swift: libFuzzer harness for the safetensors header parser
// (SafeTensorsHeader.swift). Any bytes must end in a header or a CheckpointError; a header that
// parses must describe tensors that lie inside the file, fit their shapes, and do not overlap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let file = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? SafeTensorsHeader(file: file, path: "fuzz") else { return 0 }
    var end = 0
    for entry in header.entries {
        precondition(entry.bytes.lowerBound >= end, "tensors overlap")
        precondition(header.dataStart + entry.bytes.upperBound <= size, "a tensor lies outside the file")
        precondition(float32Bytes(entry.shape) == entry.bytes.count, "shape and bytes disagree")
        end = entry.bytes.upperBound
    }
    return 0
}
