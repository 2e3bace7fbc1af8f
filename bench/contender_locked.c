/*
 * contender_locked.c: the locked wrapper, which makes a single-threaded
 * strategy shareable. Two pairings: a free list behind a mutex (the general
 * case) and a pool behind the spin lock (short critical sections). They join
 * paired (the uncontended cost of the lock) and producer/consumer (two
 * threads on one lock). Each needs its inner strategy in the build.
 */
#include "alloc/locked.h"
#include "bench.h"
#include "workloads.h"
#if defined(BENCH_HAVE_FREELIST)
#include "alloc/freelist.h"
#endif
#if defined(BENCH_HAVE_POOL)
#include "alloc/pool.h"
#endif

typedef struct locked_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_locked lock;
    union {
#if defined(BENCH_HAVE_FREELIST)
        alloc_freelist heap;
#endif
#if defined(BENCH_HAVE_POOL)
        alloc_pool pool;
#endif
        char none;
    } inner;
    int kind; /* 0 free list, 1 pool */
} locked_state;

static int locked_finish(locked_state *s, allocator inner, alloc_lock_kind kind, void **state, const char **why)
{
    if (alloc_locked_init(&s->lock, inner, kind) != 0) {
        *why = "alloc_locked_init failed";
        return -1;
    }
    s->h.a = alloc_locked_allocator(&s->lock);
    s->h.reset = NULL;
    *state = s;
    return 0;
}

static void locked_destroy(void *state)
{
    locked_state *s = (locked_state *)state;
    alloc_locked_deinit(&s->lock);
#if defined(BENCH_HAVE_FREELIST)
    if (s->kind == 0) alloc_freelist_deinit(&s->inner.heap);
#endif
#if defined(BENCH_HAVE_POOL)
    if (s->kind == 1) alloc_pool_deinit(&s->inner.pool);
#endif
    bench_scratch_free(s, sizeof *s);
}

static bool locked_check(void *state) { return alloc_locked_check(&((locked_state *)state)->lock); }

#define LOCKED_WORKLOADS (WL_BIT(WL_PAIRED) | WL_BIT(WL_PRODCONS))

#if defined(BENCH_HAVE_FREELIST)
static int locked_freelist_create(const bench_need *need, void **state, const char **why)
{
    (void)need;
    locked_state *s = (locked_state *)bench_scratch(sizeof *s);
    if (!s || alloc_freelist_init(&s->inner.heap, NULL) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_freelist_init failed";
        return -1;
    }
    s->kind = 0;
    if (locked_finish(s, alloc_freelist_allocator(&s->inner.heap), ALLOC_LOCK_MUTEX, state, why) != 0) {
        alloc_freelist_deinit(&s->inner.heap);
        bench_scratch_free(s, sizeof *s);
        return -1;
    }
    return 0;
}

BENCH_CONTENDER(locked_freelist_row, {
    .name = "locked-freelist",
    .family = "handle",
    .what = "alloc_freelist (TLSF) behind alloc_locked with a mutex",
    .flags = BENCH_THREAD_SAFE,
    .workloads = LOCKED_WORKLOADS,
    .impl = &bench_impl_handle,
    .create = locked_freelist_create,
    .destroy = locked_destroy,
    .check = locked_check,
})
#endif

#if defined(BENCH_HAVE_POOL)
static int locked_pool_create(const bench_need *need, void **state, const char **why)
{
    locked_state *s = (locked_state *)bench_scratch(sizeof *s);
    alloc_pool_config cfg = {.obj_size = need->max_block, .obj_align = need->align};
    if (!s || alloc_pool_init(&s->inner.pool, &cfg) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_pool_init failed";
        return -1;
    }
    s->kind = 1;
    if (locked_finish(s, alloc_pool_allocator(&s->inner.pool), ALLOC_LOCK_SPIN, state, why) != 0) {
        alloc_pool_deinit(&s->inner.pool);
        bench_scratch_free(s, sizeof *s);
        return -1;
    }
    return 0;
}

BENCH_CONTENDER(locked_pool_row, {
    .name = "locked-pool",
    .family = "handle",
    .what = "alloc_pool behind alloc_locked with the spin lock",
    .flags = BENCH_THREAD_SAFE,
    .workloads = LOCKED_WORKLOADS,
    .impl = &bench_impl_handle,
    .create = locked_pool_create,
    .destroy = locked_destroy,
    .check = locked_check,
})
#endif
