/*
 * conformance.c: one suite, every allocator, through the vtable only.
 *
 * Each test is a Criterion parameterized test over the row table that the
 * rows_*.c files register (conformance.h). The parameter is the row's index
 * in the table sorted by name, so runner and worker processes agree on it.
 *
 * What is checked, for every row:
 *   - alignment for every power of two the row documents (up to 64 KiB);
 *   - live blocks never overlap (each carries its own fill pattern, verified
 *     before it is freed and after every other operation on the workload);
 *   - resize keeps contents and never moves; remap and realloc keep contents;
 *   - zero-length requests and size overflow never reach the vtable;
 *   - a request too large to satisfy gives NULL and leaves the allocator usable;
 *   - random workloads (any order, or LIFO for LIFO-only rows) checked against
 *     a shadow model, with the invariant checker after every operation;
 *   - exhaustion of fixed-capacity rows gives NULL and loses nothing;
 *   - stats: peaks and counts never decrease and agree with what was done.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

/* --- the table ------------------------------------------------------------ */

#define MAX_ROWS 128
static const conformance_row *rows[MAX_ROWS];
static size_t row_count;
static bool rows_sorted;

void conformance_register(const conformance_row *row)
{
    if (row_count < MAX_ROWS) rows[row_count++] = row;
}

static int compare_rows(const void *a, const void *b)
{
    return strcmp((*(const conformance_row *const *)a)->name, (*(const conformance_row *const *)b)->name);
}

static void sort_rows(void)
{
    if (rows_sorted) return;
    qsort(rows, row_count, sizeof rows[0], compare_rows);
    rows_sorted = true;
}

static int row_indices[MAX_ROWS];

static struct criterion_test_params all_rows(void)
{
    sort_rows();
    for (size_t i = 0; i < row_count; i++) row_indices[i] = (int)i;
    return cr_make_param_array(int, row_indices, row_count);
}

/* --- per-test fixture ------------------------------------------------------ */

typedef struct fixture {
    const conformance_row *row;
    conformance_instance inst;
    const char *step; /* what the test did last, for messages */
} fixture;

static fixture open_row(int index)
{
    sort_rows();
    cr_assert(index >= 0 && (size_t)index < row_count, "row index %d out of range", index);
    fixture f = {rows[index], {{NULL, NULL}, NULL, NULL}, "make"};
    cr_assert(f.row->make(&f.inst), "%s: make failed", f.row->name);
    cr_assert(f.inst.a.vtable != NULL, "%s: make gave no vtable", f.row->name);
    return f;
}

static void check(fixture *f, const char *step)
{
    f->step = step;
    if (f->row->check) cr_assert(f->row->check(&f->inst), "%s: invariant check failed after %s", f->row->name, step);
    if (f->row->stats) {
        alloc_stats s;
        cr_assert(f->row->stats(&f->inst, &s), "%s: stats failed after %s", f->row->name, step);
        cr_assert(s.bytes_in_use <= s.peak_bytes_in_use, "%s: in use above peak after %s", f->row->name, step);
        cr_assert(s.bytes_reserved <= s.peak_bytes_reserved, "%s: reserved above peak after %s", f->row->name,
                  step);
    }
}

static void close_row(fixture *f)
{
    check(f, "final");
    f->row->destroy(&f->inst);
}

static bool has(const fixture *f, unsigned cap) { return (f->row->caps & cap) != 0; }

static size_t max_test_align(const fixture *f)
{
    size_t a = f->row->max_align;
    return a > 65536 ? 65536 : a;
}

/* --- fill patterns ----------------------------------------------------------- */

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

/* A length in [1, max]: mostly small, sometimes up to max. */
static size_t random_len(size_t max)
{
    size_t cap = max;
    switch (rng_below(4)) {
    case 0: cap = max < 16 ? max : 16; break;
    case 1: cap = max < 128 ? max : 128; break;
    case 2: cap = max < 1024 ? max : 1024; break;
    default: break;
    }
    return 1 + rng_below(cap);
}

static size_t random_align(const fixture *f, size_t limit)
{
    size_t top = max_test_align(f);
    if (top > limit) top = limit;
    size_t a = 1;
    size_t steps = rng_below(8);
    while (steps-- && a * 2 <= top) a *= 2;
    return a;
}

/* Bytes a block may cost a fixed-capacity allocator, for the live budget. */
static size_t budget_cost(size_t len, size_t align) { return len + align + 64; }

/* --- tests ------------------------------------------------------------------- */

