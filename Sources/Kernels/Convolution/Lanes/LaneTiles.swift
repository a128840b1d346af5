// LaneTiles.swift: the register tiles of the lane-layout convolution (LaneConvolution.swift).
//
// Every vector holds one value for each of 16 images, so a tile is a small block of output
// values, each a vector: a few output channels at a few positions of one output row, or, for
// the filter gradient, a few output channels at a few filter taps. Each struct below keeps its
// sums in named vector fields, never in an array: with an array (even an InlineArray) the
// compiler kept the sums in memory and reloaded them around every FMA, and the tile ran at a
// third of the speed. The tiles hold 15 to 21 sums, so they need AVX-512's 32 registers.

typealias LaneVector = SIMD16<Float>

/// Three output channels at one position.
struct ThreeChannelSums {
    var a, b, c: LaneVector

    @inline(__always)
    init(_ bias: UnsafePointer<Float>) {
        (a, b, c) = (LaneVector(repeating: bias[0]), LaneVector(repeating: bias[1]), LaneVector(repeating: bias[2]))
    }

    @inline(__always)
    mutating func add(_ w0: LaneVector, _ w1: LaneVector, _ w2: LaneVector, _ u: LaneVector) {
        a = a.addingProduct(w0, u)
        b = b.addingProduct(w1, u)
        c = c.addingProduct(w2, u)
    }

    /// f(sum) of each channel to out, channels `channelStride` floats apart.
    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int, _ activation: FusedActivation) {
        storeVector(activate(a, activation), to: out)
        storeVector(activate(b, activation), to: out + channelStride)
        storeVector(activate(c, activation), to: out + 2 * channelStride)
    }
}

/// Four output channels at one position.
struct FourChannelSums {
    var a, b, c, d: LaneVector

    @inline(__always)
    init(_ bias: UnsafePointer<Float>) {
        (a, b) = (LaneVector(repeating: bias[0]), LaneVector(repeating: bias[1]))
        (c, d) = (LaneVector(repeating: bias[2]), LaneVector(repeating: bias[3]))
    }

    @inline(__always)
    mutating func add(_ w0: LaneVector, _ w1: LaneVector, _ w2: LaneVector, _ w3: LaneVector, _ u: LaneVector) {
        a = a.addingProduct(w0, u)
        b = b.addingProduct(w1, u)
        c = c.addingProduct(w2, u)
        d = d.addingProduct(w3, u)
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int, _ activation: FusedActivation) {
        storeVector(activate(a, activation), to: out)
        storeVector(activate(b, activation), to: out + channelStride)
        storeVector(activate(c, activation), to: out + 2 * channelStride)
        storeVector(activate(d, activation), to: out + 3 * channelStride)
    }
}

/// A tile of the correlation out[o][x] = bias[o] + sum over taps of w[o] * in[x]: `channels`
/// output channels at `positions` consecutive positions of one output row.
protocol LaneCorrelationTile {
    static var channels: Int { get }
    static var positions: Int { get }
    /// Starts every sum of channel o at bias[o].
    init(bias: UnsafePointer<Float>)
    /// One filter tap: sum[o][x] += w[o] * p[x], where w holds `channels` floats and p points at
    /// the input vector that position 0 reads (the next positions read the next vectors).
    mutating func add(_ w: UnsafePointer<Float>, _ p: UnsafePointer<Float>)
    /// f(sum[o][x]) to out + o * channelStride + x * 16.
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int, _ activation: FusedActivation)
}

/// Three channels at seven positions: 21 sums. LeNet's conv1 (6 channels, rows of 28) and the
/// backward-data of its conv2 (6 channels, rows of 14) divide into it exactly.
struct ThreeBySevenTile: LaneCorrelationTile {
    static var channels: Int { 3 }
    static var positions: Int { 7 }
    var x0, x1, x2, x3, x4, x5, x6: ThreeChannelSums

    @inline(__always)
    init(bias: UnsafePointer<Float>) {
        x0 = ThreeChannelSums(bias)
        (x1, x2, x3, x4, x5, x6) = (x0, x0, x0, x0, x0, x0)
    }

    @inline(__always)
    mutating func add(_ w: UnsafePointer<Float>, _ p: UnsafePointer<Float>) {
        let (w0, w1, w2) = (LaneVector(repeating: w[0]), LaneVector(repeating: w[1]), LaneVector(repeating: w[2]))
        x0.add(w0, w1, w2, loadVector(p))
        x1.add(w0, w1, w2, loadVector(p + 16))
        x2.add(w0, w1, w2, loadVector(p + 32))
        x3.add(w0, w1, w2, loadVector(p + 48))
        x4.add(w0, w1, w2, loadVector(p + 64))
        x5.add(w0, w1, w2, loadVector(p + 80))
        x6.add(w0, w1, w2, loadVector(p + 96))
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int, _ activation: FusedActivation) {
        x0.store(to: out, channelStride: channelStride, activation)
        x1.store(to: out + 16, channelStride: channelStride, activation)
        x2.store(to: out + 32, channelStride: channelStride, activation)
        x3.store(to: out + 48, channelStride: channelStride, activation)
        x4.store(to: out + 64, channelStride: channelStride, activation)
        x5.store(to: out + 80, channelStride: channelStride, activation)
        x6.store(to: out + 96, channelStride: channelStride, activation)
    }
}

