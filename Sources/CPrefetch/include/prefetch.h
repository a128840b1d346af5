// Swift has no prefetch intrinsic. The SGEMM microkernel asks for its C tile before the k-loop,
// so that the tile's cache misses overlap the ~1,500 cycles of FMAs instead of stalling the
// stores after them (BLIS's microkernels do the same). A static inline function is imported by
// Swift and inlined, so this costs one instruction.
#ifndef MODERNCNN_PREFETCH_H
#define MODERNCNN_PREFETCH_H

static inline void prefetchForWrite(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
