// ChapterRunTests.swift: the built chapters, run as a reader runs them. The deterministic part of
// a transcript (everything before timings) is compared with a golden file, the way
// swift-argument-parser tests its example executables. The transcripts include the code cells,
// so a change to a shown snippet changes them too. To refresh the golden files after an intended
// change: `Tests/NotebookTests/Golden/refresh.sh`, then read the diff.

import Foundation
import Kernels
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Standard output collected as it arrives, so a test can act when a line appears.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.withLock { data.append(more) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// Runs a built executable of this package; returns its exit status, standard output and error.
/// `environment` adds variables; with `interruptAfter`, the process gets SIGINT (Ctrl-C) as soon
/// as that text appears in its output.
func runExecutable(
    _ name: String, _ arguments: [String], environment: [String: String] = [:],
    interruptAfter marker: String? = nil
) throws -> (status: Int32, output: String, error: String) {
    // `make test` builds into .build-test and says so in MODERNCNN_BIN; a plain `swift test`
    // finds the chapters of `swift build`.
    let folders =
        (ProcessInfo.processInfo.environment["MODERNCNN_BIN"].map { [$0] } ?? [])
        + [".build/release", ".build/debug"]
    let candidates = folders.map { folder in
        folder.hasPrefix("/")
            ? URL(fileURLWithPath: "\(folder)/\(name)") : packageRoot.appendingPathComponent("\(folder)/\(name)")
    }
    guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates[0].path])
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = FileManager.default.temporaryDirectory
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    let collected = OutputCollector()
    let reading = DispatchSemaphore(value: 0)
    let reader = output.fileHandleForReading
    try process.run()
    // One thread reads standard output to its end, in order, while this one watches for the marker.
    Thread.detachNewThread {
        while case let chunk = reader.availableData, !chunk.isEmpty { collected.append(chunk) }
        reading.signal()
    }
    if let marker {
        while process.isRunning && !collected.text.contains(marker) { usleep(20_000) }
        if process.isRunning { process.interrupt() }
    }
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    reading.wait()
    return (process.terminationStatus, collected.text, String(decoding: errorData, as: UTF8.self))
}

@Test("an unknown flag prints the usage and fails")
func unknownFlag() throws {
    let run = try runExecutable("tensors", ["--no-such-flag"])
    #expect(run.status != 0)
    #expect(run.error.contains("Unknown option '--no-such-flag'"))
    #expect(run.error.contains("Usage: tensors"))
}

@Test("a bad value names the flag")
func badValue() throws {
    let run = try runExecutable("tensors", ["--size", "0"])
    #expect(run.status != 0)
    #expect(run.error.contains("--size must be at least 1"))
}

@Test("--help lists the shared chapter flags")
func help() throws {
    let run = try runExecutable("tensors", ["--help"])
    #expect(run.status == 0)
    for flag in ["--threads", "--seed", "--output", "--size", "--full"] {
        #expect(run.output.contains(flag), "help should mention \(flag)")
    }
}

@Test("chapter 01's deterministic transcript matches the golden file, and every rung agrees")
func tensorsTranscript() throws {
    let run = try runExecutable("tensors", ["--size", "64", "--repeats", "1", "--threads", "2"])
    #expect(run.status == 0, "tensors failed: \(run.error)")
    let ladderStart = try #require(run.output.range(of: "\n## 1.4"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/tensors.txt"),
        encoding: .utf8)
    #expect(String(run.output[..<ladderStart.lowerBound]) + "\n" == golden)

    // The ladder's timings vary; its shape and its correctness column do not.
    let exercisesStart = try #require(run.output.range(of: "\n## 1.5 Exercises"))
    let ladder = run.output[ladderStart.lowerBound..<exercisesStart.lowerBound]
    let rows = ladder.split(separator: "\n").filter { $0.hasPrefix("  | ") && $0.contains(" GFLOP") == false }
        .filter { line in
            ["1 naive", "2 loop", "3 cache", "4 SIMD", "5 packing", "6 threads"].contains { line.contains($0) }
        }
    #expect(rows.count == 6)
    for row in rows {
        let difference = try #require(Float(row.split(separator: " ").last!))
        #expect(difference < 1e-4, "rung disagrees with the naive result: \(row)")
    }
    // The exercises: four traffic rows, and the transposed product agreeing exactly.
    let exercises = run.output[exercisesStart.lowerBound...]
    let trafficRows = exercises.split(separator: "\n").filter { line in
        ["  | 1 naive", "  | 2 loop", "  | 4 SIMD", "  | 5 packing"].contains { line.hasPrefix($0) }
    }
    #expect(trafficRows.count == 4)
    #expect(exercises.replacingOccurrences(of: "\n", with: " ").contains("the results differ by 0.0 (the same sums"))
}

