/*
 * contender_arena.c: the chained arena over the page allocator, default
 * options, through its handle. Free-all is alloc_arena_reset with
 * ALLOC_ARENA_RETAIN_CAPACITY (the per-frame / per-request pattern: chunks
 * stay for the next round; the sample's deinit returns them, untimed).
 *
 * The arena joins what its contract serves: LIFO frees (paired, lifo),
 * batches (frees other than the most recent are no-ops), realloc growth (the
 * most recent block grows in place, then as a large chunk by mremap), and
 * large blocks (each its own chunk, freed in any order). It does not join
 * churn: random frees give nothing back, so the live set would grow without
 * bound.
 */

#include "alloc/arena.h"
#include "contender_desc.h"
#include "workloads.h"

DESC_DECLARE(desc_arena_pages)

/* The library's defaults; free-all keeps the chunks. */
static int arena_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)need, (void)why;
    static const alloc_arena_options defaults = {0};
    out->options = &defaults;
    out->reset_mode = ALLOC_ARENA_RETAIN_CAPACITY + 1;
    return 0;
}

BENCH_DESC_CONTENDER(arena_row, desc_arena_pages, arena_args, true,
    .name = "arena",
    .family = "handle",
    .what = "alloc_arena over the page allocator (defaults), through the handle; free-all = reset retaining capacity",
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |
                 WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP) | WL_BIT(WL_LARGE),
    .impl = &bench_impl_handle)
