/*
 * contender_pool.c: the fixed-size pool, through its handle, through its
 * inline get/put, and the thread-safe pool (alloc_pool_mt).
 *
 * A pool serves one object size: each sample gets a pool whose objects are
 * the workload's largest request (32 B on paired, 256 B on lifo and batch,
 * 4 KiB or 64 KiB on churn). That is how a pool serves mixed sizes, and the
 * RSS/live column shows the price (every block takes the largest size).
 * Slabs come from the page allocator with the default slab sizes.
 */

#include "alloc/pool.h"
#include "contender_desc.h"
#include "workloads.h"

DESC_DECLARE(desc_pool)
DESC_DECLARE(desc_pool_mt)

/* Objects of the workload's largest request, slabs of the default sizes. */
static int pool_args(const bench_need *need, desc_args *out, const char **why)
{
    static const alloc_pool_config defaults = {0};
    if (need->max_block > ((size_t)64 << 10)) {
        *why = "objects above 64 KiB";
        return -1;
    }
    out->options = &defaults;
    out->obj_size = need->max_block;
    out->obj_align = need->align;
    return 0;
}

#define POOL_WORKLOADS                                                                                 \
    (WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |           \
     WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_CHURN_4K) | WL_BIT(WL_CHURN_64K) | WL_BIT(WL_LATENCY))

BENCH_DESC_CONTENDER(pool_row, desc_pool, pool_args, true,
    .name = "pool",
    .family = "handle",
    .what = "alloc_pool (objects of the workload's largest size), through the handle",
    .workloads = POOL_WORKLOADS,
    .impl = &bench_impl_handle)

/* Inline: alloc_pool_get / alloc_pool_put, no vtable. */
static void *pi_alloc(void *st, size_t len, size_t align)
{
    (void)len, (void)align;
    return alloc_pool_get(BENCH_DESC_OBJECT(alloc_pool, st));
}

static void pi_free(void *st, void *p, size_t len, size_t align)
{
    (void)len, (void)align;
    alloc_pool_put(BENCH_DESC_OBJECT(alloc_pool, st), p);
}

static const bench_ops pool_inline_ops = {pi_alloc, pi_free, bench_handle_realloc, bench_handle_reset};
BENCH_IMPL(bench_impl_pool_inline, "pool-inline", &pool_inline_ops)

BENCH_DESC_CONTENDER(pool_inline_row, desc_pool, pool_args, true,
    .name = "pool-inline",
    .family = "inline",
    .what = "alloc_pool_get / alloc_pool_put (inline fast path)",
    .workloads = POOL_WORKLOADS,
    .impl = &bench_impl_pool_inline)

/* The lock-free pool: any thread may free. */
BENCH_DESC_CONTENDER(pool_mt_row, desc_pool_mt, pool_args, false,
    .name = "pool-mt",
    .family = "handle",
    .what = "alloc_pool_mt (lock-free, any thread frees), through the handle",
    .flags = BENCH_THREAD_SAFE,
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_handle)
