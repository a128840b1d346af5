// ExecutionPlanTests.swift: every engine this processor runs computes what the model's own
// layer-by-layer forward and backward compute (outputs, the input gradient and every parameter's
// gradient) for both LeNets and AlexNet; a plan takes smaller batches than it was made for; it
// says what it decided; an engine the processor lacks is refused with the reason.

import Kernels
import Testing

@testable import ModernCNN

/// Largest difference, relative to the largest magnitude in the reference.
private func relativeDifference(_ ours: Tensor, _ reference: Tensor) -> Float {
    #expect(ours.shape == reference.shape)
    let scale = max(reference.scalars.map(abs).max() ?? 0, 1e-20)
    return zip(ours.scalars, reference.scalars).map { abs($0 - $1) }.max()! / scale
}

/// One training forward and backward of `make()`'s network run by `engine`, against the same
/// network (same weights) run layer by layer.
private func expectEngineMatchesLayers(
    _ engine: Engine, _ what: String, input shape: [Int], classes: Int,
    planned: Int? = nil, _ make: () -> Sequential
) throws {
    let (network, reference) = (make(), make())
    let plan = try ExecutionPlan(
        network, inputShape: [planned ?? shape[0]] + shape.dropFirst(), engine: engine,
        firstLayerNeedsGradient: true)
    var generator = SeededGenerator(seed: 21)
    let x = Tensor(uniform: shape, in: 0...1, generator: &generator)
    let y = try plan.forward(x, training: true), yReference = try reference.forward(x, training: true)
    #expect(y.shape == [shape[0], classes])
    #expect(relativeDifference(y, yReference) <= 1e-5, "\(what), \(engine): outputs")
    let dy = Tensor(uniform: y.shape, in: -1...1, generator: &generator)
    #expect(relativeDifference(plan.backward(dy), reference.backward(dy)) <= 1e-4, "\(what), \(engine): input gradient")
    for (ours, theirs) in zip(network.namedParameters, reference.namedParameters) {
        #expect(
            relativeDifference(ours.parameter.gradient, theirs.parameter.gradient) <= 1e-4,
            "\(what), \(engine): gradient of \(ours.name)")
    }
}

/// Both LeNets, and a short last batch through a plan made for a larger one (buffers made once).
private func expectLeNetsMatchLayers(_ engine: Engine) throws {
    try expectEngineMatchesLayers(engine, "LeNet (d2l)", input: [37, 1, 28, 28], classes: 10) { LeNet.d2l(seed: 2) }
    try expectEngineMatchesLayers(engine, "LeNet (modern)", input: [20, 1, 28, 28], classes: 10) {
        LeNet.modern(seed: 3)
    }
    try expectEngineMatchesLayers(engine, "LeNet, 5 of 64", input: [5, 1, 28, 28], classes: 10, planned: 64) {
        LeNet.d2l(seed: 4)
    }
}

@Test("the engines every processor runs train both LeNets as the layers do", arguments: [Engine.layers, .fused, .auto])
func enginesAgreeOnLeNet(engine: Engine) throws { try expectLeNetsMatchLayers(engine) }

@Test("the lanes engine trains both LeNets as the layers do", .enabled(if: Engine.lanes.unavailableReason == nil))
func lanesAgreeOnLeNet() throws { try expectLeNetsMatchLayers(.lanes) }

@Test(
    "the engines every processor runs train AlexNet (d2l) as the layers do", arguments: [Engine.layers, .fused, .auto])
func enginesAgreeOnAlexNet(engine: Engine) throws {
    try expectEngineMatchesLayers(engine, "AlexNet", input: [2, 1, 224, 224], classes: 10) { AlexNet.d2l(seed: 5) }
}

@Test("the lanes engine trains AlexNet (d2l) as the layers do", .enabled(if: Engine.lanes.unavailableReason == nil))
func lanesAgreeOnAlexNet() throws {
    try expectEngineMatchesLayers(.lanes, "AlexNet", input: [2, 1, 224, 224], classes: 10) { AlexNet.d2l(seed: 5) }
}

