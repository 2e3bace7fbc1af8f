/*
 * every_failure.c: each strategy's init and growth paths, and wrappers
 * composed over them, survive every single allocation failure of the memory
 * they take (alloc_check_all_failures: a run per allocation, each failing
 * that one, checked for leaks by a debug wrapper).
 *
 * Built next to the fuzzers because it needs to know which strategies are in
 * the library (ALLOC_HAVE_<FOLDER> definitions from fuzz/CMakeLists.txt).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "alloc/debug.h"
#include "alloc/failing.h"
#include "alloc/locked.h"
#include "alloc/page.h"
#if ALLOC_PROOF_HAVE_BUMP
#include "alloc/bump.h"
#endif
#if ALLOC_PROOF_HAVE_FREELIST
#include "alloc/freelist.h"
#endif
#if ALLOC_PROOF_HAVE_POOL
#include "alloc/pool.h"
#endif
#if ALLOC_PROOF_HAVE_STACK
#include "alloc/stack.h"
#endif
#if ALLOC_PROOF_HAVE_ARENA
#include "alloc/arena.h"
#endif

static alloc_failure_options quiet = {false, false};

static void expect_pass(int (*test)(allocator a, void *user), void *user, uint64_t min_allocs, const char *what)
{
    alloc_failure_report r;
    alloc_failure_status st = alloc_check_all_failures(alloc_page_allocator(), test, user, &quiet, &r);
    cr_assert_eq(st, ALLOC_FAILURES_PASSED, "%s: %s when allocation %llu failed (test returned %d, %zu blocks leaked)",
                 what, alloc_failure_status_name(st), (unsigned long long)r.failing_index, r.test_result,
                 r.leaked_blocks);
    cr_assert_geq(r.allocations, min_allocs, "%s: only %llu allocations were exercised", what,
                  (unsigned long long)r.allocations);
}

/* Allocates n blocks of growing sizes through h, checks them, frees them in
 * reverse order. OUT_OF_MEMORY as soon as one fails (after freeing). */
static int churn(allocator h, size_t n, size_t max_len)
{
    void *blocks[64];
    size_t lens[64];
    int result = ALLOC_TEST_OK;
    size_t k = 0;
    for (; k < n && k < 64; k++) {
        lens[k] = 1 + (k * 997) % max_len;
        blocks[k] = alloc_bytes(h, lens[k], 8);
        if (!blocks[k]) {
            result = ALLOC_TEST_OUT_OF_MEMORY;
            break;
        }
        memset(blocks[k], (int)k, lens[k]);
    }
    while (k) {
        k--;
        for (size_t i = 0; i < lens[k]; i++)
            if (((unsigned char *)blocks[k])[i] != (unsigned char)k) result = 50;
        alloc_free(h, blocks[k], lens[k], 8);
    }
    return result;
}

/* A debug wrapper whose table comes from the tested allocator, over inner. */
static int debug_over(allocator a, allocator inner, size_t n, size_t max_len)
{
    alloc_debug d;
    alloc_debug_options o = alloc_debug_default_options();
    o.meta = a;
    o.freed_history = 8;
    if (alloc_debug_init(&d, inner, &o) != 0) return ALLOC_TEST_OUT_OF_MEMORY;
    int r = churn(alloc_debug_allocator(&d), n, max_len);
    if (!alloc_debug_check(&d)) r = 51;
    if (alloc_debug_deinit(&d) != 0) r = 52;
    return r;
}

#if ALLOC_PROOF_HAVE_FREELIST
static int freelist_growth(allocator a, void *user)
{
    (void)user;
    alloc_freelist heap;
    alloc_freelist_config c = {0};
    c.backing = a;
    c.region_size = 4096; /* small regions: many growths */
    c.retain_bytes = 1;
    if (alloc_freelist_init(&heap, &c) != 0) return 53;
    int r = churn(alloc_freelist_allocator(&heap), 40, 6000);
    if (!alloc_freelist_check(&heap)) r = 54;
    alloc_freelist_deinit(&heap);
    return r;
}

static int debug_over_freelist(allocator a, void *user)
{
    (void)user;
    alloc_freelist heap;
    alloc_freelist_config c = {0};
    c.backing = a;
    c.region_size = 8192;
    if (alloc_freelist_init(&heap, &c) != 0) return 53;
    int r = debug_over(a, alloc_freelist_allocator(&heap), 40, 3000);
    alloc_freelist_deinit(&heap);
    return r;
}

Test(every_failure, freelist_growth) { expect_pass(freelist_growth, NULL, 5, "freelist"); }
Test(every_failure, debug_over_freelist) { expect_pass(debug_over_freelist, NULL, 5, "debug(freelist)"); }
#endif

#if ALLOC_PROOF_HAVE_POOL
static int pool_growth(allocator a, void *user)
{
    (void)user;
    alloc_pool pool;
    alloc_pool_config c = {0};
    c.obj_size = 200;
    c.backing = a;
    if (alloc_pool_init(&pool, &c) != 0) return 55;
    int r = ALLOC_TEST_OK;
    if (alloc_pool_preheat(&pool, 30) != 0) r = ALLOC_TEST_OUT_OF_MEMORY;
    if (r == ALLOC_TEST_OK) r = churn(alloc_pool_allocator(&pool), 64, 200);
    if (!alloc_pool_check(&pool)) r = 56;
    alloc_pool_deinit(&pool);
    return r;
}

