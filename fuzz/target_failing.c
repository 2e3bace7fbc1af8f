/*
 * Fuzz target: injected failures (seeded probability, live-byte limit, failed
 * resize/remap) over a debug wrapper over malloc, so every failure path of
 * the helpers (realloc's fallback included) is checked for leaks and damage.
 */
#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/failing.h"
#include "driver.h"

static alloc_debug dbg;
static alloc_failing fail;

static bool make(fuzz_instance *inst, uint8_t variant)
{
    alloc_debug_options d = alloc_debug_default_options();
    d.freed_history = 16;
    if (alloc_debug_init(&dbg, alloc_c_allocator(), &d) != 0) return false;
    alloc_failing_options o = alloc_failing_default_options();
    o.fail_per_million = (uint32_t)(variant % 8) * 60000u;
    o.seed = variant;
    o.max_live_bytes = (variant & 8) ? (size_t)1 << 17 : SIZE_MAX;
    o.fail_resize = (variant & 16) != 0;
    o.fail_remap = (variant & 32) != 0;
    alloc_failing_init(&fail, alloc_debug_allocator(&dbg), &o);
    inst->a = alloc_failing_allocator(&fail);
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    if (alloc_failing_deinit(&fail) != 0 || alloc_debug_deinit(&dbg) != 0) __builtin_trap();
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    alloc_stats f, d;
    alloc_failing_stats(&fail, &f);
    alloc_debug_stats(&dbg, &d);
    /* What the failing wrapper let through is exactly what the debug wrapper holds. */
    return alloc_failing_check(&fail) && alloc_debug_check(&dbg) && f.bytes_in_use == d.bytes_in_use;
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_failing_stats(&fail, s);
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "failing", .flags = FUZZ_MAY_FAIL, .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
};
