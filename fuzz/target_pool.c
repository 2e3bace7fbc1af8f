/*
 * Fuzz target: fixed-size object pools. Variants pick the object size and
 * alignment, slabs from pages (small first slabs, so many slabs), a fixed
 * caller buffer, or the lock-free alloc_pool_mt driven from one thread.
 * Requests beyond the object size fail by contract (FUZZ_MAY_FAIL); stats
 * count whole objects (FUZZ_INEXACT_STATS).
 */
#include "alloc/pool.h"
#include "driver.h"

DESC_DECLARE(desc_pool)
DESC_DECLARE(desc_pool_buffer)
DESC_DECLARE(desc_pool_mt)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t sizes[] = {8, 24, 64, 100, 256, 4096, 1, 48};
    static const size_t aligns[] = {8, 16, 64, 1};
    alloc_pool_config c = {0};
    c.obj_size = sizes[variant % 8];
    c.obj_align = aligns[(variant >> 3) % 4];
    if (c.obj_size <= 16) { /* small slabs, so a run crosses many of them */
        c.slab_bytes = 256;
        c.max_slab_bytes = 8192;
    }
    inst->max_len = c.obj_size + 8; /* a few requests too large, to see them fail */
    inst->max_align = c.obj_align * 2;
    desc_args args = {.options = &c};
    switch ((variant >> 5) % 4) {
    case 0:
    case 1: return desc_make(&desc_pool, &inst->d, &args);
    case 2:
        /* 64 bytes short of 256 KiB, at an odd address for odd variants. */
        args.capacity = (1u << 18) - 64;
        args.skew = variant & 1;
        return desc_make(&desc_pool_buffer, &inst->d, &args);
    default: return desc_make(&desc_pool_mt, &inst->d, &args);
    }
}

const fuzz_target fuzz_this_target = {
    .name = "pool", .flags = FUZZ_MAY_FAIL | FUZZ_INEXACT_STATS, .max_align = 4096, .max_len = 65536,
    .make = make,
};
