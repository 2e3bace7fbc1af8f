/* Tests of the size-class pools (alloc_slab). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/page.h"
#include "alloc/slab.h"

static alloc_slab *new_slab(const alloc_slab_config *c)
{
    alloc_slab *s = malloc(sizeof *s);
    cr_assert_not_null(s);
    cr_assert_eq(alloc_slab_init(s, c), 0);
    return s;
}

static void delete_slab(alloc_slab *s)
{
    alloc_slab_deinit(s);
    free(s);
}

static alloc_stats stats_of(const alloc_slab *s)
{
    alloc_stats st;
    alloc_slab_stats(s, &st);
    return st;
}

static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)(seed * 17u + i);
}

static bool filled(const void *p, size_t n, unsigned seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed * 17u + i)) return false;
    return true;
}

Test(slab, init_validates_limit)
{
    alloc_slab s;
    cr_assert_eq(alloc_slab_init(&s, &(alloc_slab_config){.limit = 8}), -EINVAL);
    cr_assert_eq(alloc_slab_init(&s, &(alloc_slab_config){.limit = ALLOC_SLAB_MAX_LIMIT + 1}), -EINVAL);
    cr_assert_eq(alloc_slab_init(&s, &(alloc_slab_config){.limit = 1000}), 0);
    cr_assert_eq(s.limit, 896, "limit rounds down to a class");
    cr_assert_eq(alloc_slab_class_of(&s, 896, 8), 18);
    cr_assert_eq(alloc_slab_class_of(&s, 897, 8), -1);
    alloc_slab_deinit(&s);
    cr_assert_eq(alloc_slab_init(&s, NULL), 0);
    cr_assert_eq(s.limit, 32768);
    alloc_slab_deinit(&s);
}

Test(slab, class_ladder_and_fragmentation_bound)
{
    alloc_slab *s = new_slab(NULL);
    size_t prev = 0;
    for (int c = 0; c < ALLOC_SLAB_CLASSES; c++) {
        size_t size = alloc_slab_class_size(c);
        cr_assert_gt(size, prev);
        cr_assert_eq(size % 16, 0, "class %d (%zu) keeps 16-byte alignment", c, size);
        prev = size;
    }
    cr_assert_eq(alloc_slab_class_size(0), 16);
    cr_assert_eq(alloc_slab_class_size(7), 128);
    cr_assert_eq(alloc_slab_class_size(8), 160);
    cr_assert_eq(alloc_slab_class_size(ALLOC_SLAB_CLASSES - 1), 32768);
    cr_assert_eq(alloc_slab_class_size(ALLOC_SLAB_CLASSES), 0);
    double worst = 0;
    for (size_t len = 1; len <= 32768; len++) {
        int c = alloc_slab_class_of(s, len, 8);
        cr_assert_geq(c, 0);
        size_t size = alloc_slab_class_size(c);
        cr_assert_geq(size, len, "len %zu in class %zu", len, size);
        if (c > 0) cr_assert_lt(alloc_slab_class_size(c - 1), len, "len %zu not in the smallest class", len);
        if (len <= 128) cr_assert_lt(size - len, 16);
        if (len > 128) {
            double waste = (double)(size - len) / (double)len;
            if (waste > worst) worst = waste;
            cr_assert_lt(waste, 0.25, "len %zu -> %zu wastes %.3f", len, size, waste);
        }
    }
    cr_assert_gt(worst, 0.24, "the documented worst case (%.4f) is reached", worst);
    /* the hot path's lookup table agrees with the ladder */
    allocator a = alloc_slab_allocator(s);
    for (size_t len = 1; len <= 1100; len++) {
        void *p = alloc_bytes(a, len, 8);
        cr_assert_not_null(p);
        cr_assert_eq(alloc_slab_block_size(p), alloc_slab_class_size(alloc_slab_class_of(s, len, 8)), "len %zu", len);
        alloc_free(a, p, len, 8);
    }
    cr_assert(alloc_slab_check(s));
    cr_assert_eq(alloc_slab_class_of(s, 32769, 8), -1);
    cr_assert_eq(alloc_slab_class_of(s, 0, 8), -1);
    cr_assert_eq(alloc_slab_class_of(s, 8, 3), -1);
    delete_slab(s);
}

