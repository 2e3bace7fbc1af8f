/*
 * test_containers.c: the vector, string builder and map over every allocator.
 *
 * Each container test runs over a table of backing allocators (page, libc,
 * and every strategy compiled into this build), always through a validating
 * wrapper defined here that
 *   - checks that every free/resize/remap names a live block with its exact
 *     len and align (the alloc.h contract the containers must keep),
 *   - can fail the n-th allocation (fault injection), cap the bytes it hands
 *     out (a fixed buffer), or refuse resize/remap (forcing the copy rung),
 *   - counts what it was asked, and reports leaks at the end.
 * After every container operation the container's own checker runs, and its
 * contents are compared with a plain C model.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/c_allocator.h"
#include "alloc/containers.h"
#include "alloc/page.h"
#include "core/track.h"
#include "test_containers_backings.h"

/* Under Valgrind (the CI memcheck job) the long loops run a tenth as long:
 * the same paths, a fraction of the repetitions. */
static unsigned reps(unsigned n)
{
    unsigned scaled = ALLOC_TRACK_RUNNING_ON_VALGRIND() ? n / 10 : n;
    return scaled ? scaled : 1;
}

/* --- the validating wrapper ------------------------------------------------ */

#define MAX_LIVE 4096

typedef struct live_block {
    void *p;
    size_t len, align;
} live_block;

typedef struct validator {
    allocator inner;
    live_block live[MAX_LIVE];
    size_t live_count;
    size_t live_bytes;
    size_t byte_limit;    /* 0 = none; else alloc/resize/remap beyond it fail */
    long fail_after;      /* < 0 = never; else every request for more memory (alloc, growing
                             resize or remap) after this many fails */
    bool no_resize;       /* refuse resize and remap (forces alloc + copy + free) */
    unsigned long allocs, frees, resizes, remaps, failures;
} validator;

static live_block *find_live(validator *v, void *p)
{
    for (size_t i = 0; i < v->live_count; i++)
        if (v->live[i].p == p) return &v->live[i];
    return NULL;
}

static live_block *expect_live(validator *v, void *p, size_t len, size_t align)
{
    live_block *b = find_live(v, p);
    cr_assert(b != NULL, "container passed a pointer it does not own: %p", p);
    cr_assert(b->len == len && b->align == align, "wrong len/align: block %zu/%zu, given %zu/%zu", b->len,
              b->align, len, align);
    return b;
}

static bool over_limit(validator *v, size_t extra) { return v->byte_limit && v->live_bytes + extra > v->byte_limit; }

static bool inject_failure(validator *v)
{
    if (v->fail_after < 0) return false;
    if (v->fail_after == 0) return true;
    v->fail_after--;
    return false;
}

static void *val_alloc(void *ctx, size_t len, size_t align, uintptr_t ra)
{
    validator *v = ctx;
    cr_assert(len > 0 && alloc_is_pow2(align));
    if (over_limit(v, len) || inject_failure(v)) {
        v->failures++;
        return NULL;
    }
    void *p = v->inner.vtable->alloc(v->inner.ctx, len, align, ra);
    if (!p) {
        v->failures++;
        return NULL;
    }
    cr_assert(alloc_is_aligned(p, align));
    cr_assert(v->live_count < MAX_LIVE, "too many live blocks for the validator");
    v->live[v->live_count++] = (live_block){p, len, align};
    v->live_bytes += len;
    v->allocs++;
    return p;
}

static bool val_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ra)
{
    validator *v = ctx;
    live_block *b = expect_live(v, mem, len, align);
    if (v->no_resize || (new_len > len && (over_limit(v, new_len - len) || inject_failure(v)))) return false;
    if (!v->inner.vtable->resize(v->inner.ctx, mem, len, align, new_len, ra)) return false;
    v->live_bytes = v->live_bytes - len + new_len;
    b->len = new_len;
    v->resizes++;
    return true;
}

static void *val_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ra)
{
    validator *v = ctx;
    live_block *b = expect_live(v, mem, len, align);
    if (v->no_resize || (new_len > len && (over_limit(v, new_len - len) || inject_failure(v)))) return NULL;
    void *p = v->inner.vtable->remap(v->inner.ctx, mem, len, align, new_len, ra);
    if (!p) return NULL;
    cr_assert(alloc_is_aligned(p, align));
    v->live_bytes = v->live_bytes - len + new_len;
    b->p = p;
    b->len = new_len;
    v->remaps++;
    return p;
}

