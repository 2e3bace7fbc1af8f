/* Fuzz target: the page allocator (one mapping per block, mremap on remap). */
#include "driver.h"

static bool make(fuzz_instance *inst, uint8_t variant)
{
    (void)variant;
    return desc_make(&desc_page, &inst->d, NULL);
}

const fuzz_target fuzz_this_target = {
    .name = "page", .max_align = 4096, .max_len = 65536, .make = make,
};
