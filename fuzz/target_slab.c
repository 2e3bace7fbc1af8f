/*
 * Fuzz target: the size-class slab allocator. Variants lower the class limit
 * so more requests take the large fallback, and take slabs from pages or
 * through a debug wrapper (which then checks the slab's own calls to its
 * backing allocator).
 */
#include "alloc/debug.h"
#include "alloc/slab.h"
#include "driver.h"

DESC_DECLARE(desc_slab)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t limits[] = {0, 16, 1024, 4096};
    alloc_slab_config c = {0};
    c.limit = limits[variant % 4];
    alloc_debug_options o = alloc_debug_default_options();
    o.canary_len = 0; /* slabs must stay 256 KiB-aligned blocks of exact size */
    o.fill = false;
    o.freed_history = 16; /* a small table: the checker walks it after every operation */
    desc_args backing = {.options = &o};
    desc_args args = {.options = &c};
    if (variant & 4) {
        args.inner = &desc_debug_page; /* backing and fallback; checked, and a leak is a finding */
        args.inner_args = &backing;
    }
    return desc_make(&desc_slab, &inst->d, &args);
}

const fuzz_target fuzz_this_target = {
    .name = "slab", .max_align = 4096, .max_len = 65536, .make = make,
};
