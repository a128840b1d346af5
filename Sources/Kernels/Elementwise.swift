// Elementwise.swift: activations and their gradients, one float at a time (the compiler
// vectorises these loops), threaded over contiguous chunks for large tensors.

import Foundation

/// Below this many elements a single thread is faster than waking the pool.
let elementwiseThreadingThreshold = 1 << 16

@inline(__always)
func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
    let workers = count >= elementwiseThreadingThreshold ? Parallel.threadCount : 1
    Parallel.forEachWorker(workers) { worker in body(Parallel.chunk(worker, of: workers, splitting: count)) }
}

/// y = max(0, x). May run in place (y == x).
public func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in for i in range { y[i] = max(0, x[i]) } }
}

/// dx = dy where the forward output was positive, else 0. Uses the output y rather than the input:
/// y > 0 exactly where x > 0, and y is what an in-place ReLU leaves behind.
public func reluBackward(outputGradient dy: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in for i in range { dx[i] = y[i] > 0 ? dy[i] : 0 } }
}

/// y = 1 / (1 + e^-x), written so that neither branch overflows: for x < 0 it is e^x / (1 + e^x).
public func sigmoidForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in
        for i in range {
            let v = x[i]
            if v >= 0 {
                y[i] = 1 / (1 + exp(-v))
            } else {
                let e = exp(v)
                y[i] = e / (1 + e)
            }
        }
    }
}

/// dx = dy * y * (1 - y): the sigmoid's slope, largest (1/4) at 0 and vanishing for large |x|,
/// which is why deep sigmoid networks (LeNet's era) learned slowly.
public func sigmoidBackward(outputGradient dy: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                            inputGradient dx: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in for i in range { dx[i] = dy[i] * y[i] * (1 - y[i]) } }
}

/// y = x * mask, elementwise: dropout's forward (mask holds 0 or 1/(1-p)) and its backward.
public func multiply(_ x: UnsafePointer<Float>, by mask: UnsafePointer<Float>,
                     into y: UnsafeMutablePointer<Float>, count: Int) {
    forEachChunk(count) { range in for i in range { y[i] = x[i] * mask[i] } }
}