static void val_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ra)
{
    validator *v = ctx;
    live_block *b = expect_live(v, mem, len, align);
    v->inner.vtable->free(v->inner.ctx, mem, len, align, ra);
    v->live_bytes -= len;
    *b = v->live[--v->live_count];
    v->frees++;
}

static const alloc_vtable val_vtable = {val_alloc, val_resize, val_remap, val_free};

static void val_init(validator *v, allocator inner)
{
    memset(v, 0, sizeof *v);
    v->inner = inner;
    v->fail_after = -1;
}

static allocator val_handle(validator *v) { return (allocator){v, &val_vtable}; }

static void val_expect_empty(const validator *v)
{
    cr_assert_eq(v->live_count, 0, "%zu blocks (%zu bytes) leaked", v->live_count, v->live_bytes);
}

/* --- the table of backings ------------------------------------------------- */

/* Every backing. */
static struct criterion_test_params all_backings(void)
{
    static int idx[64];
    size_t n = backing_count();
    for (size_t i = 0; i < n; i++) idx[i] = (int)i;
    return cr_make_param_array(int, idx, n);
}

/* Backings that accept frees in any order: for workloads that interleave
 * several blocks (the map's keys and table) or force growth by copying (the
 * old buffer is freed after the new one is taken). LIFO-only backings get
 * their own test below. */
static struct criterion_test_params any_order_backings(void)
{
    static int idx[64];
    size_t n = 0;
    for (size_t i = 0; i < backing_count(); i++)
        if (!backing_at(i)->lifo) idx[n++] = (int)i;
    return cr_make_param_array(int, idx, n);
}

typedef struct fixture {
    const backing *b;
    backing_instance inst;
    validator *val;
    allocator a;
} fixture;

static fixture open_backing(int i)
{
    fixture f;
    memset(&f, 0, sizeof f);
    f.b = backing_at((size_t)i);
    cr_assert(f.b->make(&f.inst), "%s: make failed", f.b->name);
    f.val = malloc(sizeof *f.val);
    cr_assert(f.val);
    val_init(f.val, f.inst.a);
    f.a = val_handle(f.val);
    return f;
}

static void close_backing(fixture *f)
{
    val_expect_empty(f->val);
    if (f->b->check) cr_assert(f->b->check(&f->inst), "%s: invariant check failed at the end", f->b->name);
    f->b->destroy(&f->inst);
    free(f->val);
}

static void check_backing(fixture *f)
{
    if (f->b->check) cr_assert(f->b->check(&f->inst), "%s: invariant check failed", f->b->name);
}

/* --- vector ---------------------------------------------------------------- */

ALLOC_VEC_DEFINE(int_vec, int)

typedef struct big {
    _Alignas(64) unsigned char bytes[96];
} big;
ALLOC_VEC_DEFINE(big_vec, big)
ALLOC_VEC_DEFINE(byte_vec, unsigned char)
ALLOC_VEC_DEFINE(u64_vec, uint64_t)

static void expect_ints(const int_vec *v, const int *model, size_t n)
{
    cr_assert(int_vec_check(v));
    cr_assert_eq(v->len, n);
    for (size_t i = 0; i < n; i++) cr_assert_eq(v->items[i], model[i], "element %zu: %d != %d", i, v->items[i], model[i]);
}

