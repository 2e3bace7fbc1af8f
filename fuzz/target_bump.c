/*
 * Fuzz target: the bump allocator over a fixed buffer. Half the variants
 * free and resize only the newest block (LIFO), the others free in any order
 * (a no-op the contract allows) and use realloc; savepoints, rollbacks and
 * resets throughout. The thread-safe handle is fuzzed single-threaded too.
 */
#include <string.h>

#include "alloc/bump.h"
#include "driver.h"

static alloc_bump bump;
static _Alignas(64) unsigned char buffer[(1u << 20) + 64];

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t caps[] = {1u << 20, 1u << 16, 4096, 104};
    /* An unaligned start too. The end stays 8-aligned: with an end inside an
     * ASan granule, alloc_bump_check fails under ASan as soon as the top is
     * within 8 bytes of it (the granule past the end cannot be poisoned), a
     * finding reported to the bump allocator's owner. */
    size_t skew = (variant & 16) ? 5 : 0;
    if (alloc_bump_init(&bump, buffer + skew, caps[variant % 4] - skew) != 0) return false;
    inst->a = (variant & 32) ? alloc_bump_allocator_threadsafe(&bump) : alloc_bump_allocator(&bump);
    if (variant & 4) inst->flags |= FUZZ_LIFO;
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    alloc_bump_deinit(&bump);
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    return alloc_bump_check(&bump);
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_bump_stats(&bump, s);
    return true;
}

static void reset(fuzz_instance *inst)
{
    (void)inst;
    alloc_bump_reset(&bump);
}

static bool save(fuzz_instance *inst, fuzz_mark *m)
{
    (void)inst;
    alloc_bump_mark k = alloc_bump_save(&bump);
    _Static_assert(sizeof k <= sizeof m->bytes, "mark too large");
    memcpy(m->bytes, &k, sizeof k);
    return true;
}

static void restore(fuzz_instance *inst, const fuzz_mark *m)
{
    (void)inst;
    alloc_bump_mark k;
    memcpy(&k, m->bytes, sizeof k);
    if (alloc_bump_rollback(&bump, k) != 0) __builtin_trap(); /* the driver only restores live marks */
}

const fuzz_target fuzz_this_target = {
    .name = "bump", .flags = FUZZ_MAY_FAIL, .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
    .reset = reset, .save = save, .restore = restore,
};
