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

DESC_DECLARE(desc_freelist_pages_tlsf)
DESC_DECLARE(desc_freelist_fixed_tlsf)

static bool make(fuzz_instance *inst, uint8_t variant)
{
    static const alloc_freelist_policy policies[] = {ALLOC_FREELIST_TLSF, ALLOC_FREELIST_FIRST_FIT,
                                                     ALLOC_FREELIST_BEST_FIT};
    enum { BUFFER = 1u << 18 };
    alloc_freelist_config c = {0};
    c.policy = policies[variant % 3];
    desc_args args = {.options = &c};
    const descriptor *d = &desc_freelist_pages_tlsf; /* the policy comes from c */
    c.no_cache = (variant & 128) != 0;
    inst->extra[0] = 0;
    switch ((variant / 3) % 6) {
    case 0: break; /* defaults: grows from the page allocator */
    case 1: c.region_size = 8192; c.retain_bytes = 1; break;
    case 2:
        args.skew = variant & 64 ? 3 : 0; /* an unaligned buffer too */
        args.capacity = BUFFER - 64;
        c.no_grow = true;
        d = &desc_freelist_fixed_tlsf;
        inst->flags |= FUZZ_MAY_FAIL;
        break;
    case 3:
        args.capacity = 4096; /* a first buffer, then regions */
        c.region_size = 16384;
        break;
    case 4: c.region_size = 16384; c.retain_bytes = 1; break; /* large blocks from 4 KiB, purge from 16 KiB */
    default:
        c.region_size = 32768;
        c.retain_bytes = 65536;
        inst->extra[0] = 1; /* trim now and then */
        break;
    }
    return desc_make(d, &inst->d, &args);
}

/* trim must keep every live block's contents (the driver verifies them)
 * and leave the invariants intact (the descriptor's checker runs next). */
static bool trim_now_and_then(fuzz_instance *inst)
{
    if (inst->extra[0] && ++inst->extra[1] % 16 == 0) alloc_freelist_trim(inst->d.state);
    return true;
}

const fuzz_target fuzz_this_target = {
    .name = "freelist", .max_align = 4096, .max_len = 65536, .make = make, .check = trim_now_and_then,
};
