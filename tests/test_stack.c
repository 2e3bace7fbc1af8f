/* Stack allocator: strategy-specific tests (order checking, markers, chunks,
 * remap). The invariant checker runs after every operation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/diag.h"
#include "alloc/page.h"
#include "alloc/stack.h"
#include "core/track.h"

#define CHECKED(s) cr_assert(alloc_stack_check(s), "invariant check failed at line %d", __LINE__)

static alloc_stats stats_of(const alloc_stack *s)
{
    alloc_stats st;
    alloc_stack_stats(s, &st);
    return st;
}

static int misuse_seen;
static char misuse_text[512];
static void record_misuse(const char *msg, void *user)
{
    (void)user;
    misuse_seen++;
    strncpy(misuse_text, msg, sizeof misuse_text - 1);
}

Test(stack, init_rejects_bad_arguments)
{
    alloc_stack s;
    unsigned char buf[64];
    cr_assert_eq(alloc_stack_init_buffer(NULL, buf, sizeof buf), -EINVAL);
    cr_assert_eq(alloc_stack_init_buffer(&s, NULL, 64), -EINVAL);
    cr_assert_eq(alloc_stack_init(&s, &(alloc_stack_options){.first_chunk = 100}), -EINVAL);
    cr_assert_eq(alloc_stack_init(&s, &(alloc_stack_options){.first_chunk = 8192, .max_chunk = 4096}), -EINVAL);
    cr_assert_eq(alloc_stack_init(&s, NULL), 0);
    CHECKED(&s);
    cr_assert_eq(stats_of(&s).bytes_reserved, 0, "no memory until the first push");
    alloc_stack_deinit(&s);
}

Test(stack, push_pop_in_order)
{
    _Alignas(16) unsigned char buf[1024];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    unsigned char *x = alloc_bytes(a, 10, 1), *y = alloc_bytes(a, 20, 8), *z = alloc_bytes(a, 30, 16);
    CHECKED(&s);
    cr_assert(x && y && z);
    cr_assert(alloc_is_aligned(x, 8), "blocks are at least 8-aligned");
    cr_assert_eq(alloc_stack_depth(&s), 3);
    cr_assert_eq(alloc_stack_top(&s), z);
    cr_assert_geq((uintptr_t)y, (uintptr_t)x + 10 + sizeof(alloc_stack_header));
    size_t left = alloc_stack_remaining(&s);
    alloc_free(a, z, 30, 16);
    CHECKED(&s);
    alloc_free(a, y, 20, 8);
    CHECKED(&s);
    cr_assert_gt(alloc_stack_remaining(&s), left + 50);
    alloc_free(a, x, 10, 1);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_remaining(&s), sizeof buf, "everything, headers and padding, comes back");
    cr_assert_eq(stats_of(&s).bytes_in_use, 0);
    alloc_stack_deinit(&s);
}

Test(stack, out_of_order_free_leaves_state_unchanged_and_names_both_blocks)
{
    _Alignas(16) unsigned char buf[1024];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    unsigned char *x = alloc_bytes(a, 16, 8), *y = alloc_bytes(a, 16, 8);
    size_t left = alloc_stack_remaining(&s);
    alloc_set_misuse_handler(record_misuse, NULL);
    misuse_seen = 0;
    misuse_text[0] = 0;
    alloc_free(a, x, 16, 8);   /* out of order */
    alloc_free(a, y, 8, 8);    /* wrong len */
    alloc_free(a, buf + 512, 16, 8); /* never allocated */
    alloc_set_misuse_handler(NULL, NULL);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_top(&s), y, "nothing was popped");
    cr_assert_eq(alloc_stack_remaining(&s), left);
    cr_assert_eq(stats_of(&s).misuse_count, 3, "counted in every build");
    cr_assert_eq(stats_of(&s).bytes_in_use, 32);
#if ALLOC_DEBUG >= 1
    cr_assert_eq(misuse_seen, 3);
#else
    cr_assert_eq(misuse_seen, 0);
