/*
 * Fuzz target: the arena (chunks from pages, small chunks and a low large
 * threshold in some variants so requests cross chunk edges and large blocks
 * get chunks of their own), frees in any order, savepoints and the three
 * reset modes.
 */
#include <string.h>

#include "alloc/arena.h"
#include "driver.h"

static alloc_arena arena;
static alloc_arena_reset_mode reset_mode;

static bool make(fuzz_instance *inst, uint8_t variant)
{
    alloc_arena_options o = {0};
    switch (variant % 4) {
    case 0: break;
    case 1: o.first_chunk = 256; o.max_chunk = 1u << 16; o.large_threshold = 1024; break;
    case 2: o.first_chunk = 4096; o.growth_percent = 150; o.large_threshold = 8192; break;
    default: o.first_chunk = 1024; o.max_chunk = 8192; o.large_threshold = 4096; break;
    }
    static const alloc_arena_reset_mode modes[] = {ALLOC_ARENA_FREE_ALL, ALLOC_ARENA_RETAIN_CAPACITY,
                                                   ALLOC_ARENA_RETAIN_LIMIT};
    reset_mode = modes[(variant >> 2) % 3];
    if (alloc_arena_init(&arena, &o) != 0) return false;
    inst->a = alloc_arena_allocator(&arena);
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    alloc_arena_deinit(&arena);
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    return alloc_arena_check(&arena);
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_arena_stats(&arena, s);
    return true;
}

static void reset(fuzz_instance *inst)
{
    (void)inst;
    if (alloc_arena_reset(&arena, reset_mode, 8192) != 0) __builtin_trap();
}

static bool save(fuzz_instance *inst, fuzz_mark *m)
{
    (void)inst;
    alloc_arena_mark k = alloc_arena_save(&arena);
    _Static_assert(sizeof k <= sizeof m->bytes, "mark too large");
    memcpy(m->bytes, &k, sizeof k);
    return true;
}

static void restore(fuzz_instance *inst, const fuzz_mark *m)
{
    (void)inst;
    alloc_arena_mark k;
    memcpy(&k, m->bytes, sizeof k);
    if (alloc_arena_rollback(&arena, k) != 0) __builtin_trap(); /* the driver only restores live marks */
}

const fuzz_target fuzz_this_target = {
    .name = "arena", .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
    .reset = reset, .save = save, .restore = restore,
};
