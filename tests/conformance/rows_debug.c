/* Conformance rows: the debug wrapper over the page allocator and over malloc
 * (canaries and fills on), its checker after every step. */
#include <stdlib.h>

#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/page.h"
#include "conformance.h"

static bool make_over(conformance_instance *inst, allocator inner)
{
    alloc_debug *d = malloc(sizeof *d);
    if (!d || alloc_debug_init(d, inner, NULL) != 0) {
        free(d);
        return false;
    }
    inst->state = d;
    inst->a = alloc_debug_allocator(d);
    return true;
}

static bool make_page(conformance_instance *inst) { return make_over(inst, alloc_page_allocator()); }
static bool make_c(conformance_instance *inst) { return make_over(inst, alloc_c_allocator()); }

static void destroy(conformance_instance *inst)
{
    /* The suite frees everything it allocates: a leak here is a failure. */
    if (alloc_debug_deinit(inst->state) != 0) abort();
    free(inst->state);
}

static bool check(conformance_instance *inst) { return alloc_debug_check(inst->state); }

static bool stats(conformance_instance *inst, alloc_stats *out)
{
    alloc_debug_stats(inst->state, out);
    return true;
}

CONFORMANCE_ROW(debug_page_row, {
    .name = "debug(page)",
    .make = make_page,
    .destroy = destroy,
    .check = check,
    .stats = stats,
    .max_align = (size_t)1 << 20,
    .max_len = (size_t)1 << 20,
    .max_live = (size_t)256 << 20,
})

CONFORMANCE_ROW(debug_c_row, {
    .name = "debug(c)",
    .make = make_c,
    .destroy = destroy,
    .check = check,
    .stats = stats,
    .max_align = (size_t)1 << 16,
    .max_len = (size_t)1 << 20,
    .max_live = (size_t)256 << 20,
})
