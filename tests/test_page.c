/*
 * test_page.c: the page allocator when the OS refuses a release (unmap,
 * purge, remap), driven through the page provider's fault-injection seam
 * (os/inject.h). The same condition reached for real, at the process's
 * mapping-count limit, is test_page_limit.c.
 *
 * Each Criterion test runs in its own process, so the page allocator's
 * process-wide stats and held list start empty in each.
 */
#define _GNU_SOURCE 1 /* mincore */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/os.h"
#include "alloc/page.h"
#include "os/inject.h"

static bool page_is_mapped(const void *p)
{
    unsigned char vec;
    return mincore((void *)p, alloc_os_page_size(), &vec) == 0;
}

static char last_misuse[512];
static int misuse_calls;

static void record_misuse(const char *message, void *user)
{
    (void)user;
    strncpy(last_misuse, message, sizeof last_misuse - 1);
    misuse_calls++;
}

static void observe_misuse(void) { alloc_set_misuse_handler(record_misuse, NULL); }
static void stop_observing(void) { alloc_set_misuse_handler(NULL, NULL); }

static alloc_page_info info(void)
{
    alloc_page_info i;
    alloc_page_get_info(&i);
    return i;
}

static alloc_stats stats(void)
{
    alloc_stats s;
    alloc_page_stats(&s);
    return s;
}

Test(page_release, refused_unmap_holds_the_range_keeps_errno_and_counts, .init = observe_misuse,
     .fini = stop_observing, .timeout = 30)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    unsigned char *p = alloc_bytes(a, 3 * page, 8);
    cr_assert_not_null(p);
    memset(p, 0xab, 3 * page);
    alloc_stats before = stats();

    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP, ENOMEM, 1);
    errno = EDOM;
    alloc_free(a, p, 3 * page, 8);
    cr_assert_eq(errno, EDOM, "free changed errno to %d", errno);
    cr_assert_eq(misuse_calls, 0, "a refused unmap was reported as misuse: %s", last_misuse);
    cr_assert_eq(alloc_os_injections_left(), 0);

    alloc_page_info i = info();
    cr_assert_eq(i.unmap_refusals, 1);
    cr_assert_eq(i.held_ranges, 1);
    cr_assert_eq(i.held_bytes, 3 * page);
    alloc_stats s = stats();
    cr_assert_eq(s.free_count, before.free_count + 1, "the free counts as done");
    cr_assert_eq(s.bytes_in_use, before.bytes_in_use - 3 * page);
    cr_assert_eq(s.bytes_reserved, before.bytes_reserved, "held pages are still mapped, so still reserved");
    cr_assert_eq(s.misuse_count, 0);
    cr_assert(alloc_page_check());
    /* The range is still mapped, and purged: the bytes past the list header read zero. */
    cr_assert(page_is_mapped(p) && page_is_mapped(p + 2 * page));
    for (size_t k = page; k < 3 * page; k++) cr_assert_eq(p[k], 0, "byte %zu not purged", k);

    /* Reuse: the next alloc of the same page count gets it back, zeroed. */
    unsigned char *q = alloc_bytes(a, 3 * page - 100, 8);
    cr_assert_eq(q, p, "the held range was not reused");
    for (size_t k = 0; k < 3 * page; k++) cr_assert_eq(q[k], 0, "reused byte %zu not zero", k);
    i = info();
    cr_assert_eq(i.held_ranges, 0);
    cr_assert_eq(i.held_reused, 1);
    cr_assert(alloc_page_check());
    alloc_free(a, q, 3 * page - 100, 8);
    cr_assert(!page_is_mapped(q), "a normal free after reuse unmaps");
    s = stats();
    cr_assert_eq(s.bytes_reserved, before.bytes_reserved - 3 * page);
    cr_assert(alloc_page_check());
}

