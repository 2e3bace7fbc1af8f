/*
 * Descriptors of the stack allocator (alloc_stack, include/alloc/stack.h):
 * over a caller's buffer (fixed capacity), over pages with the default
 * chunks, and over pages with tiny chunks (every few pushes cross a chunk
 * boundary). All LIFO-only; reset and savepoints.
 * args: options is an alloc_stack_options (chunked descriptors); capacity and
 * skew place the buffer (stack/buffer).
 */
#include <string.h>

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

static void deinit(desc_instance *inst) { alloc_stack_deinit(inst->state); }
static bool check(desc_instance *inst) { return alloc_stack_check(inst->state); }

static bool stats(desc_instance *inst, alloc_stats *out)
{
    alloc_stack_stats(inst->state, out);
    return true;
}

static void reset(desc_instance *inst) { alloc_stack_reset(inst->state); }

static bool save(desc_instance *inst, desc_mark *m)
{
    alloc_stack_mark k = alloc_stack_save(inst->state);
    _Static_assert(sizeof k <= sizeof m->bytes, "mark too large");
    memcpy(m->bytes, &k, sizeof k);
    return true;
}

static void restore(desc_instance *inst, const desc_mark *m)
{
    alloc_stack_mark k;
    memcpy(&k, m->bytes, sizeof k);
    if (alloc_stack_rollback(inst->state, k) != 0) __builtin_trap(); /* only live marks are restored */
}

#define STACK_DESCRIPTOR(ident, desc_name, maker, extra_caps)                                    \
    DESCRIPTOR(ident, {                                                                         \
        .name = desc_name,                                                                      \
        .caps = DESC_LIFO_ONLY | DESC_IN_DEBUG(DESC_DETECTS_DOUBLE_FREE) | (extra_caps),        \
        .max_align = (size_t)64 << 10,                                                          \
        .max_len = (size_t)128 << 10,                                                           \
        .max_live = (size_t)512 << 10,                                                          \
        .state_size = sizeof(alloc_stack),                                                      \
        .make = maker,                                                                          \
        .deinit = deinit,                                                                       \
        .check = check,                                                                         \
        .stats = stats,                                                                         \
        .reset = reset,                                                                         \
        .save = save,                                                                           \
        .restore = restore,                                                                     \
    })

STACK_DESCRIPTOR(desc_stack_buffer, "stack/buffer", make_buffer, DESC_FIXED_CAPACITY)
STACK_DESCRIPTOR(desc_stack_pages, "stack/pages", make_pages, 0)
STACK_DESCRIPTOR(desc_stack_tiny, "stack/pages-tiny-chunks", make_tiny, 0)
