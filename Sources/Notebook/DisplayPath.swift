// DisplayPath.swift: how a chapter names a file: relative to the folder it was run from
// ("output/03-lenet/checkpoint.safetensors"), never as an absolute path, which would say more
// about one machine than about the book and would differ in every transcript.

import Foundation

/// `path` relative to the current folder, climbing with ".." where it lies elsewhere.
public func displayPath(_ path: String, from folder: String = FileManager.default.currentDirectoryPath) -> String {
    let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
    let base = URL(fileURLWithPath: folder, isDirectory: true).standardizedFileURL.pathComponents
    let shared = zip(target, base).prefix { $0 == $1 }.count
    let parts = Array(repeating: "..", count: base.count - shared) + target[shared...]
    return parts.isEmpty ? "." : parts.joined(separator: "/")
}