ParameterizedTestParameters(containers, vec_ops) { return all_backings(); }
ParameterizedTest(int *param, containers, vec_ops)
{
    fixture f = open_backing(*param);
    enum { N = 3000 };
    static int model[2 * N + 8];
    size_t n = 0;
    int_vec v;
    int_vec_init(&v, f.a);
    cr_assert(int_vec_check(&v));
    cr_assert_eq(f.val->allocs, 0, "init must not allocate");
    size_t want = f.b->small ? 600 : N;
    for (size_t i = 0; i < want; i++) {
        cr_assert_eq(int_vec_push(&v, (int)i * 3), 0, "%s: push %zu", f.b->name, i);
        model[n++] = (int)i * 3;
        cr_assert(int_vec_check(&v));
    }
    expect_ints(&v, model, n);
    check_backing(&f);

    int x;
    cr_assert(int_vec_pop(&v, &x));
    cr_assert_eq(x, model[--n]);
    cr_assert_eq(int_vec_insert(&v, 0, -1), 0);
    memmove(model + 1, model, n * sizeof(int));
    model[0] = -1;
    n++;
    cr_assert_eq(int_vec_insert(&v, n, -2), 0);
    model[n++] = -2;
    cr_assert_eq(int_vec_insert(&v, n + 1, 5), -ERANGE);
    expect_ints(&v, model, n);

    cr_assert_eq(int_vec_remove(&v, 1, &x), 0);
    cr_assert_eq(x, model[1]);
    memmove(model + 1, model + 2, (n - 2) * sizeof(int));
    n--;
    cr_assert_eq(int_vec_swap_remove(&v, 0, &x), 0);
    cr_assert_eq(x, -1);
    model[0] = model[--n];
    cr_assert_eq(int_vec_remove(&v, n, NULL), -ERANGE);
    cr_assert_eq(int_vec_swap_remove(&v, n, NULL), -ERANGE);
    expect_ints(&v, model, n);

    /* Appending a slice of itself must survive the buffer moving. */
    size_t half = n / 2;
    cr_assert_eq(int_vec_shrink_to_fit(&v), 0);
    cr_assert_eq(v.cap, v.len);
    cr_assert_eq(int_vec_append(&v, v.items, half), 0);
    memcpy(model + n, model, half * sizeof(int));
    n += half;
    expect_ints(&v, model, n);

    /* resize: new elements are zero. */
    size_t before = v.len;
    cr_assert_eq(int_vec_resize(&v, before + 5), 0);
    for (size_t i = before; i < before + 5; i++) cr_assert_eq(v.items[i], 0);
    cr_assert_eq(int_vec_resize(&v, 10), 0);
    expect_ints(&v, model, 10);

    int_vec_clear(&v);
    cr_assert_eq(v.len, 0);
    cr_assert(int_vec_check(&v));
    int *slot = int_vec_add(&v);
    cr_assert(slot);
    *slot = 77;
    cr_assert_eq(v.items[0], 77);

    size_t owned_n;
    int *owned = int_vec_to_owned(&v, &owned_n);
    cr_assert(owned);
    cr_assert_eq(owned_n, 1);
    cr_assert_eq(owned[0], 77);
    cr_assert_eq(v.len, 0);
    cr_assert_eq(v.cap, 0);
    alloc_free(f.a, owned, owned_n * sizeof(int), _Alignof(int));

    int_vec_deinit(&v);
    int_vec_deinit(&v); /* a deinit vector is empty and may be deinit again */
    close_backing(&f);
}

/* Random operations checked against a plain array after every step. */
ParameterizedTestParameters(containers, vec_random_model) { return any_order_backings(); }
ParameterizedTest(int *param, containers, vec_random_model)
{
    fixture f = open_backing(*param);
    enum { CAP = 4096 };
    static int model[CAP];
    size_t n = 0;
    int_vec v;
    int_vec_init(&v, f.a);
    unsigned rng = 2463534242u;
    int steps = (int)reps(3000);
    for (int step = 0; step < steps; step++) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        unsigned op = rng % 8;
        int x = (int)(rng >> 8);
        if (op <= 2 && n < CAP) { /* push */
            cr_assert_eq(int_vec_push(&v, x), 0);
            model[n++] = x;
        } else if (op == 3 && n < CAP) { /* insert anywhere */
            size_t i = (rng >> 4) % (n + 1);
            cr_assert_eq(int_vec_insert(&v, i, x), 0);
            memmove(model + i + 1, model + i, (n - i) * sizeof(int));
            model[i] = x;
            n++;
        } else if (op == 4 && n > 0) { /* ordered remove */
            size_t i = (rng >> 4) % n;
            int out;
            cr_assert_eq(int_vec_remove(&v, i, &out), 0);
            cr_assert_eq(out, model[i]);
            memmove(model + i, model + i + 1, (n - i - 1) * sizeof(int));
            n--;
        } else if (op == 5 && n > 0) { /* swap remove */
            size_t i = (rng >> 4) % n;
            cr_assert_eq(int_vec_swap_remove(&v, i, NULL), 0);
            model[i] = model[n - 1];
            n--;
        } else if (op == 6 && n > 0 && 2 * n <= CAP) { /* append a slice of itself */
            size_t from = (rng >> 4) % n, cnt = n - from;
            cr_assert_eq(int_vec_append(&v, v.items + from, cnt), 0);
            memcpy(model + n, model + from, cnt * sizeof(int));
            n += cnt;
        } else if (op == 7) { /* shrink, or truncate */
            if (rng & 0x100) {
                cr_assert_eq(int_vec_shrink_to_fit(&v), 0);
                cr_assert_eq(v.cap, v.len);
            } else {
                size_t to = n ? (rng >> 4) % n : 0;
                cr_assert_eq(int_vec_resize(&v, to), 0);
                n = to;
            }
        }
        cr_assert(int_vec_check(&v), "%s: check after step %d", f.b->name, step);
        cr_assert_eq(v.len, n, "%s: length after step %d", f.b->name, step);
        cr_assert(n == 0 || memcmp(v.items, model, n * sizeof(int)) == 0, "%s: contents after step %d", f.b->name,
                  step);
        if (step % 64 == 0) check_backing(&f);
    }
    int_vec_deinit(&v);
    close_backing(&f);
}

