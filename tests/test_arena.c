/* Arena: strategy-specific tests (chunk growth, large requests, reset modes,
 * nested savepoints, composition). The invariant checker runs after every
 * operation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/arena.h"
#include "alloc/bump.h"
#include "alloc/diag.h"
#include "alloc/page.h"
#include "core/track.h"

#define CHECKED(a) cr_assert(alloc_arena_check(a), "invariant check failed at line %d", __LINE__)

static alloc_arena_info info_of(const alloc_arena *a)
{
    alloc_arena_info i;
    alloc_arena_get_info(a, &i);
    return i;
}

static alloc_stats stats_of(const alloc_arena *a)
{
    alloc_stats s;
    alloc_arena_stats(a, &s);
    return s;
}

/* Small chunks so that tests cross chunk boundaries quickly. */
static const alloc_arena_options small_opts = {
    .first_chunk = 1024, .growth_percent = 200, .max_chunk = 16 << 10, .large_threshold = 2048};

Test(arena, init_rejects_bad_options)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(NULL, NULL), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, &(alloc_arena_options){.growth_percent = 50}), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, &(alloc_arena_options){.first_chunk = 16}), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, &(alloc_arena_options){.first_chunk = 8192, .max_chunk = 4096}), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, &(alloc_arena_options){.max_chunk = 4096, .large_threshold = 4096}), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, NULL), 0);
    CHECKED(&a);
    cr_assert_eq(info_of(&a).chunks, 0, "init takes no memory");
    cr_assert_eq(stats_of(&a).bytes_reserved, 0);
    alloc_arena_deinit(&a);
}

Test(arena, chunks_grow_geometrically)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    size_t last_chunks = 0, last_reserved = 0;
    for (int i = 0; i < 2000; i++) {
        unsigned char *p = alloc_bytes(h, 40, 8);
        cr_assert_not_null(p);
        memset(p, i & 0xFF, 40);
        CHECKED(&a);
        alloc_arena_info in = info_of(&a);
        if (in.chunks != last_chunks) {
            cr_assert_eq(in.chunks, last_chunks + 1);
            /* Each new chunk at least as big as the last, until max_chunk. */
            cr_assert_geq(in.bytes_reserved - last_reserved, last_chunks ? (size_t)1024 : 0);
            last_chunks = in.chunks;
            last_reserved = in.bytes_reserved;
        }
    }
    /* 80 KB of blocks over chunks 1K, 2K, 4K (page-rounded), 8K, 16K, 16K...:
     * far fewer chunks than blocks. */
    cr_assert_lt(info_of(&a).chunks, 16, "%zu chunks", info_of(&a).chunks);
    cr_assert_eq(stats_of(&a).bytes_in_use, 2000 * 40);
    alloc_arena_deinit(&a);
    cr_assert_eq(stats_of(&a).bytes_reserved, 0, "deinit gives everything back");
}

Test(arena, large_requests_get_their_own_chunk)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    unsigned char *small = alloc_bytes(h, 100, 8);
    size_t free_before = info_of(&a).chunk_free;
    unsigned char *big = alloc_bytes(h, 100000, 64);
    cr_assert_not_null(big);
    CHECKED(&a);
    cr_assert(alloc_is_aligned(big, 64));
    memset(big, 1, 100000);
    cr_assert_eq(info_of(&a).large_chunks, 1);
    cr_assert_eq(info_of(&a).chunk_free, free_before, "the current chunk is not touched");
    cr_assert(alloc_arena_owns(&a, big + 99999) && alloc_arena_owns(&a, small));
    /* Grows in place or by remap, keeping contents. */
    unsigned char *bigger = alloc_realloc(h, big, 100000, 64, 3000000);
    cr_assert_not_null(bigger);
    CHECKED(&a);
    for (size_t i = 0; i < 100000; i += 4099) cr_assert_eq(bigger[i], 1);
    cr_assert_eq(info_of(&a).large_chunks, 1, "remap does not leave the old chunk behind");
    size_t reserved = stats_of(&a).bytes_reserved;
    alloc_free(h, bigger, 3000000, 64);
    CHECKED(&a);
    cr_assert_eq(info_of(&a).large_chunks, 0, "a large free returns its chunk at once");
    cr_assert_lt(stats_of(&a).bytes_reserved, reserved - 3000000 + 4096);
    cr_assert_eq(stats_of(&a).bytes_in_use, 100);
    alloc_arena_deinit(&a);
}

