/* Conformance rows for the bump allocator: over a static buffer, over a heap
 * buffer, and the thread-safe handle. All LIFO-only and fixed-capacity. */
#include <stdlib.h>

#include "alloc/bump.h"
#include "conformance.h"

#define BUMP_ROW_CAP ((size_t)1 << 20)

static _Alignas(4096) unsigned char static_buffer[BUMP_ROW_CAP];

static bool make_static(conformance_instance *inst)
{
    alloc_bump *b = malloc(sizeof *b);
    if (!b || alloc_bump_init(b, static_buffer, sizeof static_buffer) != 0) return false;
    inst->state = b;
    inst->a = alloc_bump_allocator(b);
    return true;
}

static bool make_heap(conformance_instance *inst)
{
    alloc_bump *b = malloc(sizeof *b);
    void *buf = malloc(BUMP_ROW_CAP);
    if (!b || !buf || alloc_bump_init(b, buf, BUMP_ROW_CAP) != 0) return false;
    inst->state = b;
    inst->extra = buf;
    inst->a = alloc_bump_allocator(b);
    return true;
}

static bool make_threadsafe(conformance_instance *inst)
{
    if (!make_heap(inst)) return false;
    inst->a = alloc_bump_allocator_threadsafe(inst->state);
    return true;
}

static void destroy(conformance_instance *inst)
{
    alloc_bump_deinit(inst->state);
    free(inst->state);
    free(inst->extra);
}

static bool check(conformance_instance *inst) { return alloc_bump_check(inst->state); }

static bool stats(conformance_instance *inst, alloc_stats *out)
{
    alloc_bump_stats(inst->state, out);
    return true;
}

#define BUMP_ROW(ident, row_name, maker)                                                        \
    CONFORMANCE_ROW(ident, {                                                                    \
        .name = row_name,                                                                       \
        .make = maker,                                                                          \
        .destroy = destroy,                                                                     \
        .check = check,                                                                         \
        .stats = stats,                                                                         \
        .caps = CONF_LIFO_ONLY | CONF_FIXED_CAPACITY,                                           \
        .max_align = 4096,                                                                      \
        .max_len = (size_t)256 << 10,                                                           \
        .max_live = (size_t)512 << 10,                                                          \
    })

BUMP_ROW(bump_static_row, "bump/static-buffer", make_static)
BUMP_ROW(bump_heap_row, "bump/heap-buffer", make_heap)
BUMP_ROW(bump_ts_row, "bump/threadsafe", make_threadsafe)