ParameterizedTestParameters(containers, vec_overaligned) { return all_backings(); }
ParameterizedTest(int *param, containers, vec_overaligned)
{
    fixture f = open_backing(*param);
    big_vec v;
    big_vec_init(&v, f.a);
    for (int i = 0; i < 100; i++) {
        big *b = big_vec_add(&v);
        cr_assert(b, "%s: add %d", f.b->name, i);
        memset(b->bytes, i, sizeof b->bytes);
        cr_assert(alloc_is_aligned(v.items, 64));
        cr_assert(big_vec_check(&v));
    }
    for (int i = 0; i < 100; i++) cr_assert_eq(v.items[i].bytes[95], (unsigned char)i);
    big_vec_deinit(&v);
    close_backing(&f);
}

/* Every allocation failure point in a push sequence: the failed push returns
 * -ENOMEM, the vector keeps exactly its elements, and nothing leaks. */
ParameterizedTestParameters(containers, vec_oom_every_point) { return any_order_backings(); }
ParameterizedTest(int *param, containers, vec_oom_every_point)
{
    fixture f = open_backing(*param);
    for (int no_resize = 0; no_resize < 2; no_resize++) {
        for (long k = 0; k < 12; k++) {
            f.val->fail_after = k;
            f.val->no_resize = no_resize;
            int_vec v;
            int_vec_init(&v, f.a);
            size_t pushed = 0;
            int err = 0;
            for (int i = 0; i < 3000; i++) {
                err = int_vec_push(&v, i);
                cr_assert(int_vec_check(&v));
                if (err) break;
                pushed++;
            }
            cr_assert_eq(err, -ENOMEM, "%s: k=%ld: expected -ENOMEM, got %d", f.b->name, k, err);
            cr_assert_eq(v.len, pushed);
            for (size_t i = 0; i < pushed; i++) cr_assert_eq(v.items[i], (int)i);
            /* After the failure the allocator recovers and the vector goes on. */
            f.val->fail_after = -1;
            cr_assert_eq(int_vec_push(&v, 12345), 0);
            cr_assert_eq(v.items[v.len - 1], 12345);
            int_vec_deinit(&v);
            val_expect_empty(f.val);
            check_backing(&f);
        }
    }
    f.val->no_resize = false;
    close_backing(&f);
}

/* A byte cap stands in for a fixed buffer: the step cannot be had near the
 * end, the exact fallback can, so the vector fills the cap exactly. */
Test(containers, vec_fills_fixed_capacity_exactly)
{
    validator *val = malloc(sizeof *val);
    val_init(val, alloc_c_allocator());
    val->byte_limit = 1000;
    val->no_resize = true;
    byte_vec v;
    byte_vec_init(&v, val_handle(val));
    /* Copy growth holds old and new buffers at once, so the limit bounds cap
     * to what fits beside the previous buffer; count what we get. */
    int err = 0;
    while ((err = byte_vec_push(&v, 1)) == 0) {
    }
    cr_assert_eq(err, -ENOMEM);
    size_t got = v.len;
    cr_assert(got >= 1000 / 2 - 8, "only %zu bytes before -ENOMEM", got);
    byte_vec_deinit(&v);

    /* With in-place growth allowed the whole cap is usable. */
    val->no_resize = false;
    byte_vec_init(&v, val_handle(val));
    val->inner = alloc_page_allocator(); /* resize within a page always succeeds */
    while (byte_vec_push(&v, 1) == 0) {
    }
    cr_assert_eq(v.len, 1000, "filled %zu of 1000", v.len);
    cr_assert_eq(v.cap, 1000);
    byte_vec_deinit(&v);
    val_expect_empty(val);
    free(val);
}

