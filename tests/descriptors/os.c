/*
 * Descriptors of the two handles of the foundation: the page allocator
 * (include/alloc/page.h) and the C library's malloc (include/alloc/c_allocator.h).
 * Both are process-wide: make takes no memory, args are unused. The page
 * allocator's stats are the process's, so bytes_in_use is counted from make
 * on (what other code holds is not this instance's).
 */
#include "alloc/c_allocator.h"
#include "alloc/page.h"
#include "descriptor.h"

static bool make_page(desc_instance *inst, const desc_args *args)
{
    (void)args;
    alloc_stats base;
    alloc_page_stats(&base);
    inst->knob[0] = base.bytes_in_use;
    inst->a = alloc_page_allocator();
    return true;
}

static bool check_page(desc_instance *inst)
{
    (void)inst;
    return alloc_page_check();
}

static bool stats_page(desc_instance *inst, alloc_stats *out)
{
    alloc_page_stats(out);
    out->bytes_in_use -= inst->knob[0];
    return true;
}

static bool make_c(desc_instance *inst, const desc_args *args)
{
    (void)args;
    inst->a = alloc_c_allocator();
    return true;
}

DESCRIPTOR(desc_page, {
    .name = "page",
    .caps = DESC_THREAD_SAFE,
    .max_align = (size_t)1 << 20, .max_len = (size_t)256 << 10, .max_live = (size_t)256 << 20,
    .make = make_page, .check = check_page, .stats = stats_page,
})

DESCRIPTOR(desc_c, {
    .name = "c",
    .caps = DESC_THREAD_SAFE,
    .max_align = (size_t)1 << 16, .max_len = (size_t)256 << 10, .max_live = (size_t)256 << 20,
    .make = make_c,
})
