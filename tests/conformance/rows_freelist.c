/* Conformance rows for the free-list heap: every policy, over a fixed buffer
 * and growing over pages. */
#include <stdlib.h>

#include "alloc/freelist.h"
#include "conformance.h"

#define FIXED_BUFFER ((size_t)1 << 20)

static bool make_heap(conformance_instance *inst, alloc_freelist_policy policy, bool fixed)
{
    alloc_freelist *heap = malloc(sizeof *heap);
    if (!heap) return false;
    alloc_freelist_config config = {.policy = policy};
    if (fixed) {
        inst->extra = malloc(FIXED_BUFFER);
        if (!inst->extra) {
            free(heap);
            return false;
        }
        config.buffer = inst->extra;
        config.buffer_size = FIXED_BUFFER;
        config.no_grow = true;
    } else {
        /* Small regions so the workloads grow, empty and give back regions. */
        config.region_size = 64 << 10;
    }
    if (alloc_freelist_init(heap, &config) != 0) {
        free(inst->extra);
        free(heap);
        return false;
    }
    inst->state = heap;
    inst->a = alloc_freelist_allocator(heap);
    return true;
}

static void destroy_heap(conformance_instance *inst)
{
    alloc_freelist_deinit(inst->state);
    free(inst->state);
    free(inst->extra);
}

static bool check_heap(conformance_instance *inst) { return alloc_freelist_check(inst->state); }

static bool stats_heap(conformance_instance *inst, alloc_stats *out)
{
    alloc_freelist_stats(inst->state, out);
    return true;
}

#define POLICY_ROWS(ident, policy, label)                                                      \
    static bool make_fixed_##ident(conformance_instance *inst) { return make_heap(inst, policy, true); } \
    static bool make_grow_##ident(conformance_instance *inst) { return make_heap(inst, policy, false); } \
    CONFORMANCE_ROW(fixed_row_##ident, {                                                       \
        .name = "freelist-" label "-fixed",                                                    \
        .make = make_fixed_##ident,                                                            \
        .destroy = destroy_heap,                                                               \
        .check = check_heap,                                                                   \
        .stats = stats_heap,                                                                   \
        .caps = CONF_FIXED_CAPACITY,                                                           \
        .max_align = (size_t)1 << 16,                                                          \
        .max_len = (size_t)256 << 10,                                                          \
        .max_live = (size_t)768 << 10,                                                         \
    })                                                                                         \
    CONFORMANCE_ROW(grow_row_##ident, {                                                        \
        .name = "freelist-" label "-pages",                                                    \
        .make = make_grow_##ident,                                                             \
        .destroy = destroy_heap,                                                               \
        .check = check_heap,                                                                   \
        .stats = stats_heap,                                                                   \
        .max_align = (size_t)1 << 20,                                                          \
        .max_len = (size_t)256 << 10, /* 4 regions' worth; larger only slows the suite */        \
        .max_live = (size_t)64 << 20,                                                          \
    })

POLICY_ROWS(tlsf, ALLOC_FREELIST_TLSF, "tlsf")
POLICY_ROWS(first, ALLOC_FREELIST_FIRST_FIT, "first-fit")
POLICY_ROWS(best, ALLOC_FREELIST_BEST_FIT, "best-fit")