ParameterizedTestParameters(conformance, alignment) { return all_rows(); }
ParameterizedTest(int *index, conformance, alignment)
{
    fixture f = open_row(*index);
    for (size_t align = 1; align <= max_test_align(&f); align *= 2) {
        size_t lens[] = {1, align, align + 1, 3 * align - 1};
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            size_t len = lens[i] > f.row->max_len ? f.row->max_len : lens[i];
            if (budget_cost(len, align) > f.row->max_live) continue;
            void *p = alloc_bytes(f.inst.a, len, align);
            cr_assert(p != NULL, "%s: alloc(len %zu, align %zu) failed", f.row->name, len, align);
            cr_assert(alloc_is_aligned(p, align), "%s: %p not aligned to %zu", f.row->name, p, align);
            fill(p, len, (uint32_t)align);
            check(&f, "aligned alloc");
            cr_assert_eq(verify(p, len, (uint32_t)align), len, "%s: contents changed", f.row->name);
            alloc_free(f.inst.a, p, len, align);
            check(&f, "aligned free");
        }
    }
    close_row(&f);
}

#define MAX_BLOCKS 256

typedef struct block {
    uint8_t *p;
    size_t len, align;
    uint32_t seed;
} block;

typedef struct shadow {
    block b[MAX_BLOCKS];
    size_t n;
    size_t cost; /* budget_cost sum of live blocks */
} shadow;

static void verify_all(const fixture *f, const shadow *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const block *b = &s->b[i];
        size_t at = verify(b->p, b->len, b->seed);
        cr_assert_eq(at, b->len, "%s: block %zu (%p, len %zu) corrupted at byte %zu after %s", f->row->name, i,
                     (void *)b->p, b->len, at, f->step);
    }
}

/* No two live blocks share a byte. */
static void assert_disjoint(const fixture *f, const shadow *s)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n; j++) {
            uintptr_t a0 = (uintptr_t)s->b[i].p, a1 = a0 + s->b[i].len;
            uintptr_t b0 = (uintptr_t)s->b[j].p, b1 = b0 + s->b[j].len;
            cr_assert(a1 <= b0 || b1 <= a0, "%s: blocks %zu and %zu overlap", f->row->name, i, j);
        }
}

static bool shadow_alloc(fixture *f, shadow *s, size_t len, size_t align, uint32_t seed)
{
    if (s->n == MAX_BLOCKS || s->cost + budget_cost(len, align) > f->row->max_live) return false;
    void *p = alloc_bytes(f->inst.a, len, align);
    check(f, "alloc");
    if (!p) {
        cr_assert(has(f, CONF_FIXED_CAPACITY), "%s: alloc(len %zu, align %zu) failed with %zu live blocks",
                  f->row->name, len, align, s->n);
        return false;
    }
    cr_assert(alloc_is_aligned(p, align), "%s: %p not aligned to %zu", f->row->name, p, align);
    fill(p, len, seed);
    s->b[s->n++] = (block){p, len, align, seed};
    s->cost += budget_cost(len, align);
    return true;
}

static void shadow_free(fixture *f, shadow *s, size_t i)
{
    block b = s->b[i];
    size_t at = verify(b.p, b.len, b.seed);
    cr_assert_eq(at, b.len, "%s: block at %p corrupted at byte %zu before free", f->row->name, (void *)b.p, at);
    alloc_free(f->inst.a, b.p, b.len, b.align);
    check(f, "free");
    s->b[i] = s->b[--s->n];
    s->cost -= budget_cost(b.len, b.align);
}

/* Pops the most recent block (shadow keeps allocation order when only the top is removed). */
static void shadow_pop(fixture *f, shadow *s) { shadow_free(f, s, s->n - 1); }