@Test(
    "the lanes engine is refused, with the reason, where the processor cannot run it",
    .enabled(if: !GemmBlocking.wideTile))
func lanesRefusedWithoutAVX512() throws {
    #expect(Engine.lanes.unavailableReason != nil && !Engine.available.contains(.lanes))
    do {
        _ = try ExecutionPlan(LeNet.d2l(), inputShape: [8, 1, 28, 28], engine: .lanes)
        Issue.record("the lanes engine should be refused")
    } catch let error as EngineError {
        #expect(error.description.contains("AVX") && error.description.contains("fused"), "\(error)")
    }
}

@Test("a plan says what it decided: LeNet in one lane block or fused stages, AlexNet's algorithms")
func plansDescribeThemselves() throws {
    let lenet = try ExecutionPlan(LeNet.d2l(), inputShape: [256, 1, 28, 28])
    if GemmBlocking.wideTile {
        #expect(lenet.engine == .lanes && lenet.steps.count == 1 && lenet.steps[0].layers == 0..<12)
        #expect(lenet.description.contains("0-11  lane block: 2 conv stages + 3 dense  lanes"), "\(lenet)")
    } else {
        #expect(lenet.engine == .fused && lenet.steps.map(\.layers.count) == [3, 3, 1, 1, 1, 1, 1, 1])
        #expect(lenet.steps[0].algorithm == "direct", "\(lenet)")
    }
    let layers = try ExecutionPlan(LeNet.d2l(), inputShape: [256, 1, 28, 28], engine: .layers)
    #expect(layers.steps.count == 12 && layers.steps.allSatisfy { $0.layers.count == 1 })
    // AlexNet: conv1 (stride 4) and conv2 (5x5) through im2col or Winograd, conv3-5 (3x3, wide) Winograd.
    let alexnet = try ExecutionPlan(AlexNet.d2l(), inputShape: [128, 1, 224, 224], engine: .fused)
    let convolutions = alexnet.steps.filter { !$0.algorithm.isEmpty }.map(\.algorithm)
    #expect(convolutions == ["im2col", "winograd", "winograd", "winograd", "winograd"], "\(alexnet)")
    #expect(alexnet.steps[0].why.contains("strided"))
    // A batch larger than planned, or another image size, is refused with both shapes.
    #expect(throws: ShapeError.self) { try lenet.forward(Tensor(zeros: [257, 1, 28, 28]), training: false) }
    #expect(throws: ShapeError.self) { try lenet.forward(Tensor(zeros: [2, 1, 32, 32]), training: false) }
}

