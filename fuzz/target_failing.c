/*
 * Fuzz target: injected failures (seeded probability, live-byte limit, failed
 * resize/remap) over a debug wrapper over malloc, so every failure path of
 * the helpers (realloc's fallback included) is checked for leaks and damage.
 */
#include "alloc/debug.h"
#include "alloc/failing.h"
#include "driver.h"

DESC_DECLARE(desc_failing_pass)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    alloc_debug_options d = alloc_debug_default_options();
    d.freed_history = 16;
    alloc_failing_options o = alloc_failing_default_options();
    o.fail_per_million = (uint32_t)(variant % 8) * 60000u;
    o.seed = variant;
    o.max_live_bytes = (variant & 8) ? (size_t)1 << 17 : SIZE_MAX;
    o.fail_resize = (variant & 16) != 0;
    o.fail_remap = (variant & 32) != 0;
    desc_args inner = {.options = &d};
    desc_args args = {.options = &o, .inner = &desc_debug_c, .inner_args = &inner};
    return desc_make(&desc_failing_pass, &inst->d, &args);
}

/* What the failing wrapper let through is exactly what the debug wrapper holds. */
static bool same_bytes(fuzz_instance *inst)
{
    alloc_stats f, d;
    alloc_failing_stats(inst->d.state, &f);
    alloc_debug_stats(inst->d.inner->state, &d);
    return f.bytes_in_use == d.bytes_in_use;
}

const fuzz_target fuzz_this_target = {
    .name = "failing", .flags = FUZZ_MAY_FAIL, .max_align = 4096, .max_len = 65536,
    .make = make, .check = same_bytes,
};
