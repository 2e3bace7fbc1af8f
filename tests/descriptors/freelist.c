/*
 * Descriptors of the free-list heap (alloc_freelist, include/alloc/freelist.h):
 * every policy, in a fixed buffer and growing over pages (small regions, so
 * workloads grow, empty and give back regions).
 * args: options is an alloc_freelist_config (its buffer fields are filled
 * here); capacity and skew place a first buffer: always for the fixed
 * descriptors, for the growing ones when capacity is set.
 */
#include "alloc/freelist.h"
#include "descriptor.h"

#define FIXED_BUFFER ((size_t)1 << 20)

static bool make_heap(desc_instance *inst, const desc_args *args, const alloc_freelist_config *dflt, bool fixed)
{
    alloc_freelist_config c = *(const alloc_freelist_config *)desc_options(args, dflt);
    if (fixed || args->capacity) {
        c.buffer = desc_take_buffer(inst, args, FIXED_BUFFER, &c.buffer_size);
        if (!c.buffer) return false;
    }
    if (alloc_freelist_init(inst->state, &c) != 0) return false;
    inst->a = alloc_freelist_allocator(inst->state);
    return true;
}

DESC_STATE_OPS(freelist, alloc_freelist, alloc_freelist_deinit, alloc_freelist_check, alloc_freelist_stats)

#define FREELIST_CAPS                                                                              \
    (DESC_DETECTS_DOUBLE_FREE | DESC_IN_DEBUG(DESC_DETECTS_FOREIGN_FREE) | DESC_IN_ASAN(DESC_POISONS_FREED))

#define POLICY_DESCRIPTORS(ident, pol, label)                                                      \
    static const alloc_freelist_config fixed_##ident = {.policy = pol, .no_grow = true};           \
    static const alloc_freelist_config grow_##ident = {.policy = pol, .region_size = 64 << 10};    \
    static bool make_fixed_##ident(desc_instance *inst, const desc_args *args)                     \
    {                                                                                              \
        return make_heap(inst, args, &fixed_##ident, true);                                        \
    }                                                                                              \
    static bool make_grow_##ident(desc_instance *inst, const desc_args *args)                      \
    {                                                                                              \
        return make_heap(inst, args, &grow_##ident, false);                                        \
    }                                                                                              \
    DESCRIPTOR(desc_freelist_fixed_##ident, {                                                      \
        .name = "freelist-" label "-fixed",                                                        \
        .caps = DESC_FIXED_CAPACITY | FREELIST_CAPS,                                               \
        .max_align = (size_t)1 << 16, .max_len = (size_t)256 << 10, .max_live = (size_t)768 << 10, \
        .state_size = sizeof(alloc_freelist),                                                      \
        .make = make_fixed_##ident, .deinit = freelist_deinit, .check = freelist_check, .stats = freelist_stats, \
                                                                                                   \
    })                                                                                             \
    DESCRIPTOR(desc_freelist_pages_##ident, {                                                      \
        .name = "freelist-" label "-pages",                                                        \
        .caps = FREELIST_CAPS,                                                                     \
        .max_align = (size_t)1 << 20,                                                              \
        .max_len = (size_t)256 << 10, /* 4 regions' worth; larger only slows the suite */          \
        .max_live = (size_t)64 << 20,                                                              \
        .state_size = sizeof(alloc_freelist),                                                      \
        .make = make_grow_##ident, .deinit = freelist_deinit, .check = freelist_check, .stats = freelist_stats, \
                                                                                                   \
    })

POLICY_DESCRIPTORS(tlsf, ALLOC_FREELIST_TLSF, "tlsf")
POLICY_DESCRIPTORS(first, ALLOC_FREELIST_FIRST_FIT, "first-fit")
POLICY_DESCRIPTORS(best, ALLOC_FREELIST_BEST_FIT, "best-fit")
