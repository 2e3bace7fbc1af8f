/* test_freelist.c: the free-list heap's own tests (the shared suite covers the
 * vtable contract): coalescing, splitting, policies, alignment, regions and
 * hysteresis, exhaustion, walker, stats, misuse and corruption detection, and
 * a random workload against a shadow model with the checker after every step. */
#define _DEFAULT_SOURCE /* mincore */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/diag.h"
#include "alloc/freelist.h"
#include "alloc/page.h"
#include "core/track.h"

static const alloc_freelist_policy policies[] = {ALLOC_FREELIST_TLSF, ALLOC_FREELIST_FIRST_FIT,
                                                 ALLOC_FREELIST_BEST_FIT};
#define NPOLICIES (sizeof policies / sizeof policies[0])

static _Alignas(16) unsigned char buffer[1 << 20];

/* A heap fixed in the buffer. cached: with the small-block cache (the
 * default); the tests of merging, splitting and placement turn it off so that
 * a free reaches the size classes at once. */
static void fixed_heap_with(alloc_freelist *h, alloc_freelist_policy policy, size_t size, bool cached)
{
    alloc_freelist_config c = {
        .policy = policy, .buffer = buffer, .buffer_size = size, .no_grow = true, .no_cache = !cached};
    cr_assert_eq(alloc_freelist_init(h, &c), 0);
    cr_assert(alloc_freelist_check(h));
}

static void fixed_heap(alloc_freelist *h, alloc_freelist_policy policy, size_t size)
{
    fixed_heap_with(h, policy, size, false);
}

static alloc_freelist_info info(const alloc_freelist *h)
{
    alloc_freelist_info i;
    alloc_freelist_heap_info(h, &i);
    return i;
}

#define CHECK(h) cr_assert(alloc_freelist_check(h), "invariants broken at line %d", __LINE__)

Test(freelist, init_rejects_bad_config)
{
    alloc_freelist h;
    alloc_freelist_config c = {.policy = (alloc_freelist_policy)7};
    cr_assert_eq(alloc_freelist_init(&h, &c), -EINVAL);
    c = (alloc_freelist_config){.buffer = buffer, .buffer_size = ALLOC_FREELIST_MIN_BUFFER - 1};
    cr_assert_eq(alloc_freelist_init(&h, &c), -EINVAL);
    c = (alloc_freelist_config){.buffer_size = 4096};
    cr_assert_eq(alloc_freelist_init(&h, &c), -EINVAL);
    c = (alloc_freelist_config){.no_grow = true};
    cr_assert_eq(alloc_freelist_init(&h, &c), -EINVAL);
    c = (alloc_freelist_config){.region_size = SIZE_MAX};
    cr_assert_eq(alloc_freelist_init(&h, &c), -EINVAL);
    /* The smallest buffer works and serves one minimum block. */
    c = (alloc_freelist_config){.buffer = buffer + 3, .buffer_size = ALLOC_FREELIST_MIN_BUFFER, .no_grow = true};
    cr_assert_eq(alloc_freelist_init(&h, &c), 0);
    allocator a = alloc_freelist_allocator(&h);
    void *p = alloc_bytes(a, ALLOC_FREELIST_MIN_BLOCK - ALLOC_FREELIST_HEADER, 16);
    cr_assert_not_null(p);
    CHECK(&h);
    alloc_free(a, p, ALLOC_FREELIST_MIN_BLOCK - ALLOC_FREELIST_HEADER, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
    cr_assert_str_eq(alloc_freelist_policy_name(ALLOC_FREELIST_TLSF), "tlsf");
    cr_assert_str_eq(alloc_freelist_policy_name(ALLOC_FREELIST_BEST_FIT), "best-fit");
}

/* Free in every order of three neighbours ends in one free block. */
Test(freelist, coalesces_both_neighbours)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        for (int o = 0; o < 6; o++) {
            alloc_freelist h;
            fixed_heap(&h, policies[pi], 64 << 10);
            allocator a = alloc_freelist_allocator(&h);
            size_t before = info(&h).free_bytes;
            void *p[4];
            for (int i = 0; i < 4; i++) p[i] = alloc_bytes(a, 100, 16);
            CHECK(&h);
            for (int i = 0; i < 3; i++) {
                alloc_free(a, p[orders[o][i]], 100, 16);
                CHECK(&h);
            }
            alloc_freelist_info in = info(&h);
            /* p[3] still separates the merged block from the rest. */
            cr_assert_eq(in.free_blocks, 2, "policy %zu order %d: %zu free blocks", pi, o, in.free_blocks);
            alloc_free(a, p[3], 100, 16);
            CHECK(&h);
            in = info(&h);
            cr_assert_eq(in.free_blocks, 1);
            cr_assert_eq(in.free_bytes, before);
            cr_assert_eq(in.largest_free, before);
            cr_assert_float_eq(in.fragmentation, 0.0, 1e-12);
            alloc_freelist_deinit(&h);
        }
    }
}

Test(freelist, splits_and_reuses_exactly)
{
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_TLSF, 64 << 10);
    allocator a = alloc_freelist_allocator(&h);
    size_t total = info(&h).free_bytes;
    char *p = alloc_bytes(a, 24, 16);
    cr_assert_not_null(p);
    /* 24 bytes + 8 header = the minimum block, split off the one free block. */
    alloc_freelist_info in = info(&h);
    cr_assert_eq(in.free_bytes, total - ALLOC_FREELIST_MIN_BLOCK);
    cr_assert_eq(in.overhead_bytes, ALLOC_FREELIST_HEADER);
    cr_assert_eq(alloc_freelist_usable_size(&h, p), 24);
    char *q = alloc_bytes(a, 40, 16);
    cr_assert_eq(q, p + ALLOC_FREELIST_MIN_BLOCK, "blocks are carved back to back");
    cr_assert_eq(alloc_freelist_usable_size(&h, q), 40);
    alloc_free(a, p, 24, 16);
    char *r = alloc_bytes(a, 20, 16);
    cr_assert_eq(r, p, "the freed block is reused");
    alloc_free(a, r, 20, 16);
    alloc_free(a, q, 40, 16);
    CHECK(&h);
    cr_assert_eq(info(&h).free_bytes, total);
    alloc_freelist_deinit(&h);
}

Test(freelist, policies_pick_their_block)
{
    /* Holes: a 512-byte one at a low address, a 64-byte one higher up. */
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        alloc_freelist h;
        fixed_heap(&h, policies[pi], 64 << 10);
        allocator a = alloc_freelist_allocator(&h);
        char *big = alloc_bytes(a, 504, 16);
        void *sep1 = alloc_bytes(a, 8, 16);
        char *small = alloc_bytes(a, 56, 16);
        void *sep2 = alloc_bytes(a, 8, 16);
        alloc_free(a, big, 504, 16);
        alloc_free(a, small, 56, 16);
        CHECK(&h);
        char *p = alloc_bytes(a, 40, 16);
        if (policies[pi] == ALLOC_FREELIST_FIRST_FIT)
            cr_assert_eq(p, big, "first fit takes the lowest hole");
        else
            cr_assert_eq(p, small, "%s takes the smallest hole", alloc_freelist_policy_name(policies[pi]));
        CHECK(&h);
        alloc_free(a, p, 40, 16);
        alloc_free(a, sep1, 8, 16);
        alloc_free(a, sep2, 8, 16);
        CHECK(&h);
        cr_assert_eq(info(&h).free_blocks, 1);
        alloc_freelist_deinit(&h);
    }
}

