/*
 * suite.c: the shared conformance suite, written once. Two runners call it:
 * the Criterion suite (conformance.c, every host build) and the portable
 * plain-C runner (tests/portable, for aarch64 under qemu-user and -m32), over
 * the same rows (the descriptors, tests/descriptors). A failed check goes through CONF_CHECK to the
 * runner's conformance_fail, which ends the case.
 *
 * What is checked, for every row, through the allocator handle only, with the
 * row's invariant checker after every step:
 *   - alignment for every power of two the row documents (up to 64 KiB);
 *   - live blocks never overlap (each carries its own fill pattern, verified
 *     before it is freed and regularly during workloads);
 *   - resize keeps contents and never moves; remap and realloc keep contents;
 *   - zero-length requests and size overflow never reach the vtable;
 *   - a request too large to satisfy gives NULL and leaves the allocator usable;
 *   - random workloads (any order, or LIFO for LIFO-only rows) checked against
 *     a shadow model;
 *   - exhaustion of fixed-capacity rows gives NULL and loses nothing;
 *   - stats: peaks and counts never decrease and agree with what was done.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

/* --- the rows: the descriptors, sorted by name ----------------------------- */

size_t conformance_row_count(void) { return desc_count(); }

const conformance_row *conformance_row_at(size_t i) { return desc_at(i); }

size_t conformance_len_cap;

void conformance_check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    conformance_fail(file, line, cond, msg);
}

/* --- fixture -------------------------------------------------------------------- */

typedef struct fixture {
    const conformance_row *row;
    conformance_instance inst;
} fixture;

/* The row as the checks see it: with conformance_len_cap set (-L), lengths are capped
 * there and live bytes at 64 times that, so that emulated targets run the
 * same checks over less memory. */
static conformance_row scaled_row;

static fixture open_row(const conformance_row *param)
{
    scaled_row = *param;
    if (conformance_len_cap) {
        if (scaled_row.max_len > conformance_len_cap) scaled_row.max_len = conformance_len_cap;
        if (scaled_row.max_live / 64 > conformance_len_cap) scaled_row.max_live = 64 * conformance_len_cap;
    }
    fixture f = {.row = &scaled_row};
    CONF_CHECK(desc_make(f.row, &f.inst, NULL), "%s: make failed", f.row->name);
    CONF_CHECK(f.inst.a.vtable != NULL, "%s: make gave no vtable", f.row->name);
    return f;
}

static void check(fixture *f, const char *step)
{
    CONF_CHECK(desc_check(&f->inst), "%s: invariant check failed after %s", f->row->name, step);
    if (f->row->stats) {
        alloc_stats s;
        CONF_CHECK(desc_stats(&f->inst, &s), "%s: stats failed after %s", f->row->name, step);
        CONF_CHECK(s.bytes_in_use <= s.peak_bytes_in_use, "%s: in use above peak after %s", f->row->name, step);
        CONF_CHECK(s.bytes_reserved <= s.peak_bytes_reserved, "%s: reserved above peak after %s", f->row->name, step);
    }
}

static void close_row(fixture *f)
{
    check(f, "final");
    desc_destroy(&f->inst);
}

static bool has(const fixture *f, unsigned cap) { return (f->row->caps & cap) != 0; }

static size_t max_test_align(const fixture *f) { return f->row->max_align > 65536 ? 65536 : f->row->max_align; }

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* --- patterns and randomness --------------------------------------------------- */

static uint8_t pattern_byte(uint32_t seed, size_t i) { return (uint8_t)(seed * 131u + i * 7u + (i >> 8)); }

static void fill(void *p, size_t len, uint32_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < len; i++) b[i] = pattern_byte(seed, i);
}

/* Index of the first byte that differs from the pattern, or len. */
static size_t verify(const void *p, size_t len, uint32_t seed)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i] != pattern_byte(seed, i)) return i;
    return len;
}

static uint64_t rng_state;
static void rng_seed(uint64_t seed) { rng_state = seed * 0x9E3779B97F4A7C15ull + 1; }
static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static size_t rng_below(size_t n) { return n ? (size_t)(rng_next() % n) : 0; }

static size_t random_len(size_t max)
{
    size_t caps[] = {16, 128, 1024, max};
    return 1 + rng_below(min_sz(max, caps[rng_below(4)]));
}

static size_t random_align(const fixture *f, size_t limit)
{
    size_t top = min_sz(max_test_align(f), limit), a = 1;
    for (size_t steps = rng_below(8); steps && a * 2 <= top; steps--) a *= 2;
    return a;
}

