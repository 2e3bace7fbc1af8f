/*
 * Descriptors of the size-class pools (alloc_slab, include/alloc/slab.h): the
 * default (32 KiB limit, page fallback), and a small limit with malloc as the
 * fallback.
 * args: options is an alloc_slab_config; inner, when given, is made and
 * becomes both its backing and its fallback.
 */
#include "alloc/slab.h"
#include "descriptor.h"

static bool make_with(desc_instance *inst, const desc_args *args, const alloc_slab_config *dflt, bool c_fallback)
{
    alloc_slab_config c = {0};
    const alloc_slab_config *given = desc_options(args, dflt);
    if (given) c = *given;
    if (c_fallback && !args->options) {
        if (!desc_make_inner(inst, args, &desc_c, &c.fallback)) return false;
    } else if (args->inner) {
        if (!desc_make_inner(inst, args, args->inner, &c.backing)) return false;
        c.fallback = c.backing;
    }
    if (alloc_slab_init(inst->state, &c) != 0) return false;
    inst->a = alloc_slab_allocator(inst->state);
    return true;
}

static const alloc_slab_config small = {.limit = 1000};

static bool make_slab(desc_instance *inst, const desc_args *args) { return make_with(inst, args, NULL, false); }
static bool make_small(desc_instance *inst, const desc_args *args) { return make_with(inst, args, &small, true); }

static void deinit(desc_instance *inst) { alloc_slab_deinit(inst->state); }
DESC_STATS_OP(slab, alloc_slab, alloc_slab_stats)

static bool check(desc_instance *inst)
{
    return alloc_slab_check(inst->state) && (!inst->inner || desc_check(inst->inner));
}

#define SLAB_CAPS                                                                                  \
    (DESC_IN_DEBUG(DESC_DETECTS_DOUBLE_FREE | DESC_DETECTS_FOREIGN_FREE) | DESC_IN_ASAN(DESC_POISONS_FREED))

DESCRIPTOR(desc_slab, {
    .name = "slab",
    .caps = SLAB_CAPS,
    .max_align = (size_t)1 << 20, .max_len = (size_t)1 << 20, .max_live = (size_t)256 << 20,
    .state_size = sizeof(alloc_slab),
    .make = make_slab, .deinit = deinit, .check = check, .stats = slab_stats,
})

DESCRIPTOR(desc_slab_small, {
    .name = "slab_small_limit",
    .caps = SLAB_CAPS,
    .max_align = (size_t)1 << 16, .max_len = (size_t)1 << 18, .max_live = (size_t)64 << 20,
    .state_size = sizeof(alloc_slab),
    .make = make_small, .deinit = deinit, .check = check, .stats = slab_stats,
})
