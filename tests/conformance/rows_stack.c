/* Conformance rows for the stack allocator: over a static buffer (fixed
 * capacity), over pages with default chunks, and over pages with tiny chunks
 * (every few pushes cross a chunk boundary). All LIFO-only. */
#include <stdlib.h>

#include "alloc/stack.h"
#include "conformance.h"

#define STACK_ROW_CAP ((size_t)1 << 20)

static _Alignas(4096) unsigned char stack_buffer[STACK_ROW_CAP];

static bool make_buffer(conformance_instance *inst)
{
    alloc_stack *s = malloc(sizeof *s);
    if (!s || alloc_stack_init_buffer(s, stack_buffer, sizeof stack_buffer) != 0) return false;
    inst->state = s;
    inst->a = alloc_stack_allocator(s);
    return true;
}

static bool make_chunks(conformance_instance *inst, const alloc_stack_options *o)
{
    alloc_stack *s = malloc(sizeof *s);
    if (!s || alloc_stack_init(s, o) != 0) return false;
    inst->state = s;
    inst->a = alloc_stack_allocator(s);
    return true;
}

static bool make_pages(conformance_instance *inst) { return make_chunks(inst, NULL); }

static bool make_tiny(conformance_instance *inst)
{
    alloc_stack_options o = {.first_chunk = 256, .max_chunk = 4096};
    return make_chunks(inst, &o);
}

static void destroy(conformance_instance *inst)
{
    alloc_stack_deinit(inst->state);
    free(inst->state);
}

static bool check(conformance_instance *inst) { return alloc_stack_check(inst->state); }

static bool stats(conformance_instance *inst, alloc_stats *out)
{
    alloc_stack_stats(inst->state, out);
    return true;
}

#define STACK_ROW(ident, row_name, maker, extra_caps)                                           \
    CONFORMANCE_ROW(ident, {                                                                    \
        .name = row_name,                                                                       \
        .make = maker,                                                                          \
        .destroy = destroy,                                                                     \
        .check = check,                                                                         \
        .stats = stats,                                                                         \
        .caps = CONF_LIFO_ONLY | (extra_caps),                                                  \
        .max_align = (size_t)64 << 10,                                                          \
        .max_len = (size_t)128 << 10,                                                           \
        .max_live = (size_t)512 << 10,                                                          \
    })

STACK_ROW(stack_buffer_row, "stack/buffer", make_buffer, CONF_FIXED_CAPACITY)
STACK_ROW(stack_pages_row, "stack/pages", make_pages, 0)
STACK_ROW(stack_tiny_row, "stack/pages-tiny-chunks", make_tiny, 0)
