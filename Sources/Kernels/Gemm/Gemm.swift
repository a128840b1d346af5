// Gemm.swift: single-precision matrix multiply, BLIS style. This folder holds SGEMM (blocking,
// packing, microkernels), the naive reference, chapter 01's matmul ladder, the FMA peak probe and
// the multiply-add counter. Everything lowered to a matrix product runs here: Linear layers,
// im2col convolutions and Winograd's 36 products.
//
//   C := alpha * op(A) * op(B) + beta * C      all matrices row-major
//   op(A) is M x K (A is M x K, or K x M when transposed), op(B) is K x N, C is M x N.
//
// The five loops around the microkernel (Goto & van de Geijn; BLIS's KernelsHowTo):
//   jc over N in steps of NC   B block  (KC x NC) packed once, lives in L3
//   pc over K in steps of KC
//   ic over M in steps of MC   A block  (MC x KC) packed, lives in L2
//   jr over the block in NR    B micro-panel (KC x NR) streams from L1
//   ir over the block in MR    the microkernel: an MR x NR tile of C held in registers
// With the AVX-512 tile the last two loops trade places inside sweeps of B micro-panels
// (GemmBlocking.sweepPanels): then A's micro-panel stays in L1 and B's stream from L2.
// Packing copies each block into the exact order the microkernel reads it, zero-padded up to
// whole tiles, so the microkernel never needs an edge case; edge tiles of C are written by a
// kernel for fewer rows or through a small scratch tile instead.

import CPUHints
import Foundation

/// Blocking constants, all in one place.
///
/// The register tile is 6 x 16 with AVX2 and 12 x 32 with AVX-512 (GemmMicrokernel.swift),
/// chosen once when the program starts, from what the processor says it has.
/// KC = 256 keeps one A micro-panel (6 or 12 KB) and one B micro-panel (16 KB; the 32 KB of the
/// wide tile's is all of L1, see `sweepPanels`) in L1;
/// MC x KC (144 KB) sits in L2 (512 KB to 1 MB); KC x NC (2 MB) in L3. NC is
/// half of what L3 alone would allow: each worker's block of C (M x NC) is re-read once per
/// K-block and must stay in L3 too, and on a shared virtual machine other tenants use the same
/// L3. Measured on AlexNet's conv2 at batch 128 (C is 88 MB): NC = 4080 gave 0.94x OpenBLAS,
/// 2048 gave 1.00x. KC = 384 (L1 overflows) and MC = 96 or 240 measured worse. With the AVX-512
/// tile and its 1 MB L2, KC = 128 or 192 and MC = 288 measured the same as these, within noise.
public enum GemmBlocking {
    /// Whether this processor has AVX-512, whichever tiles the kernels were told to run.
    public static let processorHasAVX512 = moderncnnHasAVX512() != 0

    /// Whether SGEMM runs the AVX-512 tile (12 x 32) rather than the AVX2 one (6 x 16), and the
    /// direct convolutions their AVX-512 tiles: what the processor has, unless the environment
    /// variable MODERNCNN_TILE is `avx2`. That setting runs the AVX2 kernels' logic (tile sizes,
    /// loop orders, edges) on an AVX-512 processor, so that `make test` covers both families on
    /// one machine; the instructions are still this processor's. Read once, at first use.
    public static let wideTile: Bool = {
        switch ProcessInfo.processInfo.environment["MODERNCNN_TILE"] {
        case nil, "", "auto": return processorHasAVX512
        case "avx2": return false
        case let other?: fatalError("MODERNCNN_TILE is \(other); it takes avx2 or auto")
        }
    }()
    /// The two register tiles, rows x columns of C: AVX2's and AVX-512's.
    public static let narrowTileShape = (rows: NarrowTile.rows, columns: NarrowTile.columns)
    public static let wideTileShape = (rows: WideTile.rows, columns: WideTile.columns)
    public static let mr = wideTile ? WideTile.rows : NarrowTile.rows
    public static let nr = wideTile ? WideTile.columns : NarrowTile.columns
    public static let kc = 256
    public static let mc = 144
    public static let nc = 2048

