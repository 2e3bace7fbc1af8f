/*
 * test_containers_backings.h: the allocators the container tests run over.
 *
 * Page and libc always; every strategy and wrapper compiled into this build
 * (the build defines ALLOC_TEST_HAVE_<FOLDER> for each enabled src/ folder).
 * A row makes a fresh allocator, checks its invariants, and destroys it.
 */
#ifndef ALLOC_TEST_CONTAINERS_BACKINGS_H
#define ALLOC_TEST_CONTAINERS_BACKINGS_H

#include <stdbool.h>
#include <stdlib.h>

#include "alloc/alloc.h"
#include "alloc/c_allocator.h"
#include "alloc/page.h"

typedef struct backing_instance {
    allocator a;
    void *state;
    void *buf;
} backing_instance;

typedef struct backing {
    const char *name;
    bool (*make)(backing_instance *inst);
    void (*destroy)(backing_instance *inst);
    bool (*check)(backing_instance *inst); /* NULL: none */
    bool small;                           /* capacity-bounded: tests use smaller workloads */
    bool lifo;                            /* frees must come newest first: only workloads
                                             with one growing buffer at a time run on it */
} backing;

static bool make_page(backing_instance *inst)
{
    inst->a = alloc_page_allocator();
    return true;
}
static bool check_page(backing_instance *inst)
{
    (void)inst;
    return alloc_page_check();
}
static bool make_c(backing_instance *inst)
{
    inst->a = alloc_c_allocator();
    return true;
}
static void destroy_nothing(backing_instance *inst) { (void)inst; }

#define BACKING_BUF_SIZE ((size_t)8 << 20)

#ifdef ALLOC_TEST_HAVE_BUMP
#include "alloc/bump.h"
static bool make_bump(backing_instance *inst)
{
    inst->buf = malloc(BACKING_BUF_SIZE);
    inst->state = malloc(sizeof(alloc_bump));
    if (!inst->buf || !inst->state || alloc_bump_init(inst->state, inst->buf, BACKING_BUF_SIZE) != 0) return false;
    inst->a = alloc_bump_allocator(inst->state);
    return true;
}
static bool check_bump(backing_instance *inst) { return alloc_bump_check(inst->state); }
static void destroy_bump(backing_instance *inst)
{
    alloc_bump_deinit(inst->state);
    free(inst->state);
    free(inst->buf);
}
#endif

#ifdef ALLOC_TEST_HAVE_ARENA
#include "alloc/arena.h"
static bool make_arena(backing_instance *inst)
{
    /* Small chunks so containers cross chunk boundaries and large requests. */
    alloc_arena_options opt = {.first_chunk = 4096, .max_chunk = (size_t)1 << 20, .large_threshold = 16384};
    inst->state = malloc(sizeof(alloc_arena));
    if (!inst->state || alloc_arena_init(inst->state, &opt) != 0) return false;
    inst->a = alloc_arena_allocator(inst->state);
    return true;
}
static bool check_arena(backing_instance *inst) { return alloc_arena_check(inst->state); }
static void destroy_arena(backing_instance *inst)
{
    alloc_arena_deinit(inst->state);
    free(inst->state);
}
#endif

#ifdef ALLOC_TEST_HAVE_STACK
#include "alloc/stack.h"
/* A stack over chunks from the page allocator: a container's buffer, the only
 * block, grows by resize (top block) or remap (a new top block). */
static bool make_stack(backing_instance *inst)
{
    alloc_stack_options opt = {.first_chunk = 4096};
    inst->state = malloc(sizeof(alloc_stack));
    if (!inst->state || alloc_stack_init(inst->state, &opt) != 0) return false;
    inst->a = alloc_stack_allocator(inst->state);
    return true;
}
static bool check_stack(backing_instance *inst) { return alloc_stack_check(inst->state); }
static void destroy_stack(backing_instance *inst)
{
    alloc_stack_deinit(inst->state);
    free(inst->state);
}
#endif

#ifdef ALLOC_TEST_HAVE_SLAB
#include "alloc/slab.h"
/* Size classes up to 32 KiB, the page allocator above: a container's buffer
 * changes class (and so moves) as it grows. */
static bool make_slab(backing_instance *inst)
{
    inst->state = malloc(sizeof(alloc_slab));
    if (!inst->state || alloc_slab_init(inst->state, NULL) != 0) return false;
    inst->a = alloc_slab_allocator(inst->state);
    return true;
}
static bool check_slab(backing_instance *inst) { return alloc_slab_check(inst->state); }
static void destroy_slab(backing_instance *inst)
{
    alloc_slab_deinit(inst->state);
    free(inst->state);
}
#endif

