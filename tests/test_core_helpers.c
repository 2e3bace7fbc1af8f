/*
 * test_core_helpers.c: the front-door helpers of alloc.h against a recording
 * mock allocator (so every vtable call can be observed and made to fail), and
 * the diagnostics of diag.h.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/diag.h"

/* --- a mock allocator over malloc that records and can refuse ------------- */

typedef struct mock {
    int allocs, resizes, remaps, frees;
    bool fail_alloc, fail_remap, allow_resize;
    uintptr_t last_ret_addr;
    size_t last_len, last_align;
} mock;

static void *mock_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    mock *m = ctx;
    m->allocs++;
    m->last_ret_addr = ret_addr;
    m->last_len = len;
    m->last_align = align;
    if (m->fail_alloc) return NULL;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, len) == 0 ? p : NULL;
}

static bool mock_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    mock *m = ctx;
    (void)mem, (void)len, (void)align, (void)ret_addr;
    m->resizes++;
    return m->allow_resize && new_len <= len;
}

static void *mock_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    mock *m = ctx;
    (void)len, (void)align, (void)ret_addr;
    m->remaps++;
    if (m->fail_remap) return NULL;
    return realloc(mem, new_len);
}

static void mock_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    mock *m = ctx;
    m->frees++;
    m->last_len = len;
    m->last_align = align;
    m->last_ret_addr = ret_addr;
    free(mem);
}

static const alloc_vtable mock_vtable = {mock_alloc, mock_resize, mock_remap, mock_free};

static allocator mock_handle(mock *m)
{
    memset(m, 0, sizeof *m);
    return (allocator){m, &mock_vtable};
}

/* --- helpers ---------------------------------------------------------------- */

Test(helpers, zero_length_never_reaches_the_vtable)
{
    mock m;
    allocator a = mock_handle(&m);
    void *z = alloc_bytes(a, 0, 64);
    cr_assert_eq(z, (void *)64);
    cr_assert(alloc_is_aligned(z, 64));
    alloc_free(a, z, 0, 64);
    cr_assert(alloc_resize(a, z, 0, 64, 0));
    cr_assert(!alloc_resize(a, z, 0, 64, 10));
    cr_assert_null(alloc_remap(a, z, 0, 64, 10));
    double *none = alloc_create_array(a, double, 0);
    cr_assert_eq((void *)none, (void *)_Alignof(double));
    cr_assert_eq(m.allocs + m.frees + m.resizes + m.remaps, 0, "a zero-length request reached the vtable");
}

Test(helpers, overflow_and_bad_alignment_never_reach_the_vtable)
{
    mock m;
    allocator a = mock_handle(&m);
    cr_assert_null(alloc_array(a, SIZE_MAX / 4 + 1, 4, 4));
    cr_assert_null(alloc_create_array(a, uint64_t, SIZE_MAX / 4));
    cr_assert_null(alloc_bytes(a, (size_t)PTRDIFF_MAX + 1, 8));
    cr_assert_null(alloc_bytes(a, 16, 24));
    cr_assert_null(alloc_bytes(a, 16, 0));
    cr_assert(!alloc_resize(a, &m, 8, 8, SIZE_MAX));
    cr_assert_null(alloc_remap(a, &m, 8, 8, SIZE_MAX));
    cr_assert_null(alloc_realloc(a, &m, 8, 8, SIZE_MAX));
    cr_assert_eq(m.allocs + m.frees + m.resizes + m.remaps, 0);
}

static void *__attribute__((noinline)) allocate_here(allocator a) { return alloc_bytes(a, 10, 2); }

Test(helpers, pass_the_caller_return_address)
{
    mock m;
    allocator a = mock_handle(&m);
    void *p = allocate_here(a);
    cr_assert_not_null(p);
    cr_assert_neq(m.last_ret_addr, 0, "ret_addr not captured");
    cr_assert_eq(m.last_len, 10);
    cr_assert_eq(m.last_align, 2);
    alloc_free_at(a, p, 10, 2, 0x1234);
    cr_assert_eq(m.last_ret_addr, 0x1234);
}

Test(helpers, realloc_prefers_remap_then_copies_and_keeps_original_on_failure)
{
    mock m;
    allocator a = mock_handle(&m);
    char *p = alloc_bytes(a, 8, 8);
    memcpy(p, "abcdefg", 8);
    /* remap path */
    p = alloc_realloc(a, p, 8, 8, 4000);
    cr_assert_not_null(p);
    cr_assert_str_eq(p, "abcdefg");
    cr_assert_eq(m.remaps, 1);
    /* remap refuses: alloc + copy + free */
    m.fail_remap = true;
    int allocs = m.allocs, frees = m.frees;
    p = alloc_realloc(a, p, 4000, 8, 9000);
    cr_assert_not_null(p);
    cr_assert_str_eq(p, "abcdefg");
    cr_assert_eq(m.allocs, allocs + 1);
    cr_assert_eq(m.frees, frees + 1);
    cr_assert_eq(m.last_len, 4000, "the old block was freed with the wrong length");
    /* everything refuses: NULL, and the block is still there */
    m.fail_alloc = true;
    frees = m.frees;
    cr_assert_null(alloc_realloc(a, p, 9000, 8, 20000));
    cr_assert_eq(m.frees, frees, "failed realloc freed the original");
    cr_assert_str_eq(p, "abcdefg");
    m.fail_alloc = false;
    alloc_free(a, p, 9000, 8);
}