Test(freelist, alignment_gap_is_not_lost)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        alloc_freelist h;
        fixed_heap(&h, policies[pi], 512 << 10);
        allocator a = alloc_freelist_allocator(&h);
        size_t total = info(&h).free_bytes;
        void *ps[32];
        size_t n = 0;
        for (size_t align = 32; align <= 65536; align *= 2) {
            void *nudge = alloc_bytes(a, 8, 1); /* makes the next block start unaligned */
            cr_assert_not_null(nudge);
            ps[n++] = nudge;
            void *p = alloc_bytes(a, 100, align);
            cr_assert_not_null(p, "align %zu", align);
            cr_assert(alloc_is_aligned(p, align));
            /* Waste stays within the alignment: the gap went back to the list. */
            alloc_freelist_info in = info(&h);
            cr_assert_leq(in.overhead_bytes, n * 2 * 32, "overhead %zu at align %zu", in.overhead_bytes, align);
            ps[n++] = p;
            CHECK(&h);
        }
        for (size_t i = 0; i < n; i++) {
            size_t align = (i % 2) ? (size_t)32 << (i / 2) : 1;
            alloc_free(a, ps[i], (i % 2) ? 100 : 8, align);
            CHECK(&h);
        }
        cr_assert_eq(info(&h).free_bytes, total);
        cr_assert_eq(info(&h).free_blocks, 1);
        alloc_freelist_deinit(&h);
    }
}

Test(freelist, resize_grows_into_next_and_shrinks_by_splitting)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        alloc_freelist h;
        fixed_heap(&h, policies[pi], 64 << 10);
        allocator a = alloc_freelist_allocator(&h);
        char *p = alloc_bytes(a, 100, 16);
        char *q = alloc_bytes(a, 1000, 16);
        char *r = alloc_bytes(a, 100, 16);
        memset(p, 7, 100);
        alloc_free(a, q, 1000, 16);
        CHECK(&h);
        cr_assert(alloc_resize(a, p, 100, 16, 800), "grows into the free block after it");
        CHECK(&h);
        for (int i = 0; i < 100; i++) cr_assert_eq(p[i], 7);
        memset(p, 8, 800);
        cr_assert(!alloc_resize(a, p, 800, 16, 2000), "not enough room before r");
        CHECK(&h);
        size_t free_before = info(&h).free_bytes;
        cr_assert(alloc_resize(a, p, 800, 16, 100));
        CHECK(&h);
        cr_assert_geq(info(&h).free_bytes, free_before + 688, "the tail went back and merged");
        cr_assert_eq(info(&h).free_blocks, 2);
        /* remap moves when it must and keeps the contents */
        char *m = alloc_remap(a, p, 100, 16, 5000);
        cr_assert_not_null(m);
        cr_assert_neq(m, p);
        for (int i = 0; i < 100; i++) cr_assert_eq(m[i], 8);
        CHECK(&h);
        alloc_free(a, m, 5000, 16);
        alloc_free(a, r, 100, 16);
        CHECK(&h);
        cr_assert_eq(info(&h).free_blocks, 1);
        alloc_freelist_deinit(&h);
    }
}

Test(freelist, exhaustion_leaves_state_intact)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        alloc_freelist h;
        fixed_heap(&h, policies[pi], 4096);
        allocator a = alloc_freelist_allocator(&h);
        void *ps[256];
        size_t n = 0;
        while (n < 256 && (ps[n] = alloc_bytes(a, 40, 8)) != NULL) {
            memset(ps[n], (int)n, 40);
            n++;
        }
        cr_assert(n > 0 && n < 256);
        CHECK(&h);
        alloc_freelist_info before = info(&h);
        cr_assert_null(alloc_bytes(a, 40, 8));
        cr_assert_null(alloc_bytes(a, 4096, 8));
        cr_assert_null(alloc_bytes(a, 8, 4096));
        cr_assert(!alloc_resize(a, ps[n - 1], 40, 8, 4000));
        cr_assert_null(alloc_remap(a, ps[0], 40, 8, 4000));
        CHECK(&h);
        alloc_freelist_info after = info(&h);
        cr_assert_eq(after.free_bytes, before.free_bytes);
        cr_assert_eq(after.free_blocks, before.free_blocks);
        cr_assert_eq(after.base.bytes_in_use, before.base.bytes_in_use);
        cr_assert_eq(after.base.failed_count, before.base.failed_count + 4);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < 40; j++) cr_assert_eq(((unsigned char *)ps[i])[j], (unsigned char)i);
        for (size_t i = 0; i < n; i += 2) alloc_free(a, ps[i], 40, 8);
        for (size_t i = 1; i < n; i += 2) alloc_free(a, ps[i], 40, 8);
        CHECK(&h);
        cr_assert_eq(info(&h).free_blocks, 1);
        cr_assert_eq(info(&h).base.bytes_in_use, 0);
        alloc_freelist_deinit(&h);
    }
}

/* A backing allocator that counts what it hands out (over the page allocator). */
typedef struct counting {
    allocator inner;
    size_t allocs, frees, live_bytes;
} counting;

static void *count_alloc(void *ctx, size_t len, size_t align, uintptr_t ra)
{
    counting *c = ctx;
    void *p = c->inner.vtable->alloc(c->inner.ctx, len, align, ra);
    if (p) c->allocs++, c->live_bytes += len;
    return p;
}

static void count_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ra)
{
    counting *c = ctx;
    c->frees++;
    c->live_bytes -= len;
    c->inner.vtable->free(c->inner.ctx, mem, len, align, ra);
}

static const alloc_vtable counting_vtable = {count_alloc, alloc_no_resize, alloc_no_remap, count_free};

