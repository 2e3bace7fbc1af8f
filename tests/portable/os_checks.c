/*
 * os_checks.c: the page provider (os.h), the page allocator (page.h) and the
 * fatal-report path (diag.h), checked by the portable harness on whatever
 * back end and architecture the build targets. The point is the back ends the
 * native Criterion suite cannot reach: the aarch64 inline-asm system calls run
 * under qemu-user, and 32-bit builds where size_t and pointers are 4 bytes.
 *
 * ALLOC_PORTABLE_EXPECT_ASM (1 or 0, from the build) says which back end the
 * library must report, so a build that silently fell back to libc fails.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* mincore */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/diag.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "core/track.h"
#include "harness.h"

#ifndef ALLOC_PORTABLE_EXPECT_ASM
#define ALLOC_PORTABLE_EXPECT_ASM 0
#endif

/* true iff the page holding p is mapped (mincore fails with ENOMEM on a hole). */
static bool page_is_mapped(const void *p)
{
    unsigned char vec;
    size_t page = alloc_os_page_size();
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
    return mincore(base, page, &vec) == 0;
}

static void page_size_and_backend(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    CHECK(alloc_is_pow2(page) && page >= 4096 && page <= 65536, "page size %zu", page);
    CHECK_EQ_SZ(page, (size_t)sysconf(_SC_PAGESIZE), "page size vs the C library");
    const char *name = alloc_os_backend_name();
#if ALLOC_PORTABLE_EXPECT_ASM && defined(__x86_64__)
    CHECK(strcmp(name, "asm-x86_64") == 0, "back end is %s, expected asm-x86_64", name);
#elif ALLOC_PORTABLE_EXPECT_ASM && defined(__aarch64__)
    CHECK(strcmp(name, "asm-aarch64") == 0, "back end is %s, expected asm-aarch64", name);
#elif ALLOC_PORTABLE_EXPECT_ASM
#error "the asm back end exists only for x86_64 and aarch64"
#else
    CHECK(strcmp(name, "libc") == 0, "back end is %s, expected libc", name);
#endif
}

static void map_is_zeroed_writable_and_unmaps(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    void *p = NULL;
    CHECK(alloc_os_map(3 * page + 1, 1, &p) == 0, "map failed");
    CHECK(alloc_is_aligned(p, page), "%p not page-aligned", p);
    unsigned char *b = p;
    for (size_t i = 0; i < 4 * page; i++) CHECK(b[i] == 0, "byte %zu not zero", i);
    memset(b, 0xab, 4 * page);
    CHECK(alloc_os_unmap(p, 3 * page + 1) == 0, "unmap failed");
    CHECK(!page_is_mapped(b) && !page_is_mapped(b + 3 * page), "pages still mapped after unmap");
}

static void map_with_large_alignment(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    for (size_t align = 2 * page; align <= ((size_t)16 << 20); align *= 4) {
        void *p = NULL;
        CHECK(alloc_os_map(5 * page, align, &p) == 0, "map at align %zu failed", align);
        CHECK(alloc_is_aligned(p, align), "%p not aligned to %zu", p, align);
        memset(p, 1, 5 * page);
        CHECK(alloc_os_unmap(p, 5 * page) == 0, "unmap failed");
    }
}

static void bad_arguments_are_errors(const void *param)
{
    (void)param;
    void *p = (void *)0x1234;
    CHECK(alloc_os_map(SIZE_MAX, 1, &p) == -ENOMEM, "SIZE_MAX");
    CHECK(alloc_os_map((size_t)PTRDIFF_MAX, 1, &p) == -ENOMEM, "PTRDIFF_MAX");
    /* len + align - page overflows the address space on every word size */
    CHECK(alloc_os_map((size_t)1 << 20, SIZE_MAX / 2 + 1, &p) == -ENOMEM, "alignment of half the address space");
    CHECK(alloc_os_map(0, 1, &p) == -EINVAL, "zero length");
    CHECK(alloc_os_map(4096, 3, &p) == -EINVAL, "alignment 3");
#if UINTPTR_MAX > 0xFFFFFFFFu
    int r = alloc_os_map((size_t)1 << 60, 1, &p); /* more than any machine's address space */
    CHECK(r == -ENOMEM || r == -EINVAL, "huge map gave %d", r);
#endif
    CHECK(p == (void *)0x1234, "*out written on failure");
    CHECK(alloc_os_unmap((void *)0x1001, 4096) == -EINVAL, "misaligned unmap");
    CHECK(alloc_os_unmap(NULL, 0) == -EINVAL, "zero-length unmap");
    CHECK(alloc_os_protect((void *)0x1001, 1, ALLOC_OS_PROT_NONE) == -EINVAL, "misaligned protect");
    CHECK(alloc_os_purge((void *)0x1001, 1, false) == -EINVAL, "misaligned purge");
}

