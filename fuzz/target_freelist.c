/*
 * Fuzz target: the free-list heap, every policy (TLSF, first fit, best fit),
 * growing from pages with small regions (so requests span region sizes and
 * empty regions come and go) or fixed in a caller's buffer (NULL allowed).
 * Small region sizes scale the large-block and purge thresholds down, so the
 * fuzzer's requests (at most 64 KiB) reach every growth path: blocks moved
 * into regions of their own, regions extended by mremap (moving), unlisted
 * tails, growing backwards, purging free pages; one variant also runs
 * alloc_freelist_trim before every 16th check. TLSF heaps run with the
 * small-block cache (freed blocks of up to 4 KiB wait for a request of their
 * exact size; a failing search and trim flush it; the checker counts every
 * cached block), except when the variant's top bit asks for no_cache.
 */
#include "alloc/freelist.h"
#include "driver.h"

static alloc_freelist heap;
static _Alignas(64) unsigned char buffer[1u << 18];

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const alloc_freelist_policy policies[] = {ALLOC_FREELIST_TLSF, ALLOC_FREELIST_FIRST_FIT,
                                                     ALLOC_FREELIST_BEST_FIT};
    alloc_freelist_config c = {0};
    c.policy = policies[variant % 3];
    c.no_cache = (variant & 128) != 0;
    inst->extra[0] = 0;
    switch ((variant / 3) % 6) {
    case 0: break; /* defaults: grows from the page allocator */
    case 1: c.region_size = 8192; c.retain_bytes = 1; break;
    case 2:
        c.buffer = buffer + (variant & 64 ? 3 : 0); /* an unaligned buffer too */
        c.buffer_size = sizeof buffer - 64;
        c.no_grow = true;
        inst->flags |= FUZZ_MAY_FAIL;
        break;
    case 3:
        c.buffer = buffer;
        c.buffer_size = 4096;
        c.region_size = 16384;
        break;
    case 4: c.region_size = 16384; c.retain_bytes = 1; break; /* large blocks from 4 KiB, purge from 16 KiB */
    default:
        c.region_size = 32768;
        c.retain_bytes = 65536;
        inst->extra[0] = 1; /* trim now and then */
        break;
    }
    if (alloc_freelist_init(&heap, &c) != 0) return false;
    inst->a = alloc_freelist_allocator(&heap);
    return true;
}

static void destroy(fuzz_instance *inst)
{
    (void)inst;
    alloc_freelist_deinit(&heap);
}

static bool check(fuzz_instance *inst)
{
    /* trim must keep every live block's contents (the driver verifies them)
     * and leave the invariants intact. */
    if (inst->extra[0] && ++inst->extra[1] % 16 == 0) alloc_freelist_trim(&heap);
    return alloc_freelist_check(&heap);
}

static bool stats(fuzz_instance *inst, alloc_stats *s)
{
    (void)inst;
    alloc_freelist_stats(&heap, s);
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "freelist", .max_align = 4096, .max_len = 65536,
    .make = make, .destroy = destroy, .check = check, .stats = stats,
};
