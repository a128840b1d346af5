// BadInputChapterTests.swift: the built chapters given bad flags, bad files and Ctrl-C, as a
// careful user would. Each case expects one clear line naming the flag or the file and what is
// wrong, a non-zero exit, and every checkpoint already on disk byte-identical afterwards; small
// but valid data runs to the end.

import Foundation
import Kernels
import Testing

@testable import ModernCNN

private let quick = ["--epochs", "1", "--train-limit", "256", "--test-limit", "128", "--threads", "2"]

/// Every file in `folder` with its bytes, to compare before and after a run.
private func snapshot(_ folder: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".safetensors") {
        files[name] = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
    }
    return files
}

/// A LeNet output folder holding both of the chapter's checkpoints from one quick run.
private func lenetFolder() throws -> String {
    let folder = try temporaryFolder("lenet-bad").path
    let run = try runExecutable("lenet", quick + ["--output", folder])
    #expect(run.status == 0, "lenet failed: \(run.error)")
    return folder
}

@Test("a damaged, foreign or mismatched checkpoint stops --resume with the file's name, and changes nothing")
func badCheckpointsOnResume() throws {
    let folder = try lenetFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let checkpoint = "\(folder)/checkpoint.safetensors"
    let original = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
    let modern = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/modern-checkpoint.safetensors"))
    let cases: [(name: String, bytes: Data, flags: [String], expected: String)] = [
        ("truncated", original.prefix(original.count - 100), [], "truncated checkpoint"),
        ("another model", modern, [], "holds a checkpoint of LeNet (ReLU, max pooling)"),
        ("another rate", original, ["--lr", "0.5"], "--lr 0.9, this run uses --lr 0.5"),
        ("another seed", original, ["--seed", "7"], "--seed 42, this run uses --seed 7"),
        ("not safetensors", Data("hello, world, this is text".utf8), [], "not a safetensors file"),
    ]
    for (name, bytes, flags, expected) in cases {
        try bytes.write(to: URL(fileURLWithPath: checkpoint))
        let before = try snapshot(folder)
        let run = try runExecutable("lenet", quick + ["--output", folder, "--resume"] + flags)
        #expect(run.status != 0, "\(name): should fail")
        #expect(run.error.contains(checkpoint) && run.error.contains(expected), "\(name): \(run.error)")
        #expect(try snapshot(folder) == before, "\(name): a checkpoint changed")
        #expect(!run.error.contains("Fatal error") && !run.error.contains("Stack dump"), "\(name): crashed")
    }
}

@Test("bad flags and an unusable output folder are refused before any work, naming the flag")
func badFlags() throws {
    let file = try temporaryFolder("flags").appendingPathComponent("a-file").path
    try Data([1]).write(to: URL(fileURLWithPath: file))
    // `early`: refused before the chapter prints anything; the training batch is checked when
    // training starts, after the shape trace (which costs nothing).
    let cases: [(chapter: String, arguments: [String], expected: String, early: Bool)] = [
        ("lenet", quick + ["--lr", "inf"], "--lr must be a finite positive number", true),
        ("lenet", quick + ["--lr", "nan"], "--lr must be a finite positive number", true),
        ("lenet", quick + ["--threads", "1000"], "--threads 1000 is more than", true),
        ("lenet", quick + ["--engine", "fast"], "--engine", true),
        ("lenet", quick + ["--output", file], "is a file, not a folder", true),
        ("lenet", quick + ["--output", "\(file)/below"], "the folder cannot be created (\(file) is a file)", true),
        ("lenet", quick + ["--batch-size", "100000000"], "choose a smaller --batch-size", false),
        ("lenet", quick + ["--batch-size", "9223372036854775807"], "choose a smaller --batch-size", false),
        (
            "lenet", Array(quick.dropFirst(2)) + ["--epochs", "9223372036854775807"],
            "--epochs 9223372036854775807 is more than", true
        ),
        ("tensors", ["--size", "100000"], "choose a smaller --size", true),
        ("convolutions", ["--batch-size", "100000"], "choose a smaller --batch-size", true),
    ]
    for (chapter, arguments, expected, early) in cases {
        let run = try runExecutable(chapter, arguments)
        #expect(run.status != 0, "\(chapter) \(arguments): should fail")
        #expect(run.error.contains(expected), "\(chapter) \(arguments): \(run.error)")
        #expect(!run.error.contains("Stack dump") && !run.error.contains("NSCocoaErrorDomain"), "\(run.error)")
        // Refused before the chapter started talking: nothing but the error.
        #expect(!early || !run.output.contains("## "), "\(chapter) \(arguments) started before refusing")
        #expect(!run.output.contains("epoch 1/"), "\(chapter) \(arguments) trained")
    }
    // Lanes where the processor (or MODERNCNN_TILE=avx2) has no AVX-512 tiles: refused with the reason.
    if !GemmBlocking.wideTile {
        let lanes = try runExecutable("lenet", quick + ["--engine", "lanes"])
        #expect(
            lanes.status != 0 && lanes.error.contains("--engine lanes") && lanes.error.contains("AVX"), "\(lanes.error)"
        )
    }
    // The variable counts only without --threads.
    let environment = try runExecutable("lenet", Array(quick.dropLast(2)), environment: ["MODERNCNN_THREADS": "100000"])
    #expect(environment.status != 0 && environment.error.contains("MODERNCNN_THREADS"), "\(environment.error)")
}