#ifdef ALLOC_TEST_HAVE_FREELIST
#include "alloc/freelist.h"
static bool make_freelist(backing_instance *inst)
{
    inst->state = malloc(sizeof(alloc_freelist));
    if (!inst->state || alloc_freelist_init(inst->state, NULL) != 0) return false;
    inst->a = alloc_freelist_allocator(inst->state);
    return true;
}
static bool make_freelist_fixed(backing_instance *inst)
{
    /* A fixed heap in a caller buffer (never grows): the embedded case. */
    inst->buf = malloc(BACKING_BUF_SIZE);
    inst->state = malloc(sizeof(alloc_freelist));
    alloc_freelist_config cfg = {.policy = ALLOC_FREELIST_BEST_FIT, .buffer = inst->buf,
                                 .buffer_size = BACKING_BUF_SIZE, .no_grow = true};
    if (!inst->buf || !inst->state || alloc_freelist_init(inst->state, &cfg) != 0) return false;
    inst->a = alloc_freelist_allocator(inst->state);
    return true;
}
static bool check_freelist(backing_instance *inst) { return alloc_freelist_check(inst->state); }
static void destroy_freelist(backing_instance *inst)
{
    alloc_freelist_deinit(inst->state);
    free(inst->state);
    free(inst->buf);
}
#endif

#ifdef ALLOC_TEST_HAVE_DEBUG
#include "alloc/debug.h"
/* The debug wrapper around the libc allocator: its own contract checks see
 * every call the containers make. */
static bool make_debug(backing_instance *inst)
{
    inst->state = malloc(sizeof(alloc_debug));
    alloc_debug_options opt = alloc_debug_default_options();
    opt.leaks_are_misuse = true;
    if (!inst->state || alloc_debug_init(inst->state, alloc_c_allocator(), &opt) != 0) return false;
    inst->a = alloc_debug_allocator(inst->state);
    return true;
}
static bool check_debug(backing_instance *inst) { return alloc_debug_check(inst->state); }
static void destroy_debug(backing_instance *inst)
{
    size_t leaked = alloc_debug_deinit(inst->state);
    free(inst->state);
    if (leaked) abort();
}
#endif

#ifdef ALLOC_TEST_HAVE_LOCKED
#include "alloc/locked.h"
static bool make_locked(backing_instance *inst)
{
    inst->state = malloc(sizeof(alloc_locked));
    if (!inst->state || alloc_locked_init(inst->state, alloc_page_allocator(), ALLOC_LOCK_SPIN) != 0) return false;
    inst->a = alloc_locked_allocator(inst->state);
    return true;
}
static bool check_locked(backing_instance *inst) { return alloc_locked_check(inst->state); }
static void destroy_locked(backing_instance *inst)
{
    alloc_locked_deinit(inst->state);
    free(inst->state);
}
#endif

#ifdef ALLOC_TEST_HAVE_FAILING
#include "alloc/failing.h"
/* The failing wrapper with resize and remap always refused: every growth
 * takes the alloc + copy + free rung. */
static bool make_failing(backing_instance *inst)
{
    inst->state = malloc(sizeof(alloc_failing));
    if (!inst->state) return false;
    alloc_failing_options opt = alloc_failing_default_options();
    opt.fail_resize = true;
    opt.fail_remap = true;
    alloc_failing_init(inst->state, alloc_c_allocator(), &opt);
    inst->a = alloc_failing_allocator(inst->state);
    return true;
}
static bool check_failing(backing_instance *inst) { return alloc_failing_check(inst->state); }
static void destroy_failing(backing_instance *inst)
{
    size_t live = alloc_failing_deinit(inst->state);
    free(inst->state);
    if (live) abort();
}
#endif

static const backing backings[] = {
    {"page", make_page, destroy_nothing, check_page, false, false},
    {"c", make_c, destroy_nothing, NULL, false, false},
#ifdef ALLOC_TEST_HAVE_BUMP
    {"bump", make_bump, destroy_bump, check_bump, true, false},
#endif
#ifdef ALLOC_TEST_HAVE_ARENA
    {"arena", make_arena, destroy_arena, check_arena, false, false},
#endif
#ifdef ALLOC_TEST_HAVE_STACK
    {"stack", make_stack, destroy_stack, check_stack, false, true},
#endif
#ifdef ALLOC_TEST_HAVE_SLAB
    {"slab", make_slab, destroy_slab, check_slab, false, false},
#endif
#ifdef ALLOC_TEST_HAVE_FREELIST
    {"freelist", make_freelist, destroy_freelist, check_freelist, false, false},
    {"freelist-fixed", make_freelist_fixed, destroy_freelist, check_freelist, false, false},
#endif
#ifdef ALLOC_TEST_HAVE_DEBUG
    {"debug(c)", make_debug, destroy_debug, check_debug, false, false},
#endif
#ifdef ALLOC_TEST_HAVE_LOCKED
    {"locked(page)", make_locked, destroy_locked, check_locked, false, false},
#endif
#ifdef ALLOC_TEST_HAVE_FAILING
    {"failing(c, no resize)", make_failing, destroy_failing, check_failing, false, false},
#endif
};

static inline size_t backing_count(void) { return sizeof backings / sizeof backings[0]; }
static inline const backing *backing_at(size_t i) { return &backings[i]; }

#endif
