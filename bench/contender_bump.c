/*
 * contender_bump.c: the bump allocator over one buffer, through its handle
 * and through its inline fast path (alloc_bump_alloc_fast; frees still go
 * through the handle, there is no inline free).
 *
 * The buffer is mapped without MAP_POPULATE and sized for every byte a sample
 * requests (the bump reuses memory only for the most recent block), so the
 * RSS figures count only the pages the workload touched. The bump joins the
 * workloads its contract serves: LIFO frees (paired, lifo), batches (frees
 * other than the last are no-ops; free-all is one reset), and realloc growth
 * (the only block is always the most recent one, so it grows in place).
 */

#include "alloc/bump.h"
#include "contender_desc.h"
#include "workloads.h"

DESC_DECLARE(desc_bump_heap)

/* Every request, plus up to align - 1 bytes of padding each. */
static int bump_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)why;
    size_t count = need->fixed_size ? need->total_bytes / need->fixed_size : need->total_bytes / 16;
    out->capacity = need->total_bytes + count * (need->align - 1) + ((size_t)1 << 20);
    return 0;
}

#define BUMP_WORKLOADS                                                                                \
    (WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |          \
     WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP))

BENCH_DESC_CONTENDER(bump_row, desc_bump_heap, bump_args, true,
    .name = "bump",
    .family = "handle",
    .what = "alloc_bump over one buffer, through the handle (free-all = alloc_bump_reset)",
    .workloads = BUMP_WORKLOADS,
    .impl = &bench_impl_handle)

/* The inline fast path: alloc_bump_alloc_fast; free, realloc, reset as the handle. */
static void *bi_alloc(void *st, size_t len, size_t align)
{
    return alloc_bump_alloc_fast(BENCH_DESC_OBJECT(alloc_bump, st), len, align);
}

static const bench_ops bump_inline_ops = {bi_alloc, bench_handle_free, bench_handle_realloc, bench_handle_reset};
BENCH_IMPL(bench_impl_bump_inline, "bump-inline", &bump_inline_ops)

BENCH_DESC_CONTENDER(bump_inline_row, desc_bump_heap, bump_args, true,
    .name = "bump-inline",
    .family = "inline",
    .what = "alloc_bump_alloc_fast (inline) for alloc; free through the handle",
    .workloads = BUMP_WORKLOADS & ~(WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP)),
    .impl = &bench_impl_bump_inline)
