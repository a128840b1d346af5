// The processor hints live in the header; what needs a definition of its own lives here.
#include "cpu_hints.h"

static _Thread_local long *counterSlot = 0;

long *moderncnnCounterSlot(void) { return counterSlot; }
void moderncnnSetCounterSlot(long *slot) { counterSlot = slot; }

#if defined(__linux__)
#include <stddef.h>
#include <sys/mman.h>

void *moderncnnMapHugePages(long byteCount) {
    void *block = mmap(NULL, (size_t)byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) return NULL;
    // Advice only: where transparent huge pages are off, the block still works with 4 KB pages.
    madvise(block, (size_t)byteCount, MADV_HUGEPAGE);
    return block;
}

void moderncnnUnmapPages(void *block, long byteCount) { munmap(block, (size_t)byteCount); }
#else
void *moderncnnMapHugePages(long byteCount) { return 0; }
void moderncnnUnmapPages(void *block, long byteCount) {}
#endif

#if defined(__x86_64__)
#include <immintrin.h>

// out[j][i] = r_i[j]: the eight rows transposed, by the usual three rounds of shuffles
// (pairs, then quadruples, then 128-bit halves).
__attribute__((target("avx")))
static inline void transposeEight(const __m256 r[8], __m256 out[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    out[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    out[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    out[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    out[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    out[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    out[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    out[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    out[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

__attribute__((target("avx")))
static long packSixLanesWithAVX(const float *source, long laneStride, long lanes, long depth, float *panel) {
    const __m256 zero = _mm256_setzero_ps();
    long p0 = 0;
    for (; p0 + 16 <= depth; p0 += 16) {
        // Rows 6 and 7 (and any lane past `lanes`) are zeros: eight rows make two 8 x 8 blocks.
        __m256 low[8], high[8], steps[16];
        for (long l = 0; l < 8; l++) {
            int present = l < lanes && l < 6;
            low[l] = present ? _mm256_loadu_ps(source + l * laneStride + p0) : zero;
            high[l] = present ? _mm256_loadu_ps(source + l * laneStride + p0 + 8) : zero;
        }
        transposeEight(low, steps);
        transposeEight(high, steps + 8);
        // Each step's six lanes, as an eight-float store whose last two floats the next step's
        // store overwrites; the last step is stored as four and two, so nothing past the 96
        // floats of these sixteen steps is touched.
        float *to = panel + p0 * 6;
        for (long p = 0; p < 15; p++) _mm256_storeu_ps(to + p * 6, steps[p]);
        _mm_storeu_ps(to + 90, _mm256_castps256_ps128(steps[15]));
        _mm_storel_pi((__m64 *)(to + 94), _mm256_extractf128_ps(steps[15], 1));
    }
    return p0;
}

long moderncnnPackSixLanes(const float *source, long laneStride, long lanes, long depth, float *panel) {
    if (!__builtin_cpu_supports("avx")) return 0;
    return packSixLanesWithAVX(source, laneStride, lanes, depth, panel);
}

__attribute__((target("avx")))
static long packLanesInEightsWithAVX(const float *source, long laneStride, long lanes, long width,
                                     long depth, float *panel) {
    const __m256 zero = _mm256_setzero_ps();
    // Eight lanes at a time through the whole depth, each lane's row a run of whole lines, with
    // the next eight lanes' lines (this panel's or the next one's) requested one group ahead.
    // Rows of B stored N x K are a whole K apart (73 KB for AlexNet's conv3 backward-filter), so
    // every lane is a short stream of its own that the hardware prefetchers pick up too late:
    // packing was a fifth of conv3's backward-filter. This order and the requests made its
    // products 4-15% faster in alternated calls (3 runs, conv2 and conv3 backward-filter), and
    // left the others (square 1024, conv3 forward) as they were. Requests past the matrix do not
    // fault.
    long whole = depth / 16 * 16;
    for (long first = 0; first < width; first += 8) {
        for (long p0 = 0; p0 < whole; p0 += 16) {
            for (long l = 0; l < 8; l++) {
                _mm_prefetch((const char *)(source + (first + 8 + l) * laneStride + p0), _MM_HINT_T0);
            }
            for (long half = 0; half < 16; half += 8) {
                __m256 rows[8], steps[8];
                for (long l = 0; l < 8; l++) {
                    // lanes <= width (see below): a 12-wide panel's lanes 12-15 read as zeros.
                    rows[l] = first + l < lanes ? _mm256_loadu_ps(source + (first + l) * laneStride + p0 + half) : zero;
                }
                transposeEight(rows, steps);
                float *to = panel + (p0 + half) * width + first;
                if (width - first >= 8) {
                    for (long p = 0; p < 8; p++) _mm256_storeu_ps(to + p * width, steps[p]);
                } else {
                    // The last four lanes of a 12-wide panel: half of each transposed row.
                    for (long p = 0; p < 8; p++) _mm_storeu_ps(to + p * width, _mm256_castps256_ps128(steps[p]));
                }
            }
        }
    }
    return whole;
}

long moderncnnPackLanesInEights(const float *source, long laneStride, long lanes, long width, long depth,
                                float *panel) {
    if (width % 4 != 0 || width < 8 || !__builtin_cpu_supports("avx")) return 0;
    if (lanes > width) lanes = width;
    return packLanesInEightsWithAVX(source, laneStride, lanes, width, depth, panel);
}

int moderncnnHasAVX512(void) { return __builtin_cpu_supports("avx512f"); }
#else
long moderncnnPackSixLanes(const float *source, long laneStride, long lanes, long depth, float *panel) {
    return 0;
}
long moderncnnPackLanesInEights(const float *source, long laneStride, long lanes, long width, long depth,
                                float *panel) {
    return 0;
}
int moderncnnHasAVX512(void) { return 0; }
#endif
