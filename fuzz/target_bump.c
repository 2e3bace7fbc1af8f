/*
 * Fuzz target: the bump allocator over a fixed buffer. Half the variants
 * free and resize only the newest block (LIFO), the others free in any order
 * (a no-op the contract allows) and use realloc; savepoints, rollbacks and
 * resets throughout. The thread-safe handle is fuzzed single-threaded too.
 */
#include "driver.h"

DESC_DECLARE(desc_bump_heap)
DESC_DECLARE(desc_bump_threadsafe)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t caps[] = {1u << 20, 1u << 16, 4096, 104};
    /* An unaligned start too. The end stays 8-aligned: with an end inside an
     * ASan granule, alloc_bump_check fails under ASan as soon as the top is
     * within 8 bytes of it (the granule past the end cannot be poisoned), a
     * finding reported to the bump allocator's owner. */
    size_t skew = (variant & 16) ? 5 : 0;
    desc_args args = {.capacity = caps[variant % 4] - skew, .skew = skew};
    if (variant & 4) inst->flags |= FUZZ_LIFO;
    return desc_make((variant & 32) ? &desc_bump_threadsafe : &desc_bump_heap, &inst->d, &args);
}

const fuzz_target fuzz_this_target = {
    .name = "bump", .flags = FUZZ_MAY_FAIL, .max_align = 4096, .max_len = 65536, .make = make,
};
