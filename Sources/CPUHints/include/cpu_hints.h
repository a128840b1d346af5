// What Swift cannot say itself: two processor hints, a thread-local slot, huge-page blocks, and
// SGEMM's packing copies built from vector shuffles. The processor hints have no Swift
// intrinsic. Each is a static inline function, which Swift imports and inlines, so each costs
// one instruction.
#ifndef MODERNCNN_CPU_HINTS_H
#define MODERNCNN_CPU_HINTS_H

// The SGEMM microkernel asks for its C tile before the k-loop, so that the tile's cache misses
// overlap the ~1,500 cycles of FMAs instead of stalling the stores after them (BLIS's
// microkernels do the same).
static inline void prefetchForWrite(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

// The pooling backward asks for a plane's activations (written in the forward pass, long gone
// from the caches) before it spreads the plane's gradient, so that the loads of the slope
// find them on the way; the AVX-512 SGEMM microkernel asks for B's rows a few steps ahead.
static inline void prefetchForRead(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// A worker spinning on a flag tells the core it is waiting, so the core saves power and does
// not mispredict the loop's exit when the flag flips.
static inline void spinPause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// The multiply-add counter's slot for this thread (NULL when not counting): thread-local, so that
// a count sees only the GEMMs of the work it wraps, even while other threads (other tests) run
// GEMMs of their own. Swift has no thread-local storage of its own, hence C.
long *moderncnnCounterSlot(void);
void moderncnnSetCounterSlot(long *slot);
static inline void moderncnnCounterAdd(long *slot, long value) {
    __atomic_fetch_add(slot, value, __ATOMIC_RELAXED);
}

// Packs one 6-lane micro-panel of A stored row by row (each lane a row, its depth steps
// adjacent, `laneStride` floats between lanes): panel[p * 6 + l] = source[l * laneStride + p],
// sixteen depth steps at a time, with zeros for lanes at or past `lanes` (when fewer than six).
// Returns how many depth steps it packed (a multiple of 16; 0 where there is no AVX); the
// caller packs the rest. Why C: the packing needs a transpose, and Swift has no shuffle.
// Written with SIMD8 lanes, the shuffle network came out of LLVM as blends, inserts and stack
// spills; one lane at a time, it is 96 scalar stores per 16 steps. With AVX shuffles it is 12
// loads, 48 shuffles and 17 stores.
long moderncnnPackSixLanes(const float *source, long laneStride, long lanes, long depth, float *panel);

// The same for micro-panels 8, 12, 16 or 32 lanes wide (`width`, a multiple of 4), as B stored
// column by column (N x K, transposed) or A row by row in the wide tile: 8 x 8 transposes per
// eight lanes and eight steps; a last group of four lanes stores half of each transposed row.
// Returns 0 for any other width.
long moderncnnPackLanesInEights(const float *source, long laneStride, long lanes, long width, long depth,
                                float *panel);

// Whether this processor has AVX-512 (32 vector registers of 16 floats): SGEMM's register tile
// depends on it (GemmBlocking).
int moderncnnHasAVX512(void);

// A block of fresh zeroed pages with transparent huge pages asked for (see AlignedBuffer), or
// NULL where it cannot be had; and its release.
void *moderncnnMapHugePages(long byteCount);
void moderncnnUnmapPages(void *block, long byteCount);

#endif
