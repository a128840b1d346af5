// Chapter 02: convolutions: the operation, its arithmetic, and how it becomes a matrix product.
//
// Every number printed here is computed by the same layers and kernels the networks use, on
// inputs small enough to check by eye; the last section times the naive definition against
// the im2col + SGEMM kernel on one of AlexNet's layers.

import ArgumentParser
import Exercises
import Foundation
import Kernels
import ModernCNN
import Notebook

struct ConvolutionsChapter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convolutions",
        abstract: "Chapter 02: cross-correlation, padding and stride, channels, 1x1 convolutions, pooling, im2col.")

    @OptionGroup var options: ChapterOptions

    @Option(help: "Images in the timed AlexNet conv2 batch.")
    var batchSize = 1

    @Flag(help: "Time a batch of 8 images instead of 1.")
    var full = false

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        options.applyThreads()
        let batch = full ? max(batchSize, 8) : batchSize
        // 2.7's conv2 batch: the input twice (tensor and array), the output of the definition and
        // of each algorithm, and im2col's workspace, all 26x26 planes.
        try MemoryBudget.require(
            float32Bytes([batch, 2 * 96 + 4 * 256 + 96 * 25, 26, 26]),
            for: "timing conv2 on --batch-size \(batch)",
            fix: "choose a smaller --batch-size (the default is 1)")
        let folder = try options.outputDirectory(chapter: "02-convolutions")
        let book = Notebook()
        book.title("Chapter 02 · Convolutions")
        try crossCorrelation(book)
        try paddingAndStride(book)
        try channels(book)
        try pointwise(book)
        try pooling(book)
        try loweringToGemm(book)
        try timing(book, batch: batch)
        try thinLayers(book)
        try exercises(book)
        summary(book)
        try book.page.write(to: folder, chapter: "02-convolutions")
    }

    /// A Conv2d layer with the given weights and zero bias (bias: false keeps the sums visible).
    func convolution(
        _ weights: [Float], input: Int, output: Int, kernel: Int, stride: Int = 1,
        padding: Int = 0
    ) throws -> Conv2d {
        var g = SeededGenerator(seed: options.seed)
        let conv = Conv2d(
            inputChannels: input, outputChannels: output, kernelSize: kernel, stride: stride,
            padding: padding, bias: false, generator: &g)
        conv.weight.value = try Tensor(shape: [output, input, kernel, kernel], values: weights)
        return conv
    }

    // MARK: 2.1

    func crossCorrelation(_ book: Notebook) throws {
        book.section("2.1 Sliding a window: cross-correlation")
        book.say(
            """
            A convolutional layer slides a small grid of weights, the kernel, over its input. At \
            each position it multiplies the kernel with the patch beneath it, element by \
            element, and adds everything up: one output number per position. Strictly this is \
            cross-correlation (a true convolution would flip the kernel first), but since the \
            kernel is learned the flip changes nothing, and deep learning calls it convolution.
            """)
        let x = try Tensor(
            shape: [1, 1, 3, 4],
            values: [
                1, 2, 0, 3,
                4, 1, 5, 2,
                0, 6, 1, 1,
            ])
        let conv = try convolution(
            [
                1, 0,
                0, -1,
            ], input: 1, output: 1, kernel: 2)
        let y = try conv.forward(x, training: false)
        book.say("A 3x4 input and a 2x2 kernel that subtracts each pixel's lower-right neighbour from it:")
        book.show("input", "\n\(x)")
        book.show("kernel", "\n\(conv.weight.value)")
        book.show("output", "\n\(y)")
        let first = y.withUnsafeBufferPointer { $0[0] }
        book.say(
            """
            The top-left output is 1*1 + 2*0 + 4*0 + 1*(-1) = \(formatted(Double(first), digits: 0)). A 3x4 \
            input has 2x3 positions for a 2x2 window: the output shrinks by the kernel size \
            minus one in each direction. Large values mark where brightness falls along the \
            diagonal: this kernel is a tiny edge detector, the kind of feature the first layer \
            of a trained network discovers by itself.
            """)
    }

    // MARK: 2.2

    func paddingAndStride(_ book: Notebook) throws {
        book.section("2.2 Padding, stride, and the output-size formula")
        book.say(
            """
            Two knobs control the output size. Padding p adds p rows and columns of zeros around \
            the input, so the window can centre on border pixels; stride s moves the window s \
            pixels at a time. Along one axis of size n with a kernel of size k the window fits \
            floor((n + 2p - k) / s) + 1 times. With k = 2p + 1 and s = 1 the size is kept \
            ("same" padding); with s = 2 it is halved.
            """)
        var table = TextTable(headers: ["input", "kernel", "padding", "stride", "formula", "layer's output"])
        for (n, k, p, s) in [(8, 3, 1, 1), (8, 3, 0, 1), (8, 3, 1, 2), (8, 5, 2, 3)] {
            let conv = try convolution(
                [Float](repeating: 1, count: k * k), input: 1, output: 1, kernel: k, stride: s,
                padding: p)
            let y = try conv.forward(Tensor(zeros: [1, 1, n, n]), training: false)
            table.append([
                "\(n)x\(n)", "\(k)x\(k)", "\(p)", "\(s)",
                "(\(n) + \(2 * p) - \(k)) / \(s) + 1 = \((n + 2 * p - k) / s + 1)",
                "\(y.shape[2])x\(y.shape[3])",
            ])
        }
        book.show(table)
        book.say(
            """
            The right column is what the layer actually produced. Here is the formula at work \
            on the first layers of AlexNet (chapter 04), for one 224x224 image:
            """)
        let profile = try ModelProfile(AlexNet.d2l(), inputShape: [1, 1, 224, 224])
        book.show(profile.shapeTrace(arithmetic: true).split(separator: "\n").prefix(6).joined(separator: "\n"))
        let conv1 = AlexNet.d2l().layers[0] as! Conv2d  // the model starts with it
        let reach = 224 + 2 * conv1.padding - conv1.kernelSize
        let unread = reach % conv1.stride
        book.say(
            """
            conv1's stride of 4 cuts 224 to 54 in one step; the 3x3 pools with stride 2 overlap \
            (each window shares a row with the next), which AlexNet's authors found to overfit \
            slightly less than the non-overlapping 2x2 pools of LeNet. The flooring matters: \
            (224 + \(2 * conv1.padding) - \(conv1.kernelSize)) / \(conv1.stride) = \
            \(formatted(Double(reach) / Double(conv1.stride), digits: 2)), so the last \(unread) \
            column\(unread == 1 ? "" : "s") of the padded input \(unread == 1 ? "is" : "are") never read.
            """)
    }

    // MARK: 2.3

    func channels(_ book: Notebook) throws {
        book.section("2.3 Several input and output channels")
        book.say(
            """
            Real inputs have channels (red, green, blue; or the 96 feature maps of a previous \
            layer). A kernel then has one 2-D slice per input channel, and its output is the sum \
            of the slices' cross-correlations: the channels are mixed, not kept apart. To get K \
            output channels the layer holds K such kernels, so its weight has shape \
            [K, C, R, S] = [outputs, inputs, height, width].
            """)
        let x = try Tensor(shape: [1, 2, 3, 3], values: (0..<18).map { Float($0 % 9) + ($0 < 9 ? 0 : 1) })
        // Kernel 0 adds the channels' 2x2 patches, kernel 1 takes their difference, kernel 2 reads channel 1 only.
        let conv = try convolution(
            [
                1, 1, 1, 1, 1, 1, 1, 1,
                1, 1, 1, 1, -1, -1, -1, -1,
                0, 0, 0, 0, 1, 0, 0, 0,
            ], input: 2, output: 3, kernel: 2)
        let y = try conv.forward(x, training: false)
        book.show("input [1, 2, 3, 3] (channel 1 is channel 0 plus one)", "\n\(x)")
        book.show("output [1, 3, 2, 2]", "\n\(y)")
        book.say(
            """
            Output channel 0 sums both channels' windows; channel 1 subtracts them, and since the \
            second input channel is the first plus one everywhere, every window differs by \
            exactly -4; channel 2 just picks the top-left pixel of channel 1. The layer has \
            \(conv.parameterCount) weights: 3 outputs x 2 inputs x 2 x 2.
            """)
    }

    // MARK: 2.4

    func pointwise(_ book: Notebook) throws {
        book.section("2.4 A 1x1 convolution is a matrix product")
        book.say(
            """
            With a 1x1 kernel a convolution looks at no neighbours at all: each output pixel is \
            a weighted sum of the input channels at that same pixel. Lay the input out as a \
            [C, H*W] matrix, one column per pixel, and the layer is W[K, C] times that matrix. \
            NiN and GoogLeNet (chapters 06, 07) use it to mix and shrink channels cheaply, and \
            our kernel computes it as exactly this GEMM, with no rearranging of the input.
            """)
        var g = SeededGenerator(seed: options.seed)
        let x = Tensor(uniform: [1, 3, 4, 4], in: -1...1, generator: &g)
        let weights = Tensor(uniform: [2, 3], in: -1...1, generator: &g)
        let conv = try convolution(Array(weights.scalars), input: 3, output: 2, kernel: 1)
        let viaConvolution = try conv.forward(x, training: false)
        let viaMatmul = try weights.matmul(try x.reshaped([3, 16]))
        let difference = try (viaConvolution.reshaped([2, 16]) - viaMatmul).scalars.map(abs).max() ?? 0
        book.show("conv1x1(x) as [2, 16]", "\n\(try viaConvolution.reshaped([2, 16]))")
        book.show("W[2, 3] x X[3, 16]", "\n\(viaMatmul)")
        book.show("largest difference", String(format: "%.1e", difference))
    }

    // MARK: 2.5

    func pooling(_ book: Notebook) throws {
        book.section("2.5 Pooling")
        book.say(
            """
            A pooling layer slides a window too, but has no weights: it reports the largest \
            (max pooling) or the mean (average pooling) value in each window, channel by \
            channel. It makes the output less sensitive to exactly where a feature appears, and \
            with a stride it shrinks the image. The size formula is the convolution's; as in \
            PyTorch, average pooling divides by the whole window even where it overlaps the \
            padding.
            """)
        let x = try Tensor(
            shape: [1, 1, 4, 4],
            values: [
                1, 3, 2, 0,
                4, 8, 1, 1,
                0, 2, 6, 5,
                1, 1, 7, 3,
            ])
        book.show("input", "\n\(x)")
        for (name, layer) in [
            ("MaxPool2d(kernel: 2, stride: 2)", MaxPool2d(kernelSize: 2, stride: 2) as any Layer),
            ("AvgPool2d(kernel: 2, stride: 2)", AvgPool2d(kernelSize: 2, stride: 2)),
            ("MaxPool2d(kernel: 3, stride: 1, padding: 1)", MaxPool2d(kernelSize: 3, stride: 1, padding: 1)),
        ] {
            book.show(name, "\n\(try layer.forward(x, training: false))")
        }
        book.say(
            """
            Max pooling keeps the strongest response of each 2x2 block (8, 2, 2, 7); average \
            pooling blurs them (4, 1, 1, 5.25). With a 3x3 window, padding 1 and stride 1 the \
            size is kept and each pixel becomes the largest value around it.
            """)
    }

    // MARK: 2.6

    func loweringToGemm(_ book: Notebook) throws {
        book.section("2.6 im2col: a convolution as one matrix product")
        book.say(
            """
            Sliding windows are awkward to make fast; matrix products are what chapter 01 made \
            fast. im2col ("image to columns") copies every window of the input into a column of \
            a matrix: for C channels and an R x S kernel, a column holds the C*R*S values under \
            one window position, and there are P*Q columns, one per output pixel. Then the \
            convolution is a single product W[K, C*R*S] x columns[C*R*S, P*Q], the output in \
            [K, P*Q] order, which is already NCHW. The price is memory: each input value is \
            copied into up to R*S columns.
            """)
        book.say(
            """
            Our im2col fills the matrix one row at a time: row (c, r, s) is channel c shifted by \
            (r, s) under every window, a strided copy of image rows with zeros where the window \
            hangs over the padding.
            """)
        book.code("im2col", from: "Sources/Kernels/Convolution/Im2col/Im2col.swift")
        let x = try Tensor(shape: [1, 2, 3, 3], values: (1...18).map(Float.init))
        let g = ConvolutionGeometry(
            batch: 1, inputChannels: 2, inputHeight: 3, inputWidth: 3, outputChannels: 1,
            kernelHeight: 2, kernelWidth: 2)
        var columns = Tensor(zeros: [g.patchLength, g.outputPlane])
        x.withUnsafeBufferPointer { image in
            columns.withUnsafeMutableBufferPointer { im2col(g, image: image.baseAddress!, columns: $0.baseAddress!) }
        }
        book.show("input [1, 2, 3, 3]", "\n\(x)")
        book.show("columns [C*R*S, P*Q] = [8, 4]", "\n\(columns)")
        let weights: [Float] = [1, 0, 0, 1, 0, 1, 1, 0]
        let conv = try convolution(weights, input: 2, output: 1, kernel: 2)
        let direct = try conv.forward(x, training: false)
        let lowered = try Tensor(shape: [1, 8], values: weights).matmul(columns)
        book.say(
            """
            Column 0 is the top-left window: 1, 2, 4, 5 from channel 0, then 10, 11, 13, 14 from \
            channel 1. With a kernel of weights \(weights.map { "\(Int($0))" }.joined(separator: " ")) \
            the product and the layer agree:
            """)
        book.show("W[1, 8] x columns", lowered.scalars.map { Int($0) })
        book.show("Conv2d output", direct.scalars.map { Int($0) })
        let conv2 = ConvolutionGeometry(
            batch: 128, inputChannels: 96, inputHeight: 26, inputWidth: 26,
            outputChannels: 256, kernelHeight: 5, kernelWidth: 5,
            paddingHeight: 2, paddingWidth: 2)
        book.say(
            """
            Backward is the same trick run in reverse: the gradient of the weights is \
            dY[K, P*Q] x columns^T, and the gradient of the input is W^T x dY, scattered back \
            from columns into the image (col2im), adding where windows overlap. Our kernel \
            lowers one image at a time into a reused buffer: for AlexNet's conv2 a whole batch \
            of 128 would need a \(grouped(conv2.patchLength)) x \(grouped(conv2.outputPlane * conv2.batch)) \
            matrix, \(byteCount(conv2.columnCount * conv2.batch * 4)).
            """)
        book.say(
            """
            The layer the networks use, Conv2d, hands its tensors to these kernels. Its forward \
            keeps the input for backward when training; its backward computes dL/dx (unless it \
            is the first layer, whose input needs no gradient) and adds dL/dw and dL/db:
            """)
        book.code("conv2d-forward", from: "Sources/ModernCNN/Layers/Conv2d.swift")
        book.code("conv2d-backward", from: "Sources/ModernCNN/Layers/Conv2d.swift")
    }

    // MARK: 2.7

    func timing(_ book: Notebook, batch: Int) throws {
        book.section("2.7 The definition against the kernel, on AlexNet's conv2")
        let g = ConvolutionGeometry(
            batch: batch, inputChannels: 96, inputHeight: 26, inputWidth: 26,
            outputChannels: 256, kernelHeight: 5, kernelWidth: 5, paddingHeight: 2, paddingWidth: 2)
        let macs = g.outputChannels * g.outputPlane * g.patchLength * batch
        book.say(
            """
            Finally the speed. AlexNet's conv2 takes 96 channels of 26x26 to 256 channels of \
            26x26 through 5x5 kernels: \(grouped(macs / batch)) multiply-adds per image. First the \
            seven nested loops of the definition (the oracle our tests compare every kernel \
            against, accumulating in Double), then the two ways our kernels run it on \
            \(Parallel.threadCount) thread\(Parallel.threadCount == 1 ? "" : "s"), all on a batch of \(batch): \
            im2col plus SGEMM, and Winograd's transformed tiles (below the table).
            """)
        var generator = SeededGenerator(seed: options.seed)
        let x = Tensor(uniform: [batch, 96, 26, 26], in: -1...1, generator: &generator)
        let w = Tensor(uniform: [256, 96, 5, 5], in: -0.05...0.05, generator: &generator)
        let (xs, ws) = (Array(x.scalars), Array(w.scalars))
        var reference: [Float] = []
        let naiveSeconds = bestTime(repeats: 1) {
            reference = ConvolutionReference.forward(g, input: xs, weight: ws, bias: nil)
        }
        /// Best time and largest difference from the definition of one algorithm.
        func measure(_ algorithm: ConvolutionAlgorithm) -> (seconds: Double, difference: Float) {
            var y = [Float](repeating: 0, count: batch * 256 * g.outputPlane)
            let workspace = ConvolutionWorkspace(g, algorithm: algorithm)
            let seconds = bestTime(repeats: 5) {
                xs.withUnsafeBufferPointer { input in
                    ws.withUnsafeBufferPointer { weight in
                        y.withUnsafeMutableBufferPointer { output in
                            convolutionForward(
                                g, input: input.baseAddress!, weight: weight.baseAddress!, bias: nil,
                                output: output.baseAddress!, workspace: workspace)
                        }
                    }
                }
            }
            return (seconds, zip(reference, y).map { abs($0 - $1) }.max() ?? 0)
        }
        let lowered = measure(.im2col), winograd = measure(.winograd)
        let flops = 2 * Double(macs)
        var table = TextTable(headers: ["method", "time (ms)", "GFLOP/s", "speed-up", "max |difference|"])
        table.append([
            "7 nested loops (Double)", formatted(naiveSeconds * 1e3, digits: 1),
            formatted(flops / naiveSeconds / 1e9, digits: 2), "1.0x", "-",
        ])
        // Winograd's sizes for this layer: m x m output blocks from (m + r - 1)-wide input tiles.
        let (r, m) = (g.kernelHeight, 2)
        let tile = m + r - 1, blocks = ((g.outputHeight + m - 1) / m) * ((g.outputWidth + m - 1) / m)
        let winogradName = "Winograd F(\(m)x\(m), \(r)x\(r))"
        for (name, result) in [("im2col + packed SGEMM", lowered), (winogradName, winograd)] {
            table.append([
                name, formatted(result.seconds * 1e3, digits: 1),
                formatted(flops / result.seconds / 1e9, digits: 1),
                formatted(naiveSeconds / result.seconds, digits: 0) + "x",
                String(format: "%.1e", result.difference),
            ])
        }
        book.show(table)
        book.say(
            """
            Same numbers, up to float rounding, \(formatted(naiveSeconds / lowered.seconds, digits: 0)) times \
            faster with im2col. The loops touch the input in an order the caches do not like and \
            use one float at a time; the lowered version spends a little time copying windows \
            into columns and the rest inside the microkernel of chapter 01.
            """)
        book.aside("how Winograd does fewer multiplies") {
            book.say(
                """
                Winograd's row counts as many multiply-adds as the others (the convolution's own), so \
                its GFLOP/s can pass the machine's peak: it does fewer. It cuts the input into \
                \(tile)x\(tile) tiles, each giving a \(m)x\(m) block of output, and moves tiles and filters \
                into a basis in which the \(r)x\(r) convolution of a tile becomes \(tile * tile) element-wise \
                products instead of \(m * m * r * r) multiply-adds. Summed over channels, each of the \
                \(tile * tile) positions is one matrix product, run on the same SGEMM. The price is a \
                larger rounding error (the last column) and the work of transforming: here it ran \
                \(formatted(lowered.seconds / winograd.seconds, digits: 2))x the speed of im2col. With \
                few images its \(tile * tile) products are thin (\(batch * blocks) columns for \(batch) \
                image\(batch == 1 ? "" : "s")); a training batch makes them wide, which is where it wins \
                (make bench shows AlexNet at batch 128). 3x3 layers use 4x4 blocks from the same \
                \(tile)x\(tile) tiles: \(tile * tile) products instead of \(4 * 4 * 3 * 3). The training \
                chapters use Winograd wherever a layer is 3x3 or 5x5 with stride 1 and has 16 or more \
                channels on each side, in all three passes (`make bench` measures the other choice, \
                im2col for the backward passes, beside it); thinner layers are the next section's. \
                Timings move by 10-20% between runs on a shared machine; try --threads 1 or --full \
                (a batch of 8).
                """)
            book.code("winograd-input-transform", from: "Sources/Kernels/Convolution/Winograd/Winograd.swift")
        }
    }

    // MARK: 2.8

    /// The three passes of one layer, timed with one algorithm: (forward, backward-data,
    /// backward-filter) in seconds, and the forward's largest difference from `reference`.
    func passTimes(
        _ g: ConvolutionGeometry, _ algorithm: ConvolutionAlgorithm, x: [Float], w: [Float], dy: [Float],
        reference: [Float]
    ) -> (forward: Double, data: Double, filter: Double, difference: Float) {
        let workspace = ConvolutionWorkspace(g, algorithm: algorithm)
        var y = [Float](repeating: 0, count: dy.count), dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: w.count)
        let forward = bestTime(repeats: 5) {
            convolutionForward(g, input: x, weight: w, bias: nil, output: &y, workspace: workspace)
        }
        let data = bestTime(repeats: 5) {
            convolutionBackwardData(g, outputGradient: dy, weight: w, inputGradient: &dx, workspace: workspace)
        }
        let filter = bestTime(repeats: 5) {
            convolutionBackwardFilter(
                g, input: x, outputGradient: dy, weightGradient: &dw, biasGradient: nil,
                workspace: workspace)
        }
        return (forward, data, filter, zip(reference, y).map { abs($0 - $1) }.max() ?? 0)
    }

    /// The same three passes with the batch in the vector lanes (Kernels/LaneConvolutionBatch.swift).
    func laneTimes(
        _ g: ConvolutionGeometry, x: [Float], w: [Float], dy: [Float], reference: [Float]
    )
        -> (forward: Double, data: Double, filter: Double, difference: Float)
    {
        let layer = LaneConvolutionBatch(
            g,
            backwardDataRowTile: ExecutionRules.laneBackwardDataUsesRowTile(
                width: g.inputWidth, kernelSize: g.kernelWidth, padding: g.paddingWidth))
        layer.setInput(x)
        layer.setWeights(w)
        layer.setOutputGradient(dy)
        var (dw, db) = ([Float](repeating: 0, count: w.count), [Float](repeating: 0, count: g.outputChannels))
        let forward = bestTime(repeats: 5) { layer.runForward() }
        let data = bestTime(repeats: 5) { layer.runBackwardData() }
        let filter = bestTime(repeats: 5) { layer.runFilterGradient(weightGradient: &dw, biasGradient: &db) }
        var y = [Float](repeating: 0, count: dy.count)
        layer.copyOutput(into: &y)
        return (forward, data, filter, zip(reference, y).map { abs($0 - $1) }.max() ?? 0)
    }

    func thinLayers(_ book: Notebook) throws {
        book.section("2.8 Thin layers: direct convolutions and images in the lanes, on LeNet's conv2")
        let batch = 256
        let g = ConvolutionGeometry(
            batch: batch, inputChannels: 6, inputHeight: 14, inputWidth: 14, outputChannels: 16,
            kernelHeight: 5, kernelWidth: 5)
        let lanes = LanePlanes.lanes, rowStride = g.inputWidth + 2 * g.paddingWidth
        let flat = (g.outputHeight * rowStride + lanes - 1) / lanes * lanes
        book.say(
            """
            LeNet's layers are the opposite of AlexNet's: conv2 takes \(g.inputChannels) channels of \
            \(g.inputHeight)x\(g.inputWidth) to \(g.outputChannels) of \(g.outputHeight)x\(g.outputWidth), \
            \(grouped(g.outputChannels * g.outputPlane * g.patchLength)) multiply-adds per image. Lowered, each image is a \
            \(g.outputChannels) x \(g.patchLength) x \(g.outputPlane) matrix product whose \
            \(g.patchLength) x \(g.outputPlane) im2col matrix is written, packed and read again for only \
            \(g.outputChannels) multiply-adds per float: the copies cost as much as the arithmetic. \
            Winograd does not help either: its 36 products would have \(g.inputChannels) as their \
            inner dimension.
            """)
        book.say(
            """
            So thin stride-1 layers (fewer than 16 channels on a side) run a third way, straight \
            from a copy of each image inside a zero border, with no im2col matrix. The copy's rows \
            are \(rowStride) floats apart, so the window of output (p, q) starts at the flat index \
            i = p * \(rowStride) + q, and the output is the sum over the taps of \
            w[k, c, r, s] * x[c, i + r * \(rowStride) + s]. There are two ways to fill vectors with it.
            """)
        book.aside("how the direct and lane kernels fill their vectors") {
            book.say(
                """
                Along the row: \(lanes) consecutive flat outputs are one vector load per tap, whichever \
                rows they straddle, shared by \(DirectTileShapes.channelsPerRowVector) output channels held \
                in registers. Lanes with q >= \(g.outputWidth) wrap into the next row and are thrown away: \
                run this way, conv2's forward would keep \(g.outputPlane) of every \(flat) lanes.
                """)
            let (positions, gemm) = (DirectTileShapes.positionsPerChannelVector, DirectTileShapes.gemmNarrowTile)
            book.say(
                """
                Along the channels, once a layer has \(lanes) or more output channels (conv2 has \
                \(g.outputChannels)): a vector holds one output position for \(lanes) channels, and a \
                tile of \(positions) positions takes, per tap, one load of the filters and \(positions) \
                broadcast inputs. That is the shape of SGEMM's AVX2 microkernel tile, \(gemm.rows) x \
                \(gemm.columns), with the bordered image standing in for the packed panel. No lane is thrown \
                away; the price is a transpose of each image's output into NCHW. Conv2's forward and \
                backward-filter run this way. Its backward-data, \
                whose outputs are the \(g.inputChannels) input channels, runs along the row: the \
                forward kernel on dy with the filters turned by 180 degrees, skipping the kernel rows \
                that would only meet dy's zero border.
                """)
            let tiles = LaneCorrelation.tileShapes
            // What LeNet's first dense layer reads: the second pool's output, flattened.
            let pooledFeatures = LeNet.d2l().layers.compactMap { $0 as? Linear }.first!.inputFeatures
            book.say(
                """
                Or fill the vectors across the images instead: put the images in the lanes. A group of \(lanes) \
                images is stored channel by channel and row by row, and each stored value is a vector \
                whose lane j belongs to image j. A filter tap is then one vector load and one FMA for \
                \(lanes) images, whatever the plane's width; no lane is thrown away, and a window that \
                leaves the image skips exactly the rows it would read outside it. Register tiles hold \
                \(tiles.map { "\($0.channels) channels x \($0.positions) positions" }.joined(separator: " or ")) \
                (\(tiles.map { "\($0.channels * $0.positions)" }.joined(separator: " and ")) vectors of sums: they \
                need AVX-512's 32 vector registers); for conv2's backward-data one tile holds a whole \
                \(g.inputWidth)-wide row of dx and adds each \(g.outputWidth)-wide row of dy through the \
                \(g.kernelWidth) taps, so no product meets dy's zero border. The batch goes into this layout \
                once, before conv1, as \(lanes) x \(lanes) blocks turned in registers, and LeNet stays in it to \
                the end: the second pool's output for a group is already its \(pooledFeatures) features side by \
                side, so the dense layers run on the group at once, each step of their sums one vector load \
                and an FMA with a broadcast weight for each of \(LaneDense.tileRows) output rows. Only the \
                \(FashionMNIST.classNames.count) logits per image come back out.
                """)
        }
        var generator = SeededGenerator(seed: options.seed)
        let x = Array(Tensor(uniform: [batch, 6, 14, 14], in: 0...1, generator: &generator).scalars)
        let w = Array(Tensor(uniform: [16, 6, 5, 5], in: -0.2...0.2, generator: &generator).scalars)
        let dy = Array(Tensor(uniform: [batch, 16, 10, 10], in: -1...1, generator: &generator).scalars)
        let reference = ConvolutionReference.forward(g, input: x, weight: w, bias: nil)
        let lowered = passTimes(g, .im2col, x: x, w: w, dy: dy, reference: reference)
        let direct = passTimes(g, .direct, x: x, w: w, dy: dy, reference: reference)
        let lanesUsed = GemmBlocking.wideTile
        let inLanes = lanesUsed ? laneTimes(g, x: x, w: w, dy: dy, reference: reference) : nil
        var table = TextTable(headers: [
            "method", "forward (ms)", "backward-data (ms)", "backward-filter (ms)",
            "all three (ms)", "max |difference| (forward)",
        ])
        let rows =
            [("im2col + packed SGEMM", lowered), ("direct", direct)] + (inLanes.map { [("images in lanes", $0)] } ?? [])
        for (name, result) in rows {
            table.append([
                name, formatted(result.forward * 1e3, digits: 2), formatted(result.data * 1e3, digits: 2),
                formatted(result.filter * 1e3, digits: 2),
                formatted((result.forward + result.data + result.filter) * 1e3, digits: 2),
                String(format: "%.1e", result.difference),
            ])
        }
        book.show(table)
        func total(_ times: (forward: Double, data: Double, filter: Double, difference: Float)) -> Double {
            times.forward + times.data + times.filter
        }
        let speedUp = total(lowered) / total(direct)
        book.say(
            """
            A batch of \(batch) on \(Parallel.threadCount) thread\(Parallel.threadCount == 1 ? "" : "s"): the \
            direct kernels ran the layer's three passes \(formatted(speedUp, digits: 1))x as fast as \
            im2col\(inLanes.map { ", and the lane layout \(formatted(total(lowered) / total($0), digits: 1))x" } ?? ""). \
            The batch is split over the threads, an image (or a group of \(lanes)) at a time, so \
            nothing waits on a shared product.
            """
                + (lanesUsed
                    ? " Chapter 03 trains LeNet with its images in the lanes, from conv1 to the logits."
                    : " This processor has no AVX-512, so chapter 03 trains LeNet on the direct kernels.")
                + " It prints the plan it trains with (Sources/ModernCNN/Execution) and times one epoch on each"
                + " engine this processor runs (--engine layers, fused, lanes).")
    }

    // MARK: 2.9 Exercises

    func exercises(_ book: Notebook) throws {
        book.section("2.9 Exercises")
        book.code("convolutions-output-shape", from: "Sources/Exercises/Convolutions.swift")
        let shape = ConvolutionsExercises.outputShape()
        book.say(
            """
            1. Kernel (3, 5), padding (0, 1), stride (3, 4) on an 8x8 input: the formula gives \
            floor((8 + 0 - 3) / 3) + 1 = \(shape.byFormula.height) rows and floor((8 + 2 - 5) / 4) + 1 = \
            \(shape.byFormula.width) columns; running that convolution gives \(shape.byRunning).
            """)
        let small: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        book.code("convolutions-mirror-padding", from: "Sources/Exercises/Convolutions.swift")
        let mirrored = ConvolutionsExercises.mirrorPadded(small, height: 3, width: 3, padding: 1)
        book.say(
            """
            2. Mirror padding reflects the image about its edge instead of adding zeros, so a \
            border pixel's window sees plausible image rather than black. The 3x3 image 1 ... 9, \
            padded by 1:
            """)
        book.show(
            (0..<5).map { row in mirrored[(row * 5)..<(row * 5 + 5)].map { "\(Int($0))" }.joined(separator: " ") }
                .joined(separator: "\n"))
        var generator = SeededGenerator(seed: options.seed)
        let a = Array(Tensor(uniform: [9], in: -1...1, generator: &generator).scalars)
        let b = Array(Tensor(uniform: [25], in: -1...1, generator: &generator).scalars)
        book.code("convolutions-combined-kernel", from: "Sources/Exercises/Convolutions.swift")
        let combined = ConvolutionsExercises.combinedKernel(a, size: 3, b, size: 5)
        let x = Tensor(uniform: [1, 1, 16, 16], in: -1...1, generator: &generator)
        let stacked = try convolution(b, input: 1, output: 1, kernel: 5)
            .forward(try convolution(a, input: 1, output: 1, kernel: 3).forward(x, training: false), training: false)
        let single = try convolution(combined, input: 1, output: 1, kernel: 7).forward(x, training: false)
        book.say(
            """
            3. Two convolutions with nothing between them are one: a 3x3 then a 5x5 equal a single \
            \(Int(Double(combined.count).squareRoot()))x\(Int(Double(combined.count).squareRoot())) \
            kernel, each of its entries the sum of a[r] * b[s] over r + s = t. On a 16x16 input both \
            give \(stacked.shape) and differ by at most \
            \(String(format: "%.1e", try stacked.maxAbsoluteDifference(from: single))). That is why a \
            deep network needs a nonlinearity between its layers.
            """)
        book.code("convolutions-diagonal-edges", from: "Sources/Exercises/Convolutions.swift")
        let edges = ConvolutionsExercises.diagonalEdges()
        func matrix(_ values: [Float], columns: Int) -> String {
            stride(from: 0, to: values.count, by: columns).map { start in
                values[start..<(start + columns)].map { String(format: "%2d", Int($0)) }.joined(separator: " ")
            }.joined(separator: "\n")
        }
        book.say(
            """
            4. A picture with a diagonal edge (1 on and above the diagonal), the edge kernel \
            [1, -1] slid across it, across the transposed picture, and the kernel transposed, \
            [1; -1], slid down it:
            """)
        book.show("picture", "\n" + matrix(edges.picture, columns: edges.side))
        book.show("[1, -1] across it", "\n" + matrix(edges.horizontal, columns: edges.side - 1))
        book.show(
            "[1, -1] across the transposed picture", "\n" + matrix(edges.transposedPicture, columns: edges.side - 1))
        book.show("[1; -1] down the picture", "\n" + matrix(edges.transposedKernel, columns: edges.side))
        book.say(
            """
            A diagonal edge is a change along the rows and down the columns at once, so the \
            kernel finds it either way round: \
            \(edges.horizontal.filter { $0 != 0 }.count), \(edges.transposedPicture.filter { $0 != 0 }.count) and \
            \(edges.transposedKernel.filter { $0 != 0 }.count) responses, all along the diagonal. \
            Transposing the picture flips the sign (along a row the step now goes down instead of \
            up); the \
            transposed kernel on the picture gives exactly the transpose of the kernel on the \
            transposed picture.
            """)
        let (channels, side, images) = (64, 28, 8)
        book.code("convolutions-grouped-cost", from: "Sources/Exercises/Convolutions.swift")
        let cost = ConvolutionsExercises.groupedCost(channels: channels, groups: 4, side: side, batch: images)
        let timeRatio = cost.seconds.full / cost.seconds.grouped
        book.say(
            """
            5. A convolution in \(cost.groups) groups multiplies by a block-diagonal matrix: \
            \(cost.groups) blocks of (c/\(cost.groups))^2 instead of c^2, \(cost.groups) times \
            fewer multiply-adds. Counted by the kernels on a \(channels)-channel 3x3 layer, \(side)x\(side), batch \(images): \
            \(grouped(cost.multiplyAdds.full)) against \(grouped(cost.multiplyAdds.grouped)); \
            timed, \(formatted(cost.seconds.full * 1e3, digits: 2)) ms against \
            \(formatted(cost.seconds.grouped * 1e3, digits: 2)) ms \
            (\(formatted(timeRatio, digits: 1))x)\(timeRatio < Double(cost.groups) - 0.5
                ? ": smaller products run further from the peak, so the time falls by less than the count"
                : ", about what the count promises").
            """)
        let window = 2
        let pool = try AvgPool2d(kernelSize: window, stride: window).forward(x, training: false)
        book.code("convolutions-pool-as-convolution", from: "Sources/Exercises/Convolutions.swift")
        let asConvolution = try ConvolutionsExercises.averagePoolAsConvolution(
            channels: 1, window: window, stride: window
        )
        .forward(x, training: false)
        book.say(
            """
            6. Average pooling is a convolution: each channel on its own (groups = channels) with \
            a k x k kernel of 1/k^2 and the pool's stride; on the 16x16 input the two differ by \
            \(String(format: "%.1e", try pool.maxAbsoluteDifference(from: asConvolution))). Max pooling is \
            not (a maximum is no weighted sum), but ReLU builds it: max(a, b) = b + ReLU(a - b), \
            e.g. max(-2, 0.5) = \(ConvolutionsExercises.maximum(-2, 0.5)) and max(3, 1) = \
            \(ConvolutionsExercises.maximum(3, 1)); a \(window)x\(window) window needs \(window * window - 1) of them.
            """)
        book.code("convolutions-pooling-cost", from: "Sources/Exercises/Convolutions.swift")
        let poolCost = try ConvolutionsExercises.poolingCost()
        book.say(
            """
            A pooling layer has no weights and does k^2 - 1 comparisons per output. AlexNet's first \
            max pool (3x3, stride 2) does \(grouped(poolCost.comparisons)) comparisons per image against \
            the \(grouped(poolCost.convolutionMultiplyAdds)) multiply-adds of conv1 before it: \
            \(formatted(100 * Double(poolCost.comparisons) / Double(poolCost.convolutionMultiplyAdds), digits: 2))% \
            as many operations. Its time goes to reading its input once, which is why the training \
            chapters apply it to each image as the convolution writes it.
            """)
        try im2colAnyWindow(book)
        book.code("convolutions-layer-costs", from: "Sources/Exercises/Convolutions.swift")
        let costs = ConvolutionsExercises.layerCosts(
            inputChannels: 64, side: 28, outputChannels: 128, kernel: 3,
            padding: 1)
        book.say(
            """
            7. What a convolution costs, per image: forward is c_o x P x Q x c_i x k_h x k_w \
            multiply-adds, and backward-data and backward-filter are products of the same sizes, \
            so a training step costs three times as much. For a 3x3 layer on 28x28 and what \
            doubling does (the tests count the same numbers with the instrumented kernels):
            """)
        var table = TextTable(headers: [
            "layer", "c_i", "c_o", "padding", "output", "forward MACs", "training MACs",
            "input + output floats", "weights",
        ])
        for cost in costs {
            let g = cost.geometry
            table.append([
                cost.name, "\(g.inputChannels)", "\(g.outputChannels)", "\(g.paddingHeight)",
                "\(g.outputChannels)x\(g.outputHeight)x\(g.outputWidth)", grouped(cost.forward),
                grouped(cost.training), grouped(cost.inputFloats + cost.outputFloats), grouped(cost.weightFloats),
            ])
        }
        book.show(table)
        book.say(
            """
            Doubling the input channels doubles the work (\(formatted(Double(costs[1].forward) / Double(costs[0].forward), digits: 1))x); \
            doubling both channel counts quadruples it (\(formatted(Double(costs[2].forward) / Double(costs[0].forward), digits: 1))x); \
            doubling the padding only adds the border's outputs \
            (\(formatted(Double(costs[3].forward) / Double(costs[0].forward), digits: 2))x), each as dear as the others. \
            Training also keeps the input for backward-filter and needs a gradient as large as \
            each tensor.
            """)
        let direction: (Float, Float) = (0.6, 0.8)
        let edge = ConvolutionsExercises.edgeDetector(orthogonalTo: direction)
        book.code("convolutions-finite-difference", from: "Sources/Exercises/Convolutions.swift")
        let orders = (1...4).map { ($0, ConvolutionsExercises.finiteDifference(order: $0)) }
        func row(_ values: [Float]) -> String {
            "[" + values.map { formatted(Double($0), digits: 2) }.joined(separator: ", ") + "]"
        }
        book.say(
            """
            8. Kernels by hand. An edge detector for edges orthogonal to the direction \
            (\(direction.0), \(direction.1)) is the derivative along it: \(direction.0) times the \
            horizontal difference plus \(direction.1) times the vertical one, the 2x2 kernel \
            \(row(edge)) (row by row). The d-th derivative is the d-th finite difference, which \
            needs d + 1 taps: \(orders.map { "order \($0.0): \(row($0.1))" }.joined(separator: "; ")). \
            So the second derivative needs at least 3. A blur is a mean: the 3x3 kernel of \
            \(formatted(Double(ConvolutionsExercises.blur(size: 3)[0]), digits: 3)) everywhere.
            """)
    }

    /// Exercise: im2col for any window, stride and padding, checked against the definition.
    func im2colAnyWindow(_ book: Notebook) throws {
        book.say(
            """
            im2col for any window: the same columns serve every kernel shape, stride and padding; \
            the convolution is then one product with the weights, here by the plain triple loop, \
            checked against the seven nested loops of the definition:
            """)
        book.code("convolutions-im2col-any-window", from: "Sources/Exercises/Convolutions.swift")
        var generator = SeededGenerator(seed: options.seed)
        var table = TextTable(headers: ["window", "stride", "padding", "output", "max |difference|"])
        for (kernel, stride, padding) in [((1, 1), (1, 1), (0, 0)), ((2, 3), (2, 1), (1, 0)), ((5, 5), (3, 3), (2, 2))]
        {
            let g = ConvolutionGeometry(
                batch: 2, inputChannels: 3, inputHeight: 9, inputWidth: 10, outputChannels: 4,
                kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: stride.0, strideWidth: stride.1,
                paddingHeight: padding.0, paddingWidth: padding.1)
            let x = Array(
                Tensor(uniform: [g.batch * g.inputChannels * g.inputPlane], in: -1...1, generator: &generator).scalars)
            let w = Array(Tensor(uniform: [g.weightCount], in: -1...1, generator: &generator).scalars)
            let lowered = ConvolutionsExercises.convolutionByIm2col(g, input: x, weight: w)
            let reference = ConvolutionReference.forward(g, input: x, weight: w, bias: nil)
            let difference = zip(lowered, reference).map { abs($0 - $1) }.max() ?? 0
            table.append([
                "\(kernel.0)x\(kernel.1)", "\(stride.0)x\(stride.1)", "\(padding.0)x\(padding.1)",
                "\(g.outputChannels)x\(g.outputHeight)x\(g.outputWidth)", String(format: "%.1e", difference),
            ])
        }
        book.show(table)
    }

    func summary(_ book: Notebook) {
        book.section("Summary")
        book.say(
            """
            - A convolution slides a kernel over the input and sums elementwise products; with C \
            input and K output channels its weight is [K, C, R, S].
            - Output size per axis: floor((n + 2p - k) / s) + 1. Padding keeps the size, stride \
            shrinks it.
            - A 1x1 convolution is a matrix product over channels; pooling slides a window with \
            no weights.
            - im2col turns any convolution into one GEMM on the kernel of chapter 01; Winograd's \
            tiles turn a stride-1 3x3 or 5x5 one into 36 smaller GEMMs with fewer multiplies; a \
            thin stride-1 layer runs fastest straight from a padded copy of each image.
            """)
    }
}

ConvolutionsChapter.main()