Test(page_release, held_range_is_unmapped_by_a_later_free_or_release_held, .init = observe_misuse,
     .fini = stop_observing, .timeout = 30)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    void *p[4];
    for (int k = 0; k < 4; k++) cr_assert_not_null(p[k] = alloc_bytes(a, page, 8));
    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP, ENOMEM, 2);
    alloc_free(a, p[0], page, 8);
    alloc_free(a, p[1], page, 8);
    cr_assert_eq(info().held_ranges, 2);

    /* A successful free retries one held range. */
    alloc_free(a, p[2], page, 8);
    alloc_page_info i = info();
    cr_assert_eq(i.held_ranges, 1);
    cr_assert_eq(i.held_unmapped, 1);
    cr_assert(!page_is_mapped(p[2]));
    cr_assert(!page_is_mapped(p[0]) || !page_is_mapped(p[1]), "neither held range was unmapped");

    /* While the OS keeps refusing, release_held keeps the range and says so. */
    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP, ENOMEM, 1);
    errno = EDOM;
    cr_assert_eq(alloc_page_release_held(), 1);
    cr_assert_eq(errno, EDOM);
    cr_assert_eq(alloc_page_release_held(), 0);
    i = info();
    cr_assert_eq(i.held_ranges, 0);
    cr_assert_eq(i.held_bytes, 0);
    cr_assert_eq(i.held_unmapped, 2);
    cr_assert(!page_is_mapped(p[0]) && !page_is_mapped(p[1]));
    alloc_free(a, p[3], page, 8);
    cr_assert_eq(stats().bytes_reserved, 0);
    cr_assert_eq(misuse_calls, 0);
    cr_assert(alloc_page_check());
}

Test(page_release, refused_purge_too_still_holds_and_reuses, .init = observe_misuse, .fini = stop_observing,
     .timeout = 30)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    unsigned char *p = alloc_bytes(a, 2 * page, 8);
    memset(p, 0x5a, 2 * page);
    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP | ALLOC_OS_OP_PURGE, ENOMEM, 2);
    errno = EDOM;
    alloc_free(a, p, 2 * page, 8);
    cr_assert_eq(errno, EDOM);
    alloc_page_info i = info();
    cr_assert_eq(i.unmap_refusals, 1);
    cr_assert_eq(i.purge_refusals, 1);
    cr_assert_eq(i.held_ranges, 1);
    /* Not purged: the reuse must still hand out zeroed memory, as alloc promises. */
    unsigned char *q = alloc_bytes(a, 2 * page, 8);
    cr_assert_eq(q, p);
    for (size_t k = 0; k < 2 * page; k++) cr_assert_eq(q[k], 0, "reused byte %zu not zero", k);
    alloc_free(a, q, 2 * page, 8);
    cr_assert_eq(misuse_calls, 0);
    cr_assert(alloc_page_check());
}

Test(page_release, refused_shrink_and_remap_change_nothing, .init = observe_misuse, .fini = stop_observing,
     .timeout = 30)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    unsigned char *p = alloc_bytes(a, 4 * page, 8);
    memset(p, 7, 4 * page);
    alloc_stats before = stats();

    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP, ENOMEM, 1);
    errno = EDOM;
    cr_assert(!alloc_resize(a, p, 4 * page, 8, page), "a refused shrink reported success");
    cr_assert_eq(errno, EDOM);
    alloc_stats s = stats();
    cr_assert_eq(s.bytes_in_use, before.bytes_in_use);
    cr_assert_eq(s.bytes_reserved, before.bytes_reserved);
    cr_assert_eq(s.resize_count, before.resize_count);

    alloc_os_inject_failure(ALLOC_OS_OP_REMAP, ENOMEM, 2);
    cr_assert_null(alloc_remap(a, p, 4 * page, 8, 64 * page));
    cr_assert_eq(errno, EDOM);
    s = stats();
    cr_assert_eq(s.failed_count, before.failed_count + 1);
    cr_assert_eq(s.bytes_reserved, before.bytes_reserved);
    for (size_t k = 0; k < 4 * page; k++) cr_assert_eq(p[k], 7);
    alloc_free(a, p, 4 * page, 8);
    cr_assert_eq(info().unmap_refusals, 0);
    cr_assert_eq(misuse_calls, 0);
    cr_assert(alloc_page_check());
}

