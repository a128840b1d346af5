// OpenBLAS.swift: the reference SGEMM, loaded at run time with dlopen so that building and
// testing ModernCNN never needs it. Debian's libopenblas0-pthread provides it.

import Foundation

struct OpenBLAS {
    static let installHint = "apt-get install libopenblas0-pthread"
    static let libraryNames = ["libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.21.so"]

    /// cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    typealias Sgemm =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
            UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32
        ) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?

    let sgemmFunction: Sgemm
    let setThreadsFunction: SetThreads?
    let coreNameFunction: CoreName?
    let path: String

    /// The name of the first OpenBLAS the loader can find, without keeping it loaded (its
    /// threads start only on first use, but the bench keeps even the library out of our process).
    static var available: String? {
        for name in libraryNames {
            guard let handle = dlopen(name, RTLD_LAZY) else { continue }
            dlclose(handle)
            return name
        }
        return nil
    }

    /// The first OpenBLAS found on the loader's path, or nil.
    static func load() -> OpenBLAS? {
        for name in libraryNames {
            guard let handle = dlopen(name, RTLD_NOW), let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
            let coreName = dlsym(handle, "openblas_get_corename").map { unsafeBitCast($0, to: CoreName.self) }
            return OpenBLAS(
                sgemmFunction: unsafeBitCast(symbol, to: Sgemm.self),
                setThreadsFunction: setThreads, coreNameFunction: coreName, path: name)
        }
        return nil
    }

    func setThreads(_ count: Int) { setThreadsFunction?(Int32(count)) }

    /// The kernel set this OpenBLAS picked for the processor at load time ("Haswell",
    /// "SkylakeX", ...), or nil when the library does not say. A DYNAMIC_ARCH build picks by
    /// CPUID, and one that does not know a processor falls back to an older set.
    var coreName: String? { coreNameFunction?().map { String(cString: $0) } }

    /// Whether `core` names one of OpenBLAS's kernel sets with an AVX-512 SGEMM.
    static func usesAVX512(core: String) -> Bool {
        ["skylakex", "cooperlake", "sapphirerapids"].contains(core.lowercased())
    }

    /// Row-major C := alpha * op(A) * op(B) + beta * C, in the same argument order as our `sgemm`.
    func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        sgemmFunction(
            rowMajor, transA ? trans : noTrans, transB ? trans : noTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