Test(containers, vec_overflow_never_reaches_allocator)
{
    validator *val = malloc(sizeof *val);
    val_init(val, alloc_c_allocator());
    int_vec v;
    int_vec_init(&v, val_handle(val));
    cr_assert_eq(int_vec_reserve(&v, SIZE_MAX), -EOVERFLOW);
    cr_assert_eq(int_vec_reserve(&v, SIZE_MAX / 2), -EOVERFLOW);
    cr_assert_eq(int_vec_reserve_exact(&v, ALLOC_MAX_LEN / sizeof(int) + 1), -EOVERFLOW);
    cr_assert_eq(val->allocs + val->failures, 0);
    cr_assert_eq(int_vec_push(&v, 1), 0);
    cr_assert_eq(int_vec_reserve(&v, SIZE_MAX), -EOVERFLOW);
    cr_assert_eq(v.len, 1);
    cr_assert_eq(v.items[0], 1);
    int_vec_deinit(&v);
    val_expect_empty(val);
    free(val);
}

/* Over the page allocator growth never copies: one allocation, then resize or
 * remap (mremap) for every step up to 8 MiB. */
Test(containers, vec_grows_without_copy_over_pages)
{
    validator *val = malloc(sizeof *val);
    val_init(val, alloc_page_allocator());
    u64_vec v;
    u64_vec_init(&v, val_handle(val));
    uint64_t n = reps(1u << 20); /* 8 MiB of elements (800 KiB under Valgrind) */
    for (uint64_t i = 0; i < n; i++)
        if (u64_vec_push(&v, i) != 0) cr_assert_fail("push %llu failed", (unsigned long long)i);
    cr_assert_eq(val->allocs, 1, "growth allocated %lu times", val->allocs);
    cr_assert_eq(val->frees, 0);
    cr_assert(val->resizes + val->remaps > 10);
    for (uint64_t i = 0; i < n; i += 4099) cr_assert_eq(v.items[i], i);
    u64_vec_deinit(&v);
    val_expect_empty(val);
    free(val);
}

/* Over a LIFO-only allocator a lone vector grows by resize or remap of the
 * top block and never frees out of order; the stack's own order check (on in
 * every build) would report it otherwise. */
ParameterizedTestParameters(containers, vec_oom_lifo) { return all_backings(); }
ParameterizedTest(int *param, containers, vec_oom_lifo)
{
    fixture f = open_backing(*param);
    for (long k = 0; k < 12; k++) {
        f.val->fail_after = k;
        int_vec v;
        int_vec_init(&v, f.a);
        size_t pushed = 0;
        int err = 0;
        for (int i = 0; i < 3000 && !err; i++) {
            err = int_vec_push(&v, i);
            cr_assert(int_vec_check(&v));
            if (!err) pushed++;
        }
        cr_assert_eq(err, -ENOMEM, "%s: k=%ld", f.b->name, k);
        cr_assert_eq(v.len, pushed);
        for (size_t i = 0; i < pushed; i++) cr_assert_eq(v.items[i], (int)i);
        f.val->fail_after = -1;
        int_vec_deinit(&v);
        check_backing(&f);
    }
    close_backing(&f);
}

/* --- string builder -------------------------------------------------------- */

