// IDXFuzz.swift: libFuzzer harness for the IDX reader behind gzip (Gzip.swift, IDXFile.swift).
// Any bytes must end in an IDXFile or a DataError, never a crash, a trap or a huge allocation:
// the byte limit is 64 MB here, so an input that declares more must be refused from its header.
// Built by `make fuzz` with the reader's own sources: swiftc -sanitize=fuzzer,address.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let file = try? IDXFile(gzipped: bytes, path: "fuzz", byteLimit: 64 << 20) {
        // What the reader accepted must be what its header declared.
        precondition(file.bytes.count == file.shape.reduce(1, *), "IDX data and shape disagree")
    }
    return 0
}
