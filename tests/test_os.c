/*
 * test_os.c: the page provider (os.h) and the page allocator (page.h).
 */
#define _GNU_SOURCE 1 /* mincore */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/os.h"
#include "alloc/page.h"
#include "core/track.h"

/* true iff the page at p is mapped (mincore fails with ENOMEM on a hole). */
static bool page_is_mapped(const void *p)
{
    unsigned char vec;
    size_t page = alloc_os_page_size();
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
    return mincore(base, page, &vec) == 0;
}

Test(os, page_size_is_sane)
{
    size_t page = alloc_os_page_size();
    cr_assert(alloc_is_pow2(page) && page >= 4096 && page <= 65536, "page size %zu", page);
    cr_assert_eq(page, (size_t)sysconf(_SC_PAGESIZE), "disagrees with the C library");
    const char *name = alloc_os_backend_name();
    cr_assert(strcmp(name, "libc") == 0 || strncmp(name, "asm-", 4) == 0, "backend %s", name);
}

Test(os, map_is_zeroed_writable_and_unmaps)
{
    size_t page = alloc_os_page_size();
    void *p = NULL;
    cr_assert_eq(alloc_os_map(3 * page + 1, 1, &p), 0);
    cr_assert(alloc_is_aligned(p, page));
    unsigned char *b = p;
    for (size_t i = 0; i < 4 * page; i++) cr_assert_eq(b[i], 0);
    memset(b, 0xab, 4 * page);
    cr_assert_eq(alloc_os_unmap(p, 3 * page + 1), 0);
    cr_assert(!page_is_mapped(b));
    cr_assert(!page_is_mapped(b + 3 * page));
}

Test(os, map_with_large_alignment)
{
    size_t page = alloc_os_page_size();
    for (size_t align = 2 * page; align <= ((size_t)16 << 20); align *= 4) {
        void *p = NULL;
        cr_assert_eq(alloc_os_map(5 * page, align, &p), 0, "align %zu", align);
        cr_assert(alloc_is_aligned(p, align), "%p not aligned to %zu", p, align);
        memset(p, 1, 5 * page);
        cr_assert_eq(alloc_os_unmap(p, 5 * page), 0);
    }
    void *mib = NULL;
    cr_assert_eq(alloc_os_map(1, (size_t)1 << 20, &mib), 0);
    cr_assert(alloc_is_aligned(mib, (size_t)1 << 20), "1 MiB alignment not honoured: %p", mib);
    cr_assert_eq(alloc_os_unmap(mib, 1), 0);
}

Test(os, bad_arguments_are_errors_not_crashes)
{
    void *p = (void *)0x1234;
    cr_assert_eq(alloc_os_map(SIZE_MAX, 1, &p), -ENOMEM);
    cr_assert_eq(alloc_os_map((size_t)PTRDIFF_MAX, 1, &p), -ENOMEM);
    /* the over-map for this alignment is beyond any address space */
    int r = alloc_os_map((size_t)1 << 20, (size_t)1 << 62, &p);
    cr_assert(r == -ENOMEM || r == -EINVAL, "2^62 alignment gave %d", r);
    cr_assert_eq(alloc_os_map(0, 1, &p), -EINVAL);
    cr_assert_eq(alloc_os_map(4096, 3, &p), -EINVAL);
    /* an address space larger than any machine: the kernel says no */
    r = alloc_os_map((size_t)1 << 60, 1, &p);
    cr_assert(r == -ENOMEM || r == -EINVAL, "huge map gave %d", r);
    cr_assert_eq(p, (void *)0x1234, "*out written on failure");
    cr_assert_eq(alloc_os_unmap((void *)0x1001, 4096), -EINVAL);
    cr_assert_eq(alloc_os_unmap(NULL, 0), -EINVAL);
}

Test(os, purge_gives_zero_pages)
{
    size_t page = alloc_os_page_size();
    void *p = NULL;
    cr_assert_eq(alloc_os_map(4 * page, 1, &p), 0);
    memset(p, 0x5a, 4 * page);
    cr_assert_eq(alloc_os_purge(p, 4 * page, false), 0);
    for (size_t i = 0; i < 4 * page; i++) cr_assert_eq(((unsigned char *)p)[i], 0);
    memset(p, 0x5a, 4 * page);
    cr_assert_eq(alloc_os_purge(p, 4 * page, true), 0); /* contents undefined, must stay mapped */
    cr_assert(page_is_mapped(p));
    ((unsigned char *)p)[0] = 1;
    cr_assert_eq(alloc_os_unmap(p, 4 * page), 0);
}

Test(os, huge_page_hint_is_advice)
{
    void *p = NULL;
    size_t len = (size_t)4 << 20;
    cr_assert_eq(alloc_os_map(len, (size_t)2 << 20, &p), 0);
    int r = alloc_os_hint_huge(p, len);
    cr_assert(r == 0 || r == -EINVAL, "hint gave %d", r);
    memset(p, 1, len);
    cr_assert_eq(alloc_os_unmap(p, len), 0);
}

/* Under ASan the fault is reported by its handler, which then aborts. */
#if ALLOC_TRACK_ASAN_ENABLED
#define GUARD_SIGNAL SIGABRT
#else
#define GUARD_SIGNAL SIGSEGV
#endif

Test(os, guard_page_faults, .signal = GUARD_SIGNAL)
{
    size_t page = alloc_os_page_size();
    void *p = NULL;
    cr_assert_eq(alloc_os_map(2 * page, 1, &p), 0);
    cr_assert_eq(alloc_os_protect((char *)p + page, page, ALLOC_OS_PROT_NONE), 0);
    volatile char *guard = (char *)p + page;
    ((char *)p)[page - 1] = 1; /* still writable below the guard */
    *guard = 1;
    cr_assert_fail("write to a guard page did not fault");
}

