// bench: throughput of our kernels beside the reference libraries, measured in one run.
//
// Absolute speeds on these shared virtual machines swing 2-4x from day to day; the ratio to
// OpenBLAS measured in the same run is the figure to read.

import ArgumentParser
import Kernels
import Notebook


struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "SGEMM GFLOP/s beside OpenBLAS (loaded with dlopen when installed).")

    @Option(help: "Worker threads for both libraries (default: MODERNCNN_THREADS, else all cores).")
    var threads: Int?

    @Option(help: "Timed runs per workload and library; the best is kept.")
    var repeats = 5

    @Flag(help: "Square sizes only (a fast check of the build flags and the microkernel).")
    var quick = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    }

    func run() {
        if let threads { Parallel.setThreadCount(threads) }
        let threads = Parallel.threadCount
        let openBLAS = OpenBLAS.load()
        openBLAS?.setThreads(threads)
        let book = Notebook()
        book.title("ModernCNN benchmarks")
        let peak = PeakProbe.flopsPerSecond(threads: threads)
        book.note("threads: \(threads); FMA peak (probe): \(formatted(peak / 1e9, digits: 1)) GFLOP/s")
        if let openBLAS {
            book.note("reference: OpenBLAS cblas_sgemm from \(openBLAS.path), \(threads) threads")
        } else {
            book.note("reference: OpenBLAS not found; install it to compare (\(OpenBLAS.installHint)).")
        }
        book.note("")

        let shapes = [256, 512, 1024, 2048].map(GemmShape.square) + (quick ? [] : GemmShape.alexNet)
        var table = TextTable(headers: ["SGEMM", "trans", "M", "N", "K", "ours GFLOP/s", "% of peak",
                                        "OpenBLAS GFLOP/s", "ours / OpenBLAS"])
        for shape in shapes {
            let result = benchmarkGemm(shape, threads: threads, repeats: repeats, openBLAS: openBLAS)
            let transposes = (shape.transA ? "T" : "N") + (shape.transB ? "T" : "N")
            table.append([shape.name, transposes, "\(shape.m)", "\(shape.n)", "\(shape.k)",
                          formatted(result.ours, digits: 1), formatted(100 * result.ours / (peak / 1e9), digits: 0),
                          result.openBLAS.map { formatted($0, digits: 1) } ?? "-",
                          result.openBLAS.map { formatted(result.ours / $0, digits: 2) + "x" } ?? "-"])
        }
        book.show(table)
    }
}

Bench.main()
