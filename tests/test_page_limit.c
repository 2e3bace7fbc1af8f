/*
 * test_page_limit.c: the page allocator at the process's real mapping-count
 * limit (vm.max_map_count on Linux, 65,530 by default).
 *
 * The test takes page-allocator blocks that lie between two other blocks of
 * the page allocator (consecutive mappings of one protection are placed next
 * to each other and merged by the kernel), so unmapping such a block has to
 * split a mapping in two. It then fills the rest of the
 * mapping table with single pages of alternating protection (which the kernel
 * cannot merge) until mmap fails. At that point every split fails with ENOMEM,
 * and the frees must return normally, keep errno, count the refusal and keep
 * the memory for reuse; once the filler pages are gone, the held ranges must
 * be unmapped.
 *
 * Nothing that may allocate (Criterion's assertions format their messages in
 * malloc'd memory) runs while the process is at the limit: the observations
 * are stored and asserted after the filler pages are released.
 *
 * Separate from test_page.c because it needs a whole process's mapping table;
 * under Valgrind (whose own address-space manager has a far smaller segment
 * table) it is not run: see scripts/ci.d/30-valgrind.sh.
 */
#define _GNU_SOURCE 1 /* mincore */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/os.h"
#include "alloc/page.h"

#define BLOCKS 8
#define NEIGHBOURHOOD 64
#define MAX_FILLERS (1u << 20) /* far above any default limit */

static bool page_is_mapped(const void *p)
{
    unsigned char vec;
    return mincore((void *)p, alloc_os_page_size(), &vec) == 0;
}

static long max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long n = -1;
    if (f) {
        if (fscanf(f, "%ld", &n) != 1) n = -1;
        fclose(f);
    }
    return n;
}

/* true iff [p, p + len) lies strictly inside one mapping of the process (not
 * touching either end), so that unmapping it needs a split. */
static bool strictly_inside_a_mapping(const unsigned char *p, size_t len)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[512];
    bool inside = false;
    while (!inside && fgets(line, sizeof line, f)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) != 2) continue;
        inside = (uintptr_t)p > start && (uintptr_t)p + len < end;
    }
    fclose(f);
    return inside;
}

static bool contains(unsigned char *const *set, int n, const unsigned char *p)
{
    for (int i = 0; i < n; i++)
        if (set[i] == p) return true;
    return false;
}