Test(page_release, free_of_memory_it_did_not_map_is_misuse, .init = observe_misuse, .fini = stop_observing,
     .timeout = 30)
{
    allocator a = alloc_page_allocator();
    static char not_ours[64];
    alloc_free(a, not_ours + 1, 16, 1); /* not page-aligned */
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "did not map") != NULL, "got: %s", last_misuse);
    /* EINVAL from the kernel itself: the range is not a mapping. */
    void *p = alloc_bytes(a, 64, 8);
    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP, EINVAL, 1);
    alloc_free(a, p, 64, 8);
    cr_assert_eq(misuse_calls, 2);
    cr_assert_eq(stats().misuse_count, 2);
    cr_assert_eq(info().held_ranges, 0, "misuse must not be held");
    alloc_free(a, p, 64, 8);
    cr_assert_eq(misuse_calls, 2);
}

Test(page_release, seam_fails_only_the_armed_operations)
{
    size_t page = alloc_os_page_size();
    void *p = NULL;
    alloc_os_inject_failure(ALLOC_OS_OP_PROTECT, EACCES, 1);
    cr_assert_eq(alloc_os_map(page, 1, &p), 0, "map failed though only protect was armed");
    cr_assert_eq(alloc_os_protect(p, page, ALLOC_OS_PROT_READ), -EACCES);
    cr_assert_eq(alloc_os_protect(p, page, ALLOC_OS_PROT_READ), 0, "one failure was asked for");
    alloc_os_inject_failure(ALLOC_OS_OP_MAP, ENOMEM, 1);
    void *q = NULL;
    cr_assert_eq(alloc_os_map(page, 1, &q), -ENOMEM);
    cr_assert_null(q);
    cr_assert_eq(alloc_os_unmap(p, page), 0);
}

/* Threads free, allocate and retry at once while a share of the unmaps is
 * refused: every refusal must end reused, unmapped or still held, and nothing
 * may be lost or handed out twice. */
enum { THREADS = 4, ROUNDS = 3000 };

static void *churn(void *arg)
{
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();
    unsigned seed = (unsigned)(uintptr_t)arg;
    unsigned char *mine[8] = {0};
    for (int i = 0; i < ROUNDS; i++) {
        int k = (int)(rand_r(&seed) % 8);
        if (mine[k]) {
            cr_assert_eq(mine[k][0], (unsigned char)(uintptr_t)arg, "another thread got my block");
            alloc_free(a, mine[k], page, 8);
            mine[k] = NULL;
        } else {
            mine[k] = alloc_bytes(a, page, 8);
            cr_assert_not_null(mine[k]);
            cr_assert_eq(mine[k][1], 0, "a reused block was not zeroed");
            mine[k][0] = (unsigned char)(uintptr_t)arg;
        }
        if (i % 500 == 0) alloc_page_release_held();
    }
    for (int k = 0; k < 8; k++)
        if (mine[k]) alloc_free(a, mine[k], page, 8);
    return NULL;
}

Test(page_release, threads_hold_reuse_and_retry_at_once, .init = observe_misuse, .fini = stop_observing,
     .timeout = 60)
{
    alloc_os_inject_failure(ALLOC_OS_OP_UNMAP, ENOMEM, THREADS * ROUNDS / 4);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++) cr_assert_eq(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    alloc_os_inject_failure(0, 0, 0);
    alloc_page_info i = info();
    cr_assert_gt(i.unmap_refusals, 100, "only %llu refusals", (unsigned long long)i.unmap_refusals);
    cr_assert_gt(i.held_reused, 0);
    cr_assert_eq(i.held_reused + i.held_unmapped + i.held_ranges, i.unmap_refusals);
    cr_assert_eq(alloc_page_release_held(), 0);
    cr_assert_eq(stats().bytes_in_use, 0);
    cr_assert_eq(stats().bytes_reserved, 0, "held or leaked pages remain");
    cr_assert_eq(misuse_calls, 0);
    cr_assert(alloc_page_check());
}
