/*
 * Descriptors of the fixed-size pools (include/alloc/pool.h): alloc_pool with
 * slabs from pages, alloc_pool over a caller's buffer (fixed capacity), and
 * the lock-free alloc_pool_mt. Requests above the object size fail by
 * contract; stats count whole objects.
 * args: options is an alloc_pool_config; obj_size and obj_align replace its
 * object size and alignment; capacity and skew place the buffer (pool_buffer).
 */
#include "alloc/pool.h"
#include "descriptor.h"

enum { BUFFER_BYTES = 64 << 10 };

static const alloc_pool_config pool_default = {.obj_size = 1024, .obj_align = 64};
static const alloc_pool_config buffer_default = {.obj_size = 256, .obj_align = 16};
static const alloc_pool_config mt_default = {.obj_size = 512, .obj_align = 32, .slab_bytes = 8192};

static alloc_pool_config config_of(const desc_args *args, const alloc_pool_config *dflt)
{
    alloc_pool_config c = *(const alloc_pool_config *)desc_options(args, dflt);
    if (args->obj_size) {
        c.obj_size = args->obj_size;
        c.obj_align = args->obj_align;
    }
    return c;
}

static bool make_pool(desc_instance *inst, const desc_args *args)
{
    alloc_pool_config c = config_of(args, &pool_default);
    if (alloc_pool_init(inst->state, &c) != 0) return false;
    inst->a = alloc_pool_allocator(inst->state);
    return true;
}

static bool make_pool_buffer(desc_instance *inst, const desc_args *args)
{
    alloc_pool_config c = config_of(args, &buffer_default);
    size_t cap = 0;
    void *buf = desc_take_buffer(inst, args, BUFFER_BYTES, &cap);
    if (!buf || alloc_pool_init_buffer(inst->state, buf, cap, c.obj_size, c.obj_align) != 0) return false;
    inst->a = alloc_pool_allocator(inst->state);
    return true;
}

DESC_STATE_OPS(pool, alloc_pool, alloc_pool_deinit, alloc_pool_check, alloc_pool_stats)
DESC_RESET_OP(pool, alloc_pool, alloc_pool_reset)

static bool make_pool_mt(desc_instance *inst, const desc_args *args)
{
    alloc_pool_config c = config_of(args, &mt_default);
    if (alloc_pool_mt_init(inst->state, &c) != 0) return false;
    inst->a = alloc_pool_mt_allocator(inst->state);
    return true;
}

DESC_STATE_OPS(pool_mt, alloc_pool_mt, alloc_pool_mt_deinit, alloc_pool_mt_check, alloc_pool_mt_stats)
DESC_RESET_OP(pool_mt, alloc_pool_mt, alloc_pool_mt_reset)

#define POOL_CAPS                                                                                  \
    (DESC_FIXED_SIZE | DESC_INEXACT_STATS | DESC_IN_DEBUG(DESC_DETECTS_DOUBLE_FREE | DESC_DETECTS_FOREIGN_FREE))

DESCRIPTOR(desc_pool, {
    .name = "pool",
    .caps = POOL_CAPS | DESC_IN_ASAN(DESC_POISONS_FREED),
    .max_align = 64, .max_len = 1024, .max_live = (size_t)64 << 20,
    .state_size = sizeof(alloc_pool),
    .make = make_pool, .deinit = pool_deinit, .check = pool_check, .stats = pool_stats, .reset = pool_reset,
})

DESCRIPTOR(desc_pool_buffer, {
    .name = "pool_buffer",
    .caps = POOL_CAPS | DESC_FIXED_CAPACITY | DESC_IN_ASAN(DESC_POISONS_FREED),
    .max_align = 16, .max_len = 256, .max_live = BUFFER_BYTES,
    .state_size = sizeof(alloc_pool),
    .make = make_pool_buffer, .deinit = pool_deinit, .check = pool_check, .stats = pool_stats,
    .reset = pool_reset,
})

DESCRIPTOR(desc_pool_mt, {
    .name = "pool_mt",
    .caps = POOL_CAPS | DESC_THREAD_SAFE,
    .max_align = 32, .max_len = 512, .max_live = (size_t)64 << 20,
    .state_size = sizeof(alloc_pool_mt),
    .make = make_pool_mt, .deinit = pool_mt_deinit, .check = pool_mt_check, .stats = pool_mt_stats,
    .reset = pool_mt_reset,
})
