/* Fuzz target: the locked wrapper (both lock kinds) over a debug wrapper.
 * The debug wrapper keeps a short freed-address history: its checker walks
 * the whole record table after every operation, and with the default 1024
 * records that walk, not the lock, would be what this target measures (the
 * debug target fuzzes the longer histories). */
#include "alloc/debug.h"
#include "alloc/locked.h"
#include "driver.h"

DESC_DECLARE(desc_locked_spin_debug)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.freed_history = 16;
    alloc_lock_kind kind = (variant & 1) ? ALLOC_LOCK_SPIN : ALLOC_LOCK_MUTEX;
    desc_args inner = {.options = &o};
    desc_args args = {.options = &kind, .inner = &desc_debug_c, .inner_args = &inner};
    return desc_make(&desc_locked_spin_debug, &inst->d, &args);
}

const fuzz_target fuzz_this_target = {
    .name = "locked", .max_align = 4096, .max_len = 65536, .make = make,
};