#endif
    alloc_free(a, y, 16, 8);
    alloc_free(a, x, 16, 8);
    CHECKED(&s);
    cr_assert_eq(stats_of(&s).free_count, 2);
    alloc_stack_deinit(&s);
}

#if ALLOC_DEBUG >= 1
ALLOC_NOINLINE static void *allocate_first(allocator a) { return alloc_bytes(a, 16, 8); }
ALLOC_NOINLINE static void *allocate_second(allocator a) { return alloc_bytes(a, 16, 8); }

Test(stack, out_of_order_message_names_both_allocation_sites)
{
    _Alignas(16) unsigned char buf[256];
    alloc_stack s;
    alloc_stack_init_buffer(&s, buf, sizeof buf);
    allocator a = alloc_stack_allocator(&s);
    void *x = allocate_first(a), *y = allocate_second(a);
    char px[32], py[32];
    alloc_format(px, sizeof px, "%p", x);
    alloc_format(py, sizeof py, "%p", y);
    alloc_set_misuse_handler(record_misuse, NULL);
    misuse_text[0] = 0;
    alloc_free(a, x, 16, 8);
    alloc_set_misuse_handler(NULL, NULL);
    cr_assert(strstr(misuse_text, "out-of-order") != NULL, "message: %s", misuse_text);
    cr_assert(strstr(misuse_text, px) && strstr(misuse_text, py), "both blocks named: %s", misuse_text);
    /* Three call sites: both allocations and the free (dladdr may name them
     * only by address in an executable without dynamic symbols). */
    cr_assert(strstr(misuse_text, "allocated at") != NULL, "message: %s", misuse_text);
    alloc_free(a, y, 16, 8);
    alloc_free(a, x, 16, 8);
    alloc_stack_deinit(&s);
}

Test(stack, out_of_order_free_aborts_in_debug_builds, .signal = SIGABRT)
{
    _Alignas(16) unsigned char buf[256];
    alloc_stack s;
    alloc_stack_init_buffer(&s, buf, sizeof buf);
    allocator a = alloc_stack_allocator(&s);
    void *x = alloc_bytes(a, 16, 8);
    cr_assert_not_null(alloc_bytes(a, 16, 8));
    alloc_free(a, x, 16, 8);
}

#endif

Test(stack, resize_of_the_top_block_only)
{
    _Alignas(16) unsigned char buf[512];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    unsigned char *x = alloc_bytes(a, 16, 8), *y = alloc_bytes(a, 16, 8);
    memset(y, 9, 16);
    cr_assert(!alloc_resize(a, x, 16, 8, 32));
    cr_assert(alloc_resize(a, y, 16, 8, 200));
    CHECKED(&s);
    for (int i = 0; i < 16; i++) cr_assert_eq(y[i], 9);
    cr_assert(!alloc_resize(a, y, 200, 8, 1000), "past the buffer");
    cr_assert_null(alloc_remap(a, y, 200, 8, 1000), "a buffer stack cannot move a block");
    cr_assert(alloc_resize(a, y, 200, 8, 4));
    CHECKED(&s);
    alloc_free(a, y, 4, 8);
    alloc_free(a, x, 16, 8);
    CHECKED(&s);
    cr_assert_eq(stats_of(&s).resize_count, 2);
    alloc_stack_deinit(&s);
}

Test(stack, exhaustion_returns_null_and_changes_nothing)
{
    /* 4096-aligned, so that no 4096 boundary lies inside the buffer past its
     * start: the 4096-aligned push below must fail wherever the buffer is (a
     * buffer on the test's stack sometimes had one in its free tail). */
    static _Alignas(4096) unsigned char buf[256];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    unsigned char *x = alloc_bytes(a, 150, 8);
    memset(x, 3, 150);
    alloc_stack_mark m = alloc_stack_save(&s);
    alloc_stats s0 = stats_of(&s);
    cr_assert_null(alloc_bytes(a, 100, 8));
    cr_assert_null(alloc_bytes(a, 8, 4096));
    CHECKED(&s);
    alloc_stats s1 = stats_of(&s);
    cr_assert_eq(s1.failed_count, s0.failed_count + 2);
    cr_assert_eq(s1.alloc_count, s0.alloc_count);
    alloc_stack_mark m2 = alloc_stack_save(&s);
    cr_assert(m.top == m2.top && m.top_block == m2.top_block, "a failed push moved nothing");
    for (int i = 0; i < 150; i++) cr_assert_eq(x[i], 3);
    cr_assert_not_null(alloc_bytes(a, 256 - 150 - 2 * sizeof(alloc_stack_header) - 2, 1), "the rest still fits");
    alloc_stack_deinit(&s);
}

