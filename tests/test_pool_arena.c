/*
 * An arena composed over pools: the arena's chunks come from size-class pools
 * (alloc_slab), or from a fixed pool of chunk-sized objects. Needs the arena,
 * pool and slab folders (ALLOC_STRATEGIES="pool;slab;arena", or all).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/arena.h"
#include "alloc/pool.h"
#include "alloc/slab.h"

static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)(seed * 29u + i);
}

static bool filled(const void *p, size_t n, unsigned seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed * 29u + i)) return false;
    return true;
}

static alloc_stats slab_stats(const alloc_slab *s)
{
    alloc_stats st;
    alloc_slab_stats(s, &st);
    return st;
}

typedef struct block {
    void *p;
    size_t len;
    unsigned seed;
} block;

/* One "request": a burst of allocations of mixed sizes, all checked. */
static size_t serve_request(alloc_arena *arena, alloc_slab *slab, unsigned request, block *blocks, size_t max)
{
    allocator a = alloc_arena_allocator(arena);
    uint64_t rng = 0x243F6A8885A308D3ull ^ request;
    size_t n = 0;
    for (; n < max; n++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t len = 1 + (size_t)(rng % 700);
        size_t align = (size_t)1 << ((rng >> 32) % 5);
        void *p = alloc_bytes(a, len, align);
        cr_assert_not_null(p, "request %u, block %zu", request, n);
        cr_assert(alloc_is_aligned(p, align));
        fill(p, len, request * 1000u + (unsigned)n);
        blocks[n] = (block){p, len, request * 1000u + (unsigned)n};
        if (n % 64 == 0) {
            cr_assert(alloc_arena_check(arena));
            cr_assert(alloc_slab_check(slab));
        }
    }
    for (size_t i = 0; i < n; i++) cr_assert(filled(blocks[i].p, blocks[i].len, blocks[i].seed), "block %zu", i);
    return n;
}

Test(pool_arena, arena_chunks_recycled_through_size_classes)
{
    alloc_slab *slab = malloc(sizeof *slab);
    cr_assert_eq(alloc_slab_init(slab, NULL), 0);
    alloc_arena arena;
    /* chunks of 1, 2, 4, ... 32 KiB: every one is a size-class request */
    cr_assert_eq(alloc_arena_init(&arena, &(alloc_arena_options){.backing = alloc_slab_allocator(slab),
                                                                 .first_chunk = 1024,
                                                                 .max_chunk = 32768,
                                                                 .large_threshold = 8192}),
                 0);
    static block blocks[600];
    size_t reserved_after_first = 0;
    for (unsigned request = 0; request < 50; request++) {
        serve_request(&arena, slab, request, blocks, 600);
        alloc_stats s = slab_stats(slab);
        cr_assert_gt(s.bytes_in_use, 200 * 350, "the arena's chunks are live slab blocks");
        alloc_arena_info info;
        alloc_arena_get_info(&arena, &info);
        cr_assert_geq(info.chunks, 4);
        cr_assert_eq(alloc_arena_reset(&arena, ALLOC_ARENA_FREE_ALL, 0), 0);
        cr_assert(alloc_arena_check(&arena));
        cr_assert(alloc_slab_check(slab));
        s = slab_stats(slab);
        cr_assert_eq(s.bytes_in_use, 0, "reset gave every chunk back to the pools");
        if (request == 0) reserved_after_first = s.bytes_reserved;
        /* the pools keep their slabs (one cached empty slab per class): no new memory */
        cr_assert_eq(s.bytes_reserved, reserved_after_first, "request %u took new slabs", request);
    }
    alloc_stats s = slab_stats(slab);
    cr_assert_eq(s.alloc_count, s.free_count);
    cr_assert_geq(s.alloc_count, 50 * 4);
    alloc_arena_deinit(&arena);
    alloc_slab_deinit(slab);
    free(slab);
}