static size_t budget_cost(size_t len, size_t align) { return len + align + 64; }

/* --- shadow model ------------------------------------------------------------------ */

#define MAX_BLOCKS 256

typedef struct block {
    uint8_t *p;
    size_t len, align;
    uint32_t seed;
} block;

typedef struct shadow {
    block b[MAX_BLOCKS];
    size_t n, cost;
} shadow;

static shadow model;

static void verify_all(const fixture *f, const shadow *s, const char *step)
{
    for (size_t i = 0; i < s->n; i++) {
        size_t at = verify(s->b[i].p, s->b[i].len, s->b[i].seed);
        CONF_CHECK(at == s->b[i].len, "%s: block %zu (len %zu) corrupted at byte %zu after %s", f->row->name, i,
              s->b[i].len, at, step);
    }
}

static void assert_disjoint(const fixture *f, const shadow *s)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n; j++) {
            uintptr_t a0 = (uintptr_t)s->b[i].p, a1 = a0 + s->b[i].len;
            uintptr_t b0 = (uintptr_t)s->b[j].p, b1 = b0 + s->b[j].len;
            CONF_CHECK(a1 <= b0 || b1 <= a0, "%s: blocks %zu and %zu overlap", f->row->name, i, j);
        }
}

static bool shadow_alloc(fixture *f, shadow *s, size_t len, size_t align, uint32_t seed)
{
    if (s->n == MAX_BLOCKS || s->cost + budget_cost(len, align) > f->row->max_live) return false;
    void *p = alloc_bytes(f->inst.a, len, align);
    check(f, "alloc");
    if (!p) {
        CONF_CHECK(has(f, DESC_FIXED_CAPACITY), "%s: alloc(len %zu, align %zu) failed with %zu live blocks",
              f->row->name, len, align, s->n);
        return false;
    }
    CONF_CHECK(alloc_is_aligned(p, align), "%s: %p not aligned to %zu", f->row->name, p, align);
    fill(p, len, seed);
    s->b[s->n++] = (block){p, len, align, seed};
    s->cost += budget_cost(len, align);
    return true;
}

static void shadow_free(fixture *f, shadow *s, size_t i)
{
    block b = s->b[i];
    size_t at = verify(b.p, b.len, b.seed);
    CONF_CHECK(at == b.len, "%s: block corrupted at byte %zu before free", f->row->name, at);
    alloc_free(f->inst.a, b.p, b.len, b.align);
    check(f, "free");
    s->b[i] = s->b[--s->n];
    s->cost -= budget_cost(b.len, b.align);
}

static void shadow_pop(fixture *f, shadow *s) { shadow_free(f, s, s->n - 1); }

static const char *const change_names[] = {"resize", "remap", "realloc"};

/* Changes block i to new_len by resize (mode 0), remap (1) or realloc (2). */
static void shadow_change(fixture *f, shadow *s, size_t i, size_t new_len, int mode)
{
    block *b = &s->b[i];
    size_t old_cost = budget_cost(b->len, b->align), new_cost = budget_cost(new_len, b->align);
    if (s->cost - old_cost + new_cost > f->row->max_live) return;
    size_t keep = min_sz(b->len, new_len);
    void *q;
    if (mode == 0)
        q = alloc_resize(f->inst.a, b->p, b->len, b->align, new_len) ? b->p : NULL;
    else if (mode == 1)
        q = alloc_remap(f->inst.a, b->p, b->len, b->align, new_len);
    else
        q = alloc_realloc(f->inst.a, b->p, b->len, b->align, new_len);
    check(f, change_names[mode]);
    if (mode == 2 && !q)
        CONF_CHECK(has(f, DESC_FIXED_CAPACITY), "%s: realloc %zu -> %zu failed", f->row->name, b->len, new_len);
    if (!q) {
        CONF_CHECK(verify(b->p, b->len, b->seed) == b->len, "%s: failed %s damaged the block", f->row->name,
              change_names[mode]);
        return;
    }
    CONF_CHECK(alloc_is_aligned(q, b->align), "%s: %s lost the alignment", f->row->name, change_names[mode]);
    size_t at = verify(q, keep, b->seed);
    CONF_CHECK(at == keep, "%s: %s %zu -> %zu lost contents at byte %zu", f->row->name, change_names[mode], b->len,
          new_len, at);
    b->p = q;
    b->len = new_len;
    fill(q, new_len, b->seed);
    s->cost = s->cost - old_cost + new_cost;
}

/* --- cases ----------------------------------------------------------------------------- */