static int locked_pool(allocator a, void *user)
{
    (void)user;
    alloc_pool pool;
    alloc_pool_config c = {0};
    c.obj_size = 64;
    c.backing = a;
    if (alloc_pool_init(&pool, &c) != 0) return 55;
    alloc_locked l;
    if (alloc_locked_init(&l, alloc_pool_allocator(&pool), ALLOC_LOCK_SPIN) != 0) return 57;
    int r = churn(alloc_locked_allocator(&l), 64, 64);
    alloc_locked_deinit(&l);
    alloc_pool_deinit(&pool);
    return r;
}

static int pool_mt_growth(allocator a, void *user)
{
    (void)user;
    alloc_pool_mt pool;
    alloc_pool_config c = {0};
    c.obj_size = 512;
    c.backing = a;
    if (alloc_pool_mt_init(&pool, &c) != 0) return 55;
    int r = churn(alloc_pool_mt_allocator(&pool), 64, 512);
    if (!alloc_pool_mt_check(&pool)) r = 56;
    alloc_pool_mt_deinit(&pool);
    return r;
}

Test(every_failure, pool_growth) { expect_pass(pool_growth, NULL, 3, "pool"); }
Test(every_failure, locked_pool) { expect_pass(locked_pool, NULL, 2, "locked(pool)"); }
Test(every_failure, pool_mt_growth) { expect_pass(pool_mt_growth, NULL, 3, "pool_mt"); }
#endif

#if ALLOC_PROOF_HAVE_BUMP
static int bump_in_allocated_buffer(allocator a, void *user)
{
    (void)user;
    enum { CAP = 1 << 16 };
    void *buf = alloc_bytes(a, CAP, 64);
    if (!buf) return ALLOC_TEST_OUT_OF_MEMORY;
    alloc_bump b;
    if (alloc_bump_init(&b, buf, CAP) != 0) return 58;
    int r = debug_over(a, alloc_bump_allocator(&b), 40, 1000);
    if (!alloc_bump_check(&b)) r = 59;
    alloc_bump_deinit(&b);
    alloc_free(a, buf, CAP, 64);
    return r;
}

Test(every_failure, debug_over_bump_in_allocated_buffer)
{
    expect_pass(bump_in_allocated_buffer, NULL, 3, "debug(bump)");
}
#endif

#if ALLOC_PROOF_HAVE_STACK
static int stack_chunks(allocator a, void *user)
{
    (void)user;
    alloc_stack st;
    alloc_stack_options o = {0};
    o.backing = a;
    o.first_chunk = 512; /* small chunks: pushes cross many of them */
    o.max_chunk = 8192;
    if (alloc_stack_init(&st, &o) != 0) return 60;
    int r = churn(alloc_stack_allocator(&st), 48, 3000);
    if (!alloc_stack_check(&st)) r = 61;
    alloc_stack_deinit(&st);
    return r;
}

Test(every_failure, stack_chunks) { expect_pass(stack_chunks, NULL, 5, "stack"); }
#endif

#if ALLOC_PROOF_HAVE_ARENA
static int arena_chunks(allocator a, void *user)
{
    (void)user;
    alloc_arena ar;
    alloc_arena_options o = {0};
    o.backing = a;
    o.first_chunk = 512;
    o.max_chunk = 16384;
    o.large_threshold = 2048; /* larger blocks get chunks of their own */
    if (alloc_arena_init(&ar, &o) != 0) return 62;
    allocator h = alloc_arena_allocator(&ar);
    int r = churn(h, 48, 6000);
    if (r == ALLOC_TEST_OK) {
        alloc_arena_mark m = alloc_arena_save(&ar);
        void *p = alloc_bytes(h, 5000, 16);
        if (!p) r = ALLOC_TEST_OUT_OF_MEMORY;
        if (alloc_arena_rollback(&ar, m) != 0) r = 63;
    }
    if (alloc_arena_reset(&ar, ALLOC_ARENA_RETAIN_CAPACITY, 0) != 0) r = 64;
    if (!alloc_arena_check(&ar)) r = 65;
    alloc_arena_deinit(&ar);
    return r;
}

static int debug_over_arena(allocator a, void *user)
{
    (void)user;
    alloc_arena ar;
    alloc_arena_options o = {0};
    o.backing = a;
    o.first_chunk = 1024;
    if (alloc_arena_init(&ar, &o) != 0) return 62;
    int r = debug_over(a, alloc_arena_allocator(&ar), 40, 2000);
    alloc_arena_deinit(&ar);
    return r;
}

Test(every_failure, arena_chunks) { expect_pass(arena_chunks, NULL, 5, "arena"); }
Test(every_failure, debug_over_arena) { expect_pass(debug_over_arena, NULL, 5, "debug(arena)"); }
#endif

/* Always: the wrappers' own composition over pages. */
static int wrappers_over_pages(allocator a, void *user)
{
    (void)user;
    return debug_over(a, a, 64, 5000);
}

Test(every_failure, debug_over_the_tested_allocator) { expect_pass(wrappers_over_pages, NULL, 64, "debug"); }
