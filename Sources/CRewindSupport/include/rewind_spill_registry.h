#ifndef REWIND_SPILL_REGISTRY_H
#define REWIND_SPILL_REGISTRY_H

#include <stddef.h>

// The process's live spill directories, in a table a signal handler can read.
//
// Swift's collections and locks are not async-signal-safe, so the directories a handler must
// remove are listed here too: fixed slots of plain bytes, published with atomics (a sequence
// number per slot, odd while its path is being written, so that a reader never uses a torn
// path). Adding and removing are lock-free; `rewind_spill_remove_live` only reads the table and
// makes system calls (open, getdents64, unlinkat, rmdir, close).

/// Slots in the table; a directory beyond them is removed by its owner and the stale sweep only.
#define REWIND_SPILL_REGISTRY_SLOTS 256

/// Lists `path` (a directory this process created); returns its slot, or -1 when the table is
/// full or the path longer than the table holds.
int rewind_spill_registry_add(const char *_Nonnull path);

/// Unlists the directory in `slot` (from `rewind_spill_registry_add`; -1 is ignored).
void rewind_spill_registry_remove(int slot);

/// Copies the path in `slot` into `buffer` (of `size` bytes) if the slot holds a live
/// directory; returns whether it did. For diagnostics and tests.
int rewind_spill_registry_path(int slot, char *_Nonnull buffer, size_t size);

/// Removes every listed directory: its entries (one level: spill directories have no
/// subdirectories), then the directory. Async-signal-safe and keeps errno, so a signal handler
/// may call it; errors are ignored (it runs while the process is ending).
void rewind_spill_remove_live(void);

#endif
