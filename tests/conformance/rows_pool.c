/* Conformance rows for the pools: growable, fixed-buffer and thread-safe. */
#include <stdlib.h>

#include "alloc/pool.h"
#include "conformance.h"

static bool make_pool(conformance_instance *inst)
{
    alloc_pool *p = malloc(sizeof *p);
    if (!p) return false;
    alloc_pool_config c = {.obj_size = 1024, .obj_align = 64};
    if (alloc_pool_init(p, &c) != 0) {
        free(p);
        return false;
    }
    inst->state = p;
    inst->a = alloc_pool_allocator(p);
    return true;
}

static void destroy_pool(conformance_instance *inst)
{
    alloc_pool_deinit(inst->state);
    free(inst->state);
}

static bool check_pool(conformance_instance *inst) { return alloc_pool_check(inst->state); }

static bool stats_pool(conformance_instance *inst, alloc_stats *out)
{
    alloc_pool_stats(inst->state, out);
    return true;
}

enum { BUFFER_BYTES = 64 << 10 };

static bool make_pool_buffer(conformance_instance *inst)
{
    alloc_pool *p = malloc(sizeof *p);
    void *buf = malloc(BUFFER_BYTES);
    if (!p || !buf || alloc_pool_init_buffer(p, buf, BUFFER_BYTES, 256, 16) != 0) {
        free(p);
        free(buf);
        return false;
    }
    inst->state = p;
    inst->extra = buf;
    inst->a = alloc_pool_allocator(p);
    return true;
}

static void destroy_pool_buffer(conformance_instance *inst)
{
    alloc_pool_deinit(inst->state);
    free(inst->state);
    free(inst->extra);
}

static bool make_pool_mt(conformance_instance *inst)
{
    alloc_pool_mt *p = aligned_alloc(64, sizeof *p);
    if (!p) return false;
    alloc_pool_config c = {.obj_size = 512, .obj_align = 32, .slab_bytes = 8192};
    if (alloc_pool_mt_init(p, &c) != 0) {
        free(p);
        return false;
    }
    inst->state = p;
    inst->a = alloc_pool_mt_allocator(p);
    return true;
}

static void destroy_pool_mt(conformance_instance *inst)
{
    alloc_pool_mt_deinit(inst->state);
    free(inst->state);
}

static bool check_pool_mt(conformance_instance *inst) { return alloc_pool_mt_check(inst->state); }

static bool stats_pool_mt(conformance_instance *inst, alloc_stats *out)
{
    alloc_pool_mt_stats(inst->state, out);
    return true;
}

CONFORMANCE_ROW(pool_row, {
    .name = "pool",
    .make = make_pool,
    .destroy = destroy_pool,
    .check = check_pool,
    .stats = stats_pool,
    .max_align = 64,
    .max_len = 1024,
    .max_live = (size_t)64 << 20,
})

CONFORMANCE_ROW(pool_buffer_row, {
    .name = "pool_buffer",
    .make = make_pool_buffer,
    .destroy = destroy_pool_buffer,
    .check = check_pool,
    .stats = stats_pool,
    .caps = CONF_FIXED_CAPACITY,
    .max_align = 16,
    .max_len = 256,
    .max_live = BUFFER_BYTES,
})

CONFORMANCE_ROW(pool_mt_row, {
    .name = "pool_mt",
    .make = make_pool_mt,
    .destroy = destroy_pool_mt,
    .check = check_pool_mt,
    .stats = stats_pool_mt,
    .max_align = 32,
    .max_len = 512,
    .max_live = (size_t)64 << 20,
})
