/* Conformance rows for the size-class pools: default (32 KiB limit, page
 * fallback) and a small limit with libc malloc as the fallback. */
#include <stdlib.h>

#include "alloc/c_allocator.h"
#include "alloc/slab.h"
#include "conformance.h"

static bool make_with(conformance_instance *inst, const alloc_slab_config *c)
{
    alloc_slab *s = malloc(sizeof *s);
    if (!s) return false;
    if (alloc_slab_init(s, c) != 0) {
        free(s);
        return false;
    }
    inst->state = s;
    inst->a = alloc_slab_allocator(s);
    return true;
}

static bool make_slab(conformance_instance *inst) { return make_with(inst, NULL); }

static bool make_slab_small(conformance_instance *inst)
{
    alloc_slab_config c = {.limit = 1000, .fallback = alloc_c_allocator()};
    return make_with(inst, &c);
}

static void destroy_slab(conformance_instance *inst)
{
    alloc_slab_deinit(inst->state);
    free(inst->state);
}

static bool check_slab(conformance_instance *inst) { return alloc_slab_check(inst->state); }

static bool stats_slab(conformance_instance *inst, alloc_stats *out)
{
    alloc_slab_stats(inst->state, out);
    return true;
}

CONFORMANCE_ROW(slab_row, {
    .name = "slab",
    .make = make_slab,
    .destroy = destroy_slab,
    .check = check_slab,
    .stats = stats_slab,
    .max_align = (size_t)1 << 20,
    .max_len = (size_t)1 << 20,
    .max_live = (size_t)256 << 20,
})

CONFORMANCE_ROW(slab_small_row, {
    .name = "slab_small_limit",
    .make = make_slab_small,
    .destroy = destroy_slab,
    .check = check_slab,
    .stats = stats_slab,
    .max_align = (size_t)1 << 16,
    .max_len = (size_t)1 << 18,
    .max_live = (size_t)64 << 20,
})