Test(helpers, dup_strdup_create_destroy)
{
    mock m;
    allocator a = mock_handle(&m);
    char *s = alloc_strdup(a, "hello");
    cr_assert_str_eq(s, "hello");
    cr_assert_eq(m.last_len, 6);
    alloc_free_str(a, s);
    cr_assert_eq(m.last_len, 6);
    unsigned char bytes[40];
    for (int i = 0; i < 40; i++) bytes[i] = (unsigned char)i;
    unsigned char *d = alloc_dup(a, bytes, 40);
    cr_assert_eq(memcmp(d, bytes, 40), 0);
    cr_assert_eq(m.last_align, alloc_dup_align(40));
    alloc_free(a, d, 40, alloc_dup_align(40));

    typedef struct point {
        double x, y;
        long tag;
    } point;
    point *pt = alloc_create(a, point);
    cr_assert_not_null(pt);
    cr_assert_eq(m.last_len, sizeof(point));
    cr_assert_eq(m.last_align, _Alignof(point));
    alloc_destroy(a, point, pt);
    cr_assert_eq(m.frees, 3);
    point *arr = alloc_create_array(a, point, 7);
    cr_assert_eq(m.last_len, 7 * sizeof(point));
    alloc_destroy_array(a, point, arr, 7);
    cr_assert_eq(m.last_len, 7 * sizeof(point));
}

Test(helpers, resize_same_length_is_free_of_charge)
{
    mock m;
    allocator a = mock_handle(&m);
    void *p = alloc_bytes(a, 32, 8);
    cr_assert(alloc_resize(a, p, 32, 8, 32));
    cr_assert_eq(alloc_remap(a, p, 32, 8, 32), p);
    cr_assert_eq(alloc_realloc(a, p, 32, 8, 32), p);
    cr_assert_eq(m.resizes + m.remaps, 0);
    cr_assert(!alloc_resize(a, p, 32, 8, 16), "mock refuses unless allowed");
    m.allow_resize = true;
    cr_assert(alloc_resize(a, p, 32, 8, 16));
    alloc_free(a, p, 16, 8);
}

Test(helpers, stubs_refuse)
{
    cr_assert(!alloc_no_resize(NULL, NULL, 1, 1, 2, 0));
    cr_assert_null(alloc_no_remap(NULL, NULL, 1, 1, 2, 0));
    alloc_no_free(NULL, (void *)1, 1, 1, 0); /* does nothing, must not crash */
}

/* --- diagnostics -------------------------------------------------------------- */

Test(diag, format_subset)
{
    char buf[128];
    size_t n = alloc_format(buf, sizeof buf, "a%sb %d %u %zu %x %lld %c %% %p", "X", -42, 7u, (size_t)123456789,
                            0xbeefu, -9000000000LL, 'q', (void *)0x10);
    cr_assert_str_eq(buf, "aXb -42 7 123456789 beef -9000000000 q % 0x10");
    cr_assert_eq(n, strlen(buf));
    n = alloc_format(buf, 5, "%s", "truncated");
    cr_assert_str_eq(buf, "trun");
    cr_assert_eq(n, 9, "returns the would-be length");
    cr_assert_eq(alloc_format(buf, sizeof buf, "%d", (int)-2147483647 - 1), 11);
    cr_assert_str_eq(buf, "-2147483648");
}

Test(diag, format_field_widths)
{
    char buf[128];
    size_t n = alloc_format(buf, sizeof buf, "[%10zu][%4d][%3x][%2u][%5lld]", (size_t)135168, -42, 0xbeefu, 12345u,
                            -7LL);
    cr_assert_str_eq(buf, "[    135168][ -42][beef][12345][   -7]");
    cr_assert_eq(n, strlen(buf));
}

static char seen[256];
static int seen_count;
static void record(const char *message, void *user)
{
    cr_assert_eq(user, (void *)seen);
    strncpy(seen, message, sizeof seen - 1);
    seen_count++;
}

Test(diag, misuse_goes_to_the_handler)
{
    alloc_set_misuse_handler(record, seen);
    alloc_report_misuse("double free of %p (len %zu)", (void *)0x40, (size_t)12);
    cr_assert_eq(seen_count, 1);
    cr_assert_str_eq(seen, "double free of 0x40 (len 12)");
    alloc_set_misuse_handler(NULL, NULL);
}

Test(diag, default_misuse_aborts, .signal = SIGABRT)
{
    alloc_report_misuse("deliberate misuse for a death test");
}

Test(diag, corruption_aborts_even_with_a_handler, .signal = SIGABRT)
{
    alloc_set_misuse_handler(record, seen);
    alloc_report_corruption("deliberate corruption for a death test");
}

Test(diag, describe_addr_names_functions)
{
    char buf[200];
    alloc_describe_addr((uintptr_t)abort + 1, buf, sizeof buf);
    cr_assert(strstr(buf, "abort") != NULL, "got %s", buf);
    alloc_describe_addr(0, buf, sizeof buf);
    cr_assert_str_eq(buf, "?");
    alloc_describe_addr(0x10, buf, sizeof buf);
    cr_assert_str_eq(buf, "0x10");
}