Test(arena, alignment_up_to_4096_and_beyond)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, NULL), 0);
    allocator h = alloc_arena_allocator(&a);
    for (size_t align = 1; align <= ((size_t)1 << 16); align *= 2) {
        cr_assert_not_null(alloc_bytes(h, 3, 1));
        unsigned char *p = alloc_bytes(h, 24, align);
        CHECKED(&a);
        cr_assert_not_null(p, "align %zu", align);
        cr_assert(alloc_is_aligned(p, align), "%p not aligned to %zu", (void *)p, align);
        memset(p, 0x11, 24);
    }
    cr_assert_eq(info_of(&a).large_chunks, 4, "alignments 8K..64K are served as large requests");
    alloc_arena_deinit(&a);
}

Test(arena, last_block_resizes_and_frees_in_place)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    cr_assert_not_null(alloc_bytes(h, 1, 1));
    /* Fill the (page-rounded) first chunk to under 1600 free bytes. */
    while (info_of(&a).chunk_free > 1600) {
        size_t room = info_of(&a).chunk_free - 1500;
        cr_assert_not_null(alloc_bytes(h, room < 1000 ? room : 1000, 16));
    }
    cr_assert_eq(info_of(&a).chunks, 1);
    unsigned char *x = alloc_bytes(h, 64, 16);
    unsigned char *y = alloc_bytes(h, 64, 16);
    size_t left = info_of(&a).chunk_free;
    cr_assert(!alloc_resize(h, x, 64, 16, 80), "not the last block");
    cr_assert(alloc_resize(h, y, 64, 16, 200));
    CHECKED(&a);
    cr_assert_eq(info_of(&a).chunk_free, left - 136);
    cr_assert(!alloc_resize(h, y, 200, 16, 4000), "would cross the large threshold");
    cr_assert(!alloc_resize(h, y, 200, 16, 2000), "does not fit in the chunk");
    alloc_free(h, y, 200, 16);
    CHECKED(&a);
    cr_assert_eq(info_of(&a).chunk_free, left + 64, "popped");
    alloc_free(h, x, 64, 16);
    CHECKED(&a);
    cr_assert_eq(info_of(&a).stranded_frees, 0);
    unsigned char *z = alloc_bytes(h, 8, 8);
    alloc_free(h, x == z ? NULL : z, 0, 8); /* zero length: ignored by the helper */
    cr_assert_eq(z, x, "the space is reused");
    cr_assert_eq(info_of(&a).chunks, 1);
    alloc_arena_deinit(&a);
}

Test(arena, reset_modes)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    for (int i = 0; i < 500; i++) cr_assert_not_null(alloc_bytes(h, 100, 8));
    cr_assert_not_null(alloc_bytes(h, 50000, 8));
    CHECKED(&a);
    alloc_arena_info before = info_of(&a);
    cr_assert_gt(before.chunks, 3);

    /* Retain capacity: small chunks stay, the large one goes. */
    cr_assert_eq(alloc_arena_reset(&a, ALLOC_ARENA_RETAIN_CAPACITY, 0), 0);
    CHECKED(&a);
    alloc_arena_info kept = info_of(&a);
    cr_assert_eq(kept.chunks + kept.spare_chunks, before.chunks + before.spare_chunks);
    cr_assert_eq(kept.large_chunks, 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 0);
    size_t reserved = stats_of(&a).bytes_reserved;
    uint64_t backing_allocs;
    {
        alloc_stats ps;
        alloc_page_stats(&ps);
        backing_allocs = ps.alloc_count;
    }
    for (int i = 0; i < 500; i++) cr_assert_not_null(alloc_bytes(h, 100, 8));
    CHECKED(&a);
    alloc_stats ps;
    alloc_page_stats(&ps);
    cr_assert_eq(ps.alloc_count, backing_allocs, "the same work again needs no new chunk");
    cr_assert_eq(stats_of(&a).bytes_reserved, reserved);

    /* Retain with a limit. */
    cr_assert_eq(alloc_arena_reset(&a, ALLOC_ARENA_RETAIN_LIMIT, 20000), 0);
    CHECKED(&a);
    cr_assert_leq(stats_of(&a).bytes_reserved, 20000);
    cr_assert_gt(stats_of(&a).bytes_reserved, 0, "the largest chunk that fits the limit is kept");

    /* Free all. */
    cr_assert_eq(alloc_arena_reset(&a, ALLOC_ARENA_FREE_ALL, 0), 0);
    CHECKED(&a);
    cr_assert_eq(stats_of(&a).bytes_reserved, 0);
    alloc_arena_info none = info_of(&a);
    cr_assert_eq(none.chunks + none.spare_chunks + none.large_chunks, 0);
    cr_assert_eq(alloc_arena_reset(&a, (alloc_arena_reset_mode)7, 0), -EINVAL);
    cr_assert_geq(stats_of(&a).peak_bytes_in_use, 500 * 100 + 50000, "peaks survive resets");
    alloc_arena_deinit(&a);
}