/// Four channels at five positions: 20 sums. LeNet's conv2 (16 channels, rows of 10) divides
/// into it exactly.
struct FourByFiveTile: LaneCorrelationTile {
    static var channels: Int { 4 }
    static var positions: Int { 5 }
    var x0, x1, x2, x3, x4: FourChannelSums

    @inline(__always)
    init(bias: UnsafePointer<Float>) {
        x0 = FourChannelSums(bias)
        (x1, x2, x3, x4) = (x0, x0, x0, x0)
    }

    @inline(__always)
    mutating func add(_ w: UnsafePointer<Float>, _ p: UnsafePointer<Float>) {
        let (w0, w1) = (LaneVector(repeating: w[0]), LaneVector(repeating: w[1]))
        let (w2, w3) = (LaneVector(repeating: w[2]), LaneVector(repeating: w[3]))
        x0.add(w0, w1, w2, w3, loadVector(p))
        x1.add(w0, w1, w2, w3, loadVector(p + 16))
        x2.add(w0, w1, w2, w3, loadVector(p + 32))
        x3.add(w0, w1, w2, w3, loadVector(p + 48))
        x4.add(w0, w1, w2, w3, loadVector(p + 64))
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int, _ activation: FusedActivation) {
        x0.store(to: out, channelStride: channelStride, activation)
        x1.store(to: out + 16, channelStride: channelStride, activation)
        x2.store(to: out + 32, channelStride: channelStride, activation)
        x3.store(to: out + 48, channelStride: channelStride, activation)
        x4.store(to: out + 64, channelStride: channelStride, activation)
    }
}

/// One channel at one position: for layers smaller than both tiles above (fewer than three
/// output channels, or rows shorter than five).
struct SingleSumTile: LaneCorrelationTile {
    static var channels: Int { 1 }
    static var positions: Int { 1 }
    var sum: LaneVector

    @inline(__always)
    init(bias: UnsafePointer<Float>) { sum = LaneVector(repeating: bias[0]) }

    @inline(__always)
    mutating func add(_ w: UnsafePointer<Float>, _ p: UnsafePointer<Float>) {
        sum = sum.addingProduct(LaneVector(repeating: w[0]), loadVector(p))
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, channelStride: Int, _ activation: FusedActivation) {
        storeVector(activate(sum, activation), to: out)
    }
}

/// Five filter taps of one output channel, summed over positions.
struct FiveTapSums {
    var t0, t1, t2, t3, t4: LaneVector

    @inline(__always)
    init() { (t0, t1, t2, t3, t4) = (.zero, .zero, .zero, .zero, .zero) }

    @inline(__always)
    mutating func add(
        _ d: LaneVector, _ u0: LaneVector, _ u1: LaneVector, _ u2: LaneVector, _ u3: LaneVector,
        _ u4: LaneVector
    ) {
        t0 = t0.addingProduct(d, u0)
        t1 = t1.addingProduct(d, u1)
        t2 = t2.addingProduct(d, u2)
        t3 = t3.addingProduct(d, u3)
        t4 = t4.addingProduct(d, u4)
    }

    /// Adds tap t's sum into sums[t] for t in `taps` (a tile that overlaps the one before it
    /// adds only its new taps).
    @inline(__always)
    func add(into sums: UnsafeMutablePointer<Float>, taps: Range<Int>) {
        if taps == 0..<5 {
            // The usual case, written out: a loop with a choice per tap cost a tenth of a
            // 100-position tile's time (LeNet's conv2).
            storeVector(loadVector(sums) + t0, to: sums)
            storeVector(loadVector(sums + 16) + t1, to: sums + 16)
            storeVector(loadVector(sums + 32) + t2, to: sums + 32)
            storeVector(loadVector(sums + 48) + t3, to: sums + 48)
            storeVector(loadVector(sums + 64) + t4, to: sums + 64)
            return
        }
        for t in taps {
            let value = t == 0 ? t0 : t == 1 ? t1 : t == 2 ? t2 : t == 3 ? t3 : t4
            storeVector(loadVector(sums + t * 16) + value, to: sums + t * 16)
        }
    }
}

