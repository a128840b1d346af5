// The header is the whole module; SwiftPM needs one source file to build a C target.
#include "cpu_hints.h"

static _Thread_local long *counterSlot = 0;

long *moderncnnCounterSlot(void) { return counterSlot; }
void moderncnnSetCounterSlot(long *slot) { counterSlot = slot; }