void conformance_case_alignment(const conformance_row *param)
{
    fixture f = open_row(param);
    for (size_t align = 1; align <= max_test_align(&f); align *= 2) {
        size_t lens[] = {1, align, align + 1, 3 * align - 1};
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            size_t len = min_sz(lens[i], f.row->max_len);
            if (budget_cost(len, align) > f.row->max_live) continue;
            void *p = alloc_bytes(f.inst.a, len, align);
            CONF_CHECK(p != NULL, "%s: alloc(len %zu, align %zu) failed", f.row->name, len, align);
            CONF_CHECK(alloc_is_aligned(p, align), "%s: %p not aligned to %zu", f.row->name, p, align);
            fill(p, len, (uint32_t)align);
            check(&f, "aligned alloc");
            CONF_CHECK(verify(p, len, (uint32_t)align) == len, "%s: contents changed", f.row->name);
            alloc_free(f.inst.a, p, len, align);
            check(&f, "aligned free");
        }
    }
    close_row(&f);
}

void conformance_case_no_overlap(const conformance_row *param)
{
    fixture f = open_row(param);
    memset(&model, 0, sizeof model);
    rng_seed(1);
    for (uint32_t i = 0; i < 128; i++)
        if (!shadow_alloc(&f, &model, random_len(f.row->max_len), random_align(&f, 64), i + 1)) break;
    CONF_CHECK(model.n > 0, "%s: no block could be allocated", f.row->name);
    assert_disjoint(&f, &model);
    verify_all(&f, &model, "allocations");
    while (model.n) shadow_pop(&f, &model);
    close_row(&f);
}

static void change_test(const conformance_row *param, int mode)
{
    fixture f = open_row(param);
    memset(&model, 0, sizeof model);
    CONF_CHECK(shadow_alloc(&f, &model, min_sz(f.row->max_len, 24), min_sz(max_test_align(&f), 8), 7),
          "%s: first alloc failed", f.row->name);
    size_t steps[] = {25, 100, 1000, 5000, 70000, 300000, 4000, 700, 33, 1, 16};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        shadow_change(&f, &model, 0, min_sz(steps[i], f.row->max_len), mode);
    verify_all(&f, &model, change_names[mode]);
    shadow_pop(&f, &model);
    close_row(&f);
}

void conformance_case_resize_keeps_contents(const conformance_row *param) { change_test(param, 0); }
void conformance_case_remap_keeps_contents(const conformance_row *param) { change_test(param, 1); }
void conformance_case_realloc_keeps_contents(const conformance_row *param) { change_test(param, 2); }

void conformance_case_resize_never_moves(const conformance_row *param)
{
    fixture f = open_row(param);
    size_t len = min_sz(f.row->max_len, 256), cur = len;
    uint8_t *p = alloc_bytes(f.inst.a, len, 8);
    CONF_CHECK(p != NULL, "%s: alloc failed", f.row->name);
    fill(p, len, 3);
    for (size_t new_len = len / 2; new_len >= 1; new_len /= 2) {
        if (alloc_resize(f.inst.a, p, cur, 8, new_len)) {
            CONF_CHECK(verify(p, new_len, 3) == new_len, "%s: shrink lost contents", f.row->name);
            cur = new_len;
        }
        check(&f, "shrink");
    }
    alloc_free(f.inst.a, p, cur, 8);
    close_row(&f);
}

static uint64_t allocs_of(fixture *f)
{
    alloc_stats s = {0};
    if (f->row->stats) desc_stats(&f->inst, &s);
    return s.alloc_count;
}

void conformance_case_zero_length_and_overflow(const conformance_row *param)
{
    fixture f = open_row(param);
    uint64_t before = allocs_of(&f);
    void *z = alloc_bytes(f.inst.a, 0, 16);
    CONF_CHECK(z == (void *)16, "%s: zero-length alloc is not the sentinel", f.row->name);
    alloc_free(f.inst.a, z, 0, 16);
    CONF_CHECK(alloc_array(f.inst.a, SIZE_MAX / 2 + 1, 2, 8) == NULL, "%s: n*size overflow not caught", f.row->name);
    CONF_CHECK(alloc_array(f.inst.a, SIZE_MAX, SIZE_MAX, 1) == NULL, "%s: SIZE_MAX^2 accepted", f.row->name);
    CONF_CHECK(alloc_bytes(f.inst.a, SIZE_MAX, 8) == NULL, "%s: SIZE_MAX accepted", f.row->name);
    CONF_CHECK(alloc_bytes(f.inst.a, 8, 3) == NULL, "%s: align 3 accepted", f.row->name);
    CONF_CHECK(alloc_bytes(f.inst.a, 8, 0) == NULL, "%s: align 0 accepted", f.row->name);
    CONF_CHECK(allocs_of(&f) == before, "%s: a rejected request reached the allocator", f.row->name);
    check(&f, "rejected requests");
    uint8_t *p = alloc_realloc(f.inst.a, z, 0, 16, 16);
    CONF_CHECK(p != NULL, "%s: realloc from zero length failed", f.row->name);
    fill(p, 16, 5);
    CONF_CHECK(alloc_realloc(f.inst.a, p, 16, 16, 0) == (void *)16, "%s: realloc to 0 did not give the sentinel",
          f.row->name);
    check(&f, "realloc to zero");
    close_row(&f);
}

