/*
 * Descriptors of the stack allocator (alloc_stack, include/alloc/stack.h):
 * over a caller's buffer (fixed capacity), over pages with the default
 * chunks, and over pages with tiny chunks (every few pushes cross a chunk
 * boundary). All LIFO-only; reset and savepoints.
 * args: options is an alloc_stack_options (chunked descriptors); capacity and
 * skew place the buffer (stack/buffer).
 */
#include "alloc/stack.h"
#include "descriptor.h"

#define STACK_DEFAULT_CAP ((size_t)1 << 20)

static const alloc_stack_options tiny = {.first_chunk = 256, .max_chunk = 4096};

static bool finish(desc_instance *inst, int rc)
{
    if (rc != 0) return false;
    inst->a = alloc_stack_allocator(inst->state);
    return true;
}

static bool make_buffer(desc_instance *inst, const desc_args *args)
{
    size_t cap = 0;
    void *buf = desc_take_buffer(inst, args, STACK_DEFAULT_CAP, &cap);
    return buf && finish(inst, alloc_stack_init_buffer(inst->state, buf, cap));
}

static bool make_pages(desc_instance *inst, const desc_args *args)
{
    return finish(inst, alloc_stack_init(inst->state, desc_options(args, NULL)));
}

static bool make_tiny(desc_instance *inst, const desc_args *args)
{
    return finish(inst, alloc_stack_init(inst->state, desc_options(args, &tiny)));
}

DESC_STATE_OPS(stack, alloc_stack, alloc_stack_deinit, alloc_stack_check, alloc_stack_stats)
DESC_RESET_OP(stack, alloc_stack, alloc_stack_reset)
DESC_MARK_OPS(stack, alloc_stack, alloc_stack_mark, alloc_stack_save, alloc_stack_rollback)

#define STACK_DESCRIPTOR(ident, desc_name, maker, extra_caps)                                      \
    DESCRIPTOR(ident, {                                                                            \
        .name = desc_name,                                                                         \
        .caps = DESC_LIFO_ONLY | DESC_IN_DEBUG(DESC_DETECTS_DOUBLE_FREE) | (extra_caps),           \
        .max_align = (size_t)64 << 10, .max_len = (size_t)128 << 10, .max_live = (size_t)512 << 10, \
        .state_size = sizeof(alloc_stack),                                                         \
        .make = maker, .deinit = stack_deinit, .check = stack_check, .stats = stack_stats,         \
        .reset = stack_reset, .save = stack_save, .restore = stack_restore,                        \
    })

STACK_DESCRIPTOR(desc_stack_buffer, "stack/buffer", make_buffer, DESC_FIXED_CAPACITY)
STACK_DESCRIPTOR(desc_stack_pages, "stack/pages", make_pages, 0)
STACK_DESCRIPTOR(desc_stack_tiny, "stack/pages-tiny-chunks", make_tiny, 0)