Test(freelist, regions_go_back_with_hysteresis)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        counting c = {alloc_page_allocator(), 0, 0, 0};
        alloc_freelist h;
        alloc_freelist_config cfg = {.policy = policies[pi], .backing = {&c, &counting_vtable}, .region_size = 64 << 10};
        cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
        allocator a = alloc_freelist_allocator(&h);
        cr_assert_eq(c.allocs, 0, "init takes nothing");
        /* ~4 MiB in 40 KiB blocks: one block per 64 KiB region. */
        void *ps[100];
        for (int i = 0; i < 100; i++) {
            ps[i] = alloc_bytes(a, 40 << 10, 16);
            cr_assert_not_null(ps[i]);
        }
        CHECK(&h);
        alloc_stats s;
        alloc_freelist_stats(&h, &s);
        cr_assert_geq(s.bytes_reserved, (size_t)4000 << 10);
        cr_assert_eq(s.bytes_reserved, c.live_bytes);
        cr_assert_eq(info(&h).region_count, c.allocs);
        for (int i = 0; i < 100; i++) {
            alloc_free(a, ps[i], 40 << 10, 16);
            CHECK(&h);
        }
        alloc_freelist_stats(&h, &s);
        /* Everything went back except one region kept for reuse. */
        cr_assert_leq(s.bytes_reserved, (size_t)64 << 10, "reserved %zu after free-all", s.bytes_reserved);
        cr_assert_eq(s.bytes_reserved, c.live_bytes);
        cr_assert_eq(info(&h).retained_bytes, s.bytes_reserved);
        cr_assert_geq(s.peak_bytes_reserved, (size_t)4000 << 10);
        /* Hysteresis: a loop that needs one region reuses the kept one. */
        size_t allocs = c.allocs;
        for (int i = 0; i < 50; i++) {
            void *p = alloc_bytes(a, 40 << 10, 16);
            cr_assert_not_null(p);
            CHECK(&h);
            alloc_free(a, p, 40 << 10, 16);
            CHECK(&h);
        }
        cr_assert_eq(c.allocs, allocs, "grow/shrink loop went to the backing allocator");
        /* A block larger than a region gets its own region, not kept. */
        void *big = alloc_bytes(a, 1 << 20, 16);
        cr_assert_not_null(big);
        alloc_free(a, big, 1 << 20, 16);
        CHECK(&h);
        cr_assert_leq(c.live_bytes, (size_t)64 << 10);
        cr_assert_eq(alloc_freelist_trim(&h), (size_t)64 << 10);
        cr_assert_eq(c.live_bytes, 0);
        CHECK(&h);
        alloc_freelist_deinit(&h);
        cr_assert_eq(c.allocs, c.frees);
    }
}

/* A backing allocator over the page allocator that counts its resizes and
 * remaps too (remap is mremap underneath: pages move, bytes are not copied). */
typedef struct remap_counting {
    counting base;
    size_t resizes, remaps;
} remap_counting;

static bool rc_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ra)
{
    remap_counting *c = ctx;
    if (!c->base.inner.vtable->resize(c->base.inner.ctx, mem, len, align, new_len, ra)) return false;
    c->resizes++;
    c->base.live_bytes += new_len - len;
    return true;
}

static void *rc_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ra)
{
    remap_counting *c = ctx;
    void *p = c->base.inner.vtable->remap(c->base.inner.ctx, mem, len, align, new_len, ra);
    if (p) c->remaps++, c->base.live_bytes += new_len - len;
    return p;
}

static const alloc_vtable remap_counting_vtable = {count_alloc, rc_resize, rc_remap, count_free};

/* Grows one block by 16 bytes at a time to 4 MiB through alloc_realloc while
 * a small block is pinned after it every 64 KiB of growth (so growing in
 * place keeps failing in shared space). Counts the moves that copied: the
 * address changed without a backing remap in that step. */
static void grow_by_steps(alloc_freelist_policy policy, size_t *copies, size_t *remaps, size_t *regions)
{
    remap_counting c = {{alloc_page_allocator(), 0, 0, 0}, 0, 0};
    alloc_freelist h;
    alloc_freelist_config cfg = {.policy = policy, .backing = {&c, &remap_counting_vtable}};
    cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
    allocator a = alloc_freelist_allocator(&h);
    enum { PINS = 64 };
    void *pins[PINS];
    size_t npins = 0;
    size_t len = 16;
    unsigned char *p = alloc_bytes(a, len, 16);
    cr_assert_not_null(p);
    p[0] = 0x5A;
    *copies = 0;
    while (len < ((size_t)4 << 20)) {
        size_t before = c.remaps;
        unsigned char *q = alloc_realloc(a, p, len, 16, len + 16);
        cr_assert_not_null(q);
        if (q != p && c.remaps == before) ++*copies;
        cr_assert_eq(q[0], 0x5A, "contents lost at %zu bytes", len);
        q[len] = (unsigned char)len; /* the new bytes are writable */
        p = q;
        len += 16;
        if (len % (64 << 10) == 0 && npins < PINS) {
            pins[npins] = alloc_bytes(a, 32, 16);
            cr_assert_not_null(pins[npins]);
            npins++;
            if (npins % 8 == 0) CHECK(&h);
        }
    }
    CHECK(&h);
    *remaps = c.remaps + c.resizes;
    *regions = c.base.allocs;
    alloc_free(a, p, len, 16);
    for (size_t i = 0; i < npins; i++) alloc_free(a, pins[i], 32, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
    cr_assert_eq(c.base.live_bytes, 0);
}

Test(freelist, large_growth_does_not_copy_again_and_again)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        size_t copies, remaps, regions;
        grow_by_steps(policies[pi], &copies, &remaps, &regions);
        /* Before: one copy per page of growth past the region size (~1000
         * to 4 MiB). Now copies happen only below the large-block size, and
         * the own region grows by half each time: O(log n) backing calls. */
        cr_log_info("%s: %zu copies, %zu remaps, %zu regions", alloc_freelist_policy_name(policies[pi]), copies,
                    remaps, regions);
        cr_assert_leq(copies, 3, "%zu copying moves", copies);
        cr_assert_leq(remaps, 16, "%zu backing remaps", remaps);
        cr_assert_leq(regions, 3, "%zu regions", regions);
    }
}

/* A backing allocator without resize or remap: the large block still grows
 * in amortised O(1), copying only when its own region (1.5x its size) is
 * full: O(log n) copies, not one per page. */
Test(freelist, large_growth_without_backing_remap_is_geometric)
{
    counting c = {alloc_page_allocator(), 0, 0, 0};
    alloc_freelist h;
    alloc_freelist_config cfg = {.backing = {&c, &counting_vtable}};
    cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
    allocator a = alloc_freelist_allocator(&h);
    size_t len = 16, copies = 0;
    unsigned char *p = alloc_bytes(a, len, 16);
    cr_assert_not_null(p);
    p[0] = 0x77;
    void *pin = NULL;
    while (len < ((size_t)4 << 20)) {
        unsigned char *q = alloc_realloc(a, p, len, 16, len + 16);
        cr_assert_not_null(q);
        if (q != p) copies++;
        if (!pin) pin = alloc_bytes(a, 32, 16); /* a neighbour, so the first region is not the block's alone */
        cr_assert_eq(q[0], 0x77);
        p = q;
        len += 16;
    }
    CHECK(&h);
    cr_log_info("no backing remap: %zu copies, %zu regions", copies, c.allocs);
    cr_assert_leq(copies, 12, "%zu copies", copies);
    cr_assert_leq(c.allocs, 12, "%zu regions", c.allocs);
    alloc_free(a, p, len, 16);
    alloc_free(a, pin, 32, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
    cr_assert_eq(c.live_bytes, 0);
}

/* resize never moves, but a block alone in its region still grows in place
 * when the backing allocator can extend the region there. */
Test(freelist, resize_extends_a_sole_region_in_place)
{
    remap_counting c = {{alloc_page_allocator(), 0, 0, 0}, 0, 0};
    alloc_freelist h;
    alloc_freelist_config cfg = {.backing = {&c, &remap_counting_vtable}, .region_size = 64 << 10};
    cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
    allocator a = alloc_freelist_allocator(&h);
    size_t len = 60 << 10;
    char *p = alloc_bytes(a, len, 16);
    cr_assert_not_null(p);
    /* Whether the pages after the region are free is up to the kernel; when
     * they are, the block grows there. Either way the heap stays sound. */
    if (alloc_resize(a, p, len, 16, (size_t)1 << 20)) {
        cr_assert_eq(c.resizes, 1);
        len = (size_t)1 << 20;
        memset(p, 1, len);
    } else {
        cr_assert_eq(c.resizes, 0);
    }
    CHECK(&h);
    alloc_free(a, p, len, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
    cr_assert_eq(c.base.live_bytes, 0);
}

/* Point 4: a block that cannot grow forward slides into the free block
 * before it (one memmove) instead of taking a new block. */
Test(freelist, grows_backwards_into_a_free_predecessor)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        alloc_freelist h;
        fixed_heap(&h, policies[pi], 64 << 10);
        allocator a = alloc_freelist_allocator(&h);
        char *x = alloc_bytes(a, 1000, 16);
        char *y = alloc_bytes(a, 200, 16);
        char *z = alloc_bytes(a, 100, 16);
        cr_assert(x && y && z);
        for (int i = 0; i < 200; i++) y[i] = (char)i;
        alloc_free(a, x, 1000, 16);
        CHECK(&h);
        alloc_stats before;
        alloc_freelist_stats(&h, &before);
        char *q = alloc_remap(a, y, 200, 16, 900);
        cr_assert_eq(q, x, "did not slide into the free predecessor");
        for (int i = 0; i < 200; i++) cr_assert_eq(q[i], (char)i);
        memset(q + 200, 7, 700);
        CHECK(&h);
        alloc_freelist_info in = info(&h);
        cr_assert_eq(in.used_blocks, 2);
        alloc_free(a, q, 900, 16);
        alloc_free(a, z, 100, 16);
        CHECK(&h);
        cr_assert_eq(info(&h).free_blocks, 1);
        alloc_freelist_deinit(&h);
    }
}