/* On 64-bit targets these requests exceed any address space and must fail.
 * A 32-bit process on a 64-bit kernel has 4 GiB of address space, where
 * PTRDIFF_MAX (2 GiB - 1) bytes can really be granted: there a success is
 * legal, and the block is handed back. Returns whether the request failed. */
static bool impossible(fixture *f, void *p, size_t len, const char *what)
{
    if (!p) return true;
    CONF_CHECK(UINTPTR_MAX <= 0xFFFFFFFFu, "%s: %s granted", f->row->name, what);
    alloc_free(f->inst.a, p, len, 16);
    return false;
}

void conformance_case_impossible_request_fails_cleanly(const conformance_row *param)
{
    fixture f = open_row(param);
    unsigned failures = 0;
    size_t keep_len = 8;
    uint8_t *keep = alloc_bytes(f.inst.a, keep_len, 8);
    CONF_CHECK(keep != NULL, "%s: alloc failed", f.row->name);
    fill(keep, keep_len, 9);
    size_t huge = ALLOC_MAX_LEN, half = ALLOC_MAX_LEN / 2 + 12345;
    failures += impossible(&f, alloc_bytes(f.inst.a, huge, 16), huge, "PTRDIFF_MAX bytes");
    failures += impossible(&f, alloc_bytes(f.inst.a, half, 16), half, "half the address space");
    check(&f, "impossible alloc");
    size_t grown = ALLOC_MAX_LEN - 4096;
    if (alloc_resize(f.inst.a, keep, keep_len, 8, grown)) {
        CONF_CHECK(UINTPTR_MAX <= 0xFFFFFFFFu, "%s: impossible resize succeeded", f.row->name);
        keep_len = grown;
    } else {
        void *q = alloc_remap(f.inst.a, keep, keep_len, 8, grown);
        if (q) {
            CONF_CHECK(UINTPTR_MAX <= 0xFFFFFFFFu, "%s: impossible remap succeeded", f.row->name);
            keep = q;
            keep_len = grown;
        } else {
            q = alloc_realloc(f.inst.a, keep, keep_len, 8, grown);
            CONF_CHECK(q == NULL || UINTPTR_MAX <= 0xFFFFFFFFu, "%s: impossible realloc succeeded", f.row->name);
            if (q) {
                keep = q;
                keep_len = grown;
            }
        }
    }
    check(&f, "impossible growth");
    CONF_CHECK(verify(keep, 8, 9) == 8, "%s: failed requests damaged a live block", f.row->name);
    if (f.row->stats) {
        alloc_stats s;
        desc_stats(&f.inst, &s);
        CONF_CHECK(s.failed_count >= failures, "%s: %u failed requests, %llu counted", f.row->name, failures,
              (unsigned long long)s.failed_count);
    }
    uint8_t *more = alloc_bytes(f.inst.a, 8, 8);
    CONF_CHECK(more != NULL, "%s: unusable after a failed request", f.row->name);
    alloc_free(f.inst.a, more, 8, 8);
    alloc_free(f.inst.a, keep, keep_len, 8);
    close_row(&f);
}

static void release_one(fixture *f, bool lifo)
{
    if (lifo)
        shadow_pop(f, &model);
    else
        shadow_free(f, &model, rng_below(model.n));
}