Test(os, protect_read_only_then_back)
{
    size_t page = alloc_os_page_size();
    void *p = NULL;
    cr_assert_eq(alloc_os_map(page, 1, &p), 0);
    cr_assert_eq(alloc_os_protect(p, page, ALLOC_OS_PROT_READ), 0);
    cr_assert_eq(((volatile char *)p)[10], 0);
    cr_assert_eq(alloc_os_protect(p, page, ALLOC_OS_PROT_READ_WRITE), 0);
    ((char *)p)[10] = 3;
    cr_assert_eq(alloc_os_unmap(p, page), 0);
}

Test(os, remap_in_place_and_moving)
{
    size_t page = alloc_os_page_size();
    void *p = NULL, *q = NULL;
    cr_assert_eq(alloc_os_map(4 * page, 1, &p), 0);
    memset(p, 7, 4 * page);
    cr_assert_eq(alloc_os_remap(p, 4 * page, 2 * page, false, &q), 0);
    cr_assert_eq(q, p, "shrinking in place moved");
    cr_assert(!page_is_mapped((char *)p + 2 * page));
    cr_assert_eq(alloc_os_remap(p, 2 * page, 64 * page, true, &q), 0);
    for (size_t i = 0; i < 2 * page; i++) cr_assert_eq(((unsigned char *)q)[i], 7);
    cr_assert_eq(((unsigned char *)q)[64 * page - 1], 0, "grown tail not zeroed");
    cr_assert_eq(alloc_os_unmap(q, 64 * page), 0);
}

static void fill_words(uint64_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) w[i] = i * 0x9E3779B97F4A7C15ull;
}

static size_t first_bad_word(const uint64_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != i * 0x9E3779B97F4A7C15ull) return i;
    return n;
}

Test(page, remap_64mib_to_128mib_keeps_contents_without_copying)
{
    allocator a = alloc_page_allocator();
    size_t len = (size_t)64 << 20, new_len = (size_t)128 << 20;
    uint64_t *p = alloc_bytes(a, len, 4096);
    cr_assert_not_null(p);
    fill_words(p, len / 8);
    /* Block the pages right after the buffer so the remap cannot grow in
     * place and has to move the mapping. */
    void *blocker = mmap((char *)p + len, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    bool blocked = blocker == (char *)p + len;
    uint64_t *q = alloc_remap(a, p, len, 4096, new_len);
    cr_assert_not_null(q, "remap failed");
    cr_assert_eq(first_bad_word(q, len / 8), len / 8, "contents lost");
    if (q != p) {
        /* mremap moved the page-table entries: the old range is gone, so no
         * copy exists anywhere; a copying realloc would leave it mapped. */
        cr_assert(!page_is_mapped(p), "old range still mapped after a moving remap");
        cr_assert(!page_is_mapped((char *)p + len - 1));
    }
    if (blocked) cr_assert_neq(q, p, "grew in place over a mapped page?");
    q[new_len / 8 - 1] = 42; /* the new tail is usable */
    alloc_free(a, q, new_len, 4096);
    if (blocked) munmap(blocker, 4096);
}

Test(page, resize_shrinks_in_place_and_grows_when_free)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    unsigned char *p = alloc_bytes(a, 8 * page, 1);
    cr_assert_not_null(p);
    memset(p, 9, 8 * page);
    cr_assert(alloc_resize(a, p, 8 * page, 1, 2 * page + 5));
    cr_assert(!page_is_mapped(p + 3 * page), "tail not unmapped");
    for (size_t i = 0; i < 2 * page + 5; i++) cr_assert_eq(p[i], 9);
    /* same page count: always succeeds */
    cr_assert(alloc_resize(a, p, 2 * page + 5, 1, 3 * page));
    /* the pages just released are normally still free: growing back in place
     * may succeed; if it does not, nothing changed */
    if (alloc_resize(a, p, 3 * page, 1, 6 * page)) {
        memset(p + 3 * page, 1, 3 * page);
        alloc_free(a, p, 6 * page, 1);
    } else {
        cr_assert(page_is_mapped(p + 2 * page));
        alloc_free(a, p, 3 * page, 1);
    }
    cr_assert(alloc_page_check());
}

Test(page, stats_count_pages_and_requests)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    alloc_stats s0, s1, s2;
    alloc_page_stats(&s0);
    void *p = alloc_bytes(a, page + 1, 1);
    cr_assert_not_null(p);
    alloc_page_stats(&s1);
    cr_assert_eq(s1.bytes_in_use - s0.bytes_in_use, page + 1);
    cr_assert_eq(s1.bytes_reserved - s0.bytes_reserved, 2 * page);
    cr_assert_eq(s1.alloc_count - s0.alloc_count, 1);
    alloc_free(a, p, page + 1, 1);
    alloc_page_stats(&s2);
    cr_assert_eq(s2.bytes_in_use, s0.bytes_in_use);
    cr_assert_eq(s2.bytes_reserved, s0.bytes_reserved);
    cr_assert_eq(s2.free_count - s0.free_count, 1);
    cr_assert_geq(s2.peak_bytes_reserved, s1.bytes_reserved);
    cr_assert(alloc_page_check());
}

Test(os, stderr_write_reaches_fd_2, .init = cr_redirect_stderr)
{
    alloc_os_write_stderr("page provider\n", 14);
    fflush(stderr);
    cr_assert_stderr_eq_str("page provider\n");
}