    /// B micro-panels per sweep of the inner loops. With 1, each B micro-panel is held while
    /// every A micro-panel of the block passes it (BLIS's order). The 12 x 32 tile's B
    /// micro-panel is 32 KB, all of L1, so the A panels streaming past evict it. Sweeps of 16
    /// (KC x 512 floats, 512 KB, half of that L2) hold a 12 KB A micro-panel in L1 instead while
    /// 16 B micro-panels stream from L2: the arrangement of BLIS's SkylakeX kernel, whose L1
    /// operand is also the broadcast one (MEASUREMENTS.md: the sweep lengths tried). The AVX2
    /// tile keeps BLIS's order, which is what was measured on its processor.
    static let sweepPanels = wideTile ? 16 : 1

    /// Floats of one packed A block and one packed B block. Packing always writes whole
    /// micro-panels (zero-padded), so a block holds MC and NC rounded up to whole tiles. The A
    /// block is also rounded to 16 floats so that the B block after it starts on 64 bytes, and no
    /// load of a B row in the microkernel straddles two cache lines.
    static let packedABlock = roundedUp(roundedUp(mc, toMultipleOf: mr) * kc, toMultipleOf: 16)
    static let packedBBlock = kc * roundedUp(nc, toMultipleOf: nr)

    /// Floats of packing space one worker needs: one A block and one B block.
    public static let workspacePerWorker = packedABlock + packedBBlock

    /// K blocks of equal depth, at most KC: K = 384 runs as 192 + 192 rather than 256 + 128,
    /// whose short second block loads and stores every C tile for half the work.
    static func depthStep(for k: Int) -> Int {
        let blocks = (k + kc - 1) / kc
        return (k + blocks - 1) / max(blocks, 1)
    }

    static func roundedUp(_ value: Int, toMultipleOf step: Int) -> Int {
        (value + step - 1) / step * step
    }

    /// Below this many multiply-adds, starting threads costs more than it saves.
    static let threadingThreshold = 1 << 17
}

/// Packing buffers for `sgemm`, one A block and one B block per worker. Keep one and pass it to
/// every call on a hot path, so that nothing is allocated or page-faulted per call.
public struct GemmWorkspace: ~Copyable {
    public let workers: Int
    let storage: AlignedBuffer

    public init(workers: Int = Parallel.threadCount) {
        self.workers = max(1, workers)
        storage = AlignedBuffer(count: self.workers * GemmBlocking.workspacePerWorker)
    }

    /// Where `worker`'s packed A and B blocks start in a workspace whose storage begins at `base`.
    static func packingBlocks(
        at base: UnsafeMutablePointer<Float>, worker: Int
    )
        -> (a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>)
    {
        let a = base + worker * GemmBlocking.workspacePerWorker
        return (a, a + GemmBlocking.packedABlock)
    }
}

/// The operands of one multiply, as raw pointers plus leading dimensions (row strides).
struct GemmOperands {
    var transA: Bool, transB: Bool
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var alpha: Float, beta: Float
}

/// C := alpha * op(A) * op(B) + beta * C, row-major, threaded over `workspace.workers` workers.
///
/// When beta == 0, C is only written, never read (it may hold garbage or NaN). Leading
/// dimensions are row strides in floats: at least K (or M) for A, N (or K) for B, N for C.
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    workspace: borrowing GemmWorkspace
) {
    sgemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
        beta: beta, c: c, ldc: ldc, packingSpace: workspace.storage.pointer, workers: workspace.workers)
}

