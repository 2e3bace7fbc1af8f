/*
 * conformance.h: the shared conformance suite's table of allocators.
 *
 * Adding an allocator to the suite = adding one row: a file in
 * tests/conformance/ (rows_<strategy>.c) that defines a conformance_row with
 * CONFORMANCE_ROW. Every test in conformance.c then runs against it, through
 * its `allocator` handle only, with the row's invariant checker called after
 * every step.
 */
#ifndef ALLOC_TESTS_CONFORMANCE_H
#define ALLOC_TESTS_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

/* One live allocator under test. make() fills it; destroy() releases it. */
typedef struct conformance_instance {
    allocator a;  /* the handle every test uses */
    void *state;  /* the strategy's state, for check/stats/destroy */
    void *extra;  /* anything else the row needs (a backing buffer, an inner allocator) */
} conformance_instance;

/* Capabilities: what the suite may expect of a row. */
enum {
    /* Only the most recent live block may be freed or resized (bump, stack).
     * The any-order random workload is skipped; the LIFO one runs. */
    CONF_LIFO_ONLY = 1u << 0,
    /* Total capacity is bounded (a fixed buffer or fixed pool): the exhaustion
     * test runs, and workloads accept NULL once max_live is approached. */
    CONF_FIXED_CAPACITY = 1u << 1,
    /* Freed memory is not reused until a reset (bump, arena): loops that
     * allocate and free forever are bounded by max_live instead. */
    CONF_NO_REUSE = 1u << 2,
};

typedef struct conformance_row {
    const char *name;
    bool (*make)(conformance_instance *inst);
    void (*destroy)(conformance_instance *inst);
    bool (*check)(conformance_instance *inst);                    /* invariant checker; NULL: none */
    bool (*stats)(conformance_instance *inst, alloc_stats *out);  /* NULL: no stats */
    unsigned caps;
    size_t max_align; /* largest alignment the allocator documents (tests stop at 64 KiB) */
    size_t max_len;   /* largest single allocation the tests may ask for */
    size_t max_live;  /* live bytes the tests keep at most (a capacity bound, with slack) */
} conformance_row;

void conformance_register(const conformance_row *row);

/* Defines and registers a row (at load time, before the tests run). */
#define CONFORMANCE_ROW(ident, ...)                                                   \
    static const conformance_row ident = __VA_ARGS__;                                 \
    __attribute__((constructor)) static void conformance_register_##ident(void)      \
    {                                                                                 \
        conformance_register(&ident);                                                 \
    }

#endif /* ALLOC_TESTS_CONFORMANCE_H */