Test(arena, nested_scratch_scopes_release_whole_chunks)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    char *keep = alloc_strdup(h, "outlives every scope");
    alloc_arena_mark outer = alloc_arena_save(&a);
    alloc_arena_info at_outer = info_of(&a);
    size_t in_use_outer = stats_of(&a).bytes_in_use;
    for (int i = 0; i < 100; i++) cr_assert_not_null(alloc_bytes(h, 64, 8));
    alloc_arena_mark inner = alloc_arena_save(&a);
    alloc_arena_info at_inner = info_of(&a);
    for (int i = 0; i < 300; i++) cr_assert_not_null(alloc_bytes(h, 64, 8));
    cr_assert_not_null(alloc_bytes(h, 10000, 8)); /* a large chunk inside the inner scope */
    CHECKED(&a);
    cr_assert_gt(info_of(&a).chunks, at_inner.chunks);

    cr_assert_eq(alloc_arena_rollback(&a, inner), 0);
    CHECKED(&a);
    alloc_arena_info after_inner = info_of(&a);
    cr_assert_eq(after_inner.chunks, at_inner.chunks, "chunks taken in the scope are released");
    cr_assert_eq(after_inner.large_chunks, 0);
    cr_assert_eq(after_inner.chunk_free, at_inner.chunk_free, "the top is back where it was");
    cr_assert_leq(after_inner.spare_chunks, 1, "at most one chunk is kept as a spare");

    cr_assert_eq(alloc_arena_rollback(&a, outer), 0);
    CHECKED(&a);
    cr_assert_eq(info_of(&a).chunks, at_outer.chunks);
    cr_assert_eq(info_of(&a).chunk_free, at_outer.chunk_free);
    cr_assert_eq(stats_of(&a).bytes_in_use, in_use_outer);
    cr_assert_str_eq(keep, "outlives every scope");

    /* A scope in a loop reuses the spare instead of the backing allocator. */
    alloc_stats p0, p1;
    for (int round = 0; round < 3; round++) {
        alloc_page_stats(&p0);
        alloc_arena_mark m = alloc_arena_save(&a);
        for (int i = 0; i < 20; i++) cr_assert_not_null(alloc_bytes(h, 64, 8));
        cr_assert_eq(alloc_arena_rollback(&a, m), 0);
        CHECKED(&a);
        alloc_page_stats(&p1);
        if (round > 0) cr_assert_eq(p1.alloc_count, p0.alloc_count, "round %d called the backing allocator", round);
    }
    alloc_arena_deinit(&a);
}

static int misuse_seen;
static void count_misuse(const char *msg, void *user)
{
    (void)msg, (void)user;
    misuse_seen++;
}

Test(arena, stale_savepoints_are_refused)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    cr_assert_not_null(alloc_bytes(h, 10, 1));
    alloc_arena_mark outer = alloc_arena_save(&a);
    for (int i = 0; i < 100; i++) cr_assert_not_null(alloc_bytes(h, 64, 8));
    alloc_arena_mark inner = alloc_arena_save(&a);
    cr_assert_eq(alloc_arena_rollback(&a, outer), 0);
    for (int i = 0; i < 100; i++) cr_assert_not_null(alloc_bytes(h, 64, 8));
    alloc_arena_mark before_reset = alloc_arena_save(&a);
    alloc_arena_info in0 = info_of(&a);
    alloc_set_misuse_handler(count_misuse, NULL);
    misuse_seen = 0;
    cr_assert_eq(alloc_arena_rollback(&a, inner), -EINVAL, "inner was released by the outer rollback");
    CHECKED(&a);
    cr_assert_eq(info_of(&a).chunks, in0.chunks);
    cr_assert_eq(info_of(&a).chunk_free, in0.chunk_free, "a refused rollback changes nothing");
    alloc_arena_reset(&a, ALLOC_ARENA_RETAIN_CAPACITY, 0);
    cr_assert_eq(alloc_arena_rollback(&a, before_reset), -EINVAL, "taken before a reset");
    alloc_set_misuse_handler(NULL, NULL);
    CHECKED(&a);
    cr_assert_eq(stats_of(&a).misuse_count, 2);
    cr_assert_eq(misuse_seen, ALLOC_DEBUG >= 1 ? 2 : 0);
    alloc_arena_deinit(&a);
}