@Test("chapter 03 on a small slice: golden shape trace and summary, training files, resume of a finished run")
func lenetTranscript() throws {
    let folder = try temporaryFolder("lenet").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let quick = ["--epochs", "1", "--train-limit", "512", "--test-limit", "256", "--threads", "2", "--output", folder]
    let run = try runExecutable("lenet", quick)
    #expect(run.status == 0, "lenet failed: \(run.error)")
    let trainingStart = try #require(run.output.range(of: "\n## 3.3"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/lenet.txt"),
        encoding: .utf8)
    #expect(String(run.output[..<trainingStart.lowerBound]) + "\n" == golden)
    #expect(run.output.contains("1 epoch over the first 512 of 60,000 training images"))
    // The plan it trains with, and one epoch on every engine this processor runs.
    #expect(
        run.output.contains(
            "How it runs: the plan for batches of 256 (--engine auto, which here is "
                + (GemmBlocking.wideTile ? "lanes" : "fused")))
    #expect(
        run.output.contains(
            GemmBlocking.wideTile
                ? "| 0-11    lane block: 2 conv stages + 3 dense  lanes"
                : "| 0-2     conv + Sigmoid() + pool"))
    let engineRows = run.output.split(separator: "\n").filter { line in
        line.contains(/^  \| (layers|fused|lanes) +[0-9]/)
    }
    #expect(engineRows.count == (GemmBlocking.wideTile ? 3 : 2), "\(engineRows)")
    #expect(run.output.contains("and the losses agree to"))
    for file in [
        "checkpoint.safetensors", "metrics.json", "modern-checkpoint.safetensors", "modern-metrics.json",
        "lenet-curves.svg", "modern-lenet-curves.svg", "lenet-samples.png", "lenet.dot", "lenet.svg",
        "lenet.png", "lenet-activations.svg", "index.md", "index.html",
    ] {
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "missing \(file)")
    }
    let page = try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8)
    let elements = try elementNames(page)
    #expect(elements.filter { $0 == "img" }.count == 5 && elements.filter { $0 == "h2" }.count == 7)
    #expect(page.contains("Conv2d output shape: [1, 6, 28, 28]") && page.contains("epoch 1: train loss"))
    // Resuming a finished run trains nothing more and reports the same final accuracy.
    let resumed = try runExecutable("lenet", quick + ["--resume"])
    #expect(resumed.status == 0, "lenet --resume failed: \(resumed.error)")
    #expect(resumed.output.contains("resuming from") && !resumed.output.contains("epoch 1: train loss"))
    func finalLine(_ text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("Test accuracy") }.map(String.init)
    }
    #expect(finalLine(resumed.output) == finalLine(run.output) && finalLine(run.output) != nil)
    // --profile: the blocks' times and the diagram shaded by them.
    let profiled = try runExecutable("lenet", quick + ["--profile"])
    #expect(profiled.status == 0, "lenet --profile failed: \(profiled.error)")
    #expect(
        profiled.output.contains("Where the time went (--profile)")
            && profiled.output.contains("evaluation on the test images"))
    #expect(FileManager.default.fileExists(atPath: "\(folder)/plan-time.svg"))
}