Test(stack, alignment_up_to_4096)
{
    static _Alignas(4096) unsigned char buf[64 << 10];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    for (size_t align = 1; align <= 4096; align *= 2) {
        cr_assert_not_null(alloc_bytes(a, 3, 1));
        unsigned char *p = alloc_bytes(a, 5, align);
        CHECKED(&s);
        cr_assert_not_null(p);
        cr_assert(alloc_is_aligned(p, align));
    }
    alloc_stack_reset(&s);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_remaining(&s), sizeof buf);
    alloc_stack_deinit(&s);
}

Test(stack, nested_markers)
{
    _Alignas(16) unsigned char buf[4096];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    void *base = alloc_bytes(a, 40, 8);
    alloc_stack_mark outer = alloc_stack_save(&s);
    size_t left_outer = alloc_stack_remaining(&s);
    for (int i = 0; i < 5; i++) cr_assert_not_null(alloc_bytes(a, 30, 8));
    alloc_stack_mark inner = alloc_stack_save(&s);
    size_t left_inner = alloc_stack_remaining(&s);
    for (int i = 0; i < 5; i++) cr_assert_not_null(alloc_bytes(a, 70, 16));
    CHECKED(&s);
    cr_assert_eq(alloc_stack_rollback(&s, inner), 0);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_remaining(&s), left_inner);
    cr_assert_eq(alloc_stack_depth(&s), 6);
    cr_assert_eq(stats_of(&s).bytes_in_use, 40 + 150, "exact: rollback pops block by block");
    cr_assert_eq(alloc_stack_rollback(&s, outer), 0);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_remaining(&s), left_outer);
    cr_assert_eq(alloc_stack_top(&s), base);
    alloc_set_misuse_handler(record_misuse, NULL);
    cr_assert_eq(alloc_stack_rollback(&s, inner), -EINVAL, "inner's block is gone");
    alloc_set_misuse_handler(NULL, NULL);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_top(&s), base);
    cr_assert_eq(stats_of(&s).misuse_count, 1);
    alloc_stack_deinit(&s);
}

Test(stack, over_pages_chunks_come_and_go)
{
    alloc_stack s;
    cr_assert_eq(alloc_stack_init(&s, &(alloc_stack_options){.first_chunk = 4096, .max_chunk = 16384}), 0);
    allocator a = alloc_stack_allocator(&s);
    enum { N = 400 };
    static unsigned char *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = alloc_bytes(a, 100, 8);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], i & 0xFF, 100);
        CHECKED(&s);
    }
    alloc_stats full = stats_of(&s);
    cr_assert_gt(full.bytes_reserved, 40000);
    for (int i = N - 1; i >= 0; i--) {
        for (int k = 0; k < 100; k++) cr_assert_eq(blocks[i][k], i & 0xFF);
        alloc_free(a, blocks[i], 100, 8);
        CHECKED(&s);
    }
    alloc_stats empty = stats_of(&s);
    cr_assert_eq(empty.bytes_in_use, 0);
    cr_assert_leq(empty.bytes_reserved, 16384, "only the spare stays");
    /* Push/pop across a boundary in a loop: the spare serves it. */
    for (int round = 0; round < 10; round++) {
        void *p = alloc_bytes(a, 3000, 8);
        void *q = alloc_bytes(a, 3000, 8);
        cr_assert(p && q);
        alloc_free(a, q, 3000, 8);
        alloc_free(a, p, 3000, 8);
        CHECKED(&s);
    }
    cr_assert_leq(stats_of(&s).peak_bytes_reserved, full.peak_bytes_reserved);
    alloc_stack_deinit(&s);
    cr_assert_eq(stats_of(&s).bytes_reserved, 0);
}

