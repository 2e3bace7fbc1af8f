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
#define _GNU_SOURCE 1
#include <sys/mman.h>

#include "alloc/bump.h"
#include "bench.h"
#include "workloads.h"

typedef struct bump_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_bump b;
    void *buf;
    size_t cap;
} bump_state;

static bool bump_reset(bench_handle *h)
{
    alloc_bump_reset(&((bump_state *)(void *)h)->b);
    return true;
}

static int bump_create(const bench_need *need, void **state, const char **why)
{
    /* Every request, plus up to align - 1 bytes of padding each. */
    size_t count = need->fixed_size ? need->total_bytes / need->fixed_size : need->total_bytes / 16;
    size_t cap = need->total_bytes + count * (need->align - 1) + ((size_t)1 << 20);
    void *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    bump_state *s = (bump_state *)bench_scratch(sizeof *s);
    if (buf == MAP_FAILED || !s || alloc_bump_init(&s->b, buf, cap) != 0) {
        if (buf != MAP_FAILED) munmap(buf, cap);
        bench_scratch_free(s, sizeof *s);
        *why = "cannot map a buffer for the whole sample";
        return -1;
    }
    s->buf = buf;
    s->cap = cap;
    s->h.a = alloc_bump_allocator(&s->b);
    s->h.reset = bump_reset;
    *state = s;
    return 0;
}

static void bump_destroy(void *state)
{
    bump_state *s = (bump_state *)state;
    alloc_bump_deinit(&s->b);
    munmap(s->buf, s->cap);
    bench_scratch_free(s, sizeof *s);
}

static bool bump_check(void *state) { return alloc_bump_check(&((bump_state *)state)->b); }

#define BUMP_WORKLOADS                                                                                \
    (WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |          \
     WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP))

BENCH_CONTENDER(bump_row, {
    .name = "bump",
    .family = "handle",
    .what = "alloc_bump over one buffer, through the handle (free-all = alloc_bump_reset)",
    .workloads = BUMP_WORKLOADS,
    .impl = &bench_impl_handle,
    .create = bump_create,
    .destroy = bump_destroy,
    .check = bump_check,
})

/* The inline fast path: alloc_bump_alloc_fast; free, realloc, reset as the handle. */
static void *bi_alloc(void *st, size_t len, size_t align)
{
    return alloc_bump_alloc_fast(&((bump_state *)st)->b, len, align);
}

static void bi_free(void *st, void *p, size_t len, size_t align)
{
    alloc_free(((bump_state *)st)->h.a, p, len, align);
}

static void *bi_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    return alloc_realloc(((bump_state *)st)->h.a, p, len, align, new_len);
}

static bool bi_reset(void *st) { return bump_reset(&((bump_state *)st)->h); }

static const bench_ops bump_inline_ops = {bi_alloc, bi_free, bi_realloc, bi_reset};
BENCH_IMPL(bench_impl_bump_inline, "bump-inline", &bump_inline_ops)

BENCH_CONTENDER(bump_inline_row, {
    .name = "bump-inline",
    .family = "inline",
    .what = "alloc_bump_alloc_fast (inline) for alloc; free through the handle",
    .workloads = BUMP_WORKLOADS & ~(WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP)),
    .impl = &bench_impl_bump_inline,
    .create = bump_create,
    .destroy = bump_destroy,
    .check = bump_check,
})
