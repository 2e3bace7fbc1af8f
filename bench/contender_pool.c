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
#include "bench.h"
#include "workloads.h"

typedef struct pool_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_pool pool;
} pool_state;

static bool pool_reset(bench_handle *h)
{
    alloc_pool_reset(&((pool_state *)(void *)h)->pool);
    return true;
}

static int pool_create(const bench_need *need, void **state, const char **why)
{
    if (need->max_block > ((size_t)64 << 10)) {
        *why = "objects above 64 KiB";
        return -1;
    }
    pool_state *s = (pool_state *)bench_scratch(sizeof *s);
    alloc_pool_config cfg = {.obj_size = need->max_block, .obj_align = need->align};
    if (!s || alloc_pool_init(&s->pool, &cfg) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_pool_init failed";
        return -1;
    }
    s->h.a = alloc_pool_allocator(&s->pool);
    s->h.reset = pool_reset;
    *state = s;
    return 0;
}

static void pool_destroy(void *state)
{
    pool_state *s = (pool_state *)state;
    alloc_pool_deinit(&s->pool);
    bench_scratch_free(s, sizeof *s);
}

static bool pool_check(void *state) { return alloc_pool_check(&((pool_state *)state)->pool); }

#define POOL_WORKLOADS                                                                                 \
    (WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |           \
     WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_CHURN_4K) | WL_BIT(WL_CHURN_64K) | WL_BIT(WL_LATENCY))

BENCH_CONTENDER(pool_row, {
    .name = "pool",
    .family = "handle",
    .what = "alloc_pool (objects of the workload's largest size), through the handle",
    .workloads = POOL_WORKLOADS,
    .impl = &bench_impl_handle,
    .create = pool_create,
    .destroy = pool_destroy,
    .check = pool_check,
})

/* Inline: alloc_pool_get / alloc_pool_put, no vtable. */
static void *pi_alloc(void *st, size_t len, size_t align)
{
    (void)len, (void)align;
    return alloc_pool_get(&((pool_state *)st)->pool);
}

static void pi_free(void *st, void *p, size_t len, size_t align)
{
    (void)len, (void)align;
    alloc_pool_put(&((pool_state *)st)->pool, p);
}

static void *pi_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    return alloc_realloc(((pool_state *)st)->h.a, p, len, align, new_len);
}

static bool pi_reset(void *st) { return pool_reset(&((pool_state *)st)->h); }

static const bench_ops pool_inline_ops = {pi_alloc, pi_free, pi_realloc, pi_reset};
BENCH_IMPL(bench_impl_pool_inline, "pool-inline", &pool_inline_ops)

BENCH_CONTENDER(pool_inline_row, {
    .name = "pool-inline",
    .family = "inline",
    .what = "alloc_pool_get / alloc_pool_put (inline fast path)",
    .workloads = POOL_WORKLOADS,
    .impl = &bench_impl_pool_inline,
    .create = pool_create,
    .destroy = pool_destroy,
    .check = pool_check,
})

/* The lock-free pool: any thread may free. */
typedef struct pool_mt_state {
    bench_handle h;
    alloc_pool_mt pool;
} pool_mt_state;

static int pool_mt_create(const bench_need *need, void **state, const char **why)
{
    pool_mt_state *s = (pool_mt_state *)bench_scratch(sizeof *s);
    alloc_pool_config cfg = {.obj_size = need->max_block, .obj_align = need->align};
    if (!s || need->max_block > ((size_t)64 << 10) || alloc_pool_mt_init(&s->pool, &cfg) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_pool_mt_init failed";
        return -1;
    }
    s->h.a = alloc_pool_mt_allocator(&s->pool);
    s->h.reset = NULL;
    *state = s;
    return 0;
}

static void pool_mt_destroy(void *state)
{
    pool_mt_state *s = (pool_mt_state *)state;
    alloc_pool_mt_deinit(&s->pool);
    bench_scratch_free(s, sizeof *s);
}

static bool pool_mt_check(void *state) { return alloc_pool_mt_check(&((pool_mt_state *)state)->pool); }

BENCH_CONTENDER(pool_mt_row, {
    .name = "pool-mt",
    .family = "handle",
    .what = "alloc_pool_mt (lock-free, any thread frees), through the handle",
    .flags = BENCH_THREAD_SAFE,
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_handle,
    .create = pool_mt_create,
    .destroy = pool_mt_destroy,
    .check = pool_mt_check,
})