ParameterizedTestParameters(containers, str_ops) { return all_backings(); }
ParameterizedTest(int *param, containers, str_ops)
{
    fixture f = open_backing(*param);
    alloc_str s;
    alloc_str_init(&s, f.a);
    cr_assert(alloc_str_check(&s));
    cr_assert_str_eq(alloc_str_cstr(&s), "");
    cr_assert_eq(f.val->allocs, 0);

    char model[8192] = "";
    size_t mlen = 0;
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(alloc_str_appendf(&s, "%d,", i), 0);
        mlen += (size_t)snprintf(model + mlen, sizeof model - mlen, "%d,", i);
        cr_assert(alloc_str_check(&s));
    }
    cr_assert_str_eq(alloc_str_cstr(&s), model);
    cr_assert_eq(s.len, mlen);

    /* A long formatted piece that cannot fit the spare room. */
    cr_assert_eq(alloc_str_appendf(&s, "%0500d", 7), 0);
    cr_assert_eq(s.len, mlen + 500);
    cr_assert_eq(s.data[s.len - 1], '7');
    cr_assert_eq(s.data[mlen], '0');
    alloc_str_truncate(&s, mlen);
    cr_assert_str_eq(alloc_str_cstr(&s), model);

    /* Self-append: the source lives in the buffer that grows. */
    cr_assert_eq(alloc_str_append(&s, s.data, s.len), 0);
    cr_assert_eq(s.len, 2 * mlen);
    cr_assert(memcmp(s.data, model, mlen) == 0 && memcmp(s.data + mlen, model, mlen) == 0);
    cr_assert(alloc_str_check(&s));

    alloc_str_clear(&s);
    cr_assert_str_eq(alloc_str_cstr(&s), "");
    cr_assert_eq(alloc_str_append_cstr(&s, "hello"), 0);
    cr_assert_eq(alloc_str_push(&s, ' '), 0);
    cr_assert_eq(alloc_str_append(&s, "world!!", 5), 0);
    cr_assert_str_eq(alloc_str_cstr(&s), "hello world");
    alloc_str_truncate(&s, 100); /* larger than len: ignored */
    cr_assert_eq(s.len, 11);

    size_t n;
    char *owned = alloc_str_to_owned(&s, &n);
    cr_assert(owned);
    cr_assert_eq(n, 11);
    cr_assert_str_eq(owned, "hello world");
    cr_assert_eq(s.cap, 0);
    cr_assert(alloc_str_check(&s));
    alloc_free_str(f.a, owned); /* exactly strlen + 1 bytes, alignment 1 */

    owned = alloc_str_to_owned(&s, &n); /* empty: a 1-byte "" */
    cr_assert(owned);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(owned, "");
    alloc_free(f.a, owned, 1, 1);
    alloc_str_deinit(&s);
    close_backing(&f);
}

ParameterizedTestParameters(containers, str_oom_every_point) { return any_order_backings(); }
ParameterizedTest(int *param, containers, str_oom_every_point)
{
    fixture f = open_backing(*param);
    for (long k = 0; k < 10; k++) {
        f.val->fail_after = k;
        f.val->no_resize = (k & 1) != 0;
        alloc_str s;
        alloc_str_init(&s, f.a);
        int err = 0;
        int i;
        for (i = 0; i < 2000 && !err; i++) {
            size_t before = s.len;
            char before_tail = before ? s.data[before - 1] : 0;
            err = alloc_str_appendf(&s, "<%d>", i);
            cr_assert(alloc_str_check(&s));
            if (err) {
                cr_assert_eq(s.len, before, "failed appendf changed the length");
                if (before) cr_assert_eq(s.data[before - 1], before_tail);
            }
        }
        cr_assert_eq(err, -ENOMEM, "%s: k=%ld", f.b->name, k);
        f.val->fail_after = -1;
        f.val->no_resize = false;
        alloc_str_deinit(&s);
        val_expect_empty(f.val);
    }
    close_backing(&f);
}

Test(containers, str_overflow)
{
    validator *val = malloc(sizeof *val);
    val_init(val, alloc_c_allocator());
    alloc_str s;
    alloc_str_init(&s, val_handle(val));
    cr_assert_eq(alloc_str_reserve(&s, SIZE_MAX), -EOVERFLOW);
    cr_assert_eq(alloc_str_reserve(&s, ALLOC_MAX_LEN), -EOVERFLOW);
    cr_assert_eq(val->allocs + val->failures, 0);
    alloc_str_deinit(&s);
    free(val);
}

/* --- map -------------------------------------------------------------------- */

static void key_of(char *buf, size_t cap, unsigned i) { snprintf(buf, cap, "key-%u-%u", i * 2654435761u, i); }