/* Resident pages of [p, p + len), by mincore. */
static size_t resident_pages(const void *p, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)p + len + page - 1) & ~(uintptr_t)(page - 1);
    size_t n = (size_t)(hi - lo) / page;
    unsigned char vec[1024];
    cr_assert_leq(n, sizeof vec);
    cr_assert_eq(mincore((void *)lo, hi - lo, vec), 0, "mincore: %s", strerror(errno));
    size_t r = 0;
    for (size_t i = 0; i < n; i++) r += vec[i] & 1;
    return r;
}

enum { SHRUNK = 200, BIG = 256 << 10 };

/* Point 2: 256 KiB blocks shrunk to 64 B give their pages back once the
 * heap's free space passes retain_bytes (the default here: 256 KiB). */
Test(freelist, shrunk_blocks_give_their_pages_back)
{
    static char *ps[SHRUNK];
    alloc_freelist h;
    cr_assert_eq(alloc_freelist_init(&h, NULL), 0);
    allocator a = alloc_freelist_allocator(&h);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < SHRUNK; i++) {
        ps[i] = alloc_bytes(a, BIG, 16);
        cr_assert_not_null(ps[i]);
        memset(ps[i], 0x33, BIG);
    }
    size_t before = 0, after = 0;
    for (int i = 0; i < SHRUNK; i++) before += resident_pages(ps[i], BIG);
    cr_assert_geq(before, SHRUNK * (BIG / page) * 9 / 10, "the blocks were written: %zu pages", before);
    for (int i = 0; i < SHRUNK; i++) {
        cr_assert(alloc_resize(a, ps[i], BIG, 16, 64));
        cr_assert_eq(ps[i][63], 0x33);
    }
    CHECK(&h);
    for (int i = 0; i < SHRUNK; i++) after += resident_pages(ps[i], BIG);
    /* Each keeps the page of its 64 bytes and of the free tail's links and
     * footer; the first few tails stay while free space is under retain. */
    cr_assert_leq(after, SHRUNK * 3 + (256 << 10) / page + 64, "%zu of %zu pages still resident", after, before);
    cr_assert_geq(info(&h).purged_bytes, (size_t)(SHRUNK - 2) * (BIG - 2 * page));
    for (int i = 0; i < SHRUNK; i++) alloc_free(a, ps[i], 64, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
}

/* The hysteresis: while free space stays under retain_bytes nothing is
 * purged (a loop that frees and retakes a large block does not fault the
 * same pages again); alloc_freelist_trim purges everything it can. */
Test(freelist, purge_waits_for_retain_bytes_and_trim_purges_all)
{
    enum { N = 8 };
    char *ps[N];
    alloc_freelist h;
    alloc_freelist_config cfg = {.region_size = 8u << 20, .retain_bytes = 32u << 20};
    cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
    allocator a = alloc_freelist_allocator(&h);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < N; i++) {
        ps[i] = alloc_bytes(a, BIG, 16);
        cr_assert_not_null(ps[i]);
        memset(ps[i], 0x44, BIG);
    }
    for (int i = 0; i < N; i++) cr_assert(alloc_resize(a, ps[i], BIG, 16, 64));
    size_t kept = 0;
    for (int i = 0; i < N; i++) kept += resident_pages(ps[i], BIG);
    cr_assert_geq(kept, N * (BIG / page) * 9 / 10, "purged under retain_bytes: %zu pages left", kept);
    cr_assert_eq(info(&h).purged_bytes, 0);
    /* Churn on one large block: still nothing purged. */
    for (int i = 0; i < 100; i++) {
        void *p = alloc_bytes(a, BIG, 16);
        cr_assert_not_null(p);
        alloc_free(a, p, BIG, 16);
    }
    cr_assert_eq(info(&h).purged_bytes, 0);
    alloc_freelist_trim(&h);
    CHECK(&h);
    size_t left = 0;
    for (int i = 0; i < N; i++) left += resident_pages(ps[i], BIG);
    cr_assert_leq(left, N * 3, "%zu pages resident after trim", left);
    cr_assert_gt(info(&h).purged_bytes, 0);
    for (int i = 0; i < N; i++) cr_assert_eq(ps[i][0], 0x44);
    for (int i = 0; i < N; i++) alloc_free(a, ps[i], 64, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
}

Test(freelist, deinit_returns_everything)
{
    counting c = {alloc_page_allocator(), 0, 0, 0};
    alloc_freelist h;
    alloc_freelist_config cfg = {.backing = {&c, &counting_vtable}, .region_size = 64 << 10,
                                 .buffer = buffer, .buffer_size = 8192};
    cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
    allocator a = alloc_freelist_allocator(&h);
    for (int i = 0; i < 20; i++) cr_assert_not_null(alloc_bytes(a, 30000, 64)); /* leaked on purpose */
    CHECK(&h);
    cr_assert_gt(c.allocs, 1);
    alloc_freelist_deinit(&h);
    cr_assert_eq(c.live_bytes, 0);
    cr_assert_eq(c.allocs, c.frees);
    memset(buffer, 0, 8192); /* the caller's buffer is the caller's again */
}

