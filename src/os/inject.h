/*
 * inject.h (internal): a fault-injection seam in the page provider, so tests
 * can make the next OS calls fail the way a real kernel does (munmap with
 * ENOMEM at the mapping-count limit, a refused mremap or madvise) without
 * having to drive the process into that state.
 *
 * Armed with a set of operations, an error and a count, each following call
 * of one of those operations (after its argument checks, in place of the
 * system call) returns -error until count calls have failed. Disarmed it costs
 * one relaxed atomic load per call. Process-wide and thread-safe; meant for
 * tests, which run one per process.
 */
#ifndef ALLOC_OS_INJECT_H
#define ALLOC_OS_INJECT_H

#include "../core/internal.h"

/* Operations of os.h that can be made to fail (bit set). */
enum {
    ALLOC_OS_OP_MAP = 1u << 0,
    ALLOC_OS_OP_UNMAP = 1u << 1,
    ALLOC_OS_OP_REMAP = 1u << 2,
    ALLOC_OS_OP_PURGE = 1u << 3,
    ALLOC_OS_OP_PROTECT = 1u << 4,
};

/* The next count calls of the operations in ops fail with -error (error > 0).
 * count 0 disarms. */
ALLOC_HIDDEN void alloc_os_inject_failure(unsigned ops, int error, unsigned count);

/* Injected failures not yet consumed. */
ALLOC_HIDDEN unsigned alloc_os_injections_left(void);

#endif /* ALLOC_OS_INJECT_H */
