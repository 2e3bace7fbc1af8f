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

static const backing backings[] = {
    {"page", make_page, destroy_nothing, check_page, false},
    {"c", make_c, destroy_nothing, NULL, false},
#ifdef ALLOC_TEST_HAVE_BUMP
    {"bump", make_bump, destroy_bump, check_bump, true},
#endif
};

static inline size_t backing_count(void) { return sizeof backings / sizeof backings[0]; }
static inline const backing *backing_at(size_t i) { return &backings[i]; }

#endif