Test(stack, remap_moves_the_top_block_to_a_new_chunk)
{
    alloc_stack s;
    cr_assert_eq(alloc_stack_init(&s, &(alloc_stack_options){.first_chunk = 4096, .max_chunk = 4096}), 0);
    allocator a = alloc_stack_allocator(&s);
    unsigned char *under = alloc_bytes(a, 64, 8);
    memset(under, 1, 64);
    unsigned char *p = alloc_bytes(a, 1000, 8);
    memset(p, 2, 1000);
    unsigned char *q = alloc_remap(a, p, 1000, 8, 20000);
    cr_assert_not_null(q);
    CHECKED(&s);
    cr_assert_neq(q, p);
    for (int i = 0; i < 1000; i++) cr_assert_eq(q[i], 2);
    cr_assert_eq(alloc_stack_top(&s), q);
    cr_assert_eq(alloc_stack_depth(&s), 2, "the copy replaced the block");
    alloc_free(a, q, 20000, 8);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_top(&s), under);
    for (int i = 0; i < 64; i++) cr_assert_eq(under[i], 1);
    unsigned char *again = alloc_bytes(a, 1000, 8);
    cr_assert_eq(again, p, "popping the copy gave back the old block's place too");
    alloc_free(a, again, 1000, 8);
    alloc_free(a, under, 64, 8);
    CHECKED(&s);
    alloc_stack_deinit(&s);
}

Test(stack, fast_path_matches_vtable_path)
{
    static _Alignas(64) unsigned char b1[4096], b2[4096];
    alloc_stack s1, s2;
    cr_assert_eq(alloc_stack_init_buffer(&s1, b1, sizeof b1), 0);
    cr_assert_eq(alloc_stack_init_buffer(&s2, b2, sizeof b2), 0);
    for (size_t i = 1; i < 200; i++) {
        size_t len = i * 7 % 61 + 1, align = (size_t)1 << (i % 7);
        unsigned char *p = alloc_stack_alloc_fast(&s1, len, align);
        unsigned char *q = alloc_bytes(alloc_stack_allocator(&s2), len, align);
        cr_assert_eq(p == NULL, q == NULL);
        if (!p) break;
        cr_assert_eq(p - b1, q - b2);
        CHECKED(&s1);
    }
    cr_assert_eq(stats_of(&s1).alloc_count, stats_of(&s2).alloc_count);
    cr_assert_eq(stats_of(&s1).failed_count, 1);
    alloc_stack_deinit(&s1);
    alloc_stack_deinit(&s2);
}

#if ALLOC_TRACK_ASAN_ENABLED
ALLOC_NOINLINE static unsigned char read_byte(volatile unsigned char *p) { return *p; }

Test(stack, asan_reports_read_after_rollback, .signal = SIGABRT)
{
    static _Alignas(16) unsigned char buf[512];
    alloc_stack s;
    alloc_stack_init_buffer(&s, buf, sizeof buf);
    alloc_stack_mark m = alloc_stack_save(&s);
    volatile unsigned char *p = alloc_bytes(alloc_stack_allocator(&s), 64, 8);
    p[5] = 1;
    alloc_stack_rollback(&s, m);
    read_byte(p + 5);
}

Test(stack, asan_reports_read_of_a_block_header, .signal = SIGABRT)
{
    static _Alignas(16) unsigned char buf[512];
    alloc_stack s;
    alloc_stack_init_buffer(&s, buf, sizeof buf);
    volatile unsigned char *p = alloc_bytes(alloc_stack_allocator(&s), 64, 8);
    read_byte(p - 1);
}

