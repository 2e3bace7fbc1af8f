/* Fuzz target: the page allocator (one mapping per block, mremap on remap). */
#include "alloc/page.h"
#include "driver.h"

static alloc_stats base;

static bool make(fuzz_instance *inst, uint8_t variant)
{
    (void)variant;
    inst->a = alloc_page_allocator();
    alloc_page_stats(&base);
    return true;
}

static void destroy(fuzz_instance *inst) { (void)inst; }

static bool check(fuzz_instance *inst)
{
    (void)inst;
    return alloc_page_check();
}

/* Process-wide stats: in use relative to when the instance was made. */
static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_page_stats(s);
    s->bytes_in_use -= base.bytes_in_use;
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "page", .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
};
