/* Conformance rows: the locked wrapper, mutex over pages and spin lock over a
 * debug wrapper over malloc (the debug checker runs under the lock). */
#include <stdlib.h>

#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/locked.h"
#include "alloc/page.h"
#include "conformance.h"

static bool make_mutex_page(conformance_instance *inst)
{
    alloc_locked *l = malloc(sizeof *l);
    if (!l || alloc_locked_init(l, alloc_page_allocator(), ALLOC_LOCK_MUTEX) != 0) {
        free(l);
        return false;
    }
    inst->state = l;
    inst->a = alloc_locked_allocator(l);
    return true;
}

static bool make_spin_debug(conformance_instance *inst)
{
    alloc_debug *d = malloc(sizeof *d);
    alloc_locked *l = malloc(sizeof *l);
    if (!d || !l || alloc_debug_init(d, alloc_c_allocator(), NULL) != 0) {
        free(d);
        free(l);
        return false;
    }
    if (alloc_locked_init(l, alloc_debug_allocator(d), ALLOC_LOCK_SPIN) != 0) {
        alloc_debug_deinit(d);
        free(d);
        free(l);
        return false;
    }
    inst->state = l;
    inst->extra = d;
    inst->a = alloc_locked_allocator(l);
    return true;
}

static void destroy(conformance_instance *inst)
{
    alloc_locked_deinit(inst->state);
    free(inst->state);
    if (inst->extra) {
        if (alloc_debug_deinit(inst->extra) != 0) abort();
        free(inst->extra);
    }
}

static bool check(conformance_instance *inst)
{
    bool ok = alloc_locked_check(inst->state);
    if (inst->extra) {
        alloc_locked_lock(inst->state);
        ok = ok && alloc_debug_check(inst->extra);
        alloc_locked_unlock(inst->state);
    }
    return ok;
}

static bool stats(conformance_instance *inst, alloc_stats *out)
{
    alloc_locked_stats(inst->state, out);
    return true;
}

CONFORMANCE_ROW(locked_mutex_row, {
    .name = "locked(mutex, page)",
    .make = make_mutex_page,
    .destroy = destroy,
    .check = check,
    .stats = stats,
    .max_align = (size_t)1 << 20,
    .max_len = (size_t)1 << 20,
    .max_live = (size_t)256 << 20,
})

CONFORMANCE_ROW(locked_spin_row, {
    .name = "locked(spin, debug(c))",
    .make = make_spin_debug,
    .destroy = destroy,
    .check = check,
    .stats = stats,
    .max_align = (size_t)1 << 16,
    .max_len = (size_t)1 << 20,
    .max_live = (size_t)256 << 20,
})
