/* Conformance rows for the two handles of the foundation: pages and libc malloc. */
#include "alloc/c_allocator.h"
#include "alloc/page.h"
#include "conformance.h"

static bool make_page(conformance_instance *inst)
{
    inst->a = alloc_page_allocator();
    return true;
}

static bool check_page(conformance_instance *inst)
{
    (void)inst;
    return alloc_page_check();
}

static bool stats_page(conformance_instance *inst, alloc_stats *out)
{
    (void)inst;
    alloc_page_stats(out);
    return true;
}

static bool make_c(conformance_instance *inst)
{
    inst->a = alloc_c_allocator();
    return true;
}

static void destroy_nothing(conformance_instance *inst) { (void)inst; }

CONFORMANCE_ROW(page_row, {
    .name = "page",
    .make = make_page,
    .destroy = destroy_nothing,
    .check = check_page,
    .stats = stats_page,
    .max_align = (size_t)1 << 20,
    .max_len = (size_t)256 << 10,
    .max_live = (size_t)256 << 20,
})

CONFORMANCE_ROW(c_row, {
    .name = "c",
    .make = make_c,
    .destroy = destroy_nothing,
    .max_align = (size_t)1 << 16,
    .max_len = (size_t)256 << 10,
    .max_live = (size_t)256 << 20,
})
