/* Conformance rows for the arena: over pages (default policy and a tiny-chunk
 * policy that switches chunks constantly), over a bump buffer (fixed
 * capacity), and over another arena (composition). */
#include <stdlib.h>

#include "alloc/arena.h"
#include "alloc/bump.h"
#include "conformance.h"

typedef struct arena_row_state {
    alloc_arena arena;
    alloc_arena outer;  /* the backing arena of the arena-over-arena row */
    alloc_bump bump;    /* the backing bump of the arena-over-bump row */
    void *buffer;
    int backing;        /* 0 pages, 1 bump, 2 arena */
} arena_row_state;

#define BUMP_BACKING_CAP ((size_t)4 << 20)

static bool make_with(conformance_instance *inst, int backing, const alloc_arena_options *base)
{
    arena_row_state *s = calloc(1, sizeof *s);
    if (!s) return false;
    alloc_arena_options o = base ? *base : (alloc_arena_options){0};
    s->backing = backing;
    if (backing == 1) {
        s->buffer = aligned_alloc(4096, BUMP_BACKING_CAP);
        if (!s->buffer || alloc_bump_init(&s->bump, s->buffer, BUMP_BACKING_CAP) != 0) return false;
        o.backing = alloc_bump_allocator(&s->bump);
    } else if (backing == 2) {
        if (alloc_arena_init(&s->outer, NULL) != 0) return false;
        o.backing = alloc_arena_allocator(&s->outer);
    }
    if (alloc_arena_init(&s->arena, &o) != 0) return false;
    inst->state = s;
    inst->a = alloc_arena_allocator(&s->arena);
    return true;
}

static bool make_page(conformance_instance *inst) { return make_with(inst, 0, NULL); }

static bool make_tiny(conformance_instance *inst)
{
    alloc_arena_options o = {.first_chunk = 256, .growth_percent = 150, .max_chunk = 4096, .large_threshold = 1024};
    return make_with(inst, 0, &o);
}

static bool make_bump(conformance_instance *inst)
{
    alloc_arena_options o = {.first_chunk = 4096, .max_chunk = 256 << 10};
    return make_with(inst, 1, &o);
}

static bool make_nested(conformance_instance *inst)
{
    alloc_arena_options o = {.first_chunk = 1024, .max_chunk = 64 << 10, .large_threshold = 8 << 10};
    return make_with(inst, 2, &o);
}

static void destroy(conformance_instance *inst)
{
    arena_row_state *s = inst->state;
    alloc_arena_deinit(&s->arena);
    if (s->backing == 1) alloc_bump_deinit(&s->bump);
    if (s->backing == 2) alloc_arena_deinit(&s->outer);
    free(s->buffer);
    free(s);
}

static bool check(conformance_instance *inst)
{
    arena_row_state *s = inst->state;
    if (s->backing == 1 && !alloc_bump_check(&s->bump)) return false;
    if (s->backing == 2 && !alloc_arena_check(&s->outer)) return false;
    return alloc_arena_check(&s->arena);
}

static bool stats(conformance_instance *inst, alloc_stats *out)
{
    alloc_arena_stats(&((arena_row_state *)inst->state)->arena, out);
    return true;
}

/* Lengths up to 128 KiB cross every arena's large-request threshold; larger
 * ones would only slow the suite's byte-by-byte pattern checks. */
#define ARENA_ROW(ident, row_name, maker, extra_caps, live)                                     \
    CONFORMANCE_ROW(ident, {                                                                    \
        .name = row_name,                                                                       \
        .make = maker,                                                                          \
        .destroy = destroy,                                                                     \
        .check = check,                                                                         \
        .stats = stats,                                                                         \
        .caps = CONF_NO_REUSE | (extra_caps),                                                   \
        .max_align = (size_t)64 << 10,                                                          \
        .max_len = (size_t)128 << 10,                                                           \
        .max_live = (live),                                                                     \
    })

ARENA_ROW(arena_page_row, "arena/pages", make_page, 0, (size_t)2 << 20)
ARENA_ROW(arena_tiny_row, "arena/pages-tiny-chunks", make_tiny, 0, (size_t)2 << 20)
ARENA_ROW(arena_bump_row, "arena/over-bump", make_bump, CONF_FIXED_CAPACITY, (size_t)2 << 20)
ARENA_ROW(arena_nested_row, "arena/over-arena", make_nested, 0, (size_t)2 << 20)
