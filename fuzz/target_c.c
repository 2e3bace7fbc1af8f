/* Fuzz target: the C library's malloc behind the handle. */
#include "alloc/c_allocator.h"
#include "driver.h"

static bool make(fuzz_instance *inst, uint8_t variant)
{
    (void)variant;
    inst->a = alloc_c_allocator();
    return true;
}

static void destroy(fuzz_instance *inst) { (void)inst; }

const fuzz_target fuzz_this_target = {
    .name = "c", .max_align = 4096, .max_len = 65536, .make = make, .destroy = destroy,
};
