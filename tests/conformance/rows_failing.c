/* Conformance rows: the failing wrapper with no rule (pure pass-through over
 * pages), and with a live-byte limit over malloc (a fixed-capacity heap). */
#include <stdlib.h>

#include "alloc/c_allocator.h"
#include "alloc/failing.h"
#include "alloc/page.h"
#include "conformance.h"

#define LIVE_LIMIT ((size_t)8 << 20)

static bool make_with(conformance_instance *inst, allocator inner, const alloc_failing_options *o)
{
    alloc_failing *f = malloc(sizeof *f);
    if (!f) return false;
    alloc_failing_init(f, inner, o);
    inst->state = f;
    inst->a = alloc_failing_allocator(f);
    return true;
}

static bool make_pass(conformance_instance *inst) { return make_with(inst, alloc_page_allocator(), NULL); }

static bool make_limited(conformance_instance *inst)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.max_live_bytes = LIVE_LIMIT;
    return make_with(inst, alloc_c_allocator(), &o);
}

static void destroy(conformance_instance *inst)
{
    if (alloc_failing_deinit(inst->state) != 0) abort();
    free(inst->state);
}

static bool check(conformance_instance *inst) { return alloc_failing_check(inst->state); }

static bool stats(conformance_instance *inst, alloc_stats *out)
{
    alloc_failing_stats(inst->state, out);
    return true;
}

CONFORMANCE_ROW(failing_pass_row, {
    .name = "failing(page)",
    .make = make_pass,
    .destroy = destroy,
    .check = check,
    .stats = stats,
    .max_align = (size_t)1 << 20,
    .max_len = (size_t)1 << 20,
    .max_live = (size_t)256 << 20,
})

CONFORMANCE_ROW(failing_limited_row, {
    .name = "failing(c, 8 MiB live)",
    .make = make_limited,
    .destroy = destroy,
    .check = check,
    .stats = stats,
    .caps = CONF_FIXED_CAPACITY,
    .max_align = (size_t)1 << 16,
    .max_len = (size_t)1 << 20,
    .max_live = LIVE_LIMIT / 2,
})
