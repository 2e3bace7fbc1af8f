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
#include "bench.h"
#include "workloads.h"

typedef struct arena_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_arena arena;
} arena_state;

static bool arena_reset(bench_handle *h)
{
    return alloc_arena_reset(&((arena_state *)(void *)h)->arena, ALLOC_ARENA_RETAIN_CAPACITY, 0) == 0;
}

static int arena_create(const bench_need *need, void **state, const char **why)
{
    (void)need;
    arena_state *s = (arena_state *)bench_scratch(sizeof *s);
    if (!s || alloc_arena_init(&s->arena, NULL) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_arena_init failed";
        return -1;
    }
    s->h.a = alloc_arena_allocator(&s->arena);
    s->h.reset = arena_reset;
    *state = s;
    return 0;
}

static void arena_destroy(void *state)
{
    arena_state *s = (arena_state *)state;
    alloc_arena_deinit(&s->arena);
    bench_scratch_free(s, sizeof *s);
}

static bool arena_check(void *state) { return alloc_arena_check(&((arena_state *)state)->arena); }

BENCH_CONTENDER(arena_row, {
    .name = "arena",
    .family = "handle",
    .what = "alloc_arena over the page allocator (defaults), through the handle; free-all = reset retaining capacity",
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |
                 WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP) | WL_BIT(WL_LARGE),
    .impl = &bench_impl_handle,
    .create = arena_create,
    .destroy = arena_destroy,
    .check = arena_check,
})
