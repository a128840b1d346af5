// swift-tools-version: 6.0
// ModernCNN: a literate walk from tensors to GoogLeNet, every kernel our own.
import PackageDescription

// The kernels are hand-vectorised with SIMD16<Float>. Without `-target-cpu native` the
// compiler lowers those vectors to SSE2 and the microkernel runs ~100x slower, so release
// builds get the host's full instruction set. Only the kernel module also drops its runtime
// checks (-Ounchecked): the library and the chapters keep theirs, because -Ounchecked removes
// every precondition, and with it any side effect written inside one. Debug builds keep the
// defaults so that they stay debuggable (and portable).
let kernelRelease: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "native"], .when(configuration: .release)),
]
let nativeRelease: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"], .when(configuration: .release)),
]

let package = Package(
    name: "ModernCNN",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ModernCNN", targets: ["ModernCNN"]),
        .executable(name: "tensors", targets: ["tensors"]),
        .executable(name: "convolutions", targets: ["convolutions"]),
        .executable(name: "lenet", targets: ["lenet"]),
        .executable(name: "alexnet", targets: ["alexnet"]),
        .executable(name: "vgg", targets: ["vgg"]),
        .executable(name: "nin", targets: ["nin"]),
        .executable(name: "googlenet", targets: ["googlenet"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CPUHints"),
        .target(name: "Kernels", dependencies: ["CPUHints"], exclude: ["MEASUREMENTS.md"], swiftSettings: kernelRelease),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CGraphviz", pkgConfig: "libgvc", providers: [.apt(["libgraphviz-dev"])]),
        .target(name: "ModernCNN", dependencies: ["Kernels", "CZlib"], swiftSettings: nativeRelease),
        .target(
            name: "Notebook",
            dependencies: [
                "ModernCNN", "Kernels", "CZlib", "CGraphviz",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(name: "Exercises", dependencies: ["ModernCNN", "Notebook", "Kernels"], swiftSettings: nativeRelease),
        .executableTarget(
            name: "tensors",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/01-tensors",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "convolutions",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/02-convolutions",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "lenet",
            dependencies: [
                "ModernCNN", "Notebook", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/03-lenet",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "alexnet",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/04-alexnet",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "vgg",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/05-vgg",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "nin",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/06-nin",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "googlenet",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels", "Exercises",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "chapters/07-googlenet",
            swiftSettings: nativeRelease),
        .executableTarget(
            name: "bench",
            dependencies: [
                "ModernCNN", "Notebook", "Kernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Bench",
            exclude: ["reference"],
            swiftSettings: nativeRelease),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModernCNNTests", dependencies: ["ModernCNN"]),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook"], exclude: ["Golden"]),
        .testTarget(name: "ExercisesTests", dependencies: ["Exercises", "ModernCNN", "Notebook", "Kernels"]),
    ]
)