@Test(
    "the rules give each convolution the algorithm that suits it: Winograd for AlexNet's wide 3x3 and 5x5, direct for thin layers"
)
func convolutionRules() {
    func geometry(
        _ n: Int, _ c: Int, _ h: Int, k: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        groups: Int = 1
    ) -> ConvolutionGeometry {
        ConvolutionGeometry(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: h, outputChannels: k,
            kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
            paddingHeight: padding, paddingWidth: padding, groups: groups)
    }
    let passes = { (g: ConvolutionGeometry) in ExecutionRules.convolution(g).passes }
    let algorithm = { (g: ConvolutionGeometry) in passes(g).forward }
    #expect(passes(geometry(128, 256, 12, k: 384, kernel: 3, padding: 1)) == ConvolutionPasses(.winograd))
    #expect(passes(geometry(128, 96, 26, k: 256, kernel: 5, padding: 2)) == ConvolutionPasses(.winograd))
    let conv1 = geometry(128, 1, 224, k: 96, kernel: 11, stride: 4, padding: 1)
    let strided = geometry(1, 32, 12, k: 32, kernel: 3, stride: 2)
    let grouped = geometry(1, 32, 12, k: 32, kernel: 3, padding: 1, groups: 2)
    let pointwise = geometry(1, 3, 12, k: 8, kernel: 1)
    for g in [conv1, strided, grouped, pointwise] { #expect(algorithm(g) == .im2col, "\(g)") }
    // LeNet's two layers, and a thin 3x3 one that Winograd could run but whose 3 input channels
    // would make its 36 products too thin.
    for g in [
        geometry(256, 1, 28, k: 6, kernel: 5, padding: 2), geometry(256, 6, 14, k: 16, kernel: 5),
        geometry(1, 3, 12, k: 32, kernel: 3, padding: 1),
    ] {
        #expect(algorithm(g) == .direct, "\(g)")
    }
    // Small planes (NiN at 67 px): the 5x5 on 7x7 keeps Winograd's forward (its tiles waste
    // 64 / 49 of the work) and runs backward side by side; the 3x3 on a 3x3 plane, where a 4x4
    // tile is mostly padding, goes to im2col whole.
    let seven = geometry(64, 96, 7, k: 256, kernel: 5, padding: 2),
        three = geometry(64, 256, 3, k: 384, kernel: 3, padding: 1)
    #expect(abs(seven.winogradTileWaste - 64.0 / 49) < 1e-12 && abs(three.winogradTileWaste - 16.0 / 9) < 1e-12)
    #expect(passes(seven) == ConvolutionPasses(forward: .winograd, backwardData: .im2col, filterGradient: .im2col))
    #expect(passes(three) == ConvolutionPasses(.im2col))
    // Whatever the rule picks, the kernels can run.
    for g in [conv1, strided, grouped, pointwise, seven, three] { #expect(g.supports(passes(g))) }
}

@Test("a profiled run times every block of its plan both ways, every step, and what surrounds the steps")
func profiledTraining() throws {
    let data = try FashionMNIST(split: .test)
    let configuration = TrainingConfiguration(epochs: 1, batchSize: 32, trainLimit: 96, testLimit: 32)
    let trainer = try Trainer(
        model: LeNet.modern(seed: 1), optimizer: SGD(learningRate: 0.05), train: data, test: data,
        configuration: configuration)
    let profile = TrainingProfile()
    trainer.profile = profile
    try trainer.run()
    #expect(profile.steps == 3 && profile.images == 96)
    // The blocks are the plan's steps, in order, covering all twelve layers once.
    #expect(profile.blocks.map(\.layers) == trainer.plan.steps.map(\.layers))
    #expect(profile.blocks.flatMap { Array($0.layers) } == Array(0..<12))
    #expect(profile.blocks.allSatisfy { $0.forward > 0 && $0.backward > 0 })
    for phase in TrainingProfile.Phase.allCases { #expect(profile.phases[phase] != nil, "\(phase)") }
    let inside =
        profile.blocks.reduce(0) { $0 + $1.forward + $1.backward }
        + TrainingProfile.Phase.allCases.reduce(0) { $0 + (profile.phases[$1] ?? 0) }
    #expect(inside <= profile.seconds && profile.seconds > 0)
    // Each step's wall time, batch wait to update: at least its blocks, loss and update.
    #expect(profile.stepSeconds.count == 3 && profile.stepSeconds.allSatisfy { $0 > 0 })
    let measuredInSteps = inside - (profile.phases[.evaluation] ?? 0) - (profile.phases[.saving] ?? 0)
    #expect(profile.stepSeconds.reduce(0, +) >= measuredInSteps * 0.999)
    // The evaluation's forward passes are not counted as training blocks: a second run with a
    // larger test set adds evaluation time, not block time per step.
    #expect(trainer.plan.blockTimer == nil, "the timer is taken off after the run")
}

@Test(
    "the engines every processor runs train VGG (small, at 64 px; cpu, at 224) as the layers do",
    arguments: [Engine.layers, .fused, .auto])
func enginesAgreeOnVGG(engine: Engine) throws {
    try expectEngineMatchesLayers(engine, "VGG small", input: [3, 1, 64, 64], classes: 10) {
        VGG.Variant.small.model(inputSize: 64, seed: 6)
    }
    try expectEngineMatchesLayers(engine, "VGG cpu", input: [2, 1, 224, 224], classes: 10) {
        VGG.Variant.cpu.model(seed: 7)
    }
}

@Test("the engines every processor runs train NiN as the layers do", arguments: [Engine.layers, .fused, .auto])
func enginesAgreeOnNiN(engine: Engine) throws {
    try expectEngineMatchesLayers(engine, "NiN", input: [2, 1, 224, 224], classes: 10) { NiN.d2l(seed: 8) }
}

@Test(
    "the engines every processor runs train GoogLeNet (and with batch norm) as the layers do",
    arguments: [Engine.layers, .fused, .auto])
func enginesAgreeOnGoogLeNet(engine: Engine) throws {
    // Stages 4 and 5 trained channels-last where the engine fuses; a short batch too.
    try expectEngineMatchesLayers(engine, "GoogLeNet", input: [3, 1, 96, 96], classes: 10) {
        GoogLeNet.model(seed: 9)
    }
    try expectEngineMatchesLayers(engine, "GoogLeNet, 2 of 3", input: [2, 1, 96, 96], classes: 10, planned: 3) {
        GoogLeNet.model(seed: 12)
    }
    // The chapter's quick input, 32 px: stages 2-5 on 8x8 down to 1x1 planes train channels-last.
    try expectEngineMatchesLayers(engine, "GoogLeNet at 32 px", input: [4, 1, 32, 32], classes: 10) {
        GoogLeNet.model(seed: 14)
    }
    try expectEngineMatchesLayers(engine, "GoogLeNet, 2 of 4", input: [2, 1, 64, 64], classes: 10, planned: 4) {
        GoogLeNet.model(GoogLeNet.Design(batchNorm: true), seed: 10)
    }
    try expectEngineMatchesLayers(engine, "residual GoogLeNet", input: [2, 1, 32, 32], classes: 10) {
        GoogLeNet.model(GoogLeNet.Design(factorizedFiveByFive: true, residual: true), seed: 11)
    }
}

@Test("a plan runs a Residual's body and shortcut as plans of their own and prints them below it")
func residualPlan() throws {
    let plan = try ExecutionPlan(
        GoogLeNet.model(GoogLeNet.Design(residual: true)), inputShape: [4, 1, 96, 96], engine: .fused)
    let rows = plan.table.rows
    #expect(rows.contains { $0[0] == "2.0" && $0[1] == "body + shortcut" })
    #expect(rows.contains { $0[0] == "2.0.body.0" && $0[1] == "4 branches (below)" })
    #expect(rows.contains { $0[0] == "2.0.shortcut.0" && $0[2].contains("im2col") })
    // 4b's 512 -> 512 keeps the identity.
    #expect(rows.contains { $0[0] == "3.1" && $0[1] == "body + identity" })
}

@Test("a plan runs each Inception branch as a plan of its own and prints it below the block")
func inceptionPlan() throws {
    let plan = try ExecutionPlan(GoogLeNet.model(), inputShape: [8, 1, 96, 96], engine: .fused)
    let rows = plan.table.rows
    #expect(rows.contains { $0[0] == "2.0" && $0[1] == "4 branches (below)" })
    // The first block's 3x3 branch: 1x1 + ReLU fused, then the 3x3 + ReLU on a 12x12 plane.
    #expect(rows.contains { $0[0] == "2.0.p2.0-1" && $0[1].hasPrefix("conv + ReLU") })
    #expect(rows.contains { $0[0] == "2.0.p2.2-3" && $0[2].contains("winograd") })
    #expect(rows.contains { $0[0] == "2.0.p4.0" && $0[1].hasPrefix("MaxPool2d") })
}

/// A Concat whose branches end four ways: a convolution + ReLU (fused by the fused engines), a
/// ReLU after a batch norm, a max pool and a bare convolution. The first two write into their
/// channels in place; the last two are copied there.
private func mixedBranches(seed: UInt64) -> Sequential {
    var g = SeededGenerator(seed: seed)
    func conv(_ inputs: Int, _ outputs: Int, _ k: Int) -> Conv2d {
        Conv2d(inputChannels: inputs, outputChannels: outputs, kernelSize: k, padding: k / 2, generator: &g)
    }
    let branches = Concat([
        ("fused", Sequential(conv(4, 3, 3), ReLU())),
        ("alone", Sequential(conv(4, 2, 1), BatchNorm2d(channels: 2), ReLU())),
        ("pool", Sequential(MaxPool2d(kernelSize: 3, stride: 1, padding: 1))),
        ("bare", conv(4, 5, 1)),
    ])
    let head = Linear(inputFeatures: 14 * 36, outputFeatures: 10, generator: &g)
    return Sequential(conv(1, 4, 3), ReLU(), branches, ReLU(), Flatten(), head)
}

@Test(
    "a plan writes each branch into its channels in place where the branch ends in an activation, copies the others, and trains as the layers do",
    arguments: [Engine.layers, .fused, .auto])
func concatenationInPlace(engine: Engine) throws {
    try expectEngineMatchesLayers(engine, "mixed branches", input: [3, 1, 6, 6], classes: 10) {
        mixedBranches(seed: 13)
    }
    let model = mixedBranches(seed: 14)
    let plan = try ExecutionPlan(model, inputShape: [2, 1, 6, 6], engine: engine)
    #expect(
        plan.table.rows.contains {
            $0[0] == "2"
                && $0[3].hasSuffix("2 of 4 write their channels of the output in place, the others are copied there")
        })
    // The activations that wrote in place keep the step's whole output for backward: the
    // concatenation is held once, not once more in each branch.
    guard case let .branches(branchPlans, _, channels)? = plan.steps.first(where: { $0.layers == 2..<3 })?.block
    else { return #expect(Bool(false), "the plan has no branches step for layer 2") }
    var generator = SeededGenerator(seed: 15)
    let x = Tensor(uniform: [2, 4, 6, 6], in: -1...1, generator: &generator)
    let y = try ExecutionPlan.concatenated(branchPlans, channels: channels, x, training: true)
    let writers = branchPlans.compactMap(\.activationWritingInPlace)
    #expect(writers.count == 2)
    for writer in writers { #expect(writer.savedOutput?.sharesStorage(with: y) == true) }
    #expect(
        try y.copying(channels: 0..<3).scalars == model.layers[2].children[0].layer.forward(x, training: false).scalars)
}

/// Inference by `engine` against the model's own forward on the same weights; `channelsLast`:
/// whether the plan should run some of its steps channels-last.
private func expectInferenceMatchesLayers(
    _ engine: Engine, _ what: String, input shape: [Int], planned: Int? = nil, channelsLast: Bool,
    _ make: () -> Sequential
) throws {
    let (network, reference) = (make(), make())
    let plan = try ExecutionPlan(network, inputShape: [planned ?? shape[0]] + shape.dropFirst(), engine: engine)
    #expect((plan.channelsLast != nil) == channelsLast, "\(what), \(engine): channels-last or not")
    var generator = SeededGenerator(seed: 22)
    let x = Tensor(uniform: shape, in: 0...1, generator: &generator)
    let y = try plan.forward(x, training: false)
    #expect(relativeDifference(y, try reference.forward(x, training: false)) <= 1e-5, "\(what), \(engine): outputs")
    // A training forward after it, channels-last where the plan trains so.
    let trained = try plan.forward(x, training: true)
    #expect(relativeDifference(trained, try reference.forward(x, training: true)) <= 1e-5, "\(what), \(engine)")
}

@Test(
    "inference runs the small-plane steps channels-last where the engine fuses, and computes what the layers do",
    arguments: [Engine.layers, .fused, .auto])
func channelsLastInferenceAgrees(engine: Engine) throws {
    let fuses = engine != .layers
    try expectInferenceMatchesLayers(
        engine, "GoogLeNet, 3 of 4", input: [3, 1, 96, 96], planned: 4, channelsLast: fuses
    ) {
        GoogLeNet.model(seed: 16)
    }
    // From the pool into 12x12 to the dropout; its 10-channel head on 5x5 channels-first, after
    // the batch is turned back.
    try expectInferenceMatchesLayers(engine, "NiN", input: [2, 1, 224, 224], channelsLast: fuses) { NiN.d2l(seed: 17) }
    // Its last block (14x14) channels-last, its 7x7 output turned back for the flatten.
    try expectInferenceMatchesLayers(engine, "VGG cpu", input: [2, 1, 224, 224], channelsLast: fuses) {
        VGG.Variant.cpu.model(seed: 20)
    }
    // Small planes, but convolutions of 4 or fewer output channels (and a batch norm): none
    // channels-last.
    try expectInferenceMatchesLayers(engine, "mixed branches", input: [3, 1, 6, 6], channelsLast: false) {
        mixedBranches(seed: 18)
    }
    try expectInferenceMatchesLayers(engine, "GoogLeNet with batch norm", input: [2, 1, 96, 96], channelsLast: false) {
        GoogLeNet.model(GoogLeNet.Design(batchNorm: true), seed: 19)
    }
}

@Test(
    "a plan says which steps run channels-last: GoogLeNet's stages 3 to 5 in inference, 4 and 5 in training, by Winograd where 3x3 tiles fit"
)
func channelsLastPlanRow() throws {
    let plan = try ExecutionPlan(GoogLeNet.model(), inputShape: [8, 1, 96, 96], engine: .fused)
    #expect(plan.channelsLast?.steps == 2..<5)
    #expect(plan.channelsLastTraining?.steps == 3..<5)
    #expect(plan.table.rows.contains { $0[0] == "2-4" && $0[1] == "inference: channels-last" })
    #expect(plan.table.rows.contains { $0[0] == "3-4" && $0[1] == "training: channels-last" })
    // At the chapter's quick 32 px, stage 2 (8x8) on: both passes, one row.
    let quick = try ExecutionPlan(GoogLeNet.model(), inputShape: [8, 1, 32, 32], engine: .fused)
    #expect(quick.channelsLastTraining?.steps == 1..<5)
    #expect(quick.channelsLast === quick.channelsLastTraining, "one run serves both passes")
    #expect(quick.table.rows.contains { $0[0] == "1-4" && $0[1] == "training and inference: channels-last" })
    // The 3x3 convolutions on 12x12 and 6x6 by Winograd; on 3x3 (stage 5) lowered.
    var algorithms: [ChannelsLastAlgorithm] = []
    func collect(_ operations: [ChannelsLastRun.Operation]) {
        for operation in operations {
            switch operation {
            case let .convolution(convolution, _, algorithm) where convolution.kernelSize == 3:
                algorithms.append(algorithm)
            case let .branches(branches, _): branches.forEach(collect)
            default: break
            }
        }
    }
    plan.channelsLast?.programs.forEach(collect)
    #expect(algorithms == Array(repeating: .winograd, count: 7) + [.lowered, .lowered])
}

@Test(
    "NiN's inference runs channels-last from the pool into 12x12 to the dropout, its 10-channel head channels-first; its training none"
)
func ninChannelsLastRun() throws {
    let plan = try ExecutionPlan(NiN.d2l(), inputShape: [4, 1, 224, 224], engine: .fused)
    #expect(plan.channelsLast?.steps == 3..<7)
    #expect(plan.channelsLastTraining == nil)
}
