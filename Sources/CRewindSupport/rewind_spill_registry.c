#define _GNU_SOURCE
#include "rewind_spill_registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#define PATH_BYTES 4096

static char paths[REWIND_SPILL_REGISTRY_SLOTS][PATH_BYTES];
/// 0: free; 1: taken by a directory (its path may still be being written).
static atomic_int taken[REWIND_SPILL_REGISTRY_SLOTS];
/// Odd while the slot's path is being written; a reader that sees it change skips the slot.
static atomic_uint sequence[REWIND_SPILL_REGISTRY_SLOTS];
/// 1 once the path is complete, until the directory is unlisted.
static atomic_int live[REWIND_SPILL_REGISTRY_SLOTS];

int rewind_spill_registry_add(const char *path) {
    size_t length = strlen(path);
    if (length >= PATH_BYTES) return -1;
    for (int slot = 0; slot < REWIND_SPILL_REGISTRY_SLOTS; slot++) {
        int expected = 0;
        if (!atomic_compare_exchange_strong(&taken[slot], &expected, 1)) continue;
        atomic_fetch_add(&sequence[slot], 1);
        memcpy(paths[slot], path, length + 1);
        atomic_fetch_add(&sequence[slot], 1);
        atomic_store(&live[slot], 1);
        return slot;
    }
    return -1;
}

void rewind_spill_registry_remove(int slot) {
    if (slot < 0 || slot >= REWIND_SPILL_REGISTRY_SLOTS) return;
    atomic_store(&live[slot], 0);
    atomic_store(&taken[slot], 0);
}

/// Copies a live slot's path into `buffer` (PATH_BYTES); 0 when the slot is not live or was
/// rewritten while being read.
static int copy_live_path(int slot, char *buffer) {
    if (!atomic_load(&live[slot])) return 0;
    unsigned before = atomic_load(&sequence[slot]);
    if (before & 1u) return 0;
    memcpy(buffer, paths[slot], PATH_BYTES);
    buffer[PATH_BYTES - 1] = 0;
    return atomic_load(&sequence[slot]) == before && atomic_load(&live[slot]);
}

int rewind_spill_registry_path(int slot, char *buffer, size_t size) {
    if (slot < 0 || slot >= REWIND_SPILL_REGISTRY_SLOTS || size == 0) return 0;
    char path[PATH_BYTES];
    if (!copy_live_path(slot, path)) return 0;
    size_t length = strlen(path);
    if (length >= size) return 0;
    memcpy(buffer, path, length + 1);
    return 1;
}

#if defined(__linux__)
/// The record `getdents64` fills in (not declared by glibc's headers).
struct directory_entry64 {
    uint64_t inode;
    int64_t offset;
    unsigned short length;
    unsigned char type;
    char name[];
};

/// Unlinks every entry of the directory open as `fd`; returns whether any was found.
static int unlink_entries(int fd) {
    char buffer[4096] __attribute__((aligned(8)));
    int found = 0;
    for (;;) {
        long count = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
        if (count <= 0) return found;
        for (long offset = 0; offset < count;) {
            struct directory_entry64 *entry = (struct directory_entry64 *)(buffer + offset);
            offset += entry->length;
            if (strcmp(entry->name, ".") == 0 || strcmp(entry->name, "..") == 0) continue;
            unlinkat(fd, entry->name, 0);   // never follows a planted link: it removes the link
            found = 1;
        }
    }
}
#endif

/// Removes the entries of `path`, then `path`. Another thread may be adding a file while this
/// runs (the run goes on until the signal is re-raised), so a few rounds are tried.
static void remove_tree(const char *path) {
#if defined(__linux__)
    for (int round = 0; round < 8; round++) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return;
        unlink_entries(fd);
        close(fd);
        if (rmdir(path) == 0 || errno != ENOTEMPTY) return;
    }
#else
    rmdir(path);
#endif
}

void rewind_spill_remove_live(void) {
    int saved = errno;
    char path[PATH_BYTES];
    for (int slot = 0; slot < REWIND_SPILL_REGISTRY_SLOTS; slot++) {
        if (copy_live_path(slot, path)) remove_tree(path);
    }
    errno = saved;
}
