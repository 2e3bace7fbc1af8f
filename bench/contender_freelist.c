/*
 * contender_freelist.c: the coalescing free-list heap with its default
 * policy (TLSF), growing from the page allocator with the default region
 * size: the configuration a user gets from alloc_freelist_init(&h, NULL).
 * It has no reset, so batch-freeall frees block by block.
 */

#include "alloc/freelist.h"
#include "contender_desc.h"
#include "workloads.h"

DESC_DECLARE(desc_freelist_pages_tlsf)
DESC_DECLARE(desc_freelist_fixed_tlsf)

/* The library's defaults: TLSF, grows from the page allocator. */
static int freelist_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)need, (void)why;
    static const alloc_freelist_config defaults = {0};
    out->options = &defaults;
    return 0;
}

BENCH_DESC_CONTENDER(freelist_row, desc_freelist_pages_tlsf, freelist_args, false,
    .name = "freelist",
    .family = "handle",
    .what = "alloc_freelist, TLSF policy, grows from the page allocator (defaults), through the handle",
    .workloads = WL_ALL & ~WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_handle)

/* The same heap fixed in one 256 MiB buffer (no growth; churn-100k keeps
 * about 200 MiB live): the shape the O(1) heaps it is compared with (TLSF,
 * o1heap) are measured in, so paired and churn figures isolate the block
 * search, split and merge from region handling. */
static int freelist_fixed_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)need, (void)why;
    static const alloc_freelist_config fixed = {.no_grow = true};
    out->options = &fixed;
    out->capacity = (size_t)256 << 20;
    return 0;
}

BENCH_DESC_CONTENDER(freelist_fixed_row, desc_freelist_fixed_tlsf, freelist_fixed_args, false,
    .name = "freelist-fixed",
    .family = "handle",
    .what = "alloc_freelist, TLSF policy, fixed in one 256 MiB buffer (no growth), through the handle",
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_CHURN_100K),
    .impl = &bench_impl_handle)
