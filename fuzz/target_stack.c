/*
 * Fuzz target: the LIFO stack allocator, over a fixed buffer (NULL allowed)
 * or chunks from pages (small first chunks, so pushes cross chunk edges and
 * remap moves the top block into new chunks); markers and resets throughout.
 * LIFO streams only: out-of-order frees are misuse in every build.
 */
#include "alloc/stack.h"
#include "driver.h"

DESC_DECLARE(desc_stack_pages)
DESC_DECLARE(desc_stack_buffer)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const alloc_stack_options defaults = {0};
    static const alloc_stack_options small_chunks = {.first_chunk = 256, .max_chunk = 1u << 16};
    enum { BUFFER = 1u << 18 };
    switch (variant % 4) {
    case 0: return desc_make(&desc_stack_pages, &inst->d, &(desc_args){.options = &defaults});
    case 1: return desc_make(&desc_stack_pages, &inst->d, &(desc_args){.options = &small_chunks});
    case 2: {
        /* An unaligned start too. The end stays 8-aligned: with an end inside
         * an ASan granule, alloc_stack_check fails under clang's ASan once the
         * top comes within 8 bytes of it (the granule cannot be poisoned), a
         * finding reported to the stack allocator's owner. */
        size_t skew = (variant & 4) ? 3 : 0;
        inst->flags |= FUZZ_MAY_FAIL;
        return desc_make(&desc_stack_buffer, &inst->d, &(desc_args){.capacity = BUFFER - 8 - skew, .skew = skew});
    }
    default:
        inst->flags |= FUZZ_MAY_FAIL;
        return desc_make(&desc_stack_buffer, &inst->d, &(desc_args){.capacity = 2048});
    }
}

const fuzz_target fuzz_this_target = {
    .name = "stack", .flags = FUZZ_LIFO, .max_align = 4096, .max_len = 65536, .make = make,
};