Test(stack, asan_reports_read_after_reset_of_a_chunked_stack, .signal = SIGABRT)
{
    alloc_stack s;
    alloc_stack_init(&s, &(alloc_stack_options){.first_chunk = 4096, .max_chunk = 4096});
    allocator a = alloc_stack_allocator(&s);
    volatile unsigned char *p = NULL;
    for (int i = 0; i < 100; i++) p = alloc_bytes(a, 100, 8); /* several chunks */
    p = alloc_bytes(a, 64, 8);
    p[5] = 1;
    alloc_stack_reset(&s); /* p's chunk may be the one kept: its bytes must be poisoned */
    void *first = alloc_bytes(a, 16, 8);
    (void)first;
    read_byte(p + 5);
}
#else
Test(stack, rollback_restores_the_bytes_left)
{
    static _Alignas(16) unsigned char buf[512];
    alloc_stack s;
    alloc_stack_init_buffer(&s, buf, sizeof buf);
    allocator a = alloc_stack_allocator(&s);
    alloc_stack_mark m = alloc_stack_save(&s);
    size_t left = alloc_stack_remaining(&s);
    unsigned char *p = alloc_bytes(a, 64, 8);
    cr_assert_not_null(p);
    alloc_stack_rollback(&s, m);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_remaining(&s), left);
    cr_assert_null(alloc_stack_top(&s));
    cr_assert_eq(alloc_bytes(a, 64, 8), p);
    alloc_stack_deinit(&s);
}

#endif

Test(stack, buffer_end_inside_a_granule_passes_the_checker)
{
    /* Under ASan the last, partial 8-byte granule cannot be poisoned apart
     * from the bytes after it; the checker must not count that as a fault. */
    static _Alignas(16) unsigned char buf[205];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    void *p = alloc_bytes(a, 168, 8); /* header 32 + 168: the top lands on the partial granule */
    cr_assert_not_null(p);
    cr_assert_eq(alloc_stack_remaining(&s), 5);
    CHECKED(&s);
    alloc_free(a, p, 168, 8);
    CHECKED(&s);
    alloc_stack_deinit(&s);
}

/* A backing allocator over pages that counts the chunks it hands out and
 * takes back. */
static int chunk_allocs, chunk_frees;
static void *counting_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx;
    chunk_allocs++;
    return alloc_page_vtable.alloc(NULL, len, align, ret_addr);
}
static void counting_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    chunk_frees++;
    alloc_page_vtable.free(ctx, mem, len, align, ret_addr);
}
static const alloc_vtable counting_vtable = {counting_alloc, alloc_no_resize, alloc_no_remap, counting_free};

Test(stack, repeated_bursts_across_chunks_stop_calling_the_backing_allocator)
{
    alloc_stack s;
    alloc_stack_options o = {.backing = {NULL, &counting_vtable}, .first_chunk = 4096, .max_chunk = (size_t)1 << 20};
    cr_assert_eq(alloc_stack_init(&s, &o), 0);
    allocator a = alloc_stack_allocator(&s);
    enum { BURST = 600 };
    void *blocks[BURST];
    int after_warmup = 0;
    for (int round = 0; round < 50; round++) {
        /* each burst spans several chunks (600 blocks of 100 B + headers) */
        for (int i = 0; i < BURST; i++) {
            blocks[i] = alloc_bytes(a, 100, 8);
            cr_assert_not_null(blocks[i]);
        }
        for (int i = BURST - 1; i >= 0; i--) alloc_free(a, blocks[i], 100, 8);
        cr_assert(alloc_stack_check(&s));
        if (round == 9) after_warmup = chunk_allocs;
    }
    cr_assert_eq(chunk_allocs, after_warmup,
                 "bursts kept mapping chunks: %d backing allocations after warm-up, %d in all",
                 chunk_allocs - after_warmup, chunk_allocs);
    alloc_stack_deinit(&s);
}

/* A stack over pages whose chunk allocations and frees are counted (from 0),
 * chunks from 4 KiB to 16 KiB. */