Test(slab, alignment_through_classes)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    for (size_t align = 1; align <= 32768; align *= 2) {
        for (size_t len = 1; len <= 3 * align && len <= 40000; len = len * 3 + 1) {
            void *p[5];
            for (int k = 0; k < 5; k++) {
                p[k] = alloc_bytes(a, len, align);
                cr_assert_not_null(p[k]);
                cr_assert(alloc_is_aligned(p[k], align), "len %zu align %zu: %p", len, align, p[k]);
                fill(p[k], len, (unsigned)k);
            }
            cr_assert(alloc_slab_check(s));
            for (int k = 0; k < 5; k++) {
                cr_assert(filled(p[k], len, (unsigned)k));
                alloc_free(a, p[k], len, align);
            }
        }
    }
    cr_assert(alloc_slab_check(s));
    cr_assert_eq(stats_of(s).bytes_in_use, 0);
    delete_slab(s);
}

Test(slab, block_size_and_ownership_from_the_pointer)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    size_t lens[] = {1, 17, 100, 129, 1000, 5000, 32768};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        void *p = alloc_bytes(a, lens[i], 8);
        cr_assert_eq(alloc_slab_block_size(p), alloc_slab_class_size(alloc_slab_class_of(s, lens[i], 8)));
        cr_assert(alloc_slab_owns(s, p));
        alloc_free(a, p, lens[i], 8);
    }
    void *big = alloc_bytes(a, 100000, 8);
    cr_assert_not_null(big);
    cr_assert_not(alloc_slab_owns(s, big), "large blocks come from the fallback");
    int local;
    cr_assert_not(alloc_slab_owns(s, &local));
    alloc_free(a, big, 100000, 8);
    delete_slab(s);
}

Test(slab, objects_of_a_class_share_slabs)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    enum { N = 1000 };
    static char *p[N];
    for (int i = 0; i < N; i++) p[i] = alloc_bytes(a, 48, 8);
    char *q = alloc_bytes(a, 200, 8);
    /* 1000 * 48 B fit in one 256 KiB slab: all share its header address */
    uintptr_t mask = ~(uintptr_t)(ALLOC_SLAB_BYTES - 1);
    for (int i = 1; i < N; i++) cr_assert_eq((uintptr_t)p[i] & mask, (uintptr_t)p[0] & mask);
    cr_assert_neq((uintptr_t)q & mask, (uintptr_t)p[0] & mask, "another class, another slab");
    cr_assert_eq(stats_of(s).bytes_reserved, 2 * ALLOC_SLAB_BYTES);
    for (int i = 0; i < N; i++) alloc_free(a, p[i], 48, 8);
    alloc_free(a, q, 200, 8);
    cr_assert(alloc_slab_check(s));
    delete_slab(s);
}

Test(slab, empty_slabs_cached_once_then_returned)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    /* class 4096: 63 objects per slab (slot 0 at 4 KiB) */
    int c = alloc_slab_class_of(s, 4096, 8);
    size_t per_slab = s->cls[c].slots;
    cr_assert_eq(per_slab, 63);
    enum { N = 63 * 4 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = alloc_bytes(a, 4096, 8);
        cr_assert_not_null(p[i]);
        fill(p[i], 4096, (unsigned)i);
    }
    cr_assert_eq(stats_of(s).bytes_reserved, 4 * ALLOC_SLAB_BYTES);
    cr_assert(alloc_slab_check(s));
    /* free everything: the current slab stays, one empty is cached, two go back */
    for (int i = 0; i < N; i++) {
        cr_assert(filled(p[i], 4096, (unsigned)i));
        alloc_free(a, p[i], 4096, 8);
        cr_assert(alloc_slab_check(s));
    }
    cr_assert_eq(stats_of(s).bytes_reserved, 2 * ALLOC_SLAB_BYTES);
    cr_assert_eq(alloc_slab_trim(s), ALLOC_SLAB_BYTES);
    cr_assert_eq(stats_of(s).bytes_reserved, ALLOC_SLAB_BYTES);
    cr_assert(alloc_slab_check(s));
    /* alternating at a slab boundary never thrashes the backing allocator */
    for (int i = 0; i < 63; i++) p[i] = alloc_bytes(a, 4096, 8);
    uint64_t allocs_before = stats_of(s).alloc_count;
    size_t reserved = stats_of(s).bytes_reserved;
    for (int r = 0; r < 100; r++) {
        void *x = alloc_bytes(a, 4096, 8);
        alloc_free(a, x, 4096, 8);
    }
    cr_assert_eq(stats_of(s).alloc_count, allocs_before + 100);
    cr_assert_leq(stats_of(s).bytes_reserved, reserved + ALLOC_SLAB_BYTES);
    for (int i = 0; i < 63; i++) alloc_free(a, p[i], 4096, 8);
    cr_assert(alloc_slab_check(s));
    delete_slab(s);
}