/// The body of `sgemm`, on a workspace's raw packing space (`workers` slices of
/// `GemmBlocking.workspacePerWorker` floats), so that kernels can call it from closures.
func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    packingSpace: UnsafeMutablePointer<Float>, workers availableWorkers: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size")
    precondition(
        lda >= max(1, transA ? m : k) && ldb >= max(1, transB ? k : n) && ldc >= max(1, n),
        "sgemm: leading dimension smaller than the row it strides over")
    if m == 0 || n == 0 { return }
    MultiplyAddCounter.record(m: m, n: n, k: k)
    let ops = GemmOperands(
        transA: transA, transB: transB, a: a, lda: lda, b: b, ldb: ldb,
        c: c, ldc: ldc, alpha: alpha, beta: beta)
    if k == 0 || alpha == 0 {
        scaleMatrix(ops.c, rows: m, columns: n, ldc: ldc, by: beta)
        return
    }
    // Split C into slabs of whole register tiles, so that no tile is shared. Row slabs: the
    // workers share each packed B block (packing it together) and each packs only its own rows
    // of A. Column slabs: each slab runs the whole serial algorithm with its worker's own packing
    // buffers, and packs all of A.
    let splitColumns = prefersColumnSplit(ops, m: m, n: n, k: k, workers: availableWorkers)
    let tile = splitColumns ? GemmBlocking.nr : GemmBlocking.mr
    let tiles = ((splitColumns ? n : m) + tile - 1) / tile
    let worthThreading = m * n * k >= GemmBlocking.threadingThreshold
    let workers = worthThreading ? min(availableWorkers, tiles) : 1
    if !splitColumns && workers > 1 {
        gemmSharingB(ops, m: m, n: n, k: k, workers: workers, packingSpace: packingSpace)
        return
    }
    // Column slabs, or the whole product on one worker. A slab packs all of A once per B block
    // of its columns, so slabs narrower than a B block pack A more often. Slabs are therefore
    // equal shares unless either
    // - A fits in one packed A block (a moment's packing, from L2) and there are columns enough
    //   for many slabs (AlexNet's conv1: A is 96 x 121, N is 373248), or
    // - every worker has two B blocks of columns or more (AlexNet's conv2-5 forward: N of 18432
    //   and 86528), so that whole B blocks cost no more packing than equal shares;
    // then slabs of at most one B block, shrinking toward the end, are handed out as workers come
    // free, and keep both busy to the last: in equal shares, a worker slowed by the machine's
    // other tenants keeps the other spinning.
    // Otherwise equal shares: a slab narrower than the equal share re-packs all of A (88 MB for
    // AlexNet's conv2 backward-filter, A 256 x 86528, N 2400), and LeNet's weight gradients (N of
    // 10 to 400) make too few slabs to share evenly. MEASUREMENTS.md has the figures.
    let panels = (n + GemmBlocking.nr - 1) / GemmBlocking.nr
    let share = (panels + workers - 1) / workers
    let blockPanels = GemmBlocking.nc / GemmBlocking.nr
    let smallA = m * k <= GemmBlocking.mc * GemmBlocking.kc
    let guided = (smallA && panels >= 64 * workers) || panels >= 2 * blockPanels * workers
    // The last slabs of a large A stay a quarter of a B block wide, so that its packing stays small
    // beside their multiply-adds.
    let smallest = smallA ? 8 : blockPanels / 4
    Parallel.forEachClaim(
        of: panels, workers: workers, largest: guided ? blockPanels : share,
        smallest: guided ? smallest : share
    ) { worker, slab in
        let (aBlock, bBlock) = GemmWorkspace.packingBlocks(at: packingSpace, worker: worker)
        let columns = (slab.lowerBound * GemmBlocking.nr)..<min(slab.upperBound * GemmBlocking.nr, n)
        gemmSerial(ops, rows: 0..<m, columns: columns, k: k, aBlock: aBlock, bBlock: bBlock)
    }
}

/// Whether splitting C by columns costs less packing than splitting it by rows.
///
/// A column split makes each worker pack all of A once per NC block of its columns. A row split
/// packs B once, shared, but each (NC, KC) block then takes two parallel steps (pack, compute),
/// and workers wait for each other at each; it is charged like packing B once more. Copies whose
/// lanes are adjacent in memory run as vector row copies; the strided path costs about four
/// times as much per float, measured on the benchmark.
func prefersColumnSplit(_ ops: GemmOperands, m: Int, n: Int, k: Int, workers: Int) -> Bool {
    if workers <= 1 { return n >= m }
    let scatterCost = 4
    let columnsPerWorker = (n + workers - 1) / workers
    let blocksPerWorker = (columnsPerWorker + GemmBlocking.nc - 1) / GemmBlocking.nc
    let duplicatedByColumnSplit = m * k * blocksPerWorker * (ops.transA ? 1 : scatterCost)
    let duplicatedByRowSplit = k * n * (ops.transB ? scatterCost : 1)
    // A row split also needs enough row tiles to keep every worker busy.
    let rowTiles = (m + GemmBlocking.mr - 1) / GemmBlocking.mr
    if rowTiles < 4 * workers { return true }
    return duplicatedByColumnSplit <= duplicatedByRowSplit
}