static allocator counted_stack(alloc_stack *s)
{
    chunk_allocs = chunk_frees = 0;
    alloc_stack_options o = {.backing = {NULL, &counting_vtable}, .first_chunk = 4096, .max_chunk = 16384};
    cr_assert_eq(alloc_stack_init(s, &o), 0);
    return alloc_stack_allocator(s);
}

Test(stack, an_empty_stack_keeps_one_chunk_as_its_current_chunk)
{
    alloc_stack s;
    allocator a = counted_stack(&s);
    /* push/pop pairs on an empty stack: one chunk, taken once */
    for (int i = 0; i < 1000; i++) {
        void *p = alloc_bytes(a, 64, 8);
        cr_assert_not_null(p);
        alloc_free(a, p, 64, 8);
    }
    CHECKED(&s);
    cr_assert_eq(chunk_allocs, 1, "%d backing allocations for 1000 pairs", chunk_allocs);
    cr_assert_eq(chunk_frees, 0);
    cr_assert_eq(stats_of(&s).bytes_reserved, alloc_stack_remaining(&s) + 16,
                 "the chunk is current: all of it but its header is free to push into");
    /* a burst over several chunks, then empty: the largest chunk stays */
    enum { N = 400 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) cr_assert_not_null(blocks[i] = alloc_bytes(a, 100, 8));
    cr_assert_gt(chunk_allocs, 3);
    for (int i = N - 1; i >= 0; i--) alloc_free(a, blocks[i], 100, 8);
    CHECKED(&s);
    cr_assert_eq(stats_of(&s).bytes_reserved, 16384, "one chunk, the largest, stays");
    cr_assert_eq(alloc_stack_remaining(&s), 16384 - 16);
    cr_assert_eq(chunk_frees, chunk_allocs - 1);
    alloc_stack_reset(&s);
    CHECKED(&s);
    alloc_stack_deinit(&s);
    cr_assert_eq(chunk_frees, chunk_allocs, "deinit gives the kept chunk back");
    cr_assert_eq(stats_of(&s).bytes_reserved, 0);
}

Test(stack, reset_with_live_blocks_keeps_the_largest_chunk)
{
    alloc_stack s;
    allocator a = counted_stack(&s);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++) {
            unsigned char *p = alloc_bytes(a, 100, 8);
            cr_assert_not_null(p);
            memset(p, i & 0xFF, 100);
        }
        cr_assert_gt(s.chunk_count, 3);
        alloc_stack_reset(&s); /* 500 live blocks: not misuse */
        CHECKED(&s);
        alloc_stats st = stats_of(&s);
        cr_assert_eq(st.bytes_in_use, 0);
        cr_assert_eq(st.misuse_count, 0);
        cr_assert_eq(st.bytes_reserved, 16384, "round %d: one chunk, the largest, stays", round);
        cr_assert_eq(alloc_stack_top(&s), NULL);
        cr_assert_eq(alloc_stack_depth(&s), 0);
        cr_assert_eq(alloc_stack_remaining(&s), 16384 - 16);
        cr_assert_eq(chunk_frees, chunk_allocs - 1);
    }
    /* the kept chunk serves the next pushes */
    int before = chunk_allocs;
    void *p = alloc_bytes(a, 1000, 8);
    cr_assert_not_null(p);
    cr_assert_eq(chunk_allocs, before);
    alloc_free(a, p, 1000, 8);
    alloc_stack_deinit(&s);
    cr_assert_eq(chunk_frees, chunk_allocs);
}

Test(stack, reset_of_a_buffer_stack)
{
    static _Alignas(16) unsigned char buf[4096];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    for (int i = 0; i < 10; i++) cr_assert_not_null(alloc_bytes(a, 100, 8));
    alloc_stack_reset(&s);
    CHECKED(&s);
    cr_assert_eq(stats_of(&s).bytes_in_use, 0);
    cr_assert_eq(alloc_stack_remaining(&s), sizeof buf);
    cr_assert_not_null(alloc_bytes(a, 4000, 8), "the whole buffer is free again");
    alloc_stack_deinit(&s);
}