ParameterizedTestParameters(containers, map_model) { return any_order_backings(); }
ParameterizedTest(int *param, containers, map_model)
{
    fixture f = open_backing(*param);
    enum { KEYS = 700 };
    static uint64_t model[KEYS];
    static bool present[KEYS];
    memset(present, 0, sizeof present);
    alloc_map m;
    alloc_map_init(&m, f.a);
    cr_assert(alloc_map_check(&m));
    cr_assert_null(alloc_map_get(&m, "x", 1));
    unsigned rng = 12345;
    size_t live = 0;
    unsigned steps = reps(f.b->small ? 800 : 4000);
    for (unsigned step = 0; step < steps; step++) {
        rng = rng * 1103515245u + 12345u;
        unsigned k = (rng >> 8) % KEYS;
        char key[48];
        key_of(key, sizeof key, k);
        unsigned op = (rng >> 24) % 4;
        if (op < 2) {
            uint64_t val = ((uint64_t)step << 32) | k;
            cr_assert_eq(alloc_map_put(&m, key, strlen(key), val), 0);
            if (!present[k]) live++;
            present[k] = true;
            model[k] = val;
        } else if (op == 2) {
            uint64_t out = 0;
            bool was = alloc_map_remove(&m, key, strlen(key), &out);
            cr_assert_eq(was, present[k], "remove %s", key);
            if (was) {
                cr_assert_eq(out, model[k]);
                live--;
            }
            present[k] = false;
        } else {
            uint64_t *v = alloc_map_get(&m, key, strlen(key));
            cr_assert_eq(v != NULL, present[k]);
            if (v) cr_assert_eq(*v, model[k]);
        }
        cr_assert_eq(m.len, live);
        if (step % 16 == 0 || step + 1 == steps) cr_assert(alloc_map_check(&m), "map check at step %u", step);
    }
    /* Iteration sees every live key exactly once. */
    size_t pos = 0, seen = 0;
    const alloc_map_slot *s;
    while ((s = alloc_map_next(&m, &pos)) != NULL) {
        unsigned k = (unsigned)(s->value & 0xffffffffu);
        cr_assert(k < KEYS && present[k]);
        char key[48];
        key_of(key, sizeof key, k);
        cr_assert_str_eq(s->key, key);
        seen++;
    }
    cr_assert_eq(seen, live);
    alloc_map_deinit(&m);
    cr_assert(alloc_map_check(&m));
    close_backing(&f);
}

Test(containers, map_upsert_counts_and_binary_keys)
{
    validator *val = malloc(sizeof *val);
    val_init(val, alloc_c_allocator());
    alloc_map m;
    alloc_map_init(&m, val_handle(val));
    const char *words[] = {"a", "b", "a", "c", "a", "b"};
    for (size_t i = 0; i < 6; i++) {
        bool inserted;
        int err;
        uint64_t *c = alloc_map_upsert(&m, words[i], 1, &inserted, &err);
        cr_assert(c);
        cr_assert_eq(err, 0);
        cr_assert_eq(inserted, *c == 0);
        (*c)++;
    }
    cr_assert_eq(*alloc_map_get(&m, "a", 1), 3);
    cr_assert_eq(*alloc_map_get(&m, "b", 1), 2);
    cr_assert_eq(*alloc_map_get(&m, "c", 1), 1);
    /* Keys are bytes: embedded NULs and the empty key are distinct keys. */
    cr_assert_eq(alloc_map_put(&m, "a\0b", 3, 9), 0);
    cr_assert_eq(alloc_map_put(&m, "", 0, 10), 0);
    cr_assert_eq(*alloc_map_get(&m, "a", 1), 3);
    cr_assert_eq(*alloc_map_get(&m, "a\0b", 3), 9);
    cr_assert_eq(*alloc_map_get(&m, "", 0), 10);
    cr_assert_eq(m.len, 5);
    cr_assert(alloc_map_check(&m));
    alloc_map_deinit(&m);
    val_expect_empty(val);
    free(val);
}

/* Each failure point of a run of inserts: NULL with -ENOMEM, nothing changed
 * (same length, all earlier keys present), nothing leaked. */
