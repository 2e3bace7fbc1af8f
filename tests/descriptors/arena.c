/*
 * Descriptors of the arena (alloc_arena, include/alloc/arena.h): over pages
 * with the default policy and with a tiny-chunk policy that switches chunks
 * constantly, over a bump buffer (fixed capacity), and over another arena.
 * args: options is an alloc_arena_options (its backing is replaced by the
 * inner allocator where the descriptor has one); reset_mode is an
 * alloc_arena_reset_mode + 1 (0: ALLOC_ARENA_FREE_ALL).
 */
#include "alloc/arena.h"
#include "descriptor.h"

DESC_DECLARE(desc_bump_heap)
DESC_DECLARE(desc_arena_pages)

static const alloc_arena_options tiny = {.first_chunk = 256, .growth_percent = 150, .max_chunk = 4096,
                                         .large_threshold = 1024};
static const alloc_arena_options over_bump = {.first_chunk = 4096, .max_chunk = 256 << 10};
static const alloc_arena_options nested = {.first_chunk = 1024, .max_chunk = 64 << 10, .large_threshold = 8 << 10};

/* The bump buffer under arena/over-bump. */
static const desc_args bump_backing = {.capacity = (size_t)4 << 20};

static bool make_with(desc_instance *inst, const desc_args *args, const alloc_arena_options *dflt,
                      const descriptor *backing, const desc_args *backing_args)
{
    alloc_arena_options o = {0};
    const alloc_arena_options *given = desc_options(args, dflt);
    if (given) o = *given;
    if (backing) {
        desc_args inner = {.inner = args->inner ? args->inner : backing,
                           .inner_args = args->inner ? args->inner_args : backing_args};
        if (!desc_make_inner(inst, &inner, backing, &o.backing)) return false;
    }
    inst->knob[0] = args->reset_mode ? args->reset_mode - 1 : ALLOC_ARENA_FREE_ALL;
    if (alloc_arena_init(inst->state, &o) != 0) return false;
    inst->a = alloc_arena_allocator(inst->state);
    return true;
}

static bool make_pages(desc_instance *inst, const desc_args *args) { return make_with(inst, args, NULL, NULL, NULL); }
static bool make_tiny(desc_instance *inst, const desc_args *args) { return make_with(inst, args, &tiny, NULL, NULL); }

static bool make_bump(desc_instance *inst, const desc_args *args)
{
    return make_with(inst, args, &over_bump, &desc_bump_heap, &bump_backing);
}

static bool make_nested(desc_instance *inst, const desc_args *args)
{
    return make_with(inst, args, &nested, &desc_arena_pages, NULL);
}

static void deinit(desc_instance *inst) { alloc_arena_deinit(inst->state); }

static bool check(desc_instance *inst)
{
    return (!inst->inner || desc_check(inst->inner)) && alloc_arena_check(inst->state);
}

DESC_STATS_OP(arena, alloc_arena, alloc_arena_stats)

static void reset(desc_instance *inst)
{
    if (alloc_arena_reset(inst->state, (alloc_arena_reset_mode)inst->knob[0], 8192) != 0) __builtin_trap();
}

DESC_MARK_OPS(arena, alloc_arena, alloc_arena_mark, alloc_arena_save, alloc_arena_rollback)

/* Lengths up to 128 KiB cross every arena's large-request threshold; larger
 * ones would only slow the conformance suite's byte-by-byte pattern checks. */
#define ARENA_DESCRIPTOR(ident, desc_name, maker, extra_caps)                                      \
    DESCRIPTOR(ident, {                                                                            \
        .name = desc_name,                                                                         \
        .caps = DESC_NO_REUSE | DESC_IN_DEBUG(DESC_DETECTS_FOREIGN_FREE) | (extra_caps),           \
        .max_align = (size_t)64 << 10, .max_len = (size_t)128 << 10, .max_live = (size_t)2 << 20,  \
        .state_size = sizeof(alloc_arena),                                                         \
        .make = maker, .deinit = deinit, .check = check, .stats = arena_stats,                     \
        .reset = reset, .save = arena_save, .restore = arena_restore,                              \
    })

ARENA_DESCRIPTOR(desc_arena_pages, "arena/pages", make_pages, 0)
ARENA_DESCRIPTOR(desc_arena_tiny, "arena/pages-tiny-chunks", make_tiny, 0)
ARENA_DESCRIPTOR(desc_arena_bump, "arena/over-bump", make_bump, DESC_FIXED_CAPACITY)
ARENA_DESCRIPTOR(desc_arena_nested, "arena/over-arena", make_nested, 0)