Test(pool_arena, large_requests_and_savepoints)
{
    alloc_slab *slab = malloc(sizeof *slab);
    cr_assert_eq(alloc_slab_init(slab, &(alloc_slab_config){.limit = 16384}), 0);
    alloc_arena arena;
    cr_assert_eq(alloc_arena_init(&arena, &(alloc_arena_options){.backing = alloc_slab_allocator(slab),
                                                                 .first_chunk = 4096}),
                 0);
    allocator a = alloc_arena_allocator(&arena);
    char *keep = alloc_bytes(a, 100, 8);
    fill(keep, 100, 1);
    alloc_arena_mark m = alloc_arena_save(&arena);
    /* a large request: its own chunk, above the slab limit -> the slab's fallback */
    char *big = alloc_bytes(a, 200000, 16);
    cr_assert_not_null(big);
    fill(big, 200000, 2);
    cr_assert_geq(slab_stats(slab).bytes_in_use, 200000);
    for (int i = 0; i < 2000; i++) {
        char *p = alloc_bytes(a, 64, 8);
        cr_assert_not_null(p);
        fill(p, 64, (unsigned)i);
    }
    cr_assert(filled(big, 200000, 2));
    cr_assert(alloc_slab_check(slab));
    cr_assert_eq(alloc_arena_rollback(&arena, m), 0);
    cr_assert(alloc_arena_check(&arena));
    cr_assert(alloc_slab_check(slab));
    cr_assert(filled(keep, 100, 1), "the block before the savepoint survives");
    /* the large chunk and all but one spare chunk went back through the slab */
    alloc_arena_info info;
    alloc_arena_get_info(&arena, &info);
    cr_assert_eq(info.large_chunks, 0);
    cr_assert_leq(slab_stats(slab).bytes_in_use, info.bytes_reserved);
    alloc_arena_deinit(&arena);
    cr_assert_eq(slab_stats(slab).bytes_in_use, 0);
    alloc_slab_deinit(slab);
    free(slab);
}

/* The simplest composition: every chunk is one object of a fixed pool. */
Test(pool_arena, arena_over_a_fixed_pool_of_chunks)
{
    enum { CHUNK = 8192 };
    alloc_pool pool;
    cr_assert_eq(alloc_pool_init(&pool, &(alloc_pool_config){.obj_size = CHUNK, .obj_align = 64}), 0);
    alloc_arena arena;
    cr_assert_eq(alloc_arena_init(&arena, &(alloc_arena_options){.backing = alloc_pool_allocator(&pool),
                                                                 .first_chunk = CHUNK,
                                                                 .growth_percent = 100,
                                                                 .max_chunk = CHUNK,
                                                                 .large_threshold = 1024}),
                 0);
    allocator a = alloc_arena_allocator(&arena);
    size_t reserved = 0;
    for (unsigned round = 0; round < 20; round++) {
        static block blocks[300];
        for (unsigned i = 0; i < 300; i++) {
            size_t len = 16 + (i * 37u) % 400;
            blocks[i].p = alloc_bytes(a, len, 8);
            cr_assert_not_null(blocks[i].p);
            blocks[i].len = len;
            blocks[i].seed = round * 300 + i;
            fill(blocks[i].p, len, blocks[i].seed);
        }
        for (unsigned i = 0; i < 300; i++) cr_assert(filled(blocks[i].p, blocks[i].len, blocks[i].seed));
        cr_assert(alloc_pool_check(&pool));
        alloc_stats ps;
        alloc_pool_stats(&pool, &ps);
        cr_assert_gt(ps.bytes_in_use, 0);
        cr_assert_eq(alloc_arena_reset(&arena, ALLOC_ARENA_FREE_ALL, 0), 0);
        alloc_pool_stats(&pool, &ps);
        cr_assert_eq(ps.bytes_in_use, 0, "every chunk is back in the pool");
        if (round == 0) reserved = ps.bytes_reserved;
        cr_assert_eq(ps.bytes_reserved, reserved, "round %u: the pool grew although chunks are reused", round);
    }
    alloc_arena_deinit(&arena);
    alloc_pool_deinit(&pool);
}
