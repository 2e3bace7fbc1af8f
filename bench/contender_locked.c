/*
 * contender_locked.c: the locked wrapper, which makes a single-threaded
 * strategy shareable. Two pairings: a free list behind a mutex (the general
 * case) and a pool behind the spin lock (short critical sections). They join
 * paired (the uncontended cost of the lock) and producer/consumer (two
 * threads on one lock). Each needs its inner strategy in the build.
 */

#include "alloc/locked.h"
#include "contender_desc.h"
#include "workloads.h"
#if defined(BENCH_HAVE_FREELIST)
#include "alloc/freelist.h"
#endif
#if defined(BENCH_HAVE_POOL)
#include "alloc/pool.h"
#endif

DESC_DECLARE(desc_locked_mutex_page)

#define LOCKED_WORKLOADS (WL_BIT(WL_PAIRED) | WL_BIT(WL_PRODCONS))

#if defined(BENCH_HAVE_FREELIST)
DESC_DECLARE(desc_freelist_pages_tlsf)

/* The free list with the library's defaults, behind a mutex. */
static int locked_freelist_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)need, (void)why;
    static const alloc_lock_kind mutex = ALLOC_LOCK_MUTEX;
    static const alloc_freelist_config defaults = {0};
    static const desc_args inner = {.options = &defaults};
    *out = (desc_args){.options = &mutex, .inner = &desc_freelist_pages_tlsf, .inner_args = &inner};
    return 0;
}

BENCH_DESC_CONTENDER(locked_freelist_row, desc_locked_mutex_page, locked_freelist_args, false,
    .name = "locked-freelist",
    .family = "handle",
    .what = "alloc_freelist (TLSF) behind alloc_locked with a mutex",
    .flags = BENCH_THREAD_SAFE,
    .workloads = LOCKED_WORKLOADS,
    .impl = &bench_impl_handle)
#endif

#if defined(BENCH_HAVE_POOL)
DESC_DECLARE(desc_pool)

/* A pool of the workload's largest request, behind the spin lock. */
static int locked_pool_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)why;
    static const alloc_lock_kind spin = ALLOC_LOCK_SPIN;
    static const alloc_pool_config defaults = {0};
    static desc_args inner; /* one need at a time: a child process runs one workload */
    inner = (desc_args){.options = &defaults, .obj_size = need->max_block, .obj_align = need->align};
    *out = (desc_args){.options = &spin, .inner = &desc_pool, .inner_args = &inner};
    return 0;
}

BENCH_DESC_CONTENDER(locked_pool_row, desc_locked_mutex_page, locked_pool_args, false,
    .name = "locked-pool",
    .family = "handle",
    .what = "alloc_pool behind alloc_locked with the spin lock",
    .flags = BENCH_THREAD_SAFE,
    .workloads = LOCKED_WORKLOADS,
    .impl = &bench_impl_handle)
#endif