Test(freelist, large_alignment_on_pages)
{
    alloc_freelist h;
    cr_assert_eq(alloc_freelist_init(&h, NULL), 0);
    allocator a = alloc_freelist_allocator(&h);
    for (size_t align = 4096; align <= ((size_t)4 << 20); align *= 4) {
        char *p = alloc_bytes(a, 5000, align);
        cr_assert_not_null(p);
        cr_assert(alloc_is_aligned(p, align));
        memset(p, 1, 5000);
        CHECK(&h);
        alloc_free(a, p, 5000, align);
        CHECK(&h);
    }
    alloc_freelist_deinit(&h);
}

Test(freelist, add_buffer_and_owns)
{
    static _Alignas(16) unsigned char second[8192];
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_TLSF, 8192);
    cr_assert_eq(alloc_freelist_add_buffer(&h, second, 100), -EINVAL);
    cr_assert_eq(alloc_freelist_add_buffer(&h, second, sizeof second), 0);
    CHECK(&h);
    cr_assert_eq(info(&h).region_count, 2);
    allocator a = alloc_freelist_allocator(&h);
    void *p = alloc_bytes(a, 6000, 16), *q = alloc_bytes(a, 6000, 16);
    cr_assert(p && q);
    cr_assert(alloc_freelist_owns(&h, p) && alloc_freelist_owns(&h, q));
    bool p_in_second = (unsigned char *)p >= second && (unsigned char *)p < second + sizeof second;
    bool q_in_second = (unsigned char *)q >= second && (unsigned char *)q < second + sizeof second;
    cr_assert(p_in_second != q_in_second, "one block per buffer");
    int local;
    cr_assert(!alloc_freelist_owns(&h, &local));
    alloc_free(a, p, 6000, 16);
    alloc_free(a, q, 6000, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
}

Test(freelist, usable_size_and_unsized_free)
{
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_TLSF, 64 << 10);
    allocator a = alloc_freelist_allocator(&h);
    for (size_t len = 1; len < 600; len += 37) {
        void *p = alloc_bytes(a, len, 16);
        size_t u = alloc_freelist_usable_size(&h, p);
        cr_assert_geq(u, len);
        cr_assert_leq(u, len + 23, "usable %zu for len %zu", u, len);
        alloc_free(a, p, len, 16);
        CHECK(&h);
        /* the whole-block form counts the usable size, so unsized frees are exact */
        unsigned char *q = alloc_freelist_alloc_usable(&h, len, 16);
        cr_assert_not_null(q);
        cr_assert_eq(alloc_freelist_usable_size(&h, q), u);
        memset(q, 1, u);
        alloc_stats s;
        alloc_freelist_stats(&h, &s);
        cr_assert_eq(s.bytes_in_use, u);
        alloc_freelist_free_unsized(&h, q, 0);
        alloc_freelist_stats(&h, &s);
        cr_assert_eq(s.bytes_in_use, 0);
        CHECK(&h);
    }
    alloc_freelist_free_unsized(&h, NULL, 0);
    cr_assert_null(alloc_freelist_alloc_usable(&h, 0, 16));
    cr_assert_null(alloc_freelist_alloc_usable(&h, 8, 3));
    /* an unsized free of a sized allocation never takes bytes_in_use below 0 */
    void *p = alloc_bytes(a, 1, 16);
    alloc_freelist_free_unsized(&h, p, 0);
    alloc_stats s;
    alloc_freelist_stats(&h, &s);
    cr_assert_eq(s.alloc_count, s.free_count);
    cr_assert_eq(s.bytes_in_use, 0);
    CHECK(&h);
    alloc_freelist_deinit(&h);
}

typedef struct walk_count {
    size_t used, free, used_bytes, visits, stop_after;
} walk_count;

static bool count_blocks(void *payload, size_t usable, bool used, void *user)
{
    walk_count *w = user;
    cr_assert(alloc_is_aligned(payload, 16));
    w->visits++;
    if (used) {
        w->used++;
        w->used_bytes += usable;
    } else {
        w->free++;
    }
    return w->visits != w->stop_after;
}

Test(freelist, walker_visits_every_block)
{
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_TLSF, 64 << 10);
    allocator a = alloc_freelist_allocator(&h);
    void *ps[10];
    for (int i = 0; i < 10; i++) ps[i] = alloc_bytes(a, 24 + 16 * (size_t)i, 16);
    for (int i = 0; i < 10; i += 3) alloc_free(a, ps[i], 24 + 16 * (size_t)i, 16);
    walk_count w = {0};
    cr_assert(alloc_freelist_walk(&h, count_blocks, &w));
    cr_assert_eq(w.used, 6);
    cr_assert_eq(w.free, info(&h).free_blocks);
    cr_assert_eq(w.free, 4 + 1 - 1); /* ps[0], ps[3], ps[6] holes and the tail; ps[9] merged into the tail */
    w = (walk_count){.stop_after = 3};
    cr_assert(!alloc_freelist_walk(&h, count_blocks, &w));
    cr_assert_eq(w.visits, 3);
    alloc_freelist_deinit(&h);
}

Test(freelist, stats_fragmentation)
{
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_BEST_FIT, 64 << 10);
    allocator a = alloc_freelist_allocator(&h);
    void *ps[64];
    for (int i = 0; i < 64; i++) ps[i] = alloc_bytes(a, 1000, 16);
    for (int i = 0; i < 64; i += 2) alloc_free(a, ps[i], 1000, 16);
    alloc_freelist_info in = info(&h);
    cr_assert_gt(in.fragmentation, 0.5, "many equal holes: largest is a small part of free");
    cr_assert_float_eq(in.fragmentation, 1.0 - (double)in.largest_free / (double)in.free_bytes, 1e-12);
    cr_assert_eq(in.used_blocks, 32);
    cr_assert_eq(in.base.bytes_in_use, 32 * 1000);
    cr_assert_eq(in.overhead_bytes, 32 * (1008 - 1000));
    for (int i = 1; i < 64; i += 2) alloc_free(a, ps[i], 1000, 16);
    in = info(&h);
    cr_assert_float_eq(in.fragmentation, 0.0, 1e-12);
    alloc_freelist_deinit(&h);
}

/* --- random workload against a shadow model -------------------------------------- */

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct live {
    unsigned char *p;
    size_t len, align;
    unsigned char tag;
} live;

static bool in_walk(void *payload, size_t usable, bool used, void *user)
{
    live *l = user;
    if (payload == l->p) {
        cr_assert(used && usable >= l->len, "walker: live block %p seen as free or short", payload);
        l->tag = 0xFF;
        return false;
    }
    return true;
}

static void verify_live(const live *l)
{
    for (size_t j = 0; j < l->len; j++)
        cr_assert_eq(l->p[j], l->tag, "block %p byte %zu clobbered", (void *)l->p, j);
}

