#ifndef REWIND_SUPPORT_H
#define REWIND_SUPPORT_H

#include <stdint.h>

#include "rewind_spill_registry.h"

// The recording tape of the current thread.
//
// Swift has no thread-local storage of its own on Linux. A C11 `_Thread_local` pointer read
// through a `static inline` accessor compiles to one segment-relative load once the linker
// relaxes the TLS model in the executable, which is faster than `pthread_getspecific` on the
// recording hot path and still lets every thread record into its own tape.
extern _Thread_local void *_Nullable rewind_active_recorder;

static inline void *_Nullable rewind_get_active_recorder(void) {
    return rewind_active_recorder;
}

static inline void rewind_set_active_recorder(void *_Nullable recorder) {
    rewind_active_recorder = recorder;
}

/// Fixes glibc's mmap threshold at `bytes` (no dynamic raising); returns whether it was set.
/// Elsewhere a no-op returning 0.
int rewind_fix_mmap_threshold(int bytes);

/// Returns freed heap memory to the system (glibc `malloc_trim`); elsewhere a no-op.
void rewind_trim_heap(void);

#endif