Test(containers, map_oom_every_point)
{
    validator *val = malloc(sizeof *val);
    val_init(val, alloc_c_allocator());
    for (long k = 0; k < 40; k++) {
        val->fail_after = k;
        alloc_map m;
        alloc_map_init(&m, val_handle(val));
        unsigned i;
        int err = 0;
        for (i = 0; i < 100; i++) {
            char key[48];
            key_of(key, sizeof key, i);
            size_t before = m.len;
            uint64_t *slot = alloc_map_upsert(&m, key, strlen(key), NULL, &err);
            cr_assert(alloc_map_check(&m));
            if (!slot) {
                cr_assert_eq(err, -ENOMEM);
                cr_assert_eq(m.len, before);
                cr_assert_null(alloc_map_get(&m, key, strlen(key)));
                break;
            }
            *slot = i;
        }
        cr_assert(i < 100, "k=%ld: no failure injected", k);
        for (unsigned j = 0; j < i; j++) {
            char key[48];
            key_of(key, sizeof key, j);
            uint64_t *v = alloc_map_get(&m, key, strlen(key));
            cr_assert(v && *v == j);
        }
        val->fail_after = -1;
        alloc_map_deinit(&m);
        val_expect_empty(val);
    }
    free(val);
}

#ifdef ALLOC_TEST_HAVE_FAILING
#include "alloc/failing.h"

/* A container workload for the every-failure driver: must leak nothing and
 * report out of memory whenever it cannot finish. */
static int container_workload(allocator a, void *user)
{
    (void)user;
    int_vec v;
    int_vec_init(&v, a);
    alloc_str s;
    alloc_str_init(&s, a);
    alloc_map m;
    alloc_map_init(&m, a);
    int rc = ALLOC_TEST_OUT_OF_MEMORY;
    for (int i = 0; i < 300; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i % 50);
        uint64_t *slot = alloc_map_upsert(&m, key, strlen(key), NULL, NULL);
        if (!slot) goto out;
        ++*slot;
        if (int_vec_push(&v, i) != 0) goto out;
        if (alloc_str_appendf(&s, "%d;", i) != 0) goto out;
    }
    rc = (v.len == 300 && m.len == 50 && *alloc_map_get(&m, "k7", 2) == 6 && alloc_map_check(&m) &&
          int_vec_check(&v) && alloc_str_check(&s))
             ? ALLOC_TEST_OK
             : 99;
out:
    alloc_map_deinit(&m);
    alloc_str_deinit(&s);
    int_vec_deinit(&v);
    return rc;
}

Test(containers, every_allocation_failure)
{
    /* The exact-size retry after a failed growth step may absorb a single
     * failure, which is allowed; leaks and crashes are not. */
    alloc_failure_options opt = {.allow_swallowed = true};
    alloc_failure_report r;
    alloc_failure_status st = alloc_check_all_failures(alloc_c_allocator(), container_workload, NULL, &opt, &r);
    cr_assert_eq(st, ALLOC_FAILURES_PASSED, "%s at allocation %llu of %llu (test returned %d, leaked %zu)",
                 alloc_failure_status_name(st), (unsigned long long)r.failing_index,
                 (unsigned long long)r.allocations, r.test_result, r.leaked_blocks);
    cr_assert(r.allocations > 20, "the workload made only %llu allocations", (unsigned long long)r.allocations);
}
#endif

#ifdef ALLOC_TEST_HAVE_POOL
#include "alloc/pool.h"

/* A pool serves one size: a vector over it grows until its buffer would pass
 * the object size, then reports -ENOMEM and keeps its elements. */
Test(containers, vec_over_pool_stops_at_object_size)
{
    alloc_pool pool;
    alloc_pool_config cfg = {.obj_size = 256, .obj_align = 16};
    cr_assert_eq(alloc_pool_init(&pool, &cfg), 0);
    int_vec v;
    int_vec_init(&v, alloc_pool_allocator(&pool));
    int err;
    while ((err = int_vec_push(&v, (int)v.len)) == 0) cr_assert(alloc_pool_check(&pool));
    cr_assert_eq(err, -ENOMEM);
    cr_assert_eq(v.cap * sizeof(int), 256, "the exact fallback should fill the slot: cap %zu", v.cap);
    for (size_t i = 0; i < v.len; i++) cr_assert_eq(v.items[i], (int)i);
    int_vec_deinit(&v);
    cr_assert(alloc_pool_check(&pool));
    alloc_pool_deinit(&pool);
}
#endif
