// BatchPrefetcher.swift: prepares batch i + 1 on a background queue while the model trains on
// batch i, so that decoding and resizing (a 128-image batch at 224x224 is 6.4 million bilinear
// samples) hide behind compute instead of adding to it. The batches are exactly those of
// BatchPlan.batch, in the same order; only when they are made changes.

import Dispatch

public final class BatchPrefetcher: @unchecked Sendable {
    // @unchecked: `slot` is written by the queue before `ready` is signalled and read by the
    // caller only after waiting on it, so the semaphore orders every access.
    private final class Slot: @unchecked Sendable {
        var batch: Batch?
        let ready = DispatchSemaphore(value: 0)
    }

    public let plan: BatchPlan
    public let order: [Int]
    private let queue = DispatchQueue(label: "moderncnn.batch-prefetch", qos: .userInitiated)
    private var pending: (index: Int, slot: Slot)?

    /// Batches of `plan` in the visiting `order` of one epoch.
    public init(plan: BatchPlan, order: [Int]) {
        self.plan = plan
        self.order = order
    }

    /// Batch `index`, made in the background if it was the one expected next; starts on
    /// batch `index + 1` before returning.
    public func batch(_ index: Int) -> Batch {
        let result: Batch
        if let pending, pending.index == index {
            pending.slot.ready.wait()
            result = pending.slot.batch!
        } else {
            if let pending { pending.slot.ready.wait() }  // a stale one: let it finish, drop it
            result = plan.batch(index, of: order)
        }
        pending = nil
        if index + 1 < plan.batchesPerEpoch { prepare(index + 1) }
        return result
    }

    private func prepare(_ index: Int) {
        let slot = Slot()
        let (plan, order) = (self.plan, self.order)
        queue.async {
            slot.batch = plan.batch(index, of: order)
            slot.ready.signal()
        }
        pending = (index, slot)
    }

    deinit {
        pending?.slot.ready.wait()
    }
}
