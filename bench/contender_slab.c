/*
 * contender_pool_slab.c: size-class pools (alloc_slab), defaults: classes up
 * to 32 KiB in 256 KiB slabs from the page allocator, larger requests to the
 * page allocator. One allocator for any size, so it joins every
 * single-threaded workload (it has no reset: free-all frees block by block).
 */

#include "contender_desc.h"
#include "workloads.h"

DESC_DECLARE(desc_slab)

BENCH_DESC_CONTENDER(slab_row, desc_slab, NULL, false,
    .name = "slab",
    .family = "handle",
    .what = "alloc_slab: size classes to 32 KiB in 256 KiB slabs, larger to the page allocator; through the handle",
    .workloads = WL_ALL & ~WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_handle)