static void random_workload(alloc_freelist_policy policy, bool fixed, uint64_t seed)
{
    enum { N = 200, OPS = 3000 };
    static live lv[N];
    memset(lv, 0, sizeof lv);
    rng = seed;
    alloc_freelist h;
    if (fixed) {
        fixed_heap_with(&h, policy, 256 << 10, true);
    } else {
        alloc_freelist_config c = {.policy = policy, .region_size = 32 << 10};
        cr_assert_eq(alloc_freelist_init(&h, &c), 0);
    }
    allocator a = alloc_freelist_allocator(&h);
    size_t in_use = 0;
    for (int op = 0; op < OPS; op++) {
        live *l = &lv[next_rand() % N];
        unsigned r = (unsigned)(next_rand() % 10);
        if (!l->p) {
            size_t len = 1 + (size_t)(next_rand() % ((next_rand() % 4) ? 256 : 8192));
            size_t align = (size_t)1 << (next_rand() % 8);
            unsigned char *p = alloc_bytes(a, len, align);
            if (!p) {
                cr_assert(fixed, "growing heap failed to allocate %zu", len);
            } else {
                cr_assert(alloc_is_aligned(p, align));
                *l = (live){p, len, align, (unsigned char)(1 + next_rand() % 250)};
                memset(p, l->tag, len);
                in_use += len;
            }
        } else if (r < 6) {
            verify_live(l);
            alloc_free(a, l->p, l->len, l->align);
            in_use -= l->len;
            l->p = NULL;
        } else {
            verify_live(l);
            size_t new_len = 1 + (size_t)(next_rand() % 4096);
            unsigned char *q = NULL;
            if (r < 8) {
                q = alloc_resize(a, l->p, l->len, l->align, new_len) ? l->p : NULL;
            } else {
                q = alloc_realloc(a, l->p, l->len, l->align, new_len);
                cr_assert(q || fixed);
            }
            if (q) {
                size_t keep = l->len < new_len ? l->len : new_len;
                for (size_t j = 0; j < keep; j++) cr_assert_eq(q[j], l->tag);
                in_use = in_use - l->len + new_len;
                l->p = q;
                l->len = new_len;
                memset(q, l->tag, new_len);
            } else {
                verify_live(l);
            }
        }
        CHECK(&h);
        alloc_stats s;
        alloc_freelist_stats(&h, &s);
        cr_assert_eq(s.bytes_in_use, in_use);
        if (op % 500 == 0) {
            for (int i = 0; i < N; i++) {
                if (!lv[i].p) continue;
                verify_live(&lv[i]);
                live probe = lv[i];
                probe.tag = 0;
                alloc_freelist_walk(&h, in_walk, &probe);
                cr_assert_eq(probe.tag, 0xFF, "walker missed live block %p", (void *)lv[i].p);
            }
        }
    }
    for (int i = 0; i < N; i++)
        if (lv[i].p) {
            verify_live(&lv[i]);
            alloc_free(a, lv[i].p, lv[i].len, lv[i].align);
            CHECK(&h);
        }
    alloc_freelist_info in = info(&h);
    cr_assert_eq(in.used_blocks, 0);
    cr_assert_eq(in.base.bytes_in_use, 0);
    /* trim flushes the cache: then everything merges. */
    alloc_freelist_trim(&h);
    CHECK(&h);
    in = info(&h);
    cr_assert_eq(in.cached_blocks, 0);
    if (fixed) cr_assert_eq(in.free_blocks, 1, "everything coalesced back");
    else cr_assert_leq(in.base.bytes_reserved, (size_t)32 << 10, "regions went back");
    alloc_freelist_deinit(&h);
}

Test(freelist, random_tlsf_fixed) { random_workload(ALLOC_FREELIST_TLSF, true, 1); }
Test(freelist, random_tlsf_pages) { random_workload(ALLOC_FREELIST_TLSF, false, 2); }
Test(freelist, random_first_fit_fixed) { random_workload(ALLOC_FREELIST_FIRST_FIT, true, 3); }
Test(freelist, random_first_fit_pages) { random_workload(ALLOC_FREELIST_FIRST_FIT, false, 4); }
Test(freelist, random_best_fit_fixed) { random_workload(ALLOC_FREELIST_BEST_FIT, true, 5); }
Test(freelist, random_best_fit_pages) { random_workload(ALLOC_FREELIST_BEST_FIT, false, 6); }

/* --- the small-block cache ------------------------------------------------------- */

Test(freelist, cache_hands_back_the_exact_block)
{
    alloc_freelist h;
    fixed_heap_with(&h, ALLOC_FREELIST_TLSF, 64 << 10, true);
    allocator a = alloc_freelist_allocator(&h);
    char *p = alloc_bytes(a, 40, 16); /* a 48-byte block */
    char *q = alloc_bytes(a, 40, 16);
    size_t free_before = info(&h).free_bytes;
    alloc_free(a, p, 40, 16);
    CHECK(&h);
    alloc_freelist_info in = info(&h);
    cr_assert_eq(in.cached_blocks, 1);
    cr_assert_eq(in.cached_bytes, 48);
    cr_assert_eq(in.free_bytes, free_before, "a cached block is not counted as free space");
    cr_assert_eq(in.used_blocks, 1);
    cr_assert_eq(in.base.bytes_in_use, 40);
    walk_count w = {0};
    cr_assert(alloc_freelist_walk(&h, count_blocks, &w));
    cr_assert_eq(w.used, 1, "the walker reports a cached block as not in use");
    cr_assert_eq(w.free, 2);
    /* Another request of the same block size takes it back; another size
     * does not. */
    char *r = alloc_bytes(a, 33, 16);
    cr_assert_eq(r, p);
    cr_assert_eq(info(&h).cached_blocks, 0);
    CHECK(&h);
    alloc_free(a, r, 33, 16);
    char *s = alloc_bytes(a, 100, 16);
    cr_assert_neq(s, p);
    cr_assert_eq(info(&h).cached_blocks, 1);
    CHECK(&h);
    alloc_free(a, s, 100, 16);
    alloc_free(a, q, 40, 16);
    cr_assert_eq(alloc_freelist_trim(&h), 0);
    CHECK(&h);
    in = info(&h);
    cr_assert_eq(in.cached_blocks, 0, "trim flushes the cache");
    cr_assert_eq(in.free_blocks, 1, "and the flushed blocks merge");
    alloc_freelist_deinit(&h);
}

Test(freelist, cache_is_bounded)
{
    alloc_freelist h;
    fixed_heap_with(&h, ALLOC_FREELIST_TLSF, sizeof buffer, true);
    allocator a = alloc_freelist_allocator(&h);
    enum { N = 300 };
    static char *ps[N];
    for (int i = 0; i < 40; i++) ps[i] = alloc_bytes(a, 100, 16);
    for (int i = 0; i < 40; i++) alloc_free(a, ps[i], 100, 16);
    CHECK(&h);
    cr_assert_eq(info(&h).cached_blocks, ALLOC_FREELIST_CACHE_DEPTH, "one size: one list, at most its depth");
    alloc_freelist_trim(&h);
    for (int i = 0; i < N; i++) cr_assert_not_null(ps[i] = alloc_bytes(a, 16 + (size_t)(i * 7919) % 4000, 16));
    for (int i = 0; i < N; i++) alloc_free(a, ps[i], 16 + (size_t)(i * 7919) % 4000, 16);
    CHECK(&h);
    alloc_freelist_info in = info(&h);
    size_t limit = in.base.bytes_reserved / 32;
    if (limit > ALLOC_FREELIST_CACHE_BYTES) limit = ALLOC_FREELIST_CACHE_BYTES;
    cr_assert_gt(in.cached_blocks, 0);
    cr_assert_leq(in.cached_blocks, ALLOC_FREELIST_CACHE_BLOCKS);
    cr_assert_leq(in.cached_bytes, limit);
    for (size_t c = 0; c < ALLOC_FREELIST_CACHE_CLASSES; c++) cr_assert_leq(h.cache_count[c], ALLOC_FREELIST_CACHE_DEPTH);
    /* Blocks above the largest cached size go straight back. */
    char *big = alloc_bytes(a, 8000, 16);
    size_t cached = info(&h).cached_blocks;
    alloc_free(a, big, 8000, 16);
    cr_assert_eq(info(&h).cached_blocks, cached);
    alloc_freelist_deinit(&h);
}