/* --- markers and pops (issue: rollback after a legal pop) ------------------- */

Test(stack, rollback_after_popping_the_block_under_the_marker)
{
    _Alignas(16) unsigned char buf[4096];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    void *keep = alloc_bytes(a, 100, 8);
    void *p = alloc_bytes(a, 100, 8);
    alloc_stack_mark m = alloc_stack_save(&s);
    alloc_free(a, p, 100, 8); /* the top block: a legal pop */
    void *q = alloc_bytes(a, 100, 8); /* pushed after m, very likely at p's address */
    cr_assert_not_null(q);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_rollback(&s, m), 0);
    CHECKED(&s);
    cr_assert_eq(alloc_stack_top(&s), keep, "the block pushed after the marker survived");
    cr_assert_eq(alloc_stack_depth(&s), 1);
    cr_assert_eq(stats_of(&s).bytes_in_use, 100);
    cr_assert_eq(stats_of(&s).misuse_count, 0);
    cr_assert_eq(alloc_stack_rollback(&s, m), 0, "the marker stays usable");
    alloc_free(a, keep, 100, 8);
    cr_assert_eq(stats_of(&s).bytes_in_use, 0);
    alloc_stack_deinit(&s);
}

Test(stack, nested_markers_follow_pops_below_both)
{
    _Alignas(16) unsigned char buf[4096];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    allocator a = alloc_stack_allocator(&s);
    void *base = alloc_bytes(a, 16, 8);
    void *x = alloc_bytes(a, 40, 8);
    alloc_stack_mark m1 = alloc_stack_save(&s);
    void *y = alloc_bytes(a, 24, 8);
    alloc_stack_mark m2 = alloc_stack_save(&s);
    alloc_free(a, y, 24, 8);
    alloc_free(a, x, 40, 8); /* below both markers */
    cr_assert_not_null(alloc_bytes(a, 40, 8));
    cr_assert_not_null(alloc_bytes(a, 24, 8));
    CHECKED(&s);
    cr_assert_eq(alloc_stack_rollback(&s, m2), 0);
    cr_assert_eq(alloc_stack_top(&s), base);
    cr_assert_eq(stats_of(&s).bytes_in_use, 16);
    cr_assert_eq(alloc_stack_rollback(&s, m1), 0);
    cr_assert_eq(alloc_stack_top(&s), base);
    CHECKED(&s);
    alloc_set_misuse_handler(record_misuse, NULL);
    cr_assert_eq(alloc_stack_rollback(&s, m2), -EINVAL, "m2 was closed by the rollback to m1");
    alloc_set_misuse_handler(NULL, NULL);
    alloc_stack_deinit(&s);
}

Test(stack, remap_of_the_block_under_a_marker_keeps_it)
{
    alloc_stack s;
    allocator a = counted_stack(&s);
    void *p = alloc_bytes(a, 1000, 8);
    memset(p, 3, 1000);
    alloc_stack_mark m = alloc_stack_save(&s);
    unsigned char *q = alloc_remap(a, p, 1000, 8, 9000); /* cannot grow in place: moves */
    cr_assert_not_null(q);
    cr_assert_not_null(alloc_bytes(a, 64, 8));
    cr_assert_eq(alloc_stack_rollback(&s, m), 0);
    cr_assert_eq(alloc_stack_top(&s), q, "the remapped block from before the marker was popped");
    cr_assert_eq(stats_of(&s).bytes_in_use, 9000);
    for (int i = 0; i < 1000; i++) cr_assert_eq(q[i], 3);
    CHECKED(&s);
    alloc_free(a, q, 9000, 8);
    alloc_stack_deinit(&s);
}

