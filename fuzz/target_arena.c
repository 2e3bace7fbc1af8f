/*
 * Fuzz target: the arena (chunks from pages, small chunks and a low large
 * threshold in some variants so requests cross chunk edges and large blocks
 * get chunks of their own), frees in any order, savepoints and the three
 * reset modes.
 */
#include "alloc/arena.h"
#include "driver.h"

DESC_DECLARE(desc_arena_pages)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    alloc_arena_options o = {0};
    switch (variant % 4) {
    case 0: break;
    case 1: o.first_chunk = 256; o.max_chunk = 1u << 16; o.large_threshold = 1024; break;
    case 2: o.first_chunk = 4096; o.growth_percent = 150; o.large_threshold = 8192; break;
    default: o.first_chunk = 1024; o.max_chunk = 8192; o.large_threshold = 4096; break;
    }
    static const alloc_arena_reset_mode modes[] = {ALLOC_ARENA_FREE_ALL, ALLOC_ARENA_RETAIN_CAPACITY,
                                                   ALLOC_ARENA_RETAIN_LIMIT};
    desc_args args = {.options = &o, .reset_mode = (unsigned)modes[(variant >> 2) % 3] + 1};
    return desc_make(&desc_arena_pages, &inst->d, &args);
}

const fuzz_target fuzz_this_target = {
    .name = "arena", .max_align = 4096, .max_len = 65536, .make = make,
};
