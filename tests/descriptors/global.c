/*
 * Descriptor of the malloc adapter's own handle (alloc_global_allocator,
 * include/alloc/global.h): the process's adapter heap through the allocator
 * interface. Process-wide: make takes no memory, args are unused; stats are
 * the process's, so bytes_in_use is counted from make on.
 */
#include "alloc/global.h"
#include "descriptor.h"

static bool make(desc_instance *inst, const desc_args *args)
{
    (void)args;
    alloc_stats base;
    alloc_global_stats(&base);
    inst->knob[0] = base.bytes_in_use;
    inst->a = alloc_global_allocator();
    return true;
}

static bool check(desc_instance *inst)
{
    (void)inst;
    return alloc_global_check();
}

static bool stats(desc_instance *inst, alloc_stats *out)
{
    alloc_global_stats(out);
    out->bytes_in_use -= inst->knob[0];
    return true;
}

DESCRIPTOR(desc_global, {
    .name = "global",
    .caps = DESC_THREAD_SAFE | DESC_INEXACT_STATS | DESC_DETECTS_DOUBLE_FREE | DESC_DETECTS_FOREIGN_FREE,
    .max_align = (size_t)1 << 16,
    .max_len = (size_t)64 << 20, .max_live = (size_t)256 << 20,
    .make = make, .check = check, .stats = stats,
})
