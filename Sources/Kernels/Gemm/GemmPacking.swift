// GemmPacking.swift: copying blocks of op(A) and op(B) into the order the microkernel reads.
//
// Packed A block (mc x kc): micro-panels of MR rows; inside one, for each p the MR values
//   op(A)[i0 ..< i0+MR, p] are adjacent: panel[p * MR + r].
// Packed B block (kc x nc): micro-panels of NR columns; inside one, for each p the NR values
//   op(B)[p, j0 ..< j0+NR] are adjacent: panel[p * NR + j].
// Both are the same operation: a panel has `width` lanes (rows of A, columns of B) and `kc`
// depth steps, and only the strides of lanes and depth in the source differ. Lanes past the edge
// of the matrix are packed as zeros, so every micro-panel is full.

import CPUHints

/// Packs op(A)[rows, k] into `dst` as ceil(rows/MR) micro-panels of kc x MR.
func packA(_ ops: GemmOperands, rows: Range<Int>, k: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    // A is M x K (a row is a lane) or, transposed, K x M (a row is a depth step).
    let (laneStride, depthStride) = ops.transA ? (1, ops.lda) : (ops.lda, 1)
    let corner = ops.a + rows.lowerBound * laneStride + k.lowerBound * depthStride
    packPanels(
        from: corner, laneStride: laneStride, depthStride: depthStride,
        lanes: rows.count, depth: k.count, width: GemmBlocking.mr, into: dst)
}

/// Packs op(B)[k, columns] into `dst` as ceil(columns/NR) micro-panels of kc x NR.
func packB(_ ops: GemmOperands, k: Range<Int>, columns: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    // B is K x N (a row is a depth step) or, transposed, N x K (a row is a lane).
    let (laneStride, depthStride) = ops.transB ? (ops.ldb, 1) : (1, ops.ldb)
    let corner = ops.b + columns.lowerBound * laneStride + k.lowerBound * depthStride
    packPanels(
        from: corner, laneStride: laneStride, depthStride: depthStride,
        lanes: columns.count, depth: k.count, width: GemmBlocking.nr, into: dst)
}

/// Writes ceil(lanes/width) panels; panel q holds lanes q*width ..< (q+1)*width as
/// panel[p * width + l] = source[(q*width + l) * laneStride + p * depthStride].
func packPanels(
    from source: UnsafePointer<Float>, laneStride: Int, depthStride: Int,
    lanes: Int, depth: Int, width: Int, into dst: UnsafeMutablePointer<Float>
) {
    let panelSize = depth * width
    let fullPanels = lanes / width, remainder = lanes % width
    if laneStride == 1 {
        // Lanes adjacent in the source (B stored K x N): read the depth rows front to back and
        // deal them out to the panels. Reading a panel's rows one after another instead
        // strides a whole row of B per step (346 KB for AlexNet's conv2 at batch 128), which
        // no hardware prefetcher follows: packing B then ran at 6 GB/s and cost 9% of the product.
        //
        // Four depth rows at a time, though, panel by panel: four sequential reads stream side by
        // side, and each panel gets four adjacent lines at once. One row at a time writes one
        // line into every panel; the panels lie a multiple of 4 KB apart, so all those lines
        // fall into one L1 set and evict each other. More than four rows make more streams than
        // the prefetchers follow (MEASUREMENTS.md has the steps tried).
        let rowsPerStep = 4
        for p0 in stride(from: 0, to: depth, by: rowsPerStep) {
            let rows = min(rowsPerStep, depth - p0)
            let top = source + p0 * depthStride
            for q in 0...fullPanels {
                let count = q < fullPanels ? width : remainder
                if count == 0 { break }
                var from = top + q * width
                var to = dst + q * panelSize + p0 * width
                for _ in 0..<rows {
                    copyLanes(from, to, count: count, width: width)
                    from += depthStride
                    to += width
                }
            }
        }
    } else {
        // Depth steps adjacent in the source (each lane is a row, as A stored M x K): take 16 depth
        // steps of a lane as one 64-byte load and scatter them down the L1-resident panel, so each
        // source line is read once and whole. Leftover depth steps are gathered one by one.
        var panel = dst
        for firstLane in stride(from: 0, to: lanes, by: width) {
            let valid = min(width, lanes - firstLane)
            let start = source + firstLane * laneStride
            var p0 = 0
            if depthStride == 1 {
                // Whole blocks of 16 depth steps are transposed in registers (CPUHints), for A
                // stored M x K (six or twelve rows to a panel) and B stored N x K (sixteen or
                // thirty-two), so the panel is written in whole vectors, not a float at a time.
                if width == 6 {
                    p0 = moderncnnPackSixLanes(start, laneStride, valid, depth, panel)
                } else {
                    p0 = moderncnnPackLanesInEights(start, laneStride, valid, width, depth, panel)
                }
                // Any other width, or no AVX: whole 64-byte lines of each lane, 16 depth steps per
                // load, scattered into the (L1-resident) panel, so every source line is read once,
                // in full.
                while p0 + 16 <= depth {
                    for l in 0..<valid {
                        let line = loadVector(start + l * laneStride + p0)
                        let to = panel + p0 * width + l
                        for i in 0..<16 { to[i * width] = line[i] }
                    }
                    for l in valid..<width { for i in 0..<16 { panel[(p0 + i) * width + l] = 0 } }
                    p0 += 16
                }
            }
            for p in p0..<depth {
                let from = start + p * depthStride, to = panel + p * width
                for l in 0..<valid { to[l] = from[l * laneStride] }
                for l in valid..<width { to[l] = 0 }
            }
            panel += panelSize
        }
    }
}

/// Copies `count` adjacent floats into one packed row of `width`, zero-filling the rest.
@inline(__always)
private func copyLanes(_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<Float>, count: Int, width: Int) {
    if count == width && width % 16 == 0 {
        for j in stride(from: 0, to: width, by: 16) { storeVector(loadVector(from + j), to: to + j) }
        return
    }
    for l in 0..<count { to[l] = from[l] }
    for l in count..<width { to[l] = 0 }
}