Test(slab, partial_slabs_are_reused)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    enum { N = 63 * 3 };
    static void *p[N];
    for (int i = 0; i < N; i++) p[i] = alloc_bytes(a, 4000, 8);
    /* free one object in the first (full, unlisted) slab: it becomes partial */
    alloc_free(a, p[5], 4000, 8);
    cr_assert(alloc_slab_check(s));
    /* the current slab is full too, so the next alloc reuses that slot */
    void *again = alloc_bytes(a, 4000, 8);
    cr_assert_eq(again, p[5]);
    p[5] = again;
    cr_assert_eq(stats_of(s).bytes_reserved, 3 * ALLOC_SLAB_BYTES);
    for (int i = 0; i < N; i++) alloc_free(a, p[i], 4000, 8);
    cr_assert(alloc_slab_check(s));
    delete_slab(s);
}

Test(slab, resize_within_class_remap_across)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    char *p = alloc_bytes(a, 100, 8); /* class 112 */
    fill(p, 100, 1);
    cr_assert(alloc_resize(a, p, 100, 8, 112));
    cr_assert_not(alloc_resize(a, p, 112, 8, 113), "beyond the slot");
    cr_assert(alloc_resize(a, p, 112, 8, 10), "shrinks in place");
    cr_assert(filled(p, 10, 1));
    fill(p, 10, 2);
    char *q = alloc_remap(a, p, 10, 8, 3000);
    cr_assert_not_null(q, "remap moves across classes");
    cr_assert_neq(q, p);
    cr_assert(filled(q, 10, 2));
    cr_assert_eq(alloc_slab_block_size(q), 3072);
    fill(q, 3000, 3);
    /* across the limit: class -> large -> bigger large (mremap) -> class */
    char *r = alloc_remap(a, q, 3000, 8, 100000);
    cr_assert_not_null(r);
    cr_assert(filled(r, 3000, 3));
    fill(r, 100000, 4);
    char *t = alloc_remap(a, r, 100000, 8, 5000000);
    cr_assert_not_null(t);
    cr_assert(filled(t, 100000, 4));
    char *u = alloc_remap(a, t, 5000000, 8, 40);
    cr_assert_not_null(u);
    cr_assert(filled(u, 40, 4));
    cr_assert(alloc_slab_check(s));
    alloc_stats st = stats_of(s);
    cr_assert_eq(st.bytes_in_use, 40);
    cr_assert_eq(st.alloc_count, 1, "remaps are not allocations");
    cr_assert_eq(st.remap_count, 4);
    cr_assert_eq(st.resize_count, 2);
    alloc_free(a, u, 40, 8);
    st = stats_of(s);
    cr_assert_eq(st.bytes_in_use, 0);
    cr_assert_eq(st.free_count, st.alloc_count);
    cr_assert_geq(st.peak_bytes_in_use, 5000000);
    delete_slab(s);
}

Test(slab, large_blocks_go_to_the_fallback)
{
    alloc_stats before, after;
    alloc_page_stats(&before);
    alloc_slab *s = new_slab(&(alloc_slab_config){.limit = 512});
    allocator a = alloc_slab_allocator(s);
    void *p = alloc_bytes(a, 513, 8);
    cr_assert_not_null(p);
    alloc_page_stats(&after);
    cr_assert_eq(after.alloc_count, before.alloc_count + 1, "one page-allocator block, no slab");
    cr_assert_eq(stats_of(s).bytes_reserved, 513);
    alloc_free(a, p, 513, 8);
    cr_assert_eq(stats_of(s).bytes_reserved, 0);
    cr_assert(alloc_slab_check(s));
    delete_slab(s);
}

