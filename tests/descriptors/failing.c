/*
 * Descriptors of the failing wrapper (alloc_failing, include/alloc/failing.h):
 * with no rule (a pure pass-through over pages), and with a live-byte limit
 * over malloc (a fixed-capacity heap). deinit reports a leak as a failure.
 * args: options is an alloc_failing_options; inner replaces the wrapped allocator.
 */
#include <stdlib.h>

#include "alloc/failing.h"
#include "descriptor.h"

#define LIVE_LIMIT ((size_t)8 << 20)

static bool make_with(desc_instance *inst, const desc_args *args, const descriptor *inner,
                      const alloc_failing_options *dflt)
{
    allocator under;
    if (!desc_make_inner(inst, args, inner, &under)) return false;
    alloc_failing_init(inst->state, under, desc_options(args, dflt));
    inst->a = alloc_failing_allocator(inst->state);
    return true;
}

static bool make_pass(desc_instance *inst, const desc_args *args) { return make_with(inst, args, &desc_page, NULL); }

static bool make_limited(desc_instance *inst, const desc_args *args)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.max_live_bytes = LIVE_LIMIT;
    return make_with(inst, args, &desc_c, &o);
}

static void deinit(desc_instance *inst)
{
    if (alloc_failing_deinit(inst->state) != 0) abort(); /* a leak: the harness freed less than it took */
}

static bool check(desc_instance *inst) { return alloc_failing_check(inst->state) && desc_check(inst->inner); }

DESC_STATS_OP(failing, alloc_failing, alloc_failing_stats)

DESCRIPTOR(desc_failing_pass, {
    .name = "failing(page)",
    .max_align = (size_t)1 << 20, .max_len = (size_t)1 << 20, .max_live = (size_t)256 << 20,
    .state_size = sizeof(alloc_failing),
    .make = make_pass, .deinit = deinit, .check = check, .stats = failing_stats,
})

DESCRIPTOR(desc_failing_limited, {
    .name = "failing(c, 8 MiB live)",
    .caps = DESC_FIXED_CAPACITY,
    .max_align = (size_t)1 << 16, .max_len = (size_t)1 << 20, .max_live = LIVE_LIMIT / 2,
    .state_size = sizeof(alloc_failing),
    .make = make_limited, .deinit = deinit, .check = check, .stats = failing_stats,
})