static void workload(const conformance_row *param, bool lifo, int ops, uint64_t seed)
{
    fixture f = open_row(param);
    memset(&model, 0, sizeof model);
    rng_seed(seed);
    uint32_t next_seed = 1;
    for (int op = 0; op < ops; op++) {
        size_t r = rng_below(100);
        if (r < 45 || model.n == 0) {
            size_t len = random_len(f.row->max_len);
            if (!shadow_alloc(&f, &model, len, random_align(&f, 256), next_seed++) && model.n) release_one(&f, lifo);
        } else if (r < 80) {
            release_one(&f, lifo);
        } else {
            size_t i = lifo ? model.n - 1 : rng_below(model.n);
            shadow_change(&f, &model, i, random_len(f.row->max_len), (int)rng_below(3));
        }
        if (op % 64 == 0) {
            verify_all(&f, &model, "workload step");
            assert_disjoint(&f, &model);
        }
    }
    verify_all(&f, &model, "workload");
    assert_disjoint(&f, &model);
    while (model.n) release_one(&f, lifo);
    if (f.row->stats) {
        alloc_stats st;
        desc_stats(&f.inst, &st);
        CONF_CHECK(st.bytes_in_use == 0, "%s: %zu bytes still counted in use after freeing all", f.row->name,
              st.bytes_in_use);
    }
    close_row(&f);
}

void conformance_case_random_workload(const conformance_row *param)
{
    if (param->caps & DESC_LIFO_ONLY) {
        /* Any-order frees are outside a LIFO allocator's contract. */
        workload(param, true, 2000, 11);
        workload(param, true, 2000, 12);
        return;
    }
    workload(param, false, 4000, 42);
}

void conformance_case_lifo_workload(const conformance_row *param) { workload(param, true, 3000, 7); }

void conformance_case_exhaustion(const conformance_row *param)
{
    fixture f = open_row(param);
    if (!has(&f, DESC_FIXED_CAPACITY)) {
        memset(&model, 0, sizeof model);
        for (uint32_t i = 0; i < MAX_BLOCKS; i++)
            CONF_CHECK(shadow_alloc(&f, &model, min_sz(48, f.row->max_len), 8, i + 1) ||
                      model.cost + 200 > f.row->max_live,
                  "%s: burst alloc %u failed", f.row->name, i);
        verify_all(&f, &model, "burst");
        while (model.n) shadow_pop(&f, &model);
        close_row(&f);
        return;
    }
    size_t len = min_sz(f.row->max_len, 64);
    enum { MAX_TRIES = 1 << 20 };
    void **blocks = malloc(sizeof(void *) * MAX_TRIES);
    CONF_CHECK(blocks != NULL, "out of host memory");
    size_t n = 0;
    while (n < MAX_TRIES) {
        void *p = alloc_bytes(f.inst.a, len, 8);
        if (!p) break;
        fill(p, len, (uint32_t)n);
        blocks[n++] = p;
    }
    CONF_CHECK(n < MAX_TRIES, "%s: a fixed-capacity allocator never ran out", f.row->name);
    CONF_CHECK(n > 0, "%s: nothing could be allocated", f.row->name);
    check(&f, "exhaustion");
    CONF_CHECK(alloc_bytes(f.inst.a, len, 8) == NULL, "%s: second failing alloc succeeded", f.row->name);
    for (size_t i = 0; i < n; i++)
        CONF_CHECK(verify(blocks[i], len, (uint32_t)i) == len, "%s: block %zu damaged", f.row->name, i);
    while (n) {
        n--;
        alloc_free(f.inst.a, blocks[n], len, 8);
    }
    check(&f, "free after exhaustion");
    void *again = alloc_bytes(f.inst.a, len, 8);
    CONF_CHECK(again != NULL, "%s: memory not reusable after exhaustion and free", f.row->name);
    alloc_free(f.inst.a, again, len, 8);
    free(blocks);
    close_row(&f);
}

void conformance_case_stats_add_up(const conformance_row *param)
{
    fixture f = open_row(param);
    if (f.row->stats) {
        alloc_stats s0, s1, s2;
        CONF_CHECK(desc_stats(&f.inst, &s0), "%s: stats failed", f.row->name);
        void *p = alloc_bytes(f.inst.a, 40, 8);
        CONF_CHECK(p != NULL, "%s: alloc failed", f.row->name);
        desc_stats(&f.inst, &s1);
        CONF_CHECK(s1.alloc_count == s0.alloc_count + 1, "%s: alloc not counted", f.row->name);
        CONF_CHECK(s1.bytes_in_use >= s0.bytes_in_use + 40, "%s: bytes in use did not grow", f.row->name);
        alloc_free(f.inst.a, p, 40, 8);
        desc_stats(&f.inst, &s2);
        CONF_CHECK(s2.bytes_in_use == s0.bytes_in_use, "%s: free not subtracted", f.row->name);
        CONF_CHECK(s2.peak_bytes_in_use >= s1.bytes_in_use, "%s: peak decreased", f.row->name);
        CONF_CHECK(s2.alloc_count >= s1.alloc_count, "%s: count decreased", f.row->name);
    }
    close_row(&f);
}

