/*
 * Fuzz target: fixed-size object pools. Variants pick the object size and
 * alignment, slabs from pages (small first slabs, so many slabs), a fixed
 * caller buffer, or the lock-free alloc_pool_mt driven from one thread.
 * Requests beyond the object size fail by contract (FUZZ_MAY_FAIL); stats
 * count whole objects (FUZZ_INEXACT_STATS).
 */
#include "alloc/pool.h"
#include "driver.h"

static alloc_pool pool;
static alloc_pool_mt pool_mt;
static bool use_mt;
static _Alignas(64) unsigned char buffer[1u << 18];

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
    use_mt = false;
    switch ((variant >> 5) % 4) {
    case 0:
    case 1:
        if (alloc_pool_init(&pool, &c) != 0) return false;
        inst->a = alloc_pool_allocator(&pool);
        break;
    case 2:
        if (alloc_pool_init_buffer(&pool, buffer + (variant & 1), sizeof buffer - 64, c.obj_size, c.obj_align) != 0)
            return false;
        inst->a = alloc_pool_allocator(&pool);
        break;
    default:
        if (alloc_pool_mt_init(&pool_mt, &c) != 0) return false;
        inst->a = alloc_pool_mt_allocator(&pool_mt);
        use_mt = true;
        break;
    }
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    if (use_mt)
        alloc_pool_mt_deinit(&pool_mt);
    else
        alloc_pool_deinit(&pool);
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    return use_mt ? alloc_pool_mt_check(&pool_mt) : alloc_pool_check(&pool);
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    if (use_mt)
        alloc_pool_mt_stats(&pool_mt, s);
    else
        alloc_pool_stats(&pool, s);
    return true;
}

static void reset(fuzz_instance *inst)
{
    (void)inst;
    if (use_mt)
        alloc_pool_mt_reset(&pool_mt);
    else
        alloc_pool_reset(&pool);
}

const fuzz_target fuzz_this_target = {
    .name = "pool", .flags = FUZZ_MAY_FAIL | FUZZ_INEXACT_STATS, .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats, .reset = reset,
};
