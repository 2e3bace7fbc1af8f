/*
 * Fuzz target: the size-class slab allocator. Variants lower the class limit
 * so more requests take the large fallback, and take slabs from pages or
 * through a debug wrapper (which then checks the slab's own calls to its
 * backing allocator).
 */
#include "alloc/debug.h"
#include "alloc/page.h"
#include "alloc/slab.h"
#include "driver.h"

static alloc_slab slab;
static alloc_debug backing_dbg;
static bool have_dbg;

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t limits[] = {0, 16, 1024, 4096};
    alloc_slab_config c = {0};
    c.limit = limits[variant % 4];
    have_dbg = (variant & 4) != 0;
    if (have_dbg) {
        alloc_debug_options o = alloc_debug_default_options();
        o.canary_len = 0; /* slabs must stay 256 KiB-aligned blocks of exact size */
        o.fill = false;
        o.freed_history = 16; /* a small table: the checker walks it after every operation */
        if (alloc_debug_init(&backing_dbg, alloc_page_allocator(), &o) != 0) return false;
        c.backing = alloc_debug_allocator(&backing_dbg);
        c.fallback = c.backing;
    }
    if (alloc_slab_init(&slab, &c) != 0) return false;
    inst->a = alloc_slab_allocator(&slab);
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    alloc_slab_deinit(&slab);
    if (have_dbg && alloc_debug_deinit(&backing_dbg) != 0) __builtin_trap(); /* slab leaked backing memory */
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    return alloc_slab_check(&slab) && (!have_dbg || alloc_debug_check(&backing_dbg));
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_slab_stats(&slab, s);
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "slab", .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
};
