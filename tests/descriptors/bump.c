/*
 * Descriptors of the bump allocator (alloc_bump, include/alloc/bump.h): over
 * a static buffer, over a buffer from desc_memory_hooks, and the thread-safe
 * handle over such a buffer. All LIFO-only and fixed-capacity; reset and
 * savepoints (alloc_bump_save / alloc_bump_rollback).
 * args: capacity and skew place the buffer (static-buffer: capacity only, at
 * most 1 MiB); options unused.
 */
#include "alloc/bump.h"
#include "descriptor.h"

#define BUMP_DEFAULT_CAP ((size_t)1 << 20)

static _Alignas(4096) unsigned char static_buffer[BUMP_DEFAULT_CAP];

static bool make_over(desc_instance *inst, void *buf, size_t cap, bool threadsafe)
{
    if (!buf || alloc_bump_init(inst->state, buf, cap) != 0) return false;
    inst->a = threadsafe ? alloc_bump_allocator_threadsafe(inst->state) : alloc_bump_allocator(inst->state);
    return true;
}

static bool make_static(desc_instance *inst, const desc_args *args)
{
    size_t cap = args->capacity ? args->capacity : sizeof static_buffer;
    return cap + args->skew <= sizeof static_buffer && make_over(inst, static_buffer + args->skew, cap, false);
}

static bool make_heap(desc_instance *inst, const desc_args *args)
{
    size_t cap = 0;
    void *buf = desc_take_buffer(inst, args, BUMP_DEFAULT_CAP, &cap);
    return make_over(inst, buf, cap, false);
}

static bool make_threadsafe(desc_instance *inst, const desc_args *args)
{
    size_t cap = 0;
    void *buf = desc_take_buffer(inst, args, BUMP_DEFAULT_CAP, &cap);
    return make_over(inst, buf, cap, true);
}

DESC_STATE_OPS(bump, alloc_bump, alloc_bump_deinit, alloc_bump_check, alloc_bump_stats)
DESC_RESET_OP(bump, alloc_bump, alloc_bump_reset)
DESC_MARK_OPS(bump, alloc_bump, alloc_bump_mark, alloc_bump_save, alloc_bump_rollback)

#define BUMP_DESCRIPTOR(ident, desc_name, maker, misuse)                                           \
    DESCRIPTOR(ident, {                                                                            \
        .name = desc_name,                                                                         \
        .caps = DESC_LIFO_ONLY | DESC_FIXED_CAPACITY | (misuse),                                   \
        .max_align = 4096, .max_len = (size_t)256 << 10, .max_live = (size_t)512 << 10,            \
        .state_size = sizeof(alloc_bump),                                                          \
        .make = maker, .deinit = bump_deinit, .check = bump_check, .stats = bump_stats,            \
        .reset = bump_reset, .save = bump_save, .restore = bump_restore,                           \
    })

/* The checked handle reports misuse in debug builds; the thread-safe one does not check. */
#define BUMP_MISUSE DESC_IN_DEBUG(DESC_DETECTS_DOUBLE_FREE | DESC_DETECTS_FOREIGN_FREE)

BUMP_DESCRIPTOR(desc_bump_static, "bump/static-buffer", make_static, BUMP_MISUSE)
BUMP_DESCRIPTOR(desc_bump_heap, "bump/heap-buffer", make_heap, BUMP_MISUSE)
BUMP_DESCRIPTOR(desc_bump_threadsafe, "bump/threadsafe", make_threadsafe, 0)
