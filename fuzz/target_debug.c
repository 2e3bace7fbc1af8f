/*
 * Fuzz target: the debug wrapper over malloc or pages, with canaries of
 * several sizes (odd ones too) and freed-address histories small enough that
 * records are evicted and the table grows and shrinks its clusters often.
 */
#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/page.h"
#include "driver.h"

static alloc_debug dbg;

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const size_t canaries[] = {16, 0, 3, 64};
    static const size_t histories[] = {64, 0, 4, 1};
    alloc_debug_options o = alloc_debug_default_options();
    o.canary_len = canaries[variant % 4];
    o.freed_history = histories[(variant >> 2) % 4];
    o.fill = (variant & 16) == 0;
    allocator inner = (variant & 32) ? alloc_page_allocator() : alloc_c_allocator();
    if (alloc_debug_init(&dbg, inner, &o) != 0) return false;
    inst->a = alloc_debug_allocator(&dbg);
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    if (alloc_debug_deinit(&dbg) != 0) __builtin_trap(); /* the driver frees everything */
}

static bool check(fuzz_instance *inst)
{
    (void)inst;
    return alloc_debug_check(&dbg);
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_debug_stats(&dbg, s);
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "debug", .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
};
