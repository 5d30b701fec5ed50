#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>
/// Allocations (malloc, calloc, realloc, posix_memalign) made by this process so far.
/// Linked only into the benchmark executable, whose own malloc interposes glibc's.
uint64_t rewind_malloc_count(void);
#endif