/// Convenience form that allocates a workspace for this one call. Fine for teaching code and
/// tests; hot paths keep a `GemmWorkspace` and use the form above.
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    threads: Int = Parallel.threadCount
) {
    let workspace = GemmWorkspace(workers: threads)
    sgemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, workspace: workspace)
}

/// Row slabs over shared B blocks. For each (NC, KC) block of op(B), the workers first pack its
/// micro-panels together into one buffer, then each runs the inner loops on its own rows. Two
/// consecutive parallel steps need no barrier: each step returns only when all workers finish.
private func gemmSharingB(
    _ ops: GemmOperands, m: Int, n: Int, k: Int, workers: Int,
    packingSpace: UnsafeMutablePointer<Float>
) {
    let nr = GemmBlocking.nr
    let sharedB = GemmWorkspace.packingBlocks(at: packingSpace, worker: 0).b
    let rowTiles = (m + GemmBlocking.mr - 1) / GemmBlocking.mr
    for jc in stride(from: 0, to: n, by: GemmBlocking.nc) {
        let nc = min(GemmBlocking.nc, n - jc)
        let panels = (nc + nr - 1) / nr
        let step = GemmBlocking.depthStep(for: k)
        for pc in stride(from: 0, to: k, by: step) {
            let kc = min(step, k - pc)
            Parallel.forEachWorker(workers) { worker in
                let own = Parallel.chunk(worker, of: workers, splitting: panels)
                if own.isEmpty { return }
                let columns = (jc + own.lowerBound * nr)..<min(jc + own.upperBound * nr, jc + nc)
                packB(ops, k: pc..<(pc + kc), columns: columns, into: sharedB + own.lowerBound * nr * kc)
            }
            // Rows in claims of at most one A block, shrinking toward the end, to whichever worker
            // is free: a slowed worker no longer keeps the other waiting at every block.
            Parallel.forEachClaim(
                of: rowTiles, workers: workers, largest: GemmBlocking.mc / GemmBlocking.mr,
                smallest: 2
            ) { worker, tiles in
                let rows = (tiles.lowerBound * GemmBlocking.mr)..<min(tiles.upperBound * GemmBlocking.mr, m)
                let aBlock = GemmWorkspace.packingBlocks(at: packingSpace, worker: worker).a
                macroKernel(ops, rows: rows, jc: jc, nc: nc, pc: pc, kc: kc, aBlock: aBlock, bBlock: sharedB)
            }
        }
    }
}

/// The five BLIS loops on one worker's slab of C: rows x columns of op(A) * op(B).
private func gemmSerial(
    _ ops: GemmOperands, rows: Range<Int>, columns: Range<Int>, k: Int,
    aBlock: UnsafeMutablePointer<Float>, bBlock: UnsafeMutablePointer<Float>
) {
    for jc in stride(from: columns.lowerBound, to: columns.upperBound, by: GemmBlocking.nc) {
        let nc = min(GemmBlocking.nc, columns.upperBound - jc)
        let step = GemmBlocking.depthStep(for: k)
        for pc in stride(from: 0, to: k, by: step) {
            let kc = min(step, k - pc)
            packB(ops, k: pc..<(pc + kc), columns: jc..<(jc + nc), into: bBlock)
            macroKernel(ops, rows: rows, jc: jc, nc: nc, pc: pc, kc: kc, aBlock: aBlock, bBlock: bBlock)
        }
    }
}

/// The three inner BLIS loops: every register tile of C[rows, jc ..< jc+nc] from one packed B
/// block (op(B)[pc ..< pc+kc, jc ..< jc+nc]), packing A one MC block of `rows` at a time, on
/// this processor's register tile.
private func macroKernel(
    _ ops: GemmOperands, rows: Range<Int>, jc: Int, nc: Int, pc: Int, kc: Int,
    aBlock: UnsafeMutablePointer<Float>, bBlock: UnsafeMutablePointer<Float>
) {
    if GemmBlocking.wideTile {
        macroKernel(
            ops, rows: rows, jc: jc, nc: nc, pc: pc, kc: kc, aBlock: aBlock, bBlock: bBlock, tile: WideTile.self)
    } else {
        macroKernel(
            ops, rows: rows, jc: jc, nc: nc, pc: pc, kc: kc, aBlock: aBlock, bBlock: bBlock, tile: NarrowTile.self)
    }
}