Test(arena, over_a_bump_buffer_exhaustion_changes_nothing)
{
    static _Alignas(4096) unsigned char buf[64 << 10];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    alloc_arena a;
    alloc_arena_options o = small_opts;
    o.backing = alloc_bump_allocator(&b);
    cr_assert_eq(alloc_arena_init(&a, &o), 0);
    allocator h = alloc_arena_allocator(&a);
    size_t n = 0;
    unsigned char *p;
    while ((p = alloc_bytes(h, 100, 8)) != NULL) {
        memset(p, (int)(n & 0xFF), 100);
        n++;
        cr_assert_lt(n, 10000);
    }
    CHECKED(&a);
    cr_assert(alloc_bump_check(&b));
    cr_assert_gt(n, 400, "most of 64 KiB is usable");
    alloc_arena_info in0 = info_of(&a);
    alloc_stats s0 = stats_of(&a);
    size_t bump_left = alloc_bump_remaining(&b);
    cr_assert_null(alloc_bytes(h, 100, 8));
    cr_assert_null(alloc_bytes(h, 30000, 8));
    CHECKED(&a);
    alloc_stats s1 = stats_of(&a);
    cr_assert_eq(s1.failed_count, s0.failed_count + 2);
    cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use);
    cr_assert_eq(s1.bytes_reserved, s0.bytes_reserved);
    cr_assert_eq(info_of(&a).chunks, in0.chunks);
    cr_assert_eq(alloc_bump_remaining(&b), bump_left, "nothing taken from the backing buffer");
    alloc_arena_deinit(&a);
    alloc_bump_deinit(&b);
}

Test(arena, over_an_arena)
{
    alloc_arena outer, inner;
    cr_assert_eq(alloc_arena_init(&outer, NULL), 0);
    alloc_arena_options o = small_opts;
    o.backing = alloc_arena_allocator(&outer);
    cr_assert_eq(alloc_arena_init(&inner, &o), 0);
    allocator h = alloc_arena_allocator(&inner);
    unsigned char *blocks[300];
    for (int i = 0; i < 300; i++) {
        blocks[i] = alloc_bytes(h, 50 + (size_t)i, 8);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], i & 0xFF, 50 + (size_t)i);
        CHECKED(&inner);
        cr_assert(alloc_arena_check(&outer));
    }
    for (int i = 0; i < 300; i++)
        for (size_t k = 0; k < 50 + (size_t)i; k++) cr_assert_eq(blocks[i][k], i & 0xFF);
    cr_assert(alloc_arena_owns(&outer, blocks[0]), "inner chunks live in the outer arena");
    alloc_stats os0 = stats_of(&outer);
    cr_assert_eq(os0.bytes_in_use, stats_of(&inner).bytes_reserved, "the inner's reserve is the outer's use");
    alloc_arena_deinit(&inner);
    cr_assert_eq(stats_of(&outer).bytes_in_use, 0, "deinit of the inner gives every chunk back");
    alloc_arena_deinit(&outer);
}

#if ALLOC_DEBUG >= 1
Test(arena, double_free_of_a_large_block_is_reported, .signal = SIGABRT)
{
    alloc_arena a;
    alloc_arena_init(&a, NULL);
    allocator h = alloc_arena_allocator(&a);
    void *p = alloc_bytes(h, 200000, 8);
    cr_assert_not_null(p);
    alloc_free(h, p, 200000, 8);
    alloc_free(h, p, 200000, 8);
}
#endif