@Test("a missing dataset names the package and the flag")
func missingDataset() throws {
    let run = try runExecutable("lenet", ["--data-dir", "/nonexistent", "--epochs", "1"])
    #expect(run.status != 0)
    #expect(
        (run.output + run.error).contains("dataset-fashion-mnist") && (run.output + run.error).contains("--data-dir"))
}

@Test("chapter 02: golden worked examples, and the timed kernels agree with the definition")
func convolutionsTranscript() throws {
    let run = try runExecutable("convolutions", ["--threads", "2"])
    #expect(run.status == 0, "convolutions failed: \(run.error)")
    let timingStart = try #require(run.output.range(of: "\n## 2.7"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/convolutions.txt"),
        encoding: .utf8)
    #expect(String(run.output[..<timingStart.lowerBound]) + "\n" == golden)
    let row = try #require(run.output.split(separator: "\n").first { $0.contains("im2col + packed SGEMM") })
    let difference = try #require(Float(row.split(separator: " ").last!))
    #expect(difference < 1e-4)
    let winograd = try #require(run.output.split(separator: "\n").first { $0.contains("Winograd F(2x2, 5x5)") })
    #expect(try #require(Float(winograd.split(separator: " ").last!)) < 1e-3)
    // 2.8: LeNet's conv2 run directly agrees with the definition as closely as im2col does.
    let direct = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("  | direct ") })
    #expect(try #require(Float(direct.split(separator: " ").last!)) < 1e-4)
    // And with the images in the lanes, where the processor has AVX-512.
    if GemmBlocking.wideTile {
        let lanes = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("  | images in lanes ") })
        #expect(try #require(Float(lanes.split(separator: " ").last!)) < 1e-4)
    }
}

@Test("chapter 04 in its fastest form: golden traces and summary, the paper's counts, files, a page")
func alexnetTranscript() throws {
    let folder = try temporaryFolder("alexnet").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try runExecutable(
        "alexnet",
        [
            "--skip-experiments", "--train-limit", "64", "--test-limit", "32",
            "--batch-size", "32", "--threads", "2", "--output", folder,
        ])
    #expect(run.status == 0, "alexnet failed: \(run.error)")
    let paperStart = try #require(run.output.range(of: "\n## 4.4"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/alexnet.txt"),
        encoding: .utf8)
    #expect(String(run.output[..<paperStart.lowerBound]) + "\n" == golden)
    #expect(run.output.contains("parameters with groups = 2 (the paper): 60,965,224"))
    #expect(run.output.contains("parameters if every conv saw all channels: 62,378,344"))
    #expect(run.output.contains("parameters: 29,983,434"))
    #expect(run.output.contains("logits [2, 1000]"))
    #expect(run.output.contains("counted        938,146,176"))
    for file in [
        "alexnet-d2l.svg", "alexnet-d2l.png", "alexnet-paper.svg", "alexnet-paper.png", "augmentation.png",
        "alexnet-curves.svg", "checkpoint.safetensors", "metrics.json", "index.md", "index.html",
    ] {
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "missing \(file)")
    }
    _ = try elementNames(try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8))
}

@Test("chapter 05 in its fastest form: golden family table, traces, summary with receptive fields, files, a page")
func vggTranscript() throws {
    let folder = try temporaryFolder("vgg").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try runExecutable(
        "vgg",
        [
            "--skip-experiments", "--train-limit", "256", "--test-limit", "64",
            "--batch-size", "32", "--threads", "2", "--output", folder,
        ])
    #expect(run.status == 0, "vgg failed: \(run.error)")
    let costStart = try #require(run.output.range(of: "\n## 5.5"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/vgg.txt"), encoding: .utf8)
    #expect(String(run.output[..<costStart.lowerBound]) + "\n" == golden)
    #expect(run.output.contains("network: small (17,927,498 parameters)"))
    #expect(run.output.contains("138,357,544") && run.output.contains("143,667,240"))
    for file in [
        "vgg11.svg", "vgg11.png", "vgg11-blocks.svg", "vgg11-blocks.png", "receptive-fields.png",
        "receptive-fields.svg", "vgg-curves.svg", "checkpoint.safetensors", "metrics.json", "index.md", "index.html",
    ] {
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "missing \(file)")
    }
    _ = try elementNames(try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8))
}

