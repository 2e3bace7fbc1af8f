/* Fuzz target: the locked wrapper (both lock kinds) over a debug wrapper.
 * The debug wrapper keeps a short freed-address history: its checker walks
 * the whole record table after every operation, and with the default 1024
 * records that walk, not the lock, would be what this target measures (the
 * debug target fuzzes the longer histories). */
#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/locked.h"
#include "driver.h"

static alloc_debug dbg;
static alloc_locked lk;

static bool make(fuzz_instance *inst, uint8_t variant)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.freed_history = 16;
    if (alloc_debug_init(&dbg, alloc_c_allocator(), &o) != 0) return false;
    if (alloc_locked_init(&lk, alloc_debug_allocator(&dbg), (variant & 1) ? ALLOC_LOCK_SPIN : ALLOC_LOCK_MUTEX) != 0)
        return false;
    inst->a = alloc_locked_allocator(&lk);
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    alloc_locked_deinit(&lk);
    if (alloc_debug_deinit(&dbg) != 0) __builtin_trap();
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    alloc_locked_lock(&lk);
    bool ok = alloc_debug_check(&dbg);
    alloc_locked_unlock(&lk);
    return ok && alloc_locked_check(&lk);
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_locked_stats(&lk, s);
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "locked", .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
};
