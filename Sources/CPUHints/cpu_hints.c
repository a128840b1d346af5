// The processor hints live in the header; what needs a definition of its own lives here.
#include "cpu_hints.h"

static _Thread_local long *counterSlot = 0;

long *moderncnnCounterSlot(void) { return counterSlot; }
void moderncnnSetCounterSlot(long *slot) { counterSlot = slot; }

#if defined(__GLIBC__)
#include <malloc.h>
void moderncnnKeepLargeBlocksOnHeap(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
#else
void moderncnnKeepLargeBlocksOnHeap(void) {}
#endif