/* Changes block i to new_len by resize (mode 0), remap (1) or realloc (2). */
static void shadow_change(fixture *f, shadow *s, size_t i, size_t new_len, int mode)
{
    block *b = &s->b[i];
    size_t old_cost = budget_cost(b->len, b->align), new_cost = budget_cost(new_len, b->align);
    if (s->cost - old_cost + new_cost > f->row->max_live) return;
    uint8_t *old_p = b->p;
    size_t keep = b->len < new_len ? b->len : new_len;
    void *q = NULL;
    if (mode == 0) {
        q = alloc_resize(f->inst.a, b->p, b->len, b->align, new_len) ? b->p : NULL;
        check(f, "resize");
    } else if (mode == 1) {
        q = alloc_remap(f->inst.a, b->p, b->len, b->align, new_len);
        check(f, "remap");
    } else {
        q = alloc_realloc(f->inst.a, b->p, b->len, b->align, new_len);
        check(f, "realloc");
        if (!q)
            cr_assert(has(f, CONF_FIXED_CAPACITY), "%s: realloc %zu -> %zu failed", f->row->name, b->len, new_len);
    }
    if (!q) {
        /* Failure changes nothing: the block is intact at its old length. */
        cr_assert_eq(verify(old_p, b->len, b->seed), b->len, "%s: failed resize/remap damaged the block",
                     f->row->name);
        return;
    }
    cr_assert(alloc_is_aligned(q, b->align), "%s: moved block lost its alignment", f->row->name);
    size_t at = verify(q, keep, b->seed);
    cr_assert_eq(at, keep, "%s: %s %zu -> %zu lost contents at byte %zu", f->row->name,
                 mode == 0 ? "resize" : mode == 1 ? "remap" : "realloc", b->len, new_len, at);
    b->p = q;
    b->len = new_len;
    fill(q, new_len, b->seed);
    s->cost = s->cost - old_cost + new_cost;
}

ParameterizedTestParameters(conformance, no_overlap) { return all_rows(); }
ParameterizedTest(int *index, conformance, no_overlap)
{
    fixture f = open_row(*index);
    static shadow s;
    memset(&s, 0, sizeof s);
    rng_seed(1);
    for (uint32_t i = 0; i < 128; i++) {
        size_t len = random_len(f.row->max_len);
        if (!shadow_alloc(&f, &s, len, random_align(&f, 64), i + 1)) break;
    }
    cr_assert(s.n > 0, "%s: no block could be allocated", f.row->name);
    assert_disjoint(&f, &s);
    verify_all(&f, &s);
    while (s.n) shadow_pop(&f, &s);
    close_row(&f);
}

static void change_test(int index, int mode)
{
    fixture f = open_row(index);
    static shadow s;
    memset(&s, 0, sizeof s);
    size_t len = f.row->max_len < 24 ? f.row->max_len : 24;
    size_t align = max_test_align(&f) < 8 ? max_test_align(&f) : 8;
    cr_assert(shadow_alloc(&f, &s, len, align, 7), "%s: first alloc failed", f.row->name);
    /* Grow in steps up to max_len, then shrink back down. */
    size_t steps[] = {25, 100, 1000, 5000, 70000, 300000, 4000, 700, 33, 1, 16};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t new_len = steps[i] > f.row->max_len ? f.row->max_len : steps[i];
        shadow_change(&f, &s, 0, new_len, mode);
    }
    verify_all(&f, &s);
    shadow_pop(&f, &s);
    close_row(&f);
}

ParameterizedTestParameters(conformance, resize_keeps_contents) { return all_rows(); }
ParameterizedTest(int *index, conformance, resize_keeps_contents) { change_test(*index, 0); }

ParameterizedTestParameters(conformance, remap_keeps_contents) { return all_rows(); }
ParameterizedTest(int *index, conformance, remap_keeps_contents) { change_test(*index, 1); }

ParameterizedTestParameters(conformance, realloc_keeps_contents) { return all_rows(); }
ParameterizedTest(int *index, conformance, realloc_keeps_contents) { change_test(*index, 2); }

/* Shrinking the most recent block in place must work for every strategy that
 * resizes at all, and must never move it. */