#if ALLOC_TRACK_ASAN_ENABLED
ALLOC_NOINLINE static unsigned char read_byte(volatile unsigned char *p) { return *p; }

Test(arena, asan_reports_read_after_rollback, .signal = SIGABRT)
{
    static alloc_arena a;
    alloc_arena_init(&a, NULL);
    allocator h = alloc_arena_allocator(&a);
    cr_assert_not_null(alloc_bytes(h, 16, 8));
    alloc_arena_mark m = alloc_arena_save(&a);
    volatile unsigned char *p = alloc_bytes(h, 64, 8);
    p[3] = 1;
    alloc_arena_rollback(&a, m);
    read_byte(p + 3);
}

Test(arena, asan_reports_read_after_reset_retaining_capacity, .signal = SIGABRT)
{
    static alloc_arena a;
    alloc_arena_init(&a, NULL);
    volatile unsigned char *p = alloc_bytes(alloc_arena_allocator(&a), 64, 8);
    p[0] = 1;
    alloc_arena_reset(&a, ALLOC_ARENA_RETAIN_CAPACITY, 0);
    read_byte(p);
}

Test(arena, asan_reports_read_of_a_chunk_header, .signal = SIGABRT)
{
    static alloc_arena a;
    alloc_arena_init(&a, NULL);
    volatile unsigned char *p = alloc_bytes(alloc_arena_allocator(&a), 64, 8);
    read_byte(p - 8); /* the chunk header right before the first block */
}
#else
Test(arena, rollback_makes_the_same_bytes_available_again)
{
    alloc_arena a;
    alloc_arena_init(&a, NULL);
    allocator h = alloc_arena_allocator(&a);
    cr_assert_not_null(alloc_bytes(h, 16, 8));
    alloc_arena_mark m = alloc_arena_save(&a);
    size_t left = info_of(&a).chunk_free;
    unsigned char *p = alloc_bytes(h, 64, 8);
    cr_assert(alloc_arena_owns(&a, p));
    alloc_arena_rollback(&a, m);
    CHECKED(&a);
    cr_assert_eq(info_of(&a).chunk_free, left);
    cr_assert(!alloc_arena_owns(&a, p), "a rolled-back block is no longer owned");
    cr_assert_eq(alloc_bytes(h, 64, 8), p);
    alloc_arena_deinit(&a);
}
#endif

/* --- savepoints and pops (issue: rollback after a legal pop) ---------------- */

Test(arena, rollback_after_popping_the_block_before_the_savepoint)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    void *keep = alloc_bytes(h, 100, 8);
    void *p = alloc_bytes(h, 100, 8);
    alloc_arena_mark m = alloc_arena_save(&a);
    alloc_free(h, p, 100, 8); /* the newest block: a legal pop */
    CHECKED(&a);
    cr_assert_eq(stats_of(&a).bytes_in_use, 100);
    void *q = alloc_bytes(h, 100, 8); /* made after m: must go at rollback */
    cr_assert_neq(q, p, "the pop below the savepoint let a later block land under it");
    cr_assert_eq(alloc_arena_rollback(&a, m), 0);
    CHECKED(&a);
    alloc_stats s = stats_of(&a);
    cr_assert_eq(s.bytes_in_use, 100, "in use %zu with only keep live", s.bytes_in_use);
    cr_assert_eq(s.misuse_count, 0);
    cr_assert(alloc_arena_owns(&a, keep));
    cr_assert(!alloc_arena_owns(&a, q), "q survived the rollback");
    /* The mark stays usable, and the bytes of p come back once a rollback
     * below them happens, or at reset. */
    cr_assert_eq(alloc_arena_rollback(&a, m), 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 100);
    alloc_free(h, keep, 100, 8);
    cr_assert_eq(stats_of(&a).bytes_in_use, 0);
    CHECKED(&a);
    alloc_arena_deinit(&a);
}