@Test("chapter 06 in its fastest form: golden trace by name, summary and dense-head table, files, a page")
func ninTranscript() throws {
    let folder = try temporaryFolder("nin").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try runExecutable(
        "nin",
        [
            "--skip-experiments", "--train-limit", "256", "--test-limit", "64",
            "--batch-size", "32", "--threads", "2", "--output", folder,
        ])
    #expect(run.status == 0, "nin failed: \(run.error)")
    let stallStart = try #require(run.output.range(of: "\n## 6.4"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/nin.txt"), encoding: .utf8)
    #expect(String(run.output[..<stallStart.lowerBound]) + "\n" == golden)
    // The health table is printed for NiN whatever the flags, and exercise 4 measured memory.
    #expect(run.output.contains("epoch 1: ReLU") && run.output.contains("|update| / |weight|"))
    #expect(run.output.contains("training memory (SGD), batch 32"))
    for file in [
        "nin.svg", "nin.png", "nin-blocks.svg", "nin-blocks.png", "nin-curves.svg", "checkpoint.safetensors",
        "metrics.json", "index.md", "index.html",
    ] {
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "missing \(file)")
    }
    _ = try elementNames(try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8))
}

@Test("chapter 07 on a small slice: golden transcript to 7.4, diagrams, training files and a page")
func googLeNetTranscript() throws {
    let folder = try temporaryFolder("googlenet").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try runExecutable(
        "googlenet",
        [
            "--skip-experiments", "--train-limit", "256", "--test-limit", "64", "--batch-size", "32", "--threads", "2",
            "--output", folder,
        ])
    #expect(run.status == 0, "googlenet failed: \(run.error)")
    let trainingStart = try #require(run.output.range(of: "\n## 7.4"))
    let golden = try String(
        contentsOf: packageRoot.appendingPathComponent("Tests/NotebookTests/Golden/googlenet.txt"), encoding: .utf8)
    #expect(String(run.output[..<trainingStart.lowerBound]) + "\n" == golden)
    #expect(run.output.contains("1 epoch over the first 256 of 60,000 training images at 32x32"))
    #expect(run.output.contains("## 7.5 Exercises") && run.output.contains("skipped with --skip-experiments"))
    // The closing comparison: no other chapter ran into this folder's siblings, so each says how
    // to train it, and this run's own accuracy is there.
    #expect(run.output.contains("## 7.6 Five networks side by side"))
    // The transcript wraps prose at 92 columns; compare with the words joined by single spaces.
    let flowing = run.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(flowing.contains("- AlexNet: not trained yet (no readable checkpoint in "))
    #expect(flowing.contains("04-alexnet; `make alexnet`)."))
    #expect(
        run.output.contains("- GoogLeNet: GoogLeNet (d2l, Kaiming initialisation), 1 epoch over 256 images at 32 px"))
    #expect(flowing.contains("57 x BatchNorm2d added"))
    for file in [
        "inception.svg", "inception.png", "googlenet.svg", "googlenet-blocks.svg", "googlenet-blocks.png",
        "googlenet-curves.svg", "checkpoint.safetensors", "metrics.json", "index.md", "index.html",
        "five-networks.svg", "googlenet-bn-diff.svg", "googlenet-bn-diff.png",
    ] {
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "missing \(file)")
    }
    _ = try elementNames(try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8))
}
