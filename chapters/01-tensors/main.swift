// Chapter 01: tensors, their memory layout, and the matmul ladder.
//
// Everything later in the book is a tensor going through a matrix product, so this chapter
// looks at both closely: what a tensor is in memory, then six ways to multiply two matrices,
// each measured against this machine's own peak.

import ArgumentParser
import Exercises
import Foundation
import Kernels
import ModernCNN
import Notebook

struct TensorsChapter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensors",
        abstract: "Chapter 01: tensors, strides and the NCHW layout, and the matmul ladder.")

    @OptionGroup var options: ChapterOptions

    @Option(help: "Side of the square matrices in the matmul ladder.")
    var size = 512

    @Option(help: "Timed runs per rung; the best is reported.")
    var repeats = 3

    @Flag(help: "Larger matrices (1024): slower, closer to the sizes convolutions produce.")
    var full = false

    func validate() throws {
        if size < 1 { throw ValidationError("--size must be at least 1, got \(size)") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    func run() throws {
        options.applyThreads()
        let n = full ? max(size, 1024) : size
        // A, B, the reference product, the rung's product and the packed panels: about five n x n
        // matrices, checked before the first is allocated.
        try MemoryBudget.require(
            float32Bytes([5, n, n]), for: "the matmul ladder at --size \(n)",
            fix: "choose a smaller --size (the default is 512)")
        let folder = try options.outputDirectory(chapter: "01-tensors")
        let book = Notebook()
        book.title("Chapter 01 · Tensors and the matmul ladder")
        try tensorsInMemory(book)
        try arithmetic(book)
        let ladder = matmulLadder(book, size: n)
        exercises(book, ladder, size: n)
        summary(book, ladder)
        try book.page.write(to: folder, chapter: "01-tensors")
    }

    // MARK: 1.1 to 1.3: what a tensor is

    func tensorsInMemory(_ book: Notebook) throws {
        book.section("1.1 A tensor is a shape over a flat run of numbers")
        book.say(
            """
            A tensor is an n-dimensional array: a list of sizes, its shape, laid over one \
            contiguous run of 32-bit floats. A vector has one dimension, a matrix two, and a \
            batch of images four: [N, C, H, W] for N images of C channels, H rows and W columns. \
            Here are six numbers seen as a 2 x 3 matrix.
            """)
        let matrix = try Tensor(shape: [2, 3], values: (0..<6).map(Float.init))
        book.show("\(matrix)")
        book.say(
            """
            The floats sit in row-major order: the last index moves fastest. To find element \
            (i, j) we step i rows of 3 floats and then j floats, so the strides are [3, 1] and \
            the element lives at i*3 + j.
            """)
        book.show(
            "shape \(matrix.shape), strides \(matrix.strides); x[1, 2] is at offset "
                + "\(matrix.offset(of: [1, 2])) and holds \(matrix[1, 2])")

        book.section("1.2 NCHW: how a batch of images is laid out")
        book.say(
            """
            Every image batch in this book is NCHW. One channel of one image is an H x W plane \
            of adjacent floats; the C planes of an image follow one another, then the next \
            image. A convolution reads small windows of one plane at a time, so keeping planes \
            contiguous keeps its reads local. The strides of a batch of two 3-channel 4 x 4 \
            images say exactly that: one step along W is 1 float, along H a row of 4, along C a \
            plane of 16, along N an image of 48.
            """)
        let batch = Tensor(zeros: [2, 3, 4, 4])
        let pixel = [1, 2, 3, 1]
        let terms = zip(pixel, batch.strides).map { "\($0)*\($1)" }.joined(separator: " + ")
        book.show(
            "shape \(batch.shape), strides \(batch.strides); pixel (n, c, h, w) = \(pixel) is at "
                + "\(terms) = \(batch.offset(of: pixel))")
        book.say(
            """
            Reshaping changes the shape, not the floats: the 2 x 3 matrix viewed as 3 x 2, or \
            flattened with -1 standing for "whatever size makes the count match". This is how \
            AlexNet hands its last feature map of 256 x 5 x 5 to a fully connected layer as a \
            vector of 6,400.
            """)
        book.show("\(try matrix.reshaped([3, 2]))\n\(try matrix.reshaped([-1]))")
        let features = try Tensor(zeros: [1, 256, 5, 5]).reshaped([1, -1])
        book.show("[1, 256, 5, 5] flattened: \(features.shape)")
    }

    func arithmetic(_ book: Notebook) throws {
        book.section("1.3 Arithmetic, random initialisation, and shape errors")
        book.say(
            """
            Elementwise operations need equal shapes. We do not broadcast silently: when shapes \
            disagree the operation throws an error that names both, which is how most bugs in a \
            network first show themselves.
            """)
        var generator = SeededGenerator(seed: options.seed)
        let weights = Tensor(xavierUniform: [4, 6], generator: &generator)
        let inputs = Tensor(uniform: [6, 3], in: -1...1, generator: &generator)
        book.show(
            "weights (Xavier uniform, bound sqrt(6 / (6 + 4)) = "
                + "\(formatted((6.0 / 10).squareRoot(), digits: 4))):\n\(weights)")
        book.show("weights.matmul(inputs), [4, 6] x [6, 3] -> [4, 3]:\n\(try weights.matmul(inputs))")
        do {
            _ = try weights + inputs
        } catch {
            book.show("try weights + inputs  ->  error: \(error)")
        }
        book.say(
            """
            Large tensors print like PyTorch's: three items at each edge of each dimension and \
            an ellipsis between, so a 1000 x 1000 matrix fits on a screen.
            """)
        book.show("\(Tensor(normal: [1000, 1000], standardDeviation: 0.01, generator: &generator))")
    }

    // MARK: 1.4: the matmul ladder

    struct Rung {
        let name: String
        let change: String
        let threads: Int
        let run: (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    }

    /// What the ladder measured, for the summary.
    struct LadderResult {
        let firstGflops: Double
        let lastGflops: Double
        let lastPercentOfPeak: Double
        /// Each rung's % of the peak, by its number ("1" ... "6").
        let percentOfPeak: [String: Double]
    }

    func matmulLadder(_ book: Notebook, size n: Int) -> LadderResult {
        let threads = Parallel.threadCount
        book.section("1.4 The matmul ladder")
        book.say(
            """
            Convolutions, linear layers and their gradients all end up as matrix products, so \
            the speed of this book's networks is the speed of one function: C = A x B. We climb \
            from the textbook definition to the kernel the rest of the book uses, one change at a \
            time, on the same two \(n) x \(n) matrices. Each rung is checked against the first \
            one's result.
            """)
        book.say(
            """
            First, the ceiling. A short probe runs fused multiply-adds on registers only, never \
            touching memory, on one core and then on all of them. A matrix product does the same \
            multiply-adds and must also load and store, so it should not beat it. The probe runs \
            before and after the ladder, and the higher reading counts: on a shared virtual \
            machine a core can stall for a moment, and a stalled probe would flatter us.
            """)
        var peakOne = PeakProbe.flopsPerSecond(threads: 1)
        var peakAll = PeakProbe.flopsPerSecond(threads: threads)

        var generator = SeededGenerator(seed: options.seed)
        let a = Tensor(uniform: [n, n], in: -1...1, generator: &generator)
        let b = Tensor(uniform: [n, n], in: -1...1, generator: &generator)
        let rungs = [
            Rung(name: "1 naive i-j-k", change: "the definition", threads: 1) {
                MatmulLadder.naive(m: $0, n: $0, k: $0, a: $1, b: $2, c: $3)
            },
            Rung(name: "2 loop order i-k-j", change: "rows of B, not columns", threads: 1) {
                MatmulLadder.reordered(m: $0, n: $0, k: $0, a: $1, b: $2, c: $3)
            },
            Rung(name: "3 cache blocking", change: "tiles that stay in L2", threads: 1) {
                MatmulLadder.blocked(m: $0, n: $0, k: $0, a: $1, b: $2, c: $3)
            },
            Rung(name: "4 SIMD registers", change: "4x16 tile of C in registers", threads: 1) {
                MatmulLadder.simd(m: $0, n: $0, k: $0, a: $1, b: $2, c: $3)
            },
            Rung(
                name: "5 packing + microkernel",
                change: "BLIS: packed panels, \(GemmBlocking.mr)x\(GemmBlocking.nr) kernel", threads: 1
            ) {
                MatmulLadder.packed(m: $0, n: $0, k: $0, a: $1, b: $2, c: $3, threads: 1)
            },
            Rung(name: "6 threads", change: "C split over \(threads) workers", threads: threads) {
                MatmulLadder.packed(m: $0, n: $0, k: $0, a: $1, b: $2, c: $3, threads: threads)
            },
        ]
        let flops = 2 * Double(n) * Double(n) * Double(n)
        var reference = Tensor(zeros: [n, n])
        var table = TextTable(
            headers: [
                "rung", "what changed", "ms", "GFLOP/s", "% of peak", "speed-up",
                "max |diff|",
            ],
            alignments: [.left, .left, .right, .right, .right, .right, .right])
        // Time every rung first, then judge them against the best peak seen before or after: a
        // burst of load on this shared machine during one probe must not make a rung look >100%.
        var measured: [(rung: Rung, seconds: Double, difference: Float)] = []
        var firstTime = 0.0
        for rung in rungs {
            var c = Tensor(zeros: [n, n])
            // The naive rung is slow enough that one run is already a stable measurement.
            let repeats = rung.name.hasPrefix("1") ? 1 : self.repeats
            let seconds = a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        bestTime(repeats: repeats, warmUp: repeats > 1) {
                            rung.run(n, ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                        }
                    }
                }
            }
            if firstTime == 0 {
                firstTime = seconds
                reference = c
            }
            measured.append((rung, seconds, (try? c.maxAbsoluteDifference(from: reference)) ?? .nan))
        }
        peakOne = max(peakOne, PeakProbe.flopsPerSecond(threads: 1))
        peakAll = max(peakAll, PeakProbe.flopsPerSecond(threads: threads))
        book.show(
            "peak: \(formatted(peakOne / 1e9, digits: 1)) GFLOP/s on 1 core, "
                + "\(formatted(peakAll / 1e9, digits: 1)) GFLOP/s on \(threads) threads")
        for (rung, seconds, difference) in measured {
            let peak = rung.threads == 1 ? peakOne : peakAll
            table.append([
                rung.name, rung.change, formatted(seconds * 1e3, digits: 1),
                formatted(flops / seconds / 1e9, digits: 1),
                formatted(100 * flops / seconds / peak, digits: 1),
                formatted(firstTime / seconds, digits: 1) + "x",
                String(format: "%.1e", difference),
            ])
        }
        book.show(table)
        book.say(
            peakVerdict(
                measured.map {
                    (rung: $0.rung.name, percent: 100 * flops / $0.seconds / ($0.rung.threads == 1 ? peakOne : peakAll))
                }))
        showRungs(book)
        let gflops = measured.map { flops / $0.seconds / 1e9 }
        book.aside("why each rung moves, in bytes per multiply-add") {
            explainLadder(book, size: n, reorderedGflops: gflops[1], blockedGflops: gflops[2])
        }
        let lastTime = measured.last!.seconds
        var percents: [String: Double] = [:]
        for (rung, seconds, _) in measured {
            percents[String(rung.name.prefix(1))] = 100 * flops / seconds / (rung.threads == 1 ? peakOne : peakAll)
        }
        return LadderResult(
            firstGflops: flops / firstTime / 1e9, lastGflops: flops / lastTime / 1e9,
            lastPercentOfPeak: 100 * flops / lastTime / peakAll, percentOfPeak: percents)
    }

    /// What the % of peak column says: either every rung stayed under the probe, or the probe
    /// read low in this run (a product cannot truly beat it), and by how much.
    func peakVerdict(_ rows: [(rung: String, percent: Double)]) -> String {
        let best = rows.max { $0.percent < $1.percent }!
        if best.percent <= 100 {
            return "Every rung stayed under the probe's peak; the closest, rung \(best.rung), reached "
                + "\(formatted(best.percent, digits: 1))% of it."
        }
        let over = rows.filter { $0.percent > 100 }.map { "\($0.rung) (\(formatted($0.percent, digits: 1))%)" }
        return "Rung \(over.joined(separator: ", rung ")) measured above the probe's peak. A product cannot "
            + "truly beat the probe, so in this run the probe read low (a core stalled during both of its "
            + "readings): the % column is inflated by at least \(formatted(best.percent - 100, digits: 1)) "
            + "points, while the times and the speed-ups between rungs stand. Run the chapter again for a "
            + "cleaner reading."
    }

    /// The rungs' code, each from the file that chapter 01 times.
    func showRungs(_ book: Notebook) {
        book.say(
            """
            The first four rungs, as they are in the library. Each differs from the one before in \
            one thing: the order of the loops, then tiles of B that stay in a cache, then a tile \
            of C held in four 16-float registers.
            """)
        book.code("rung-naive", from: "Sources/Kernels/Gemm/MatmulLadder.swift")
        book.code("rung-reordered", from: "Sources/Kernels/Gemm/MatmulLadder.swift")
        book.code("rung-blocked", from: "Sources/Kernels/Gemm/MatmulLadder.swift")
        book.code("rung-simd", from: "Sources/Kernels/Gemm/MatmulLadder.swift")
        book.say(
            """
            Rungs 5 and 6 call the library's `sgemm`, which packs A and B into panels and hands \
            each pair of panels to a microkernel. This is the AVX2 one (6 x 16); the AVX-512 one \
            is the same loop on a 12 x 32 tile. Every step is one row of B times six broadcast \
            values of A, added into six accumulators that stay in registers for the whole loop:
            """)
        book.code("microkernel", from: "Sources/Kernels/Gemm/GemmMicrokernel.swift")
    }

    func explainLadder(_ book: Notebook, size n: Int, reorderedGflops: Double, blockedGflops: Double) {
        let change = blockedGflops / reorderedGflops
        let blockingVerdict =
            change >= 1.1
            ? "it ran \(formatted(change, digits: 1))x faster than the previous rung"
            : "it ran at \(formatted(blockedGflops, digits: 1)) GFLOP/s against "
                + "\(formatted(reorderedGflops, digits: 1)): no gain, because B already came from a cache "
                + "and the shorter inner loops cost more loop overhead"
        let lineFloats = 16  // a 64-byte cache line holds 16 floats
        let blockedB = MatmulLadder.blockedTile.k * MatmulLadder.blockedTile.n * 4
        let traffic = TensorsExercises.trafficPerMultiplyAdd(size: n)
        let simdTraffic = traffic.first { $0.rung.hasPrefix("4") }!.bytesPerMultiplyAdd
        let packedTraffic = traffic.first { $0.rung.hasPrefix("5") }!.bytesPerMultiplyAdd
        let (narrow, wide, kc) = (GemmBlocking.narrowTileShape, GemmBlocking.wideTileShape, GemmBlocking.kc)
        let tileChoice =
            GemmBlocking.wideTile
            ? "has AVX-512 and"
            : GemmBlocking.processorHasAVX512
                ? "has AVX-512 but was told (MODERNCNN_TILE=avx2) to run the AVX2 tile, so it"
                : "has no AVX-512 and"
        book.say(
            """
            Why each rung moves, in memory traffic per multiply-add (a multiply-add is 2 FLOPs):
            """)
        book.say(
            """
            - Naive: the inner loop reads B down a column, \(n) floats apart, so every \
            multiply-add pulls in a whole new 64-byte line of B for one float: up to 64 bytes \
            per 2 FLOPs. Once \(n) rows of B outgrow the caches, it runs at memory speed.
            - Loop order i-k-j: the inner loop walks rows of B and C, so one line serves \
            \(lineFloats) multiply-adds and the compiler vectorises it. But each step still \
            loads and stores C, about 12 bytes per multiply-add, from L1 at best.
            - Cache blocking: the same traffic, but the reused tile of B (\(byteCount(blockedB))) is now small \
            enough to stay in L2 rather than coming back from L3 or memory for every row of A. \
            How much that buys depends on where B lived before. In this run B is \
            \(byteCount(n * n * 4)), this machine's caches are \(CacheSizes.current().summary), \
            and \(blockingVerdict).\(n < 2048 ? " Try --size 2048 (B = 16 MB) to see B come from further away." : "")
            - SIMD registers: a 4 x 16 tile of C stays in registers for the whole k-loop. One \
            16-float row of B (64 bytes) and four floats of A now feed 64 multiply-adds: \
            \(formatted(simdTraffic, digits: 2)) bytes per multiply-add (exercise 1 counts it), \
            and C is touched once instead of \(n) times.
            - Packing + microkernel: A and B are copied once into the exact order the \
            microkernel reads them, so every load is sequential and the blocks fit L1, L2 and \
            L3 by design. The register tile is as large as the vector registers allow: \
            \(narrow.rows) x \(narrow.columns) with AVX2's 16 registers (\(narrow.columns) + \(narrow.rows) floats \
            feed \(narrow.rows * narrow.columns) multiply-adds), \(wide.rows) x \(wide.columns) with AVX-512's \
            32 (\(wide.columns) + \(wide.rows) floats feed \(wide.rows * wide.columns)). This machine \
            \(tileChoice) runs \
            \(GemmBlocking.mr) x \(GemmBlocking.nr). Either way \
            it needs \(formatted(packedTraffic, digits: 2)) bytes per multiply-add on this machine's tile, \
            under one, which is what lets it approach the probe's \
            peak. The \(narrow.rows) x \(narrow.columns) tile finds all of it in L1. The \(wide.rows) x \
            \(wide.columns) tile's B micro-panel (\(kc) x \(wide.columns) floats, \(byteCount(kc * wide.columns * 4))) \
            would fill a 32 KB L1 by itself, so that tile keeps the small A panel in L1 instead \
            and lets the rows of B stream in from L2, requested a few steps ahead.
            - Threads: the workers pack each block of B together into one shared buffer, then \
            take rows of C, at most one A block at a time, as each comes free, so a worker the \
            machine slows down does not keep the other waiting. When C is wide and short (a \
            convolution's output: few channels, many positions) they take slabs of columns \
            instead, each with packing buffers of its own.
            """)
        book.say(
            """
            What remains between the microkernel and 100% is the cost of packing, the edge \
            tiles, and reading C once per K-block of \(GemmBlocking.kc). These machines are shared and \
            virtual, so run the chapter twice and expect the figures to move by 10-20%; the \
            ratios between rungs are what to read.
            """)
    }

    // MARK: 1.5 Exercises

    func exercises(_ book: Notebook, _ ladder: LadderResult, size n: Int) {
        book.section("1.5 Exercises")
        book.say(
            """
            1. How far is each rung from the peak, and why? Count the bytes each rung's inner \
            loops bring into the nearest cache per multiply-add, once the matrices are larger \
            than that cache (TensorsExercises.trafficPerMultiplyAdd; the test replays each loop \
            nest through a simulated cache and gets the same figures).
            """)
        var traffic = TextTable(
            headers: ["rung", "bytes per multiply-add", "where they come from", "% of peak (1.4)"],
            alignments: [.left, .right, .left, .right])
        book.code("tensors-exercise-1", from: "Sources/Exercises/Tensors.swift")
        let answers = TensorsExercises.trafficPerMultiplyAdd(size: n)
        for answer in answers {
            let measured = ladder.percentOfPeak[String(answer.rung.prefix(1))]
            traffic.append([
                answer.rung, formatted(answer.bytesPerMultiplyAdd, digits: 2), answer.reason,
                measured.map { formatted($0, digits: 1) } ?? "-",
            ])
        }
        book.show(traffic)
        book.say(
            """
            A core does two FMA instructions per cycle (8 floats each with AVX2, 16 with \
            AVX-512) and loads about two vectors per cycle from L1, far fewer from L2 and beyond. A rung needing \(formatted(answers[0].bytesPerMultiplyAdd, digits: 0)) bytes per \
            multiply-add is bound by memory long before the FMA units; one needing \
            \(formatted(answers.last!.bytesPerMultiplyAdd, digits: 2)), all of it from L1, is bound by the FMAs, \
            which is why only the packed rungs come near the peak.
            """)
        let caches = CacheSizes.current()
        let sizes = TensorsExercises.sizesAroundCaches(caches.bytes.keys.sorted().compactMap { caches.bytes[$0] })
        let secondsPerPass = full ? 1.0 : 0.2
        book.say(
            """
            2. Where does each rung fall off as the matrices outgrow the caches \
            (\(caches.summary))? Sizes whose three matrices just fit each level, then \
            \(sizes.last ?? 0), whose matrices are four times the last level, one thread each \
            (TensorsExercises.sizeSweep). A rung that cannot finish C within \
            \(formatted(secondsPerPass, digits: 1)) s is timed on the rows it finished: every \
            row costs the same and reads all of B.
            """)
        book.code("tensors-exercise-2", from: "Sources/Exercises/Tensors.swift")
        let sweep = TensorsExercises.sizeSweep(sizes: sizes, secondsPerPass: secondsPerPass, seed: options.seed)
        var sweepTable = TextTable(
            headers: ["n", "one matrix"] + TensorsExercises.sweptRungs.map { "\($0) GFLOP/s" } + ["rows of C timed"])
        for point in sweep {
            let rows = TensorsExercises.sweptRungs.map { rung in
                point.rowsTimed[rung].map { $0 == point.size ? "all" : grouped($0) } ?? "-"
            }
            sweepTable.append(
                ["\(point.size)", byteCount(point.matrixBytes)]
                    + TensorsExercises.sweptRungs.map { formatted(point.gflops[$0] ?? 0, digits: 2) }
                    + [rows.allSatisfy { $0 == "all" } ? "all" : rows.joined(separator: " / ")])
        }
        book.show(sweepTable)
        // Each rung's best size and how far it fell from there by the largest.
        let fallOff = TensorsExercises.sweptRungs.map { rung -> String in
            let rates = sweep.map { ($0.size, $0.gflops[rung] ?? 0) }
            let best = rates.max { $0.1 < $1.1 }!, last = rates.last!
            if best.0 == last.0 {
                return "\(rung): from \(formatted(rates[0].1, digits: 1)) GFLOP/s at n = \(rates[0].0) up to "
                    + "\(formatted(last.1, digits: 1)) at n = \(last.0), its best"
            }
            return "\(rung): best \(formatted(best.1, digits: 1)) GFLOP/s at n = \(best.0), "
                + "\(formatted(last.1, digits: 1)) at n = \(last.0) (\(formatted(best.1 / max(last.1, 1e-9), digits: 1))x lower)"
        }
        book.say(fallOff.map { "- " + $0 }.joined(separator: "\n"))
        // How far each rung fell from its best rate to its rate at the largest size.
        let fall = Dictionary(
            uniqueKeysWithValues: TensorsExercises.sweptRungs.map { rung in
                let rates = sweep.map { $0.gflops[rung] ?? 0 }
                return (rung, (rates.max() ?? 0) / max(rates.last ?? 0, 1e-9))
            })
        let (naiveRung, loopRung, packedRung) = (
            TensorsExercises.sweptRungs[0], TensorsExercises.sweptRungs[1], TensorsExercises.sweptRungs[2]
        )
        let steepest = TensorsExercises.sweptRungs.max { fall[$0]! < fall[$1]! }!
        let largest = sweep.last.map { "n = \($0.size), three matrices of \(byteCount(3 * $0.matrixBytes))" } ?? ""
        let naiveFall =
            steepest == naiveRung
            ? " and fell furthest here (\(formatted(fall[naiveRung]!, digits: 1))x)"
            : "; here \(steepest) fell further (\(formatted(fall[steepest]!, digits: 1))x against "
                + "\(formatted(fall[naiveRung]!, digits: 1))x), the naive rung being slow at every size"
        let loopFall =
            fall[loopRung]! >= 1.5
            ? "it fell \(formatted(fall[loopRung]!, digits: 1))x by \(largest), where B must come from memory"
            : "it held within \(formatted(fall[loopRung]!, digits: 1))x of its best up to \(largest)"
        let slowest = sweep.min { ($0.gflops[packedRung] ?? 0) < ($1.gflops[packedRung] ?? 0) }!
        let packedSlowest =
            "its slowest size was n = \(slowest.size) (\(formatted(slowest.gflops[packedRung] ?? 0, digits: 1)) GFLOP/s)"
            + (slowest.size == sweep[0].size
                ? ", where packing and the edge tiles weigh most against the products" : "")
        let packedFall =
            fall[packedRung]! < 1.2
            ? (fall[packedRung]! < 1.005
                ? "it ran fastest at the largest size; "
                : "it held its rate as n grew (the largest size within "
                    + "\(formatted((fall[packedRung]! - 1) * 100, digits: 0))% of its best); ") + packedSlowest
            : "yet it fell \(formatted(fall[packedRung]!, digits: 1))x here, which its blocking should prevent: "
                + "something else probably took the core during that size (run it again)"
        book.say(
            """
            The naive rung reuses a line of B only if the whole column it walks (n lines) is still \
            cached when the next column starts, so it depends on the caches most\(naiveFall). \
            i-k-j streams rows of B and C, which the prefetcher brings in ahead of use while they \
            come from a cache; \(loopFall). The packed kernel blocks for each level on purpose: \
            \(packedFall).
            """)
        book.code("tensors-exercise-3", from: "Sources/Exercises/Tensors.swift")
        let transposed = TensorsExercises.transposingB(size: min(n, 512), seed: options.seed)
        let verdict =
            transposed.speedUp >= 1
            ? "\(formatted(transposed.speedUp, digits: 1))x faster in all"
            : "\(formatted(1 / transposed.speedUp, digits: 1))x slower in all: at this size B "
                + "(\(byteCount(transposed.size * transposed.size * 4))) stays cached, L1 being "
                + "\(byteCount(caches.bytes[1] ?? 0)), so the column walk costs little (try the default --size)"
        book.say(
            """
            3. What does transposing B before the naive multiply change? At n = \(transposed.size): \
            naive \(formatted(transposed.naiveSeconds * 1e3, digits: 1)) ms; transpose \
            \(formatted(transposed.transposeSeconds * 1e3, digits: 2)) ms plus the product on the \
            transposed copy \(formatted(transposed.transposedSeconds * 1e3, digits: 1)) ms, \
            \(verdict), and the results differ by \(transposed.difference) (the same sums in the \
            same order). The inner loop now reads both operands along rows: one cache line serves \
            16 multiply-adds instead of one. The transpose moves n^2 floats once, against n^3 \
            multiply-adds.
            """)
    }

    func summary(_ book: Notebook, _ ladder: LadderResult) {
        book.section("Summary")
        book.say(
            """
            - A tensor is a shape and strides over contiguous floats; NCHW keeps each image \
            channel a contiguous plane, and reshaping is free.
            - Shape errors are caught where they happen and name both shapes.
            - The matrix product went from \(formatted(ladder.firstGflops, digits: 1)) to \
            \(formatted(ladder.lastGflops, digits: 1)) GFLOP/s \
            (\(formatted(ladder.lastPercentOfPeak, digits: 0))% of the measured peak) by changing \
            only the order in which memory is touched: loop order, blocking, registers, packing, \
            then threads. Convolutions in chapter 02 are lowered onto this kernel.
            """)
        book.say(
            "Try `swift run -c release tensors --size 1000` (a size that is not a multiple of the "
                + "tile) or `--threads 1`, and compare.")
    }
}

TensorsChapter.main()