static void purge_gives_zero_pages(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    void *p = NULL;
    CHECK(alloc_os_map(4 * page, 1, &p) == 0, "map failed");
    memset(p, 0x5a, 4 * page);
    CHECK(alloc_os_purge(p, 4 * page, false) == 0, "purge failed");
    for (size_t i = 0; i < 4 * page; i++) CHECK(((unsigned char *)p)[i] == 0, "byte %zu survived purge", i);
    memset(p, 0x5a, 4 * page);
    CHECK(alloc_os_purge(p, 4 * page, true) == 0, "lazy purge failed");
    CHECK(page_is_mapped(p), "lazy purge unmapped");
    ((unsigned char *)p)[0] = 1;
    CHECK(alloc_os_unmap(p, 4 * page) == 0, "unmap failed");
}

/* Under ASan the fault goes to its handler, which reports and aborts. */
#if ALLOC_TRACK_ASAN_ENABLED
#define GUARD_SIGNAL SIGABRT
#else
#define GUARD_SIGNAL SIGSEGV
#endif

static void guard_page_faults(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    void *p = NULL;
    CHECK(alloc_os_map(2 * page, 1, &p) == 0, "map failed");
    CHECK(alloc_os_protect((char *)p + page, page, ALLOC_OS_PROT_NONE) == 0, "protect failed");
    ((char *)p)[page - 1] = 1; /* below the guard: still writable */
    *(volatile char *)((char *)p + page) = 1;
    CHECK(false, "write to a guard page did not fault");
}

static void protect_read_only_then_back(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    void *p = NULL;
    CHECK(alloc_os_map(page, 1, &p) == 0, "map failed");
    CHECK(alloc_os_protect(p, page, ALLOC_OS_PROT_READ) == 0, "read-only failed");
    CHECK(((volatile char *)p)[10] == 0, "read-only page unreadable");
    CHECK(alloc_os_protect(p, page, ALLOC_OS_PROT_READ_WRITE) == 0, "read-write failed");
    ((char *)p)[10] = 3;
    CHECK(alloc_os_unmap(p, page) == 0, "unmap failed");
}

static void remap_in_place_and_moving(const void *param)
{
    (void)param;
    size_t page = alloc_os_page_size();
    void *p = NULL, *q = NULL;
    CHECK(alloc_os_map(4 * page, 1, &p) == 0, "map failed");
    memset(p, 7, 4 * page);
    CHECK(alloc_os_remap(p, 4 * page, 2 * page, false, &q) == 0, "shrink failed");
    CHECK(q == p, "shrinking in place moved");
    CHECK(!page_is_mapped((char *)p + 2 * page), "shrunk tail still mapped");
    CHECK(alloc_os_remap(p, 2 * page, 64 * page, true, &q) == 0, "moving growth failed");
    for (size_t i = 0; i < 2 * page; i++) CHECK(((unsigned char *)q)[i] == 7, "byte %zu lost", i);
    CHECK(((unsigned char *)q)[64 * page - 1] == 0, "grown tail not zeroed");
    CHECK(alloc_os_unmap(q, 64 * page) == 0, "unmap failed");
}

static void page_allocator_remap_keeps_contents(const void *param)
{
    (void)param;
    allocator a = alloc_page_allocator();
    size_t len = (size_t)8 << 20, new_len = (size_t)16 << 20;
    uint32_t *p = alloc_bytes(a, len, 4096);
    CHECK(p != NULL, "8 MiB alloc failed");
    for (size_t i = 0; i < len / 4; i++) p[i] = (uint32_t)(i * 2654435761u);
    uint32_t *q = alloc_remap(a, p, len, 4096, new_len);
    CHECK(q != NULL, "remap to 16 MiB failed");
    for (size_t i = 0; i < len / 4; i++) CHECK(q[i] == (uint32_t)(i * 2654435761u), "word %zu lost", i);
    q[new_len / 4 - 1] = 42;
    alloc_free(a, q, new_len, 4096);
    CHECK(alloc_page_check(), "page allocator check");
}