/// A tile of the filter gradient: `channels` output channels at five filter taps, each sum
/// taken over every output position: dw[o][t] += dy[o][position] * in[position + offset t].
protocol LaneFilterGradientTile {
    static var channels: Int { get }
    init()
    /// One output position: d points at dy of the first channel (the others `channelStride`
    /// floats apart), p at the input that tap offset 0 reads; o0 ... o4 are the taps' offsets.
    mutating func add(
        _ d: UnsafePointer<Float>, channelStride: Int, _ p: UnsafePointer<Float>,
        _ o0: Int, _ o1: Int, _ o2: Int, _ o3: Int, _ o4: Int)
    /// body(j, sums of channel j) for every channel, in order.
    func forEachChannel(_ body: (Int, FiveTapSums) -> Void)
}

/// Three channels at five taps: 15 sums (LeNet's conv1, 6 channels).
struct ThreeByFiveTapTile: LaneFilterGradientTile {
    static var channels: Int { 3 }
    var k0, k1, k2: FiveTapSums

    @inline(__always)
    init() { (k0, k1, k2) = (FiveTapSums(), FiveTapSums(), FiveTapSums()) }

    @inline(__always)
    mutating func add(
        _ d: UnsafePointer<Float>, channelStride: Int, _ p: UnsafePointer<Float>,
        _ o0: Int, _ o1: Int, _ o2: Int, _ o3: Int, _ o4: Int
    ) {
        let (u0, u1, u2) = (loadVector(p + o0), loadVector(p + o1), loadVector(p + o2))
        let (u3, u4) = (loadVector(p + o3), loadVector(p + o4))
        k0.add(loadVector(d), u0, u1, u2, u3, u4)
        k1.add(loadVector(d + channelStride), u0, u1, u2, u3, u4)
        k2.add(loadVector(d + 2 * channelStride), u0, u1, u2, u3, u4)
    }

    @inline(__always)
    func forEachChannel(_ body: (Int, FiveTapSums) -> Void) {
        body(0, k0)
        body(1, k1)
        body(2, k2)
    }
}

/// Four channels at five taps: 20 sums (LeNet's conv2, 16 channels).
struct FourByFiveTapTile: LaneFilterGradientTile {
    static var channels: Int { 4 }
    var k0, k1, k2, k3: FiveTapSums

    @inline(__always)
    init() { (k0, k1, k2, k3) = (FiveTapSums(), FiveTapSums(), FiveTapSums(), FiveTapSums()) }

    @inline(__always)
    mutating func add(
        _ d: UnsafePointer<Float>, channelStride: Int, _ p: UnsafePointer<Float>,
        _ o0: Int, _ o1: Int, _ o2: Int, _ o3: Int, _ o4: Int
    ) {
        let (u0, u1, u2) = (loadVector(p + o0), loadVector(p + o1), loadVector(p + o2))
        let (u3, u4) = (loadVector(p + o3), loadVector(p + o4))
        k0.add(loadVector(d), u0, u1, u2, u3, u4)
        k1.add(loadVector(d + channelStride), u0, u1, u2, u3, u4)
        k2.add(loadVector(d + 2 * channelStride), u0, u1, u2, u3, u4)
        k3.add(loadVector(d + 3 * channelStride), u0, u1, u2, u3, u4)
    }

    @inline(__always)
    func forEachChannel(_ body: (Int, FiveTapSums) -> Void) {
        body(0, k0)
        body(1, k1)
        body(2, k2)
        body(3, k3)
    }
}

/// LeNet's conv2 backward-data, one dx channel: a row of 14 dx values from rows of 10 dy values
/// through 5 taps. Correlating a zero-bordered dy, as the tiles above would, spends 29% of the
/// multiply-adds on the border's zeros (dx column x sees dy columns x - 4 ... x, and only those
/// in 0 ..< 10 hold data). Here tap s adds the 10 dy values into dx columns 4 - s ..< 14 - s,
/// every product useful. The whole row is 14 sums, so no tile edge ever falls in the border.
struct FourteenFromTenRow {
    /// The one shape it computes: rows of 10 through 5 taps into rows of 14 (LaneCorrelation.rowTileFits).
    static let inputWidth = 10, taps = 5
    var x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13: LaneVector

    @inline(__always)
    init(bias: Float) {
        x0 = LaneVector(repeating: bias)
        (x1, x2, x3, x4, x5, x6) = (x0, x0, x0, x0, x0, x0)
        (x7, x8, x9, x10, x11, x12, x13) = (x0, x0, x0, x0, x0, x0, x0)
    }