Test(page_limit, frees_at_the_mapping_count_limit_hold_and_release_later, .timeout = 120)
{
    cr_assert_gt(max_map_count(), 0, "cannot read vm.max_map_count: this test needs Linux /proc");
    allocator a = alloc_page_allocator();
    size_t page = alloc_os_page_size();

    /* Blocks with a block of their own on both sides: consecutive anonymous
     * mappings of one protection land next to each other and the kernel
     * merges them (if it did not, for instance next to a mapping already
     * touched, /proc/self/maps tells), so such a block sits inside a larger
     * mapping. */
    unsigned char *all[NEIGHBOURHOOD], *block[BLOCKS];
    for (int i = 0; i < NEIGHBOURHOOD; i++) {
        all[i] = alloc_bytes(a, 100, 8);
        cr_assert_not_null(all[i]);
    }
    int placed = 0;
    for (int i = 0; i < NEIGHBOURHOOD && placed < BLOCKS; i++) {
        unsigned char *p = all[i];
        if (contains(all, NEIGHBOURHOOD, p - page) && contains(all, NEIGHBOURHOOD, p + page) &&
            !contains(block, placed, p - page) && !contains(block, placed, p + page) &&
            strictly_inside_a_mapping(p, page))
            block[placed++] = p;
    }
    for (int i = 0; i < NEIGHBOURHOOD; i++) memset(all[i], 0xab, 100);
    cr_assert_eq(placed, BLOCKS, "only %d blocks with both neighbours among %d", placed, NEIGHBOURHOOD);
    alloc_stats before;
    alloc_page_stats(&before);

    /* The filler table lives outside the mapping count it measures. */
    void **filler = mmap(NULL, MAX_FILLERS * sizeof *filler, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert_neq(filler, MAP_FAILED);
    /* mmap and a split may stop one mapping apart; splitting this region
     * page by page (mprotect, which splits like munmap) uses up the rest. */
    unsigned char *splitter = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(splitter, MAP_FAILED);
    size_t fillers = 0;
    int fill_errno = 0, split_errno = 0;
    while (fillers < MAX_FILLERS) {
        int prot = fillers % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
        void *p = mmap(NULL, page, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            fill_errno = errno;
            break;
        }
        filler[fillers++] = p;
    }
    for (size_t k = 1; k < 64 && !split_errno; k += 2)
        if (mprotect(splitter + k * page, page, PROT_READ) != 0) split_errno = errno;

    /* At the limit now: free every block; each free needs a split. */
    int errno_after[BLOCKS];
    for (int k = 0; k < BLOCKS; k++) {
        errno = EDOM;
        alloc_free(a, block[k], 100, 8);
        errno_after[k] = errno;
    }
    alloc_page_info at_limit;
    alloc_page_get_info(&at_limit);
    /* Still at the limit: an alloc of the same size takes a held range back
     * rather than asking for a new mapping. */
    unsigned char *again = alloc_bytes(a, 100, 8);
    bool again_zero = again != NULL;
    for (size_t k = 0; again && k < page; k++) again_zero &= again[k] == 0;
    alloc_page_info after_reuse;
    alloc_page_get_info(&after_reuse);
    if (again) alloc_free(a, again, 100, 8); /* refused again: held again */
    alloc_page_info after_refree;
    alloc_page_get_info(&after_refree);

    /* Leave the limit; nothing is held any more after a retry. */
    for (size_t k = 0; k < fillers; k++) munmap(filler[k], page);
    munmap(filler, MAX_FILLERS * sizeof *filler);
    munmap(splitter, 64 * page);
    size_t still_held = alloc_page_release_held();

    cr_assert_eq(fill_errno, ENOMEM, "mmap stopped with errno %d, not at the mapping-count limit", fill_errno);
    cr_assert_eq(split_errno, ENOMEM, "the splits stopped with errno %d", split_errno);
    cr_assert_gt(fillers, 1000, "only %zu filler mappings", fillers);
    for (int k = 0; k < BLOCKS; k++) cr_assert_eq(errno_after[k], EDOM, "free #%d changed errno", k);
    cr_assert_eq(at_limit.unmap_refusals, BLOCKS, "refusals counted: %llu",
                 (unsigned long long)at_limit.unmap_refusals);
    cr_assert_eq(at_limit.held_ranges, BLOCKS);
    cr_assert_eq(at_limit.held_bytes, BLOCKS * page);
    cr_assert_not_null(again, "no memory at the limit although %d ranges were held", BLOCKS);
    bool was_held = false;
    for (int k = 0; k < BLOCKS; k++) was_held |= again == block[k];
    cr_assert(was_held, "the alloc at the limit did not reuse a held range");
    cr_assert(again_zero, "a reused range was not zeroed");
    cr_assert_eq(after_reuse.held_reused, 1);
    cr_assert_eq(after_reuse.held_ranges, BLOCKS - 1);
    cr_assert_eq(after_refree.unmap_refusals, BLOCKS + 1);
    cr_assert_eq(still_held, 0);
    for (int k = 0; k < BLOCKS; k++) {
        cr_assert(!page_is_mapped(block[k]), "block %d still mapped", k);
        cr_assert(page_is_mapped(block[k] - page) && page_is_mapped(block[k] + page), "a neighbour went too");
    }
    alloc_stats after;
    alloc_page_stats(&after);
    cr_assert_eq(after.bytes_in_use, before.bytes_in_use - BLOCKS * 100);
    cr_assert_eq(after.bytes_reserved, before.bytes_reserved - BLOCKS * page);
    cr_assert_eq(after.free_count, before.free_count + BLOCKS + 1);
    cr_assert_eq(after.misuse_count, 0);
    cr_assert(alloc_page_check());
    for (int i = 0; i < NEIGHBOURHOOD; i++)
        if (!contains(block, BLOCKS, all[i])) alloc_free(a, all[i], 100, 8);
    alloc_page_stats(&after);
    cr_assert_eq(after.bytes_reserved, before.bytes_reserved - NEIGHBOURHOOD * page);
    cr_assert_eq(alloc_page_release_held(), 0);
}
