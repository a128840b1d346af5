// Interrupt.swift: what Ctrl-C does, in one place.
//
// While a training or evaluation loop runs, it "listens": the first Ctrl-C only raises a flag,
// the loop finishes its batch, the trainer saves a checkpoint, and the loop throws
// `TrainingStopped.interrupted`, which carries up to the chapter; the chapter then says where it
// stopped and exits with status 130 without writing its page, so no table or page is ever made
// from a run that was cut short. Anywhere else (a matrix product, a shape trace, a second
// Ctrl-C while waiting for a batch), nothing is worth finishing: the handler says where the
// chapter was and exits at once with status 130. Checkpoints and pages are written to a
// temporary file and renamed, so an exit in the middle of a write leaves the old file whole.

import Foundation
import Synchronization

public enum Interrupt {
    private static let requested = Atomic<Bool>(false)
    /// How many loops are checking the flag between batches.
    private static let listeners = Atomic<Int>(0)
    /// The section the chapter is in, as a C string the signal handler can write: set with
    /// `setContext`, kept as its address (pointers are not Sendable). Old strings are never
    /// freed, because the handler may be reading one.
    private static let context = Atomic<Int>(0)

    /// Installs the Ctrl-C handler; idempotent. Call it on the main thread before any other
    /// thread starts: threads inherit its signal mask.
    public static func install() {
        // A parent may have blocked SIGINT (test runners, some shells' background jobs); blocked,
        // it would stay pending and Ctrl-C would do nothing.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        signal(SIGINT) { _ in
            if Interrupt.listeners.load(ordering: .relaxed) > 0 && !Interrupt.requested.load(ordering: .relaxed) {
                Interrupt.requested.store(true, ordering: .relaxed)
                return
            }
            Interrupt.exitNow()
        }
    }

    /// Whether Ctrl-C was pressed while a loop was listening.
    public static var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// Names where the chapter is ("3.6 Exercises"), for the message of an immediate exit.
    public static func setContext(_ text: String) {
        context.store(Int(bitPattern: strdup(text)), ordering: .releasing)
    }

    /// Where the chapter was, as set by `setContext`.
    public static var currentContext: String? {
        contextString.map { String(cString: $0) }
    }

    private static var contextString: UnsafeMutablePointer<CChar>? {
        UnsafeMutablePointer(bitPattern: context.load(ordering: .acquiring))
    }

    /// Runs `body` as a loop that checks `checkpoint()` between batches.
    public static func listening<Result>(_ body: () throws -> Result) rethrows -> Result {
        listeners.add(1, ordering: .relaxed)
        defer { listeners.subtract(1, ordering: .relaxed) }
        return try body()
    }

    /// Throws `TrainingStopped.interrupted` if Ctrl-C was pressed: call between batches.
    public static func check(checkpoint: String? = nil) throws {
        if isRequested { throw TrainingStopped.interrupted(checkpoint: checkpoint) }
    }

    /// Only async-signal-safe calls: write(2), strlen and _exit.
    private static func exitNow() -> Never {
        func say(_ text: StaticString) { _ = write(STDERR_FILENO, text.utf8Start, text.utf8CodeUnitCount) }
        say("\ninterrupted (Ctrl-C)")
        if let section = contextString {
            say(" in section ")
            _ = write(STDERR_FILENO, section, strlen(section))
        }
        say("; stopped without writing the page. Checkpoints already written are whole.\n")
        _exit(130)
    }
}

/// Why training stopped before its last epoch.
public enum TrainingStopped: Error, CustomStringConvertible, Equatable {
    /// Ctrl-C; `checkpoint` is where the position was saved, if the run saves one.
    case interrupted(checkpoint: String?)
    /// At a step (1-based epoch and step) the loss or an updated weight became NaN or infinite
    /// (`what` says which); the run saved nothing from that point on.
    case diverged(epoch: Int, step: Int, what: String, lastCheckpoint: String?, lastEpoch: Int)

    public var description: String {
        switch self {
        case let .interrupted(checkpoint):
            return "interrupted (Ctrl-C)"
                + (checkpoint.map {
                    "; the position is saved in \($0): continue with the same flags plus --resume"
                } ?? "")
        case let .diverged(epoch, step, what, checkpoint, lastEpoch):
            let saved =
                checkpoint.map { path in
                    lastEpoch > 0
                        ? "the last good checkpoint is \(path) (after epoch \(lastEpoch))"
                        : "no checkpoint of this run was written; \(path) is as it was"
                } ?? "this run keeps no checkpoint"
            return "\(what) at epoch \(epoch), step \(step): training diverged; \(saved). "
                + "Try a smaller --lr."
        }
    }
}
