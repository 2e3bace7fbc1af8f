/*
 * Fuzz target: the debug wrapper over malloc or pages, with canaries of
 * several sizes (odd ones too) and freed-address histories small enough that
 * records are evicted and the table grows and shrinks its clusters often.
 */
#include "alloc/debug.h"
#include "driver.h"

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t canaries[] = {16, 0, 3, 64};
    static const size_t histories[] = {64, 0, 4, 1};
    alloc_debug_options o = alloc_debug_default_options();
    o.canary_len = canaries[variant % 4];
    o.freed_history = histories[(variant >> 2) % 4];
    o.fill = (variant & 16) == 0;
    return desc_make((variant & 32) ? &desc_debug_page : &desc_debug_c, &inst->d, &(desc_args){.options = &o});
}

const fuzz_target fuzz_this_target = {
    .name = "debug", .max_align = 4096, .max_len = 65536, .make = make,
};