@Test("lenet runs to the end on a tiny data set without pullovers or coats, and refuses an empty one")
func tinyDataSets() throws {
    let data = try temporaryFolder("tiny-data").path, output = try temporaryFolder("tiny-out").path
    defer { for folder in [data, output] { try? FileManager.default.removeItem(atPath: folder) } }
    var generator = SeededGenerator(seed: 1)
    func write(_ prefix: String, labels: [UInt8]) throws {
        let pixels = (0..<(labels.count * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try Data(IDXFile.encode(shape: [labels.count, 28, 28], bytes: pixels))
            .write(to: URL(fileURLWithPath: "\(data)/\(prefix)-images-idx3-ubyte.gz"))
        try Data(IDXFile.encode(shape: [labels.count], bytes: labels))
            .write(to: URL(fileURLWithPath: "\(data)/\(prefix)-labels-idx1-ubyte.gz"))
    }
    try write("train", labels: (0..<40).map { [0, 1, 3, 5, 7][$0 % 5] })
    try write("t10k", labels: [9, 8, 0, 1, 1])
    // A temporary file that a killed run left behind (its process is gone) is cleared at the start.
    let stale = "\(output)/checkpoint.safetensors.tmp-\(Int32.max - 7)"
    try Data([1]).write(to: URL(fileURLWithPath: stale))
    let run = try runExecutable("lenet", ["--epochs", "1", "--threads", "2", "--data-dir", data, "--output", output])
    #expect(run.status == 0, "lenet on 5 test images: \(run.error)")
    #expect(!FileManager.default.fileExists(atPath: stale))
    #expect(run.output.contains("The first 5 test images") && run.output.contains("(no test images of this class)"))
    #expect(FileManager.default.fileExists(atPath: "\(output)/index.html"))
    // No test image at all: a clear error naming the file.
    try write("t10k", labels: [])
    let empty = try runExecutable("lenet", ["--epochs", "1", "--data-dir", data, "--output", output])
    #expect(empty.status != 0 && empty.error.contains("t10k-images-idx3-ubyte.gz: holds no examples"), "\(empty.error)")
    // Junk after the gzip data.
    try write("t10k", labels: [1, 2])
    let path = "\(data)/t10k-labels-idx1-ubyte.gz"
    try (try Data(contentsOf: URL(fileURLWithPath: path)) + Data("junk".utf8)).write(to: URL(fileURLWithPath: path))
    let junk = try runExecutable("lenet", ["--epochs", "1", "--data-dir", data, "--output", output])
    #expect(junk.status != 0 && junk.error.contains("\(path): 4 bytes after the end of the gzip data"), "\(junk.error)")
}

@Test("Ctrl-C while training saves and exits 130 without a page; --resume then finishes the run")
func interruptDuringTraining() throws {
    let folder = try temporaryFolder("lenet-interrupt").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let arguments = ["--epochs", "3", "--threads", "2", "--output", folder]
    let run = try runExecutable("lenet", arguments, interruptAfter: "epoch 1: train loss")
    #expect(run.status == 130, "status \(run.status): \(run.error)")
    #expect(run.error.contains("interrupted (Ctrl-C) in section 3.3") && run.error.contains("--resume"), "\(run.error)")
    #expect(!FileManager.default.fileExists(atPath: "\(folder)/index.html"), "a page was written from a cut run")
    let resumed = try runExecutable("lenet", arguments + ["--resume"])
    #expect(resumed.status == 0 && resumed.output.contains("resuming from"), "\(resumed.error)")
}

@Test("Ctrl-C during the exercises' short runs stops the chapter too, without a page")
func interruptDuringExercises() throws {
    let folder = try temporaryFolder("lenet-interrupt-exercises").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try runExecutable("lenet", quick + ["--output", folder], interruptAfter: "## 3.6")
    #expect(run.status == 130, "status \(run.status): \(run.error)")
    #expect(run.error.contains("interrupted (Ctrl-C) in section 3.6 Exercises"), "\(run.error)")
    #expect(!FileManager.default.fileExists(atPath: "\(folder)/index.html"))
    #expect(!run.output.contains("## Summary"))
}