/// macroKernel on one register tile, specialized for each. Never inlined: its callers grow
/// large, and in a large function the optimizer stops inlining even the vector loads
/// (VectorMemory.swift), which halved SGEMM's speed when it happened. Kept apart, the
/// microkernel's loop is optimized as the small function it is; one call per block of
/// MC x NC x KC multiply-adds costs nothing.
@inline(never)
private func macroKernel<Tile: RegisterTile>(
    _ ops: GemmOperands, rows: Range<Int>, jc: Int, nc: Int, pc: Int, kc: Int,
    aBlock: UnsafeMutablePointer<Float>, bBlock: UnsafeMutablePointer<Float>,
    tile: Tile.Type
) {
    let (mr, nr) = (Tile.rows, Tile.columns)
    // Only the first K block applies the caller's beta; later ones accumulate.
    let beta: Float = pc == 0 ? ops.beta : 1
    for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: GemmBlocking.mc) {
        let mc = min(GemmBlocking.mc, rows.upperBound - ic)
        packA(ops, rows: ic..<(ic + mc), k: pc..<(pc + kc), into: aBlock)
        let sweepWidth = GemmBlocking.sweepPanels * nr
        for sweep in stride(from: 0, to: nc, by: sweepWidth) {
            for ir in stride(from: 0, to: mc, by: mr) {
                let tileRows = min(mr, mc - ir)
                for jr in stride(from: sweep, to: min(nc, sweep + sweepWidth), by: nr) {
                    let tileColumns = min(nr, nc - jr)
                    let cTile = ops.c + (ic + ir) * ops.ldc + jc + jr
                    let aPanel = UnsafePointer(aBlock + ir * kc)
                    let bPanel = UnsafePointer(bBlock + jr * kc)
                    if tileRows == mr && tileColumns == nr {
                        Tile.multiply(
                            kc: kc, a: aPanel, b: bPanel, c: cTile, ldc: ops.ldc,
                            alpha: ops.alpha, beta: beta)
                    } else {
                        edgeTile(
                            kc: kc, a: aPanel, b: bPanel, c: cTile, ldc: ops.ldc,
                            rows: tileRows, columns: tileColumns, alpha: ops.alpha, beta: beta, tile: Tile.self)
                    }
                }
            }
        }
    }
}

/// A partial tile at the bottom or right edge of C. A bottom-edge tile with all its columns
/// goes to the tile's kernel for fewer rows, where it has one (the wide tile's, for up to 8
/// rows). Otherwise the microkernel computes the full padded tile into scratch, and only the
/// valid rows x columns are merged into C.
private func edgeTile<Tile: RegisterTile>(
    kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
    alpha: Float, beta: Float, tile: Tile.Type
) {
    let nr = Tile.columns
    if columns == nr && Tile.multiply(rows: rows, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta) {
        return
    }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: Tile.rows * nr) { scratch in
        let tile = scratch.baseAddress!
        Tile.multiply(kc: kc, a: a, b: b, c: tile, ldc: nr, alpha: alpha, beta: 0)
        for i in 0..<rows {
            let row = c + i * ldc
            if columns == nr {
                // A bottom-edge tile with whole rows (LeNet's 16 channels are 6 + 6 + 4 rows):
                // whole vectors per row instead of a branch per float.
                for j in stride(from: 0, to: nr, by: 16) {
                    var product = loadVector(tile + i * nr + j)
                    if beta != 0 { product = product.addingProduct(beta, loadVector(row + j)) }
                    storeVector(product, to: row + j)
                }
                continue
            }
            for j in 0..<columns {
                let product = tile[i * nr + j]
                row[j] = beta == 0 ? product : product + beta * row[j]
            }
        }
    }
}

/// C := beta * C, treating beta == 0 as "overwrite with zeros" (so NaN in C does not survive).
func scaleMatrix(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, by beta: Float) {
    for i in 0..<rows {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: columns)
        } else if beta != 1 {
            for j in 0..<columns { row[j] *= beta }
        }
    }
}