    /// One row of dy through the five taps of one filter row: tap s adds w[s] * p[i] into
    /// x[4 - s + i] for i in 0 ..< 10. Written out tap by tap: with the offset a parameter and a
    /// switch on it, the compiler kept the 14 sums in memory.
    @inline(__always)
    mutating func add(_ w: UnsafePointer<Float>, _ p: UnsafePointer<Float>) {
        do {
            let w = LaneVector(repeating: w[0])
            x4 = x4.addingProduct(w, loadVector(p))
            x5 = x5.addingProduct(w, loadVector(p + 16))
            x6 = x6.addingProduct(w, loadVector(p + 32))
            x7 = x7.addingProduct(w, loadVector(p + 48))
            x8 = x8.addingProduct(w, loadVector(p + 64))
            x9 = x9.addingProduct(w, loadVector(p + 80))
            x10 = x10.addingProduct(w, loadVector(p + 96))
            x11 = x11.addingProduct(w, loadVector(p + 112))
            x12 = x12.addingProduct(w, loadVector(p + 128))
            x13 = x13.addingProduct(w, loadVector(p + 144))
        }
        do {
            let w = LaneVector(repeating: w[1])
            x3 = x3.addingProduct(w, loadVector(p))
            x4 = x4.addingProduct(w, loadVector(p + 16))
            x5 = x5.addingProduct(w, loadVector(p + 32))
            x6 = x6.addingProduct(w, loadVector(p + 48))
            x7 = x7.addingProduct(w, loadVector(p + 64))
            x8 = x8.addingProduct(w, loadVector(p + 80))
            x9 = x9.addingProduct(w, loadVector(p + 96))
            x10 = x10.addingProduct(w, loadVector(p + 112))
            x11 = x11.addingProduct(w, loadVector(p + 128))
            x12 = x12.addingProduct(w, loadVector(p + 144))
        }
        do {
            let w = LaneVector(repeating: w[2])
            x2 = x2.addingProduct(w, loadVector(p))
            x3 = x3.addingProduct(w, loadVector(p + 16))
            x4 = x4.addingProduct(w, loadVector(p + 32))
            x5 = x5.addingProduct(w, loadVector(p + 48))
            x6 = x6.addingProduct(w, loadVector(p + 64))
            x7 = x7.addingProduct(w, loadVector(p + 80))
            x8 = x8.addingProduct(w, loadVector(p + 96))
            x9 = x9.addingProduct(w, loadVector(p + 112))
            x10 = x10.addingProduct(w, loadVector(p + 128))
            x11 = x11.addingProduct(w, loadVector(p + 144))
        }
        do {
            let w = LaneVector(repeating: w[3])
            x1 = x1.addingProduct(w, loadVector(p))
            x2 = x2.addingProduct(w, loadVector(p + 16))
            x3 = x3.addingProduct(w, loadVector(p + 32))
            x4 = x4.addingProduct(w, loadVector(p + 48))
            x5 = x5.addingProduct(w, loadVector(p + 64))
            x6 = x6.addingProduct(w, loadVector(p + 80))
            x7 = x7.addingProduct(w, loadVector(p + 96))
            x8 = x8.addingProduct(w, loadVector(p + 112))
            x9 = x9.addingProduct(w, loadVector(p + 128))
            x10 = x10.addingProduct(w, loadVector(p + 144))
        }
        do {
            let w = LaneVector(repeating: w[4])
            x0 = x0.addingProduct(w, loadVector(p))
            x1 = x1.addingProduct(w, loadVector(p + 16))
            x2 = x2.addingProduct(w, loadVector(p + 32))
            x3 = x3.addingProduct(w, loadVector(p + 48))
            x4 = x4.addingProduct(w, loadVector(p + 64))
            x5 = x5.addingProduct(w, loadVector(p + 80))
            x6 = x6.addingProduct(w, loadVector(p + 96))
            x7 = x7.addingProduct(w, loadVector(p + 112))
            x8 = x8.addingProduct(w, loadVector(p + 128))
            x9 = x9.addingProduct(w, loadVector(p + 144))
        }
    }

    @inline(__always)
    func store(to out: UnsafeMutablePointer<Float>, _ activation: FusedActivation) {
        storeVector(activate(x0, activation), to: out)
        storeVector(activate(x1, activation), to: out + 16)
        storeVector(activate(x2, activation), to: out + 32)
        storeVector(activate(x3, activation), to: out + 48)
        storeVector(activate(x4, activation), to: out + 64)
        storeVector(activate(x5, activation), to: out + 80)
        storeVector(activate(x6, activation), to: out + 96)
        storeVector(activate(x7, activation), to: out + 112)
        storeVector(activate(x8, activation), to: out + 128)
        storeVector(activate(x9, activation), to: out + 144)
        storeVector(activate(x10, activation), to: out + 160)
        storeVector(activate(x11, activation), to: out + 176)
        storeVector(activate(x12, activation), to: out + 192)
        storeVector(activate(x13, activation), to: out + 208)
    }
}
