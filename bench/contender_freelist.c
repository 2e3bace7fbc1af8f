/*
 * contender_freelist.c: the coalescing free-list heap with its default
 * policy (TLSF), growing from the page allocator with the default region
 * size: the configuration a user gets from alloc_freelist_init(&h, NULL).
 * It has no reset, so batch-freeall frees block by block.
 */
#include "alloc/freelist.h"
#include "bench.h"
#include "workloads.h"

typedef struct freelist_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_freelist heap;
} freelist_state;

static int freelist_create(const bench_need *need, void **state, const char **why)
{
    (void)need;
    freelist_state *s = (freelist_state *)bench_scratch(sizeof *s);
    if (!s || alloc_freelist_init(&s->heap, NULL) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_freelist_init failed";
        return -1;
    }
    s->h.a = alloc_freelist_allocator(&s->heap);
    s->h.reset = NULL;
    *state = s;
    return 0;
}

static void freelist_destroy(void *state)
{
    freelist_state *s = (freelist_state *)state;
    alloc_freelist_deinit(&s->heap);
    bench_scratch_free(s, sizeof *s);
}

static bool freelist_check(void *state) { return alloc_freelist_check(&((freelist_state *)state)->heap); }

BENCH_CONTENDER(freelist_row, {
    .name = "freelist",
    .family = "handle",
    .what = "alloc_freelist, TLSF policy, grows from the page allocator (defaults), through the handle",
    .workloads = WL_ALL & ~WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_handle,
    .create = freelist_create,
    .destroy = freelist_destroy,
    .check = freelist_check,
})