Test(arena, block_between_two_savepoints_popped_inside_the_inner_scope)
{
    /* m1; x; m2; pop x; close m2; close m1: x was made after m1 and is gone,
     * so m1's rollback must find the live bytes of m1's time, not less. */
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    void *outer = alloc_bytes(h, 64, 8);
    alloc_arena_mark m1 = alloc_arena_save(&a);
    void *x = alloc_bytes(h, 48, 8);
    alloc_arena_mark m2 = alloc_arena_save(&a);
    alloc_free(h, x, 48, 8);
    cr_assert_eq(stats_of(&a).bytes_in_use, 64);
    void *y = alloc_bytes(h, 32, 8);
    (void)y;
    cr_assert_eq(alloc_arena_rollback(&a, m2), 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 64);
    CHECKED(&a);
    cr_assert_eq(alloc_arena_rollback(&a, m1), 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 64);
    CHECKED(&a);
    /* Skipping the inner scope gives the same. */
    alloc_arena_mark n1 = alloc_arena_save(&a);
    x = alloc_bytes(h, 48, 8);
    alloc_arena_save(&a);
    alloc_free(h, x, 48, 8);
    alloc_free(h, outer, 64, 8); /* from before both: leaves n1's level */
    cr_assert_eq(alloc_arena_rollback(&a, n1), 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 0);
    CHECKED(&a);
    alloc_arena_deinit(&a);
}

Test(arena, savepoint_is_a_floor_for_resize_too)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    unsigned char *p = alloc_bytes(h, 64, 8);
    alloc_arena_mark m = alloc_arena_save(&a);
    cr_assert(!alloc_resize(h, p, 64, 8, 128), "a block from before the savepoint grew over it");
    cr_assert(!alloc_resize(h, p, 64, 8, 16), "a block from before the savepoint shrank under it");
    unsigned char *q = alloc_bytes(h, 64, 8);
    cr_assert(alloc_resize(h, q, 64, 8, 96), "a block after the savepoint resizes as before");
    cr_assert_eq(alloc_arena_rollback(&a, m), 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 64);
    CHECKED(&a);
    alloc_arena_deinit(&a);
}

Test(arena, large_blocks_from_before_a_savepoint_count_exactly)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    void *big = alloc_bytes(h, 5000, 8);
    alloc_arena_mark m = alloc_arena_save(&a);
    void *big2 = alloc_bytes(h, 6000, 8);
    (void)big2;
    big = alloc_realloc(h, big, 5000, 8, 9000); /* a block of m's scope grows */
    cr_assert_not_null(big);
    cr_assert_eq(alloc_arena_rollback(&a, m), 0);
    cr_assert_eq(stats_of(&a).bytes_in_use, 9000);
    CHECKED(&a);
    alloc_free(h, big, 9000, 8);
    cr_assert_eq(stats_of(&a).bytes_in_use, 0);
    CHECKED(&a);
    alloc_arena_deinit(&a);
}

Test(arena, more_open_savepoints_than_levels_still_roll_back)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    enum { N = ALLOC_ARENA_LEVELS + 8 };
    alloc_arena_mark m[N];
    size_t in_use[N];
    for (int i = 0; i < N; i++) {
        in_use[i] = stats_of(&a).bytes_in_use;
        m[i] = alloc_arena_save(&a);
        cr_assert_not_null(alloc_bytes(h, 24, 8));
        CHECKED(&a);
    }
    /* No frees: every rollback is exact even past the level count. */
    for (int i = N - 1; i >= 0; i -= 3) {
        cr_assert_eq(alloc_arena_rollback(&a, m[i]), 0, "rollback %d", i);
        cr_assert_eq(stats_of(&a).bytes_in_use, in_use[i], "rollback %d", i);
        CHECKED(&a);
    }
    alloc_arena_deinit(&a);
}

/*
 * The model test: random sequences of small and large allocations, pops
 * (frees of the newest live block), frees of other blocks, savepoints and
 * rollbacks to any open savepoint, with at most ALLOC_ARENA_LEVELS open.
 * After each step bytes_in_use must equal the model's sum of live lengths,
 * and every live block must still hold its own fill byte (a block placed
 * over a live one would overwrite it).
 */
typedef struct model_block {
    unsigned char *p;
    size_t len;
    unsigned char fill;
} model_block;

