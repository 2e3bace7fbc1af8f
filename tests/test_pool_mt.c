/* Tests of the thread-safe pool (alloc_pool_mt) from one thread; the multi-thread
 * stress test is test_pool_mt_stress.c (a plain program, so it also runs under TSan). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/pool.h"

static alloc_pool_mt *new_pool(size_t obj_size, size_t slab_bytes)
{
    alloc_pool_mt *p = aligned_alloc(64, sizeof *p);
    cr_assert_not_null(p);
    cr_assert_eq(alloc_pool_mt_init(p, &(alloc_pool_config){.obj_size = obj_size, .slab_bytes = slab_bytes}), 0);
    return p;
}

static void delete_pool(alloc_pool_mt *p)
{
    alloc_pool_mt_deinit(p);
    free(p);
}

static alloc_stats stats_of(const alloc_pool_mt *p)
{
    alloc_stats s;
    alloc_pool_mt_stats(p, &s);
    return s;
}

Test(pool_mt, init_rejects_bad_configs)
{
    alloc_pool_mt p;
    cr_assert_eq(alloc_pool_mt_init(&p, NULL), -EINVAL);
    cr_assert_eq(alloc_pool_mt_init(&p, &(alloc_pool_config){.obj_size = 0}), -EINVAL);
    cr_assert_eq(alloc_pool_mt_init(&p, &(alloc_pool_config){.obj_size = 8, .obj_align = 6}), -EINVAL);
}

Test(pool_mt, single_thread_basics)
{
    alloc_pool_mt *p = new_pool(40, 4096);
    enum { N = 1000 };
    static unsigned char *objs[N];
    for (int i = 0; i < N; i++) {
        objs[i] = alloc_pool_mt_get(p);
        cr_assert_not_null(objs[i]);
        cr_assert(alloc_is_aligned(objs[i], 16));
        memset(objs[i], i & 0xff, 40);
    }
    cr_assert(alloc_pool_mt_check(p));
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 40; k++) cr_assert_eq(objs[i][k], i & 0xff);
    alloc_stats s = stats_of(p);
    cr_assert_eq(s.alloc_count, N);
    cr_assert_eq(s.bytes_in_use, (size_t)N * 40);
    cr_assert_eq(s.peak_bytes_in_use, (size_t)N * 40);
    cr_assert(alloc_pool_mt_owns(p, objs[17]));
    int local;
    cr_assert_not(alloc_pool_mt_owns(p, &local));
    for (int i = 0; i < N; i++) alloc_pool_mt_put(p, objs[i]);
    cr_assert(alloc_pool_mt_check(p));
    s = stats_of(p);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_eq(s.free_count, N);
    delete_pool(p);
}

Test(pool_mt, preheat_and_reset)
{
    alloc_pool_mt *p = new_pool(64, 4096);
    cr_assert_eq(alloc_pool_mt_preheat(p, 500), 0);
    size_t reserved = stats_of(p).bytes_reserved;
    cr_assert_gt(reserved, 500 * 64);
    cr_assert(alloc_pool_mt_check(p));
    for (int i = 0; i < 500; i++) cr_assert_not_null(alloc_pool_mt_get(p));
    cr_assert_eq(stats_of(p).bytes_reserved, reserved, "a preheated pool took a slab");
    alloc_pool_mt_reset(p);
    cr_assert(alloc_pool_mt_check(p));
    alloc_stats s = stats_of(p);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_eq(s.peak_bytes_in_use, 500 * 64);
    cr_assert_eq(s.bytes_reserved, reserved);
    for (int i = 0; i < 500; i++) cr_assert_not_null(alloc_pool_mt_get(p));
    cr_assert_eq(stats_of(p).bytes_reserved, reserved);
    delete_pool(p);
}

Test(pool_mt, handle_serves_only_what_fits)
{
    alloc_pool_mt *p = new_pool(100, 0);
    allocator a = alloc_pool_mt_allocator(p);
    cr_assert_null(alloc_bytes(a, 101, 8));
    cr_assert_null(alloc_bytes(a, 8, 32));
    void *x = alloc_bytes(a, 50, 16);
    cr_assert_not_null(x);
    cr_assert(alloc_resize(a, x, 50, 16, 100));
    cr_assert_not(alloc_resize(a, x, 100, 16, 101));
    cr_assert_eq(alloc_remap(a, x, 100, 16, 10), x);
    alloc_free(a, x, 10, 16);
    alloc_stats s = stats_of(p);
    cr_assert_eq(s.failed_count, 2);
    cr_assert_eq(s.resize_count, 1);
    cr_assert_eq(s.remap_count, 1);
    cr_assert(alloc_pool_mt_check(p));
    delete_pool(p);
}
