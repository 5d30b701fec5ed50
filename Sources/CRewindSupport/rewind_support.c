#include "rewind_support.h"
#include <stdatomic.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

_Thread_local void *rewind_active_recorder = 0;

static _Atomic uint32_t recording_tag_counter = 0;

uint32_t rewind_next_recording_tag(void) {
    uint32_t tag = atomic_fetch_add_explicit(&recording_tag_counter, 1, memory_order_relaxed) + 1;
    // 0 is reserved for "never recorded" so that a zeroed value cannot look live.
    if (tag == 0) {
        tag = atomic_fetch_add_explicit(&recording_tag_counter, 1, memory_order_relaxed) + 1;
    }
    return tag;
}

int rewind_fix_mmap_threshold(int bytes) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}

void rewind_trim_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