static void page_allocator_stats(const void *param)
{
    (void)param;
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    alloc_stats s0, s1, s2;
    alloc_page_stats(&s0);
    void *p = alloc_bytes(a, page + 1, 1);
    CHECK(p != NULL, "alloc failed");
    alloc_page_stats(&s1);
    CHECK_EQ_SZ(s1.bytes_in_use - s0.bytes_in_use, page + 1, "bytes in use");
    CHECK_EQ_SZ(s1.bytes_reserved - s0.bytes_reserved, 2 * page, "bytes reserved");
    CHECK(s1.alloc_count - s0.alloc_count == 1, "alloc count");
    CHECK(alloc_resize(a, p, page + 1, 1, 10), "shrink to one page");
    alloc_free(a, p, 10, 1);
    alloc_page_stats(&s2);
    CHECK_EQ_SZ(s2.bytes_in_use, s0.bytes_in_use, "bytes in use after free");
    CHECK_EQ_SZ(s2.bytes_reserved, s0.bytes_reserved, "bytes reserved after free");
    CHECK(s2.free_count - s0.free_count == 1, "free count");
    CHECK(s2.peak_bytes_reserved >= s1.bytes_reserved, "peak decreased");
    CHECK(alloc_page_check(), "page allocator check");
}

static void stderr_write_reaches_fd_2(const void *param)
{
    (void)param;
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    CHECK(dup2(fds[1], 2) == 2, "dup2");
    alloc_os_write_stderr("page provider\n", 14);
    close(fds[1]);
    close(2);
    char buf[32] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    CHECK(n == 14 && memcmp(buf, "page provider\n", 14) == 0, "read back %zd bytes: '%s'", n, buf);
}

static void abort_raises_sigabrt(const void *param)
{
    (void)param;
    alloc_os_abort();
}

static void corruption_report_aborts(const void *param)
{
    (void)param;
    close(2); /* the report is expected; keep the log clean */
    alloc_report_corruption("portable test: %s %zu", "deliberate", (size_t)1);
}

static char handled[256];
static void record(const char *message, void *user)
{
    (void)user;
    strncpy(handled, message, sizeof handled - 1);
}

static void misuse_handler_receives_message(const void *param)
{
    (void)param;
    alloc_set_misuse_handler(record, NULL);
    alloc_report_misuse("double free of %p (len %zu) from %s", (void *)0x1000, (size_t)SIZE_MAX, "here");
    alloc_set_misuse_handler(NULL, NULL);
    char want[128];
    alloc_format(want, sizeof want, "double free of 0x1000 (len %zu) from here", (size_t)SIZE_MAX);
    CHECK(strcmp(handled, want) == 0, "handler got '%s'", handled);
    /* SIZE_MAX as the build's word: catches a formatter that truncates size_t */
    CHECK(strstr(handled, sizeof(size_t) == 8 ? "18446744073709551615" : "4294967295") != NULL,
          "size_t formatted as '%s'", handled);
}

const pt_case pt_os_cases[] = {
    {"page_size_and_backend", page_size_and_backend, 0},
    {"map_is_zeroed_writable_and_unmaps", map_is_zeroed_writable_and_unmaps, 0},
    {"map_with_large_alignment", map_with_large_alignment, 0},
    {"bad_arguments_are_errors", bad_arguments_are_errors, 0},
    {"purge_gives_zero_pages", purge_gives_zero_pages, 0},
    {"guard_page_faults", guard_page_faults, GUARD_SIGNAL},
    {"protect_read_only_then_back", protect_read_only_then_back, 0},
    {"remap_in_place_and_moving", remap_in_place_and_moving, 0},
    {"page_allocator_remap_keeps_contents", page_allocator_remap_keeps_contents, 0},
    {"page_allocator_stats", page_allocator_stats, 0},
    {"stderr_write_reaches_fd_2", stderr_write_reaches_fd_2, 0},
    {"abort_raises_sigabrt", abort_raises_sigabrt, SIGABRT},
    {"corruption_report_aborts", corruption_report_aborts, SIGABRT},
    {"misuse_handler_receives_message", misuse_handler_receives_message, 0},
};
const size_t pt_os_case_count = sizeof pt_os_cases / sizeof pt_os_cases[0];