Test(arena, randomized_model_of_pops_savepoints_and_rollbacks, .timeout = 120)
{
    enum { STEPS = 20000, MAX_LIVE = 512 };
    static model_block live[MAX_LIVE];
    static size_t live_at_mark[ALLOC_ARENA_LEVELS];
    static alloc_arena_mark marks[ALLOC_ARENA_LEVELS];
    unsigned seed = 12345;
    for (int round = 0; round < 4; round++) {
        alloc_arena a;
        cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
        allocator h = alloc_arena_allocator(&a);
        size_t nlive = 0, nmarks = 0, model_in_use = 0;
        unsigned char next_fill = 1;
        for (int step = 0; step < STEPS; step++) {
            unsigned r = (unsigned)rand_r(&seed) % 100;
            if (r < 45 && nlive < MAX_LIVE) {
                size_t len = (rand_r(&seed) % 16 == 0) ? 2049 + (size_t)rand_r(&seed) % 3000
                                                        : 1 + (size_t)rand_r(&seed) % 200;
                size_t align = (size_t)1 << (rand_r(&seed) % 5);
                unsigned char *p = alloc_bytes(h, len, align);
                cr_assert_not_null(p);
                memset(p, next_fill, len);
                live[nlive++] = (model_block){p, len, next_fill};
                next_fill = (unsigned char)(next_fill % 250 + 1);
                model_in_use += len;
            } else if (r < 65 && nlive > 0) {
                /* pop: the newest live block */
                model_block b = live[--nlive];
                for (size_t j = 0; j < nmarks; j++) /* a block from before mark j left */
                    if (live_at_mark[j] > nlive) live_at_mark[j] = nlive;
                alloc_free(h, b.p, b.len, 1);
                model_in_use -= b.len;
            } else if (r < 72 && nlive > 0) {
                /* any live block (stranded unless it is the newest) */
                size_t k = (size_t)rand_r(&seed) % nlive;
                model_block b = live[k];
                memmove(&live[k], &live[k + 1], (nlive - k - 1) * sizeof *live);
                nlive--;
                for (size_t j = 0; j < nmarks; j++)
                    if (live_at_mark[j] > k) live_at_mark[j]--;
                alloc_free(h, b.p, b.len, 1);
                model_in_use -= b.len;
            } else if (r < 86 && nmarks < ALLOC_ARENA_LEVELS) {
                live_at_mark[nmarks] = nlive;
                marks[nmarks++] = alloc_arena_save(&a);
            } else if (nmarks > 0) {
                size_t j = (size_t)rand_r(&seed) % nmarks;
                cr_assert_eq(alloc_arena_rollback(&a, marks[j]), 0, "step %d: rollback refused", step);
                while (nlive > live_at_mark[j]) model_in_use -= live[--nlive].len;
                nmarks = j + 1; /* m stays open; later ones are stale */
            }
            cr_assert(alloc_arena_check(&a), "step %d: invariant check failed", step);
            alloc_stats s = stats_of(&a);
            cr_assert_eq(s.bytes_in_use, model_in_use, "step %d: in use %zu, model %zu", step, s.bytes_in_use,
                         model_in_use);
            cr_assert_eq(s.misuse_count, 0, "step %d", step);
            if (step % 64 == 0)
                for (size_t k = 0; k < nlive; k++)
                    for (size_t i = 0; i < live[k].len; i++)
                        cr_assert_eq(live[k].p[i], live[k].fill, "step %d: live block %zu overwritten", step, k);
        }
        alloc_arena_deinit(&a);
    }
}

/* The walk covers the current chunk's handed-out span (used) and what is left
 * above the top (free), and each large block once (used). */
typedef struct span_census {
    size_t used_bytes, free_bytes, large_seen;
    const void *large;
} span_census;

static bool span_seen(void *block, size_t len, bool used, void *user)
{
    span_census *c = user;
    if (block == c->large) c->large_seen++;
    if (used)
        c->used_bytes += len;
    else
        c->free_bytes += len;
    return true;
}

Test(arena, walk_reports_spans_and_large_blocks)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, &small_opts), 0);
    allocator h = alloc_arena_allocator(&a);
    void *p = alloc_bytes(h, 100, 8);
    cr_assert_not_null(p);
    void *big = alloc_bytes(h, small_opts.max_chunk, 8); /* above large_threshold */
    cr_assert_not_null(big);
    span_census c = {.large = big};
    cr_assert(alloc_arena_walk(&a, span_seen, &c));
    cr_assert_eq(c.large_seen, 1);
    cr_assert_geq(c.used_bytes, 100 + small_opts.max_chunk);
    cr_assert_eq(c.free_bytes, info_of(&a).chunk_free, "the one free span is the current chunk's rest");
    cr_assert(alloc_arena_check(&a));
    alloc_arena_deinit(&a);
}