Test(stack, randomized_model_of_pops_markers_and_rollbacks, .timeout = 120)
{
    enum { STEPS = 20000, MAX_LIVE = 256 };
    static void *live[MAX_LIVE];
    static size_t lens[MAX_LIVE], aligns[MAX_LIVE], live_at_mark[ALLOC_STACK_LEVELS];
    static alloc_stack_mark marks[ALLOC_STACK_LEVELS];
    unsigned seed = 4242;
    for (int round = 0; round < 4; round++) {
        alloc_stack s;
        allocator a = counted_stack(&s);
        size_t nlive = 0, nmarks = 0, model_in_use = 0;
        for (int step = 0; step < STEPS; step++) {
            unsigned r = (unsigned)rand_r(&seed) % 100;
            if (r < 50 && nlive < MAX_LIVE) {
                size_t len = 1 + (size_t)rand_r(&seed) % 300;
                size_t align = (size_t)8 << (rand_r(&seed) % 3);
                void *p = alloc_bytes(a, len, align);
                cr_assert_not_null(p);
                memset(p, (int)(nlive & 0xff), len);
                aligns[nlive] = align;
                live[nlive] = p;
                lens[nlive++] = len;
                model_in_use += len;
            } else if (r < 80 && nlive > 0) {
                nlive--;
                for (size_t j = 0; j < nmarks; j++)
                    if (live_at_mark[j] > nlive) live_at_mark[j] = nlive;
                alloc_free(a, live[nlive], lens[nlive], aligns[nlive]);
                model_in_use -= lens[nlive];
            } else if (r < 90 && nmarks < ALLOC_STACK_LEVELS) {
                live_at_mark[nmarks] = nlive;
                marks[nmarks++] = alloc_stack_save(&s);
            } else if (nmarks > 0) {
                size_t j = (size_t)rand_r(&seed) % nmarks;
                cr_assert_eq(alloc_stack_rollback(&s, marks[j]), 0, "step %d: rollback refused", step);
                while (nlive > live_at_mark[j]) model_in_use -= lens[--nlive];
                nmarks = j + 1;
            }
            cr_assert(alloc_stack_check(&s), "step %d: invariant check failed", step);
            cr_assert_eq(stats_of(&s).bytes_in_use, model_in_use, "step %d", step);
            cr_assert_eq(alloc_stack_depth(&s), nlive, "step %d", step);
            cr_assert_eq(alloc_stack_top(&s), nlive ? live[nlive - 1] : NULL, "step %d", step);
            cr_assert_eq(stats_of(&s).misuse_count, 0, "step %d", step);
        }
        alloc_stack_deinit(&s);
    }
}

/* The walker sees every live block once, top first, with its pushed length,
 * and stops when told to. */
typedef struct seen_blocks {
    void *block[8];
    size_t len[8];
    size_t n, stop_after;
} seen_blocks;

static bool see_block(void *block, size_t len, bool used, void *user)
{
    seen_blocks *s = user;
    cr_assert(used, "a stack block is always live");
    s->block[s->n] = block;
    s->len[s->n] = len;
    return ++s->n != s->stop_after;
}

Test(stack, walk_visits_live_blocks_top_first)
{
    alloc_stack s;
    cr_assert_eq(alloc_stack_init(&s, NULL), 0);
    allocator a = alloc_stack_allocator(&s);
    void *x = alloc_bytes(a, 10, 8), *y = alloc_bytes(a, 300, 64), *z = alloc_bytes(a, 1, 1);
    seen_blocks seen = {.stop_after = 0};
    cr_assert(alloc_stack_walk(&s, see_block, &seen));
    cr_assert_eq(seen.n, 3);
    cr_assert(seen.block[0] == z && seen.block[1] == y && seen.block[2] == x);
    cr_assert(seen.len[0] == 1 && seen.len[1] == 300 && seen.len[2] == 10);
    seen = (seen_blocks){.stop_after = 2};
    cr_assert(!alloc_stack_walk(&s, see_block, &seen), "a walker returning false stops the walk");
    cr_assert_eq(seen.n, 2);
    alloc_free(a, z, 1, 1);
    seen = (seen_blocks){.stop_after = 0};
    cr_assert(alloc_stack_walk(&s, see_block, &seen));
    cr_assert(seen.n == 2 && seen.block[0] == y);
    cr_assert(alloc_stack_check(&s));
    alloc_stack_deinit(&s);
}
