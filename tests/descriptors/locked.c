/*
 * Descriptors of the locked wrapper (alloc_locked, include/alloc/locked.h):
 * a mutex over pages, and the spin lock over a debug wrapper over malloc
 * (the inner checker runs under the lock).
 * args: options is an alloc_lock_kind; inner replaces the wrapped allocator.
 */
#include "alloc/locked.h"
#include "descriptor.h"

static const alloc_lock_kind mutex = ALLOC_LOCK_MUTEX, spin = ALLOC_LOCK_SPIN;

static bool make_with(desc_instance *inst, const desc_args *args, const descriptor *inner, const alloc_lock_kind *kind)
{
    allocator under;
    if (!desc_make_inner(inst, args, inner, &under)) return false;
    if (alloc_locked_init(inst->state, under, *(const alloc_lock_kind *)desc_options(args, kind)) != 0) return false;
    inst->a = alloc_locked_allocator(inst->state);
    return true;
}

static bool make_mutex_page(desc_instance *inst, const desc_args *args)
{
    return make_with(inst, args, &desc_page, &mutex);
}

static bool make_spin_debug(desc_instance *inst, const desc_args *args)
{
    return make_with(inst, args, &desc_debug_c, &spin);
}

static void deinit(desc_instance *inst) { alloc_locked_deinit(inst->state); }

static bool check(desc_instance *inst)
{
    alloc_locked_lock(inst->state);
    bool inner_ok = desc_check(inst->inner);
    alloc_locked_unlock(inst->state);
    return inner_ok && alloc_locked_check(inst->state);
}

DESC_STATS_OP(locked, alloc_locked, alloc_locked_stats)

DESCRIPTOR(desc_locked_mutex_page, {
    .name = "locked(mutex, page)",
    .caps = DESC_THREAD_SAFE,
    .max_align = (size_t)1 << 20, .max_len = (size_t)1 << 20, .max_live = (size_t)256 << 20,
    .state_size = sizeof(alloc_locked),
    .make = make_mutex_page, .deinit = deinit, .check = check, .stats = locked_stats,
})

DESCRIPTOR(desc_locked_spin_debug, {
    .name = "locked(spin, debug(c))",
    .caps = DESC_THREAD_SAFE | DESC_DETECTS_DOUBLE_FREE | DESC_DETECTS_FOREIGN_FREE,
    .max_align = (size_t)1 << 16, .max_len = (size_t)1 << 20, .max_live = (size_t)256 << 20,
    .state_size = sizeof(alloc_locked),
    .make = make_spin_debug, .deinit = deinit, .check = check, .stats = locked_stats,
})