Test(slab, random_workload_against_a_model)
{
    alloc_slab *s = new_slab(NULL);
    allocator a = alloc_slab_allocator(s);
    enum { LIVE = 512 };
    static struct {
        char *p;
        size_t len, align;
        unsigned seed;
    } b[LIVE];
    uint64_t rng = 99;
    size_t in_use = 0;
    for (unsigned op = 0; op < 20000; op++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        unsigned i = (unsigned)(rng % LIVE);
        if (b[i].p) {
            cr_assert(filled(b[i].p, b[i].len, b[i].seed), "op %u: block %u corrupted", op, i);
            if ((rng >> 20) % 3 == 0) {
                size_t new_len = 1 + (size_t)((rng >> 30) % 6000);
                char *q = alloc_realloc(a, b[i].p, b[i].len, b[i].align, new_len);
                cr_assert_not_null(q);
                size_t keep = new_len < b[i].len ? new_len : b[i].len;
                cr_assert(filled(q, keep, b[i].seed));
                in_use = in_use - b[i].len + new_len;
                b[i].p = q;
                b[i].len = new_len;
                fill(q, new_len, b[i].seed);
            } else {
                alloc_free(a, b[i].p, b[i].len, b[i].align);
                in_use -= b[i].len;
                b[i].p = NULL;
            }
        } else {
            size_t len = (rng >> 40) % 4 == 0 ? 1 + (size_t)((rng >> 12) % 40000) : 1 + (size_t)((rng >> 12) % 300);
            size_t align = (size_t)1 << ((rng >> 50) % 8);
            b[i].p = alloc_bytes(a, len, align);
            cr_assert_not_null(b[i].p);
            cr_assert(alloc_is_aligned(b[i].p, align));
            b[i].len = len;
            b[i].align = align;
            b[i].seed = op;
            fill(b[i].p, len, op);
            in_use += len;
        }
        if (op % 256 == 0) cr_assert(alloc_slab_check(s), "op %u", op);
        cr_assert_eq(stats_of(s).bytes_in_use, in_use, "op %u", op);
    }
    for (unsigned i = 0; i < LIVE; i++)
        if (b[i].p) alloc_free(a, b[i].p, b[i].len, b[i].align);
    cr_assert(alloc_slab_check(s));
    cr_assert_eq(stats_of(s).bytes_in_use, 0);
    alloc_slab_trim(s);
    delete_slab(s);
}

#if ALLOC_DEBUG >= 1
static allocator death_setup(alloc_slab **out)
{
    *out = new_slab(NULL);
    return alloc_slab_allocator(*out);
}

Test(slab_misuse, interior_pointer_aborts, .signal = SIGABRT)
{
    alloc_slab *s;
    allocator a = death_setup(&s);
    char *p = alloc_bytes(a, 64, 8);
    alloc_free(a, p + 16, 64, 8);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
Test(slab_asan, overrun_past_requested_length_is_reported, .signal = SIGABRT)
{
    alloc_slab *s = new_slab(NULL);
    volatile char *o = alloc_bytes(alloc_slab_allocator(s), 100, 8);
    o[100] = 1; /* inside the 112-byte slot, past the 100 bytes asked for */
}
#endif

/* --- a backing allocator that refuses when told to -------------------------- */

static int backing_allows;
static void *gate_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx;
    if (backing_allows <= 0) return NULL;
    backing_allows--;
    return alloc_page_allocator().vtable->alloc(NULL, len, align, ret_addr);
}
static void gate_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx;
    alloc_page_allocator().vtable->free(NULL, mem, len, align, ret_addr);
}
static const alloc_vtable gate_vtable = {gate_alloc, alloc_no_resize, alloc_no_remap, gate_free};

Test(slab, refused_slab_changes_nothing)
{
    backing_allows = 1;
    alloc_slab *s = new_slab(&(alloc_slab_config){.backing = {NULL, &gate_vtable}});
    allocator a = alloc_slab_allocator(s);
    int c = alloc_slab_class_of(s, 8192, 8);
    size_t per_slab = s->cls[c].slots;
    static void *p[64];
    for (size_t i = 0; i < per_slab; i++) {
        p[i] = alloc_bytes(a, 8192, 8);
        cr_assert_not_null(p[i]);
        fill(p[i], 8192, (unsigned)i);
    }
    alloc_stats before = stats_of(s);
    cr_assert_null(alloc_bytes(a, 8192, 8), "the slab is full and the backing allocator refuses");
    cr_assert_null(alloc_bytes(a, 8000, 8));
    alloc_stats after = stats_of(s);
    cr_assert_eq(after.failed_count, before.failed_count + 2);
    cr_assert_eq(after.bytes_reserved, before.bytes_reserved);
    cr_assert_eq(after.alloc_count, before.alloc_count);
    cr_assert(alloc_slab_check(s));
    /* other classes fail too (no slab for them), but frees work and make room */
    cr_assert_null(alloc_bytes(a, 16, 8));
    alloc_free(a, p[7], 8192, 8);
    cr_assert(alloc_slab_check(s));
    cr_assert_eq(alloc_bytes(a, 8192, 8), p[7], "the freed slot is reused without the backing allocator");
    backing_allows = 1;
    void *more = alloc_bytes(a, 8192, 8);
    cr_assert_not_null(more, "a new slab once the backing allocator agrees");
    cr_assert(alloc_slab_check(s));
    for (size_t i = 0; i < per_slab; i++) cr_assert(i == 7 || filled(p[i], 8192, (unsigned)i));
    for (size_t i = 0; i < per_slab; i++) alloc_free(a, p[i], 8192, 8);
    alloc_free(a, more, 8192, 8);
    cr_assert_eq(stats_of(s).bytes_in_use, 0);
    cr_assert(alloc_slab_check(s));
    delete_slab(s);
}
