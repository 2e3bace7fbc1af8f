/*
 * Descriptors of the debug wrapper (alloc_debug, include/alloc/debug.h) over
 * the page allocator and over malloc, canaries and fills on. deinit reports a
 * leak as a failure (every harness frees what it allocates).
 * args: options is an alloc_debug_options; inner replaces the wrapped allocator.
 */
#include <stdlib.h>

#include "alloc/debug.h"
#include "descriptor.h"

static bool make_over(desc_instance *inst, const desc_args *args, const descriptor *inner)
{
    allocator under;
    if (!desc_make_inner(inst, args, inner, &under)) return false;
    if (alloc_debug_init(inst->state, under, desc_options(args, NULL)) != 0) return false;
    inst->a = alloc_debug_allocator(inst->state);
    return true;
}

static bool make_page(desc_instance *inst, const desc_args *args) { return make_over(inst, args, &desc_page); }
static bool make_c(desc_instance *inst, const desc_args *args) { return make_over(inst, args, &desc_c); }

static void deinit(desc_instance *inst)
{
    if (alloc_debug_deinit(inst->state) != 0) abort(); /* a leak: the harness freed less than it took */
}

static bool check(desc_instance *inst) { return alloc_debug_check(inst->state); }

DESC_STATS_OP(debug, alloc_debug, alloc_debug_stats)

#define DEBUG_DESCRIPTOR(ident, desc_name, maker, align)                                           \
    DESCRIPTOR(ident, {                                                                            \
        .name = desc_name,                                                                         \
        .caps = DESC_DETECTS_DOUBLE_FREE | DESC_DETECTS_FOREIGN_FREE,                              \
        .max_align = (align), .max_len = (size_t)1 << 20, .max_live = (size_t)256 << 20,           \
        .state_size = sizeof(alloc_debug),                                                         \
        .make = maker, .deinit = deinit, .check = check, .stats = debug_stats,                     \
    })

DEBUG_DESCRIPTOR(desc_debug_page, "debug(page)", make_page, (size_t)1 << 20)
DEBUG_DESCRIPTOR(desc_debug_c, "debug(c)", make_c, (size_t)1 << 16)
