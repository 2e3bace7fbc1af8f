/* Fuzz target: the C library's malloc behind the handle. */
#include "driver.h"

static bool make(fuzz_instance *inst, uint8_t variant)
{
    (void)variant;
    return desc_make(&desc_c, &inst->d, NULL);
}

const fuzz_target fuzz_this_target = {
    .name = "c", .max_align = 4096, .max_len = 65536, .make = make,
};
