/*
 * driver.h: the model-based fuzz driver shared by every target.
 *
 * A target is one small file that maps the input's first byte (the variant)
 * to one configuration: a descriptor of tests/descriptors and the args it is
 * made with. The descriptor says how to check, measure and destroy it (and,
 * where the strategy has them, how to reset it and take or restore a
 * savepoint). The driver decodes the fuzz input as a stream of
 * operations (alloc, free, resize, remap, realloc, reset, savepoint, restore)
 * and runs them through the allocator's handle against a shadow table of live
 * blocks. Every block is filled with its own pattern; after every operation
 * the driver checks:
 *   - alignment of every block handed out;
 *   - no overlap between a new or moved block and any live block;
 *   - contents preserved (the block touched at once, all blocks every 64
 *     operations and at the end), including after failed resize/remap/realloc;
 *   - resize never moves;
 *   - the target's invariant checker;
 *   - stats: counts and peaks never decrease, bytes_in_use equals the
 *     shadow's sum when the target says its stats are exact.
 * Any violation aborts (libFuzzer records the input as a crash).
 *
 * LIFO targets (bump, stack): free, resize and remap only touch the newest
 * live block; realloc (which frees the old block after copying) is not used.
 * Savepoints: while a mark is active, only blocks allocated after it are
 * touched; restoring it forgets them.
 */
#ifndef ALLOC_FUZZ_DRIVER_H
#define ALLOC_FUZZ_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"
#include "descriptor.h"

enum {
    FUZZ_LIFO = 1u << 0,          /* only the newest block may be freed or resized */
    FUZZ_MAY_FAIL = 1u << 1,      /* alloc may return NULL for any request (fixed capacity, injected) */
    FUZZ_INEXACT_STATS = 1u << 2, /* bytes_in_use is not the sum of live lengths */
    FUZZ_NO_REALLOC = 1u << 3,    /* alloc + copy + free is outside the contract */
};

typedef struct fuzz_instance {
    desc_instance d;  /* made by the target from a descriptor (tests/descriptors) */
    uintptr_t extra[4];
    unsigned flags;   /* added to the target's flags for this variant (make may set it) */
    size_t max_len;   /* 0: the target's; else this variant's largest request */
    size_t max_align; /* 0: the target's; else this variant's largest alignment */
} fuzz_instance;

typedef struct fuzz_target {
    const char *name;
    unsigned flags;
    size_t max_align; /* largest alignment the driver asks for (capped at 4096) */
    size_t max_len;   /* largest length the driver asks for (capped at 65536) */
    /* Picks a configuration from variant (the first input byte) and makes
     * inst->d from its descriptor. false: the target could not be set up (a
     * finding). Checks, stats, resets, savepoints and teardown are the
     * descriptor's. */
    bool (*make)(fuzz_instance *inst, uint8_t variant);
    /* NULL, or what the target checks besides the descriptor's checker, run
     * before it after every operation. */
    bool (*check)(fuzz_instance *inst);
} fuzz_target;

/* Runs one input against target. Returns the number of operations done. */
size_t fuzz_run(const fuzz_target *target, const uint8_t *data, size_t size);

/* Operations and inputs run so far in this process (for reports). */
uint64_t fuzz_total_ops(void);
uint64_t fuzz_total_inputs(void);

/* Every target file defines this one. */
extern const fuzz_target fuzz_this_target;

#endif /* ALLOC_FUZZ_DRIVER_H */