Test(freelist, cache_flushes_before_a_request_fails)
{
    alloc_freelist h;
    fixed_heap_with(&h, ALLOC_FREELIST_TLSF, 64 << 10, true);
    allocator a = alloc_freelist_allocator(&h);
    static char *ps[1024];
    size_t n = 0;
    while (n < 1024 && (ps[n] = alloc_bytes(a, 64, 16)) != NULL) n++;
    cr_assert_gt(n, 256);
    /* Cache blocks spread over the whole heap first, then free the rest:
     * the cached blocks cut the free space into pieces of a few KiB. */
    size_t step = n / ALLOC_FREELIST_CACHE_DEPTH;
    for (size_t i = 0; i < n; i += step) {
        alloc_free(a, ps[i], 64, 16);
        ps[i] = NULL;
    }
    cr_assert_gt(info(&h).cached_blocks, 1);
    for (size_t i = 0; i < n; i++)
        if (ps[i]) alloc_free(a, ps[i], 64, 16);
    CHECK(&h);
    cr_assert_gt(info(&h).free_blocks, 1);
    char *big = alloc_bytes(a, 48 << 10, 16);
    cr_assert_not_null(big, "the cache was not flushed under pressure");
    cr_assert_eq(info(&h).cached_blocks, 0);
    CHECK(&h);
    alloc_free(a, big, 48 << 10, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
}

Test(freelist, list_policies_and_no_cache_never_cache)
{
    for (size_t pi = 0; pi < NPOLICIES; pi++) {
        alloc_freelist h;
        fixed_heap_with(&h, policies[pi], 64 << 10, policies[pi] != ALLOC_FREELIST_TLSF);
        allocator a = alloc_freelist_allocator(&h);
        void *p = alloc_bytes(a, 40, 16);
        void *q = alloc_bytes(a, 40, 16);
        alloc_free(a, p, 40, 16);
        cr_assert_eq(info(&h).cached_blocks, 0);
        cr_assert_eq(info(&h).free_blocks, 2);
        alloc_free(a, q, 40, 16);
        CHECK(&h);
        alloc_freelist_deinit(&h);
    }
}

/* --- misuse and corruption ------------------------------------------------------- */

static alloc_freelist death_heap;

static allocator death_setup(void)
{
    fixed_heap_with(&death_heap, ALLOC_FREELIST_TLSF, 64 << 10, true);
    return alloc_freelist_allocator(&death_heap);
}

Test(freelist, double_unsized_free_of_a_cached_block_aborts, .signal = SIGABRT)
{
    (void)death_setup();
    void *p = alloc_freelist_alloc_usable(&death_heap, 40, 16);
    void *keep = alloc_freelist_alloc_usable(&death_heap, 40, 16);
    (void)keep;
    alloc_freelist_free_unsized(&death_heap, p, 0);
    cr_assert_eq(info(&death_heap).cached_blocks, 1);
    alloc_freelist_free_unsized(&death_heap, p, 0);
}

static void poke(void *p, size_t v);

Test(freelist, damaged_cache_link_is_reported, .signal = SIGABRT)
{
    allocator a = death_setup();
    char *blocks[2] = {alloc_bytes(a, 40, 16), alloc_bytes(a, 40, 16)};
    char *p = blocks[0];
    alloc_free(a, p, 40, 16);
    cr_assert_eq(info(&death_heap).cached_blocks, 1);
    /* A write after free over the cached block's link. */
    poke(p, (size_t)0x1235);
    char *r = alloc_bytes(a, 40, 16);
    cr_assert_fail("a damaged link was followed (%p)", (void *)r);
}

Test(freelist, corrupted_neighbour_tag_aborts, .signal = SIGABRT)
{
    allocator a = death_setup();
    char *p = alloc_bytes(a, 64, 16);
    char *q = alloc_bytes(a, 64, 16);
    /* An overrun of p that flips q's "previous is free" bit: free(p) must
     * refuse to coalesce across it. (Under ASan the overrun itself aborts.) */
    size_t *tag = (size_t *)(void *)(q - ALLOC_FREELIST_HEADER);
    /* Memcheck would stop the process at the overrun itself; tell it the
     * bytes are writable so that what is tested is the heap's own check. */
    ALLOC_VG_DEFINED(tag, sizeof *tag);
    *tag |= 2;
    alloc_free(a, p, 64, 16);
}

#if ALLOC_DEBUG >= 1
Test(freelist, wrong_len_aborts_in_debug, .signal = SIGABRT)
{
    allocator a = death_setup();
    void *p = alloc_bytes(a, 64, 16);
    alloc_free(a, p, 500, 16);
}

typedef struct recorded {
    int count;
    char last[256];
} recorded;

static void record(const char *message, void *user)
{
    recorded *r = user;
    r->count++;
    strncpy(r->last, message, sizeof r->last - 1);
}

Test(freelist, misuse_with_returning_handler_changes_nothing)
{
    recorded rec = {0};
    alloc_set_misuse_handler(record, &rec);
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_FIRST_FIT, 64 << 10);
    allocator a = alloc_freelist_allocator(&h);
    void *p = alloc_bytes(a, 64, 16);
    void *q = alloc_bytes(a, 64, 16);
    alloc_free(a, p, 64, 16);
    alloc_freelist_info before = info(&h);
    alloc_free(a, p, 64, 16);
    cr_assert_eq(rec.count, 1);
    cr_assert(strstr(rec.last, "double free") != NULL, "message: %s", rec.last);
    cr_assert(strstr(rec.last, "called from") != NULL);
    alloc_free(a, q, 32, 16);
    cr_assert_eq(rec.count, 2);
    cr_assert(!alloc_resize(a, q, 64, 4096, 80));
    cr_assert_eq(rec.count, 3);
    CHECK(&h);
    alloc_freelist_info after = info(&h);
    cr_assert_eq(after.free_bytes, before.free_bytes);
    cr_assert_eq(after.base.misuse_count, 3);
    alloc_set_misuse_handler(NULL, NULL);
    alloc_free(a, q, 64, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
}
#endif

/* --- overruns into the next block's tag end in the corruption report ----------------
 * An overrun of k bytes past the end of a block (past its usable size, so
 * into the next block's header and, for k > 8, its first payload words: a
 * free block's list links) must be reported as corruption by the next free
 * of the overrun block, whatever the neighbour is, never followed into a
 * wild write. The misuse handler lets only a corruption report through to the
 * abort: any other report exits with status 3, and surviving the frees fails
 * the test too (it expects SIGABRT). */

typedef struct overrun_case {
    size_t len;      /* the overrun block */
    size_t k;        /* bytes written past its usable end */
    unsigned char fill;
    int next;        /* the neighbour: 0 used, 1 free (k > 8 reaches its links), 2 cached (its link) */
} overrun_case;

static void corruption_only(const char *message, void *user)
{
    (void)user;
    if (strstr(message, "damaged") || strstr(message, "disagree")) return; /* the library aborts next */
    _exit(3);
}

ParameterizedTestParameters(freelist, overrun_is_reported)
{
    static overrun_case cases[4 * 4 * 3 * 3];
    static const size_t lens[] = {24, 100, 4000, 256 << 10};
    static const size_t ks[] = {1, 8, 16, 32};
    static const unsigned char fills[] = {0x00, 0x41, 0xFF};
    size_t n = 0;
    for (size_t l = 0; l < 4; l++)
        for (size_t k = 0; k < 4; k++)
            for (size_t f = 0; f < 3; f++)
                for (int nx = 0; nx < 3; nx++) cases[n++] = (overrun_case){lens[l], ks[k], fills[f], nx};
    return cr_make_param_array(overrun_case, cases, n);
}

ParameterizedTest(overrun_case *c, freelist, overrun_is_reported, .signal = SIGABRT)
{
    alloc_set_misuse_handler(corruption_only, NULL);
    /* The malloc adapter's configuration: 8 MiB regions from pages. */
    alloc_freelist h;
    alloc_freelist_config cfg = {.region_size = 8u << 20, .retain_bytes = 32u << 20, .no_cache = c->next == 1};
    cr_assert_eq(alloc_freelist_init(&h, &cfg), 0);
    allocator a = alloc_freelist_allocator(&h);
    char *p = alloc_bytes(a, c->len, 16);
    char *q = alloc_bytes(a, 64, 16); /* the neighbour: an 80-byte block */
    char *guard = alloc_bytes(a, 64, 16);
    cr_assert(p && q && guard);
    cr_assert_eq(q, p + alloc_freelist_usable_size(&h, p) + ALLOC_FREELIST_HEADER, "q is not p's neighbour");
    if (c->next) alloc_free(a, q, 64, 16);
    char *end = p + alloc_freelist_usable_size(&h, p);
    /* Open the bytes for ASan and Memcheck, which would otherwise stop the
     * process at the overrun itself: what is tested is the heap's check. */
    ALLOC_TRACK_DEFINED(end, c->k);
    memset(end, c->fill, c->k);
    alloc_free(a, p, c->len, 16);
    if (!c->next) alloc_free(a, q, 64, 16);
    alloc_free(a, guard, 64, 16);
    alloc_freelist_deinit(&h);
}

/* --- sanitizer tracking (ASan builds): bytes not handed out are poisoned ------------ */

#if defined(__SANITIZE_ADDRESS__)
Test(freelist, asan_reports_overrun_past_len, .signal = SIGABRT)
{
    allocator a = death_setup();
    volatile char *p = alloc_bytes(a, 20, 16);
    p[19] = 1;
    p[20] = 1; /* inside the block's rounding, but past len */
}

Test(freelist, asan_reports_write_to_free_space, .signal = SIGABRT)
{
    allocator a = death_setup();
    volatile char *p = alloc_bytes(a, 32, 16);
    p[100] = 1; /* the free block after p */
}
#endif

/* --- the checker notices what it promises to notice ------------------------------------ */

#include "core/track.h"

/* Metadata words are poisoned in sanitizer builds (the heap opens them for
 * each access, and closes them again): open them the same way. */
static size_t peek(void *p)
{
    ALLOC_TRACK_DEFINED(p, sizeof(size_t));
    return *(size_t *)p;
}

static void poke(void *p, size_t v)
{
    ALLOC_TRACK_DEFINED(p, sizeof(size_t));
    *(size_t *)p = v;
}

Test(freelist, checker_detects_broken_invariants)
{
    alloc_freelist h;
    fixed_heap(&h, ALLOC_FREELIST_TLSF, 64 << 10);
    allocator a = alloc_freelist_allocator(&h);
    char *x = alloc_bytes(a, 100, 16); /* block of 112 bytes */
    char *y = alloc_bytes(a, 100, 16);
    alloc_free(a, x, 100, 16);
    CHECK(&h);

    /* A free block's footer that disagrees with its header. */
    char *footer = x - ALLOC_FREELIST_HEADER + 112 - sizeof(size_t);
    size_t saved = peek(footer);
    poke(footer, saved + 16);
    cr_assert(!alloc_freelist_check(&h), "footer mismatch not noticed");
    poke(footer, saved);
    CHECK(&h);

    /* A "previous is free" bit that disagrees with the neighbour. */
    char *tag = y - ALLOC_FREELIST_HEADER;
    poke(tag, peek(tag) ^ 2);
    cr_assert(!alloc_freelist_check(&h), "PREV_FREE mismatch not noticed");
    poke(tag, peek(tag) ^ 2);
    CHECK(&h);

    /* A bitmap bit without a list, and a list without its bit. */
    uint32_t sl0 = h.sl_bitmap[0];
    h.sl_bitmap[0] ^= 1u << 31;
    cr_assert(!alloc_freelist_check(&h), "bitmap without list not noticed");
    h.sl_bitmap[0] = sl0;
    uint64_t fl = h.fl_bitmap;
    h.fl_bitmap = 0;
    cr_assert(!alloc_freelist_check(&h), "cleared first-level bitmap not noticed");
    h.fl_bitmap = fl;
    CHECK(&h);

    /* Counters that no longer add up. */
    h.free_bytes += 16;
    cr_assert(!alloc_freelist_check(&h), "free byte count not noticed");
    h.free_bytes -= 16;
    h.stats.free_count++;
    cr_assert(!alloc_freelist_check(&h), "live block count vs stats not noticed");
    h.stats.free_count--;
    CHECK(&h);
    alloc_free(a, y, 100, 16);
    CHECK(&h);
    alloc_freelist_deinit(&h);
    /* The cache: a count, a byte total or a flag that disagrees. */
    alloc_freelist hc;
    fixed_heap_with(&hc, ALLOC_FREELIST_TLSF, 64 << 10, true);
    allocator ac = alloc_freelist_allocator(&hc);
    char *cx = alloc_bytes(ac, 40, 16);
    char *cy = alloc_bytes(ac, 40, 16);
    alloc_free(ac, cx, 40, 16);
    CHECK(&hc);
    hc.cache_count[3]++;
    cr_assert(!alloc_freelist_check(&hc), "cache list count not noticed");
    hc.cache_count[3]--;
    hc.cached_bytes += 16;
    cr_assert(!alloc_freelist_check(&hc), "cached byte count not noticed");
    hc.cached_bytes -= 16;
    char *ctag = cx - ALLOC_FREELIST_HEADER;
    size_t ct = peek(ctag);
    poke(ctag, ct & ~(size_t)8 & ~((size_t)8 << 56));
    cr_assert(!alloc_freelist_check(&hc), "cached block without its flag not noticed");
    poke(ctag, ct);
    CHECK(&hc);
    alloc_free(ac, cy, 40, 16);
    CHECK(&hc);
    alloc_freelist_deinit(&hc);
}
