/*
 * contender_freelist.c: the coalescing free-list heap with its default
 * policy (TLSF), growing from the page allocator with the default region
 * size: the configuration a user gets from alloc_freelist_init(&h, NULL).
 * It has no reset, so batch-freeall frees block by block.
 */
#include "alloc/freelist.h"
#include "alloc/page.h"
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

/* The same heap fixed in one 256 MiB buffer (no growth; churn-100k keeps
 * about 200 MiB live): the shape the O(1) heaps it is compared with (TLSF,
 * o1heap) are measured in, so paired and churn figures isolate the block
 * search, split and merge from region handling. */
#define FREELIST_FIXED_BYTES ((size_t)256 << 20)

typedef struct freelist_fixed_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_freelist heap;
    void *buffer;
} freelist_fixed_state;

static int freelist_fixed_create(const bench_need *need, void **state, const char **why)
{
    (void)need;
    freelist_fixed_state *s = (freelist_fixed_state *)bench_scratch(sizeof *s);
    void *buf = s ? alloc_bytes(alloc_page_allocator(), FREELIST_FIXED_BYTES, 4096) : NULL;
    alloc_freelist_config c = {.buffer = buf, .buffer_size = FREELIST_FIXED_BYTES, .no_grow = true};
    if (!buf || alloc_freelist_init(&s->heap, &c) != 0) {
        if (buf) alloc_free(alloc_page_allocator(), buf, FREELIST_FIXED_BYTES, 4096);
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_freelist_init over a 256 MiB buffer failed";
        return -1;
    }
    s->buffer = buf;
    s->h.a = alloc_freelist_allocator(&s->heap);
    s->h.reset = NULL;
    *state = s;
    return 0;
}

static void freelist_fixed_destroy(void *state)
{
    freelist_fixed_state *s = (freelist_fixed_state *)state;
    alloc_freelist_deinit(&s->heap);
    alloc_free(alloc_page_allocator(), s->buffer, FREELIST_FIXED_BYTES, 4096);
    bench_scratch_free(s, sizeof *s);
}

static bool freelist_fixed_check(void *state)
{
    return alloc_freelist_check(&((freelist_fixed_state *)state)->heap);
}

BENCH_CONTENDER(freelist_fixed_row, {
    .name = "freelist-fixed",
    .family = "handle",
    .what = "alloc_freelist, TLSF policy, fixed in one 256 MiB buffer (no growth), through the handle",
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_CHURN_100K),
    .impl = &bench_impl_handle,
    .create = freelist_fixed_create,
    .destroy = freelist_fixed_destroy,
    .check = freelist_fixed_check,
})
