// GemmPacking.swift: copying blocks of op(A) and op(B) into the order the microkernel reads.
//
// Packed A block (mc x kc): micro-panels of MR rows; inside one, for each p the MR values
//   op(A)[i0 ..< i0+MR, p] are adjacent: panel[p * MR + r].
// Packed B block (kc x nc): micro-panels of NR columns; inside one, for each p the NR values
//   op(B)[p, j0 ..< j0+NR] are adjacent: panel[p * NR + j].
// Rows or columns past the edge of the matrix are packed as zeros, so every micro-panel is full.

/// Packs op(A)[rows, k] into `dst` as ceil(rows/MR) micro-panels of kc x MR.
func packA(_ ops: GemmOperands, rows: Range<Int>, k: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let mr = GemmBlocking.mr, kc = k.count
    var panel = dst
    for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
        let valid = min(mr, rows.upperBound - i0)
        if ops.transA {
            // A is stored K x M: for each p the MR values we need are contiguous.
            for (p, kk) in k.enumerated() {
                let src = ops.a + kk * ops.lda + i0
                let out = panel + p * mr
                for r in 0..<valid { out[r] = src[r] }
                for r in valid..<mr { out[r] = 0 }
            }
        } else {
            // A is stored M x K: walk each of the MR rows along k, scattering with stride MR.
            for r in 0..<mr {
                if r < valid {
                    let src = ops.a + (i0 + r) * ops.lda + k.lowerBound
                    for p in 0..<kc { panel[p * mr + r] = src[p] }
                } else {
                    for p in 0..<kc { panel[p * mr + r] = 0 }
                }
            }
        }
        panel += kc * mr
    }
}

/// Packs op(B)[k, columns] into `dst` as ceil(columns/NR) micro-panels of kc x NR.
func packB(_ ops: GemmOperands, k: Range<Int>, columns: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let nr = GemmBlocking.nr, kc = k.count
    var panel = dst
    for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
        let valid = min(nr, columns.upperBound - j0)
        if !ops.transB && valid == nr {
            // The common case: B stored K x N, a full panel is one 64-byte row copy per p.
            for (p, kk) in k.enumerated() {
                let src = UnsafeRawPointer(ops.b + kk * ops.ldb + j0)
                UnsafeMutableRawPointer(panel + p * nr)
                    .storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            }
        } else if !ops.transB {
            for (p, kk) in k.enumerated() {
                let src = ops.b + kk * ops.ldb + j0
                let out = panel + p * nr
                for j in 0..<valid { out[j] = src[j] }
                for j in valid..<nr { out[j] = 0 }
            }
        } else {
            // B stored N x K: each of the NR columns of op(B) is a contiguous row of B.
            for j in 0..<nr {
                if j < valid {
                    let src = ops.b + (j0 + j) * ops.ldb + k.lowerBound
                    for p in 0..<kc { panel[p * nr + j] = src[p] }
                } else {
                    for p in 0..<kc { panel[p * nr + j] = 0 }
                }
            }
        }
        panel += kc * nr
    }
}
