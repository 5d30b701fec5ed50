#include "rewind_support.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

_Thread_local void *rewind_active_recorder = 0;

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