ParameterizedTestParameters(conformance, resize_never_moves) { return all_rows(); }
ParameterizedTest(int *index, conformance, resize_never_moves)
{
    fixture f = open_row(*index);
    size_t len = f.row->max_len < 256 ? f.row->max_len : 256;
    uint8_t *p = alloc_bytes(f.inst.a, len, 8);
    cr_assert(p != NULL);
    fill(p, len, 3);
    size_t cur = len;
    for (size_t new_len = len / 2; new_len >= 1; new_len /= 2) {
        if (alloc_resize(f.inst.a, p, cur, 8, new_len)) {
            cr_assert_eq(verify(p, new_len, 3), new_len, "%s: shrink lost contents", f.row->name);
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
    if (f->row->stats) f->row->stats(&f->inst, &s);
    return s.alloc_count;
}

ParameterizedTestParameters(conformance, zero_length_and_overflow) { return all_rows(); }
ParameterizedTest(int *index, conformance, zero_length_and_overflow)
{
    fixture f = open_row(*index);
    uint64_t before = allocs_of(&f);
    void *z = alloc_bytes(f.inst.a, 0, 16);
    cr_assert_eq(z, (void *)16, "%s: zero-length alloc is not the sentinel", f.row->name);
    alloc_free(f.inst.a, z, 0, 16);
    cr_assert_null(alloc_array(f.inst.a, SIZE_MAX / 2 + 1, 2, 8), "%s: n*size overflow not caught", f.row->name);
    cr_assert_null(alloc_array(f.inst.a, SIZE_MAX, SIZE_MAX, 1));
    cr_assert_null(alloc_bytes(f.inst.a, SIZE_MAX, 8), "%s: SIZE_MAX accepted", f.row->name);
    cr_assert_null(alloc_bytes(f.inst.a, 8, 3), "%s: align 3 accepted", f.row->name);
    cr_assert_null(alloc_bytes(f.inst.a, 8, 0), "%s: align 0 accepted", f.row->name);
    cr_assert_eq(allocs_of(&f), before, "%s: a rejected request reached the allocator", f.row->name);
    check(&f, "rejected requests");

    /* realloc from and to zero length */
    uint8_t *p = alloc_realloc(f.inst.a, z, 0, 16, 16);
    cr_assert_not_null(p);
    fill(p, 16, 5);
    void *back = alloc_realloc(f.inst.a, p, 16, 16, 0);
    cr_assert_eq(back, (void *)16, "%s: realloc to 0 did not give the sentinel", f.row->name);
    check(&f, "realloc to zero");
    close_row(&f);
}

ParameterizedTestParameters(conformance, impossible_request_fails_cleanly) { return all_rows(); }
ParameterizedTest(int *index, conformance, impossible_request_fails_cleanly)
{
    fixture f = open_row(*index);
    uint8_t *keep = alloc_bytes(f.inst.a, 8, 8);
    cr_assert_not_null(keep);
    fill(keep, 8, 9);
    cr_assert_null(alloc_bytes(f.inst.a, ALLOC_MAX_LEN, 16), "%s: PTRDIFF_MAX bytes granted?", f.row->name);
    cr_assert_null(alloc_bytes(f.inst.a, ALLOC_MAX_LEN / 2 + 12345, 8));
    check(&f, "impossible alloc");
    /* growing the (most recent) block to an impossible size fails and keeps it */
    cr_assert(!alloc_resize(f.inst.a, keep, 8, 8, ALLOC_MAX_LEN - 4096));
    cr_assert_null(alloc_remap(f.inst.a, keep, 8, 8, ALLOC_MAX_LEN - 4096));
    cr_assert_null(alloc_realloc(f.inst.a, keep, 8, 8, ALLOC_MAX_LEN - 4096));
    check(&f, "impossible growth");
    cr_assert_eq(verify(keep, 8, 9), 8, "%s: failed requests damaged a live block", f.row->name);
    if (f.row->stats) {
        alloc_stats s;
        f.row->stats(&f.inst, &s);
        cr_assert_geq(s.failed_count, 2, "%s: failed requests not counted", f.row->name);
    }
    uint8_t *more = alloc_bytes(f.inst.a, 8, 8);
    cr_assert_not_null(more, "%s: unusable after a failed request", f.row->name);
    alloc_free(f.inst.a, more, 8, 8);
    alloc_free(f.inst.a, keep, 8, 8);
    close_row(&f);
}

static void workload(int index, bool lifo, int ops, uint64_t seed)
{
    fixture f = open_row(index);
    static shadow s;
    memset(&s, 0, sizeof s);
    rng_seed(seed);
    uint32_t next_seed = 1;
    for (int op = 0; op < ops; op++) {
        size_t r = rng_below(100);
        if (r < 45 || s.n == 0) {
            size_t len = random_len(f.row->max_len);
            if (!shadow_alloc(&f, &s, len, random_align(&f, 256), next_seed++) && s.n) {
                lifo ? shadow_pop(&f, &s) : shadow_free(&f, &s, rng_below(s.n));
            }
        } else if (r < 80) {
            lifo ? shadow_pop(&f, &s) : shadow_free(&f, &s, rng_below(s.n));
        } else {
            size_t i = lifo ? s.n - 1 : rng_below(s.n);
            size_t new_len = random_len(f.row->max_len);
            shadow_change(&f, &s, i, new_len, (int)rng_below(3));
        }
        if (op % 64 == 0) {
            verify_all(&f, &s);
            assert_disjoint(&f, &s);
        }
    }
    verify_all(&f, &s);
    assert_disjoint(&f, &s);
    while (s.n) lifo ? shadow_pop(&f, &s) : shadow_free(&f, &s, rng_below(s.n));
    if (f.row->stats) {
        alloc_stats st;
        f.row->stats(&f.inst, &st);
        cr_assert_eq(st.bytes_in_use, 0, "%s: %zu bytes still counted in use after freeing all", f.row->name,
                     st.bytes_in_use);
    }
    close_row(&f);
}

ParameterizedTestParameters(conformance, random_workload) { return all_rows(); }
ParameterizedTest(int *index, conformance, random_workload)
{
    sort_rows();
    if (rows[*index]->caps & CONF_LIFO_ONLY) {
        /* Any-order frees are outside a LIFO allocator's contract: this row
         * runs the LIFO workload twice over instead, with other seeds. */
        workload(*index, true, 2000, 11);
        workload(*index, true, 2000, 12);
        return;
    }
    workload(*index, false, 4000, 42);
}

ParameterizedTestParameters(conformance, lifo_workload) { return all_rows(); }
ParameterizedTest(int *index, conformance, lifo_workload) { workload(*index, true, 3000, 7); }

ParameterizedTestParameters(conformance, exhaustion) { return all_rows(); }
ParameterizedTest(int *index, conformance, exhaustion)
{
    fixture f = open_row(*index);
    if (!has(&f, CONF_FIXED_CAPACITY)) {
        /* Growable rows: the impossible-request test covers failure; here a
         * burst of many small blocks must all succeed and be freed. */
        static shadow s;
        memset(&s, 0, sizeof s);
        for (uint32_t i = 0; i < MAX_BLOCKS; i++)
            cr_assert(shadow_alloc(&f, &s, 48 < f.row->max_len ? 48 : f.row->max_len, 8, i + 1) ||
                      s.cost + 200 > f.row->max_live);
        verify_all(&f, &s);
        while (s.n) shadow_pop(&f, &s);
        close_row(&f);
        return;
    }
    size_t len = f.row->max_len < 64 ? f.row->max_len : 64;
    enum { MAX_TRIES = 1 << 20 };
    void **blocks = malloc(sizeof(void *) * MAX_TRIES);
    size_t n = 0;
    while (n < MAX_TRIES) {
        void *p = alloc_bytes(f.inst.a, len, 8);
        if (!p) break;
        fill(p, len, (uint32_t)n);
        blocks[n++] = p;
    }
    cr_assert(n < MAX_TRIES, "%s: a fixed-capacity allocator never ran out", f.row->name);
    cr_assert(n > 0, "%s: nothing could be allocated", f.row->name);
    check(&f, "exhaustion");
    cr_assert_null(alloc_bytes(f.inst.a, len, 8), "%s: second failing alloc succeeded", f.row->name);
    for (size_t i = 0; i < n; i++) cr_assert_eq(verify(blocks[i], len, (uint32_t)i), len);
    while (n) {
        n--;
        alloc_free(f.inst.a, blocks[n], len, 8);
    }
    check(&f, "free after exhaustion");
    void *again = alloc_bytes(f.inst.a, len, 8);
    cr_assert_not_null(again, "%s: memory not reusable after exhaustion and free", f.row->name);
    alloc_free(f.inst.a, again, len, 8);
    free(blocks);
    close_row(&f);
}

ParameterizedTestParameters(conformance, stats_add_up) { return all_rows(); }
ParameterizedTest(int *index, conformance, stats_add_up)
{
    fixture f = open_row(*index);
    if (!f.row->stats) {
        close_row(&f);
        return;
    }
    alloc_stats s0, s1, s2;
    cr_assert(f.row->stats(&f.inst, &s0));
    void *p = alloc_bytes(f.inst.a, 40, 8);
    cr_assert_not_null(p);
    cr_assert(f.row->stats(&f.inst, &s1));
    cr_assert_eq(s1.alloc_count, s0.alloc_count + 1, "%s: alloc not counted", f.row->name);
    cr_assert_geq(s1.bytes_in_use, s0.bytes_in_use + 40, "%s: bytes in use did not grow", f.row->name);
    alloc_free(f.inst.a, p, 40, 8);
    cr_assert(f.row->stats(&f.inst, &s2));
    cr_assert_eq(s2.bytes_in_use, s0.bytes_in_use, "%s: free not subtracted", f.row->name);
    cr_assert_geq(s2.peak_bytes_in_use, s1.bytes_in_use, "%s: peak decreased", f.row->name);
    cr_assert_geq(s2.alloc_count, s1.alloc_count, "%s: count decreased", f.row->name);
    close_row(&f);
}
