/*
 * contender_pool_slab.c: size-class pools (alloc_slab), defaults: classes up
 * to 32 KiB in 256 KiB slabs from the page allocator, larger requests to the
 * page allocator. One allocator for any size, so it joins every
 * single-threaded workload (it has no reset: free-all frees block by block).
 */
#include "alloc/slab.h"
#include "bench.h"
#include "workloads.h"

typedef struct slab_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_slab slab;
} slab_state;

static int slab_create(const bench_need *need, void **state, const char **why)
{
    (void)need;
    slab_state *s = (slab_state *)bench_scratch(sizeof *s);
    if (!s || alloc_slab_init(&s->slab, NULL) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_slab_init failed";
        return -1;
    }
    s->h.a = alloc_slab_allocator(&s->slab);
    s->h.reset = NULL;
    *state = s;
    return 0;
}

static void slab_destroy(void *state)
{
    slab_state *s = (slab_state *)state;
    alloc_slab_deinit(&s->slab);
    bench_scratch_free(s, sizeof *s);
}

static bool slab_check(void *state) { return alloc_slab_check(&((slab_state *)state)->slab); }

BENCH_CONTENDER(slab_row, {
    .name = "slab",
    .family = "handle",
    .what = "alloc_slab: size classes to 32 KiB in 256 KiB slabs, larger to the page allocator; through the handle",
    .workloads = WL_ALL & ~WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_handle,
    .create = slab_create,
    .destroy = slab_destroy,
    .check = slab_check,
})
