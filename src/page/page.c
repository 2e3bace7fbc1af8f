/*
 * page.c: the page allocator.
 *
 * Each allocation is its own anonymous mapping of whole pages, obtained from
 * the page provider (os.h). No header and no state besides statistics: the
 * caller's len and align (which the contract makes it pass back) are enough to
 * find the mapping again, as ceil(len / page) pages at mem.
 *
 * Bounds: one system call per alloc, free and resize; remap is one mremap,
 * which moves page-table entries and never copies bytes, so growth is O(pages)
 * kernel work rather than O(bytes). Space: at most one page minus one byte of
 * rounding per allocation. Alignment: any power of two.
 *
 * Statistics are process-wide atomics; peaks are maintained with a CAS loop so
 * they never decrease even under concurrent updates.
 *
 * When the OS refuses to unmap. A free is a valid call, so an unmap failure is
 * a resource condition, not misuse. The usual cause is the mapping-count limit
 * (Linux vm.max_map_count): the kernel merges adjacent mappings of equal
 * protection into one, and unmapping a block from the middle of such a merged
 * mapping splits it in two, which needs one more mapping than the process may
 * have, so munmap fails with ENOMEM. The memory is then released another way:
 * madvise(DONTNEED) (alloc_os_purge, which never splits a mapping) gives its
 * physical pages back at once, and the range is kept on a process-wide list of
 * held ranges. A held range is (1) handed out again by the next alloc of the
 * same page count and a suitable alignment, before any new mapping is asked
 * for, so a process at the limit keeps running on the memory it has, and (2)
 * unmapped later: each successful unmap retries one held range (it may just
 * have made room), and alloc_page_release_held() retries them all. The list
 * lives in the held ranges themselves (a small header in the first page,
 * which is the one page of a held range that stays resident). A refused
 * free pushes its range onto a lock-free stack (push only, so no ABA); reuse
 * and retries move those to a FIFO list under a lock they only ever *try*:
 * if it is taken (another thread, or code a signal handler interrupted) they
 * simply skip the optional work, so no path can wait or deadlock, and every
 * step is O(1) amortised however many ranges are held. The caller's errno is never
 * touched (os.h guarantees it). An unmap refused with EINVAL is different:
 * the kernel says the range is not a mapping at all, so the pointer cannot be
 * one this allocator handed out, and that is reported as misuse.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "../core/internal.h"
#include "alloc/os.h"
#include "alloc/page.h"

static struct {
    _Atomic size_t bytes_in_use, peak_bytes_in_use;
    _Atomic size_t bytes_reserved, peak_bytes_reserved;
    _Atomic uint64_t alloc_count, free_count, resize_count, remap_count, failed_count;
    /* Held ranges (see the essay): gauges and never-decreasing counts. */
    _Atomic size_t held_ranges, held_bytes;
    _Atomic uint64_t unmap_refusals, purge_refusals, held_reused, held_unmapped, misuse_count;
} page_stats;

/* The header written at the start of a held range. */
typedef struct held_range {
    struct held_range *next;
    size_t size; /* whole pages */
    bool dirty;  /* the purge failed too: old bytes may remain */
} held_range;

/* Held ranges arrive on a lock-free stack (a free must never wait) and are
 * moved, under a lock that is only ever tried, to a FIFO list that reuse and
 * retries work on. */
static _Atomic(held_range *) held_incoming;
static atomic_flag held_lock = ATOMIC_FLAG_INIT;
static held_range *held_first, *held_last; /* under held_lock */

/* Adds the signed change (in_use_delta, reserved_delta) to the gauges. */
static void adjust(size_t in_use_add, size_t in_use_sub, size_t reserved_add, size_t reserved_sub)
{
    size_t in_use = atomic_fetch_add_explicit(&page_stats.bytes_in_use, in_use_add, memory_order_relaxed) +
                    in_use_add;
    atomic_fetch_sub_explicit(&page_stats.bytes_in_use, in_use_sub, memory_order_relaxed);
    alloc_peak_raise_atomic(&page_stats.peak_bytes_in_use, in_use - in_use_sub);
    size_t reserved =
        atomic_fetch_add_explicit(&page_stats.bytes_reserved, reserved_add, memory_order_relaxed) +
        reserved_add;
    atomic_fetch_sub_explicit(&page_stats.bytes_reserved, reserved_sub, memory_order_relaxed);
    alloc_peak_raise_atomic(&page_stats.peak_bytes_reserved, reserved - reserved_sub);
}

static void count(_Atomic uint64_t *counter) { atomic_fetch_add_explicit(counter, 1, memory_order_relaxed); }

size_t alloc_page_granule(allocator backing)
{
    return backing.vtable == &alloc_page_vtable ? alloc_os_page_size() : 1;
}

static size_t pages_of(size_t len) { return alloc_align_up(len, alloc_os_page_size()); }

/* --- held ranges ------------------------------------------------------------ */

/* Adds a held range: a lock-free push onto the incoming stack. */
static void held_push(held_range *h)
{
    held_range *head = atomic_load_explicit(&held_incoming, memory_order_relaxed);
    do {
        h->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&held_incoming, &head, h, memory_order_release,
                                                    memory_order_relaxed));
}

/* Takes the list lock if it is free. Never waits: a caller that finds it
 * taken (another thread, or the code a signal handler interrupted) skips the
 * optional work it wanted to do, so nothing here can deadlock. */
static bool held_trylock(void) { return !atomic_flag_test_and_set_explicit(&held_lock, memory_order_acquire); }

static void held_unlock(void) { atomic_flag_clear_explicit(&held_lock, memory_order_release); }

/* Under the lock: moves the incoming ranges to the tail of the list. Each
 * range passes here once, so the cost is O(1) amortised per refusal. */
static void held_merge(void)
{
    held_range *h = atomic_exchange_explicit(&held_incoming, NULL, memory_order_acquire);
    while (h) {
        held_range *next = h->next;
        h->next = NULL;
        if (held_last)
            held_last->next = h;
        else
            held_first = h;
        held_last = h;
        h = next;
    }
}

/* Under the lock: unlinks h, whose predecessor is prev (NULL: h is first). */
static void held_unlink(held_range *prev, held_range *h)
{
    if (prev)
        prev->next = h->next;
    else
        held_first = h->next;
    if (held_last == h) held_last = prev;
    h->next = NULL;
}

static void unhold_counts(size_t size)
{
    atomic_fetch_sub_explicit(&page_stats.held_ranges, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&page_stats.held_bytes, size, memory_order_relaxed);
}

/* Keeps [mem, mem + size) (whole pages, unmapping refused) for reuse or a
 * later unmap, its physical memory given back first. */
static void hold(void *mem, size_t size)
{
    bool dirty = alloc_os_purge(mem, size, false) != 0;
    if (dirty) count(&page_stats.purge_refusals); /* still held: reusable, and unmapped later */
    held_range *h = mem;
    h->size = size;
    h->dirty = dirty;
    atomic_fetch_add_explicit(&page_stats.held_ranges, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&page_stats.held_bytes, size, memory_order_relaxed);
    held_push(h);
}

/* Tries to unmap up to max held ranges (SIZE_MAX: each once), oldest first;
 * one the OS still refuses goes to the back, so the next retry tries another.
 * Returns how many went; 0 if the list is busy. */
static size_t retry_held(size_t max)
{
    if (!held_trylock()) return 0;
    held_merge();
    size_t done = 0, tried = 0, present = atomic_load_explicit(&page_stats.held_ranges, memory_order_relaxed);
    while (held_first && tried < max && tried < present) {
        held_range *h = held_first;
        size_t size = h->size;
        held_unlink(NULL, h);
        tried++;
        if (alloc_os_unmap(h, size) == 0) {
            done++;
            unhold_counts(size);
            count(&page_stats.held_unmapped);
            adjust(0, 0, 0, size);
        } else if (held_last) {
            held_last->next = h;
            held_last = h;
        } else {
            held_first = held_last = h;
        }
    }
    held_unlock();
    return done;
}

/* A held range of exactly size bytes at an address aligned to align, taken
 * off the list and zeroed like fresh pages, or NULL (also when the list is
 * busy). Looks at most at REUSE_SCAN ranges, so an alloc stays O(1) however
 * many are held. */
#define REUSE_SCAN 16
static void *reuse_held(size_t size, size_t align)
{
    if (!held_trylock()) return NULL;
    held_merge();
    held_range *prev = NULL, *h = held_first;
    for (int seen = 0; h && seen < REUSE_SCAN; seen++, prev = h, h = h->next) {
        if (h->size != size || !alloc_is_aligned(h, align)) continue;
        held_unlink(prev, h);
        held_unlock();
        unhold_counts(size);
        count(&page_stats.held_reused);
        /* alloc hands out zeroed pages: the purge did that for all but the
         * header, unless it failed, then one more try or the slow way. */
        if (h->dirty && alloc_os_purge(h, size, false) != 0)
            memset(h, 0, size);
        else
            memset(h, 0, sizeof *h);
        return h;
    }
    held_unlock();
    return NULL;
}

/* Whether any range is held: one relaxed load, the only cost of this
 * machinery while the OS never refuses. */
static bool any_held(void) { return atomic_load_explicit(&page_stats.held_ranges, memory_order_relaxed) != 0; }

/* --- the vtable -------------------------------------------------------------- */

static void *page_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)ret_addr;
    void *mem = NULL;
    if (ALLOC_UNLIKELY(any_held()) &&
        len <= ALLOC_MAX_LEN - alloc_os_page_size())
        mem = reuse_held(pages_of(len), align);
    if (mem) {
        /* Its pages were counted as reserved all along. */
        count(&page_stats.alloc_count);
        adjust(len, 0, 0, 0);
        return mem;
    }
    if (alloc_os_map(len, align, &mem) != 0) {
        count(&page_stats.failed_count);
        return NULL;
    }
    count(&page_stats.alloc_count);
    adjust(len, 0, pages_of(len), 0);
    return mem;
}

/* Changes the mapping at mem in place; true iff it now spans new_len. */
static bool resize_mapping(void *mem, size_t len, size_t new_len)
{
    size_t old_size = pages_of(len);
    if (new_len > ALLOC_MAX_LEN - alloc_os_page_size()) return false;
    size_t new_size = pages_of(new_len);
    if (new_size < old_size) {
        if (alloc_os_unmap((char *)mem + new_size, old_size - new_size) != 0) return false;
    } else if (new_size > old_size) {
        void *same = NULL;
        if (alloc_os_remap(mem, old_size, new_size, false, &same) != 0) return false;
    }
    adjust(new_len, len, new_size, old_size);
    return true;
}

static bool page_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)align, (void)ret_addr;
    if (!resize_mapping(mem, len, new_len)) return false;
    count(&page_stats.resize_count);
    return true;
}

static void *page_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)ret_addr;
    if (resize_mapping(mem, len, new_len)) {
        count(&page_stats.remap_count);
        return mem;
    }
    /* mremap keeps only page alignment; larger alignments are the caller's copy. */
    if (align > alloc_os_page_size() || new_len > ALLOC_MAX_LEN - alloc_os_page_size()) {
        count(&page_stats.failed_count);
        return NULL;
    }
    void *moved = NULL;
    if (alloc_os_remap(mem, len, new_len, true, &moved) != 0) {
        count(&page_stats.failed_count);
        return NULL;
    }
    count(&page_stats.remap_count);
    adjust(new_len, len, pages_of(new_len), pages_of(len));
    return moved;
}

static void page_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)align;
    int r = alloc_os_unmap(mem, len);
    if (ALLOC_UNLIKELY(r == -EINVAL)) {
        /* Not page-aligned, or not a mapping at all: not one of our blocks. */
        count(&page_stats.misuse_count);
        alloc_report_misuse_from(ret_addr, "page allocator: free(%p, len %zu) of memory it did not map (the OS says %s)",
                                 mem, len,
                                 alloc_is_aligned(mem, alloc_os_page_size()) ? "EINVAL" : "not page-aligned");
        return;
    }
    count(&page_stats.free_count);
    if (ALLOC_UNLIKELY(r != 0)) {
        count(&page_stats.unmap_refusals);
        hold(mem, pages_of(len));
        adjust(0, len, 0, 0); /* the pages stay reserved while held */
        return;
    }
    adjust(0, len, 0, pages_of(len));
    /* This unmap may have made room for one that failed before. */
    if (ALLOC_UNLIKELY(any_held())) retry_held(1);
}

const alloc_vtable alloc_page_vtable = {page_alloc, page_resize, page_remap, page_free};

allocator alloc_page_allocator(void) { return (allocator){NULL, &alloc_page_vtable}; }

void alloc_page_stats(alloc_stats *out)
{
    out->bytes_in_use = atomic_load(&page_stats.bytes_in_use);
    out->peak_bytes_in_use = atomic_load(&page_stats.peak_bytes_in_use);
    out->bytes_reserved = atomic_load(&page_stats.bytes_reserved);
    out->peak_bytes_reserved = atomic_load(&page_stats.peak_bytes_reserved);
    out->alloc_count = atomic_load(&page_stats.alloc_count);
    out->free_count = atomic_load(&page_stats.free_count);
    out->resize_count = atomic_load(&page_stats.resize_count);
    out->remap_count = atomic_load(&page_stats.remap_count);
    out->failed_count = atomic_load(&page_stats.failed_count);
    out->misuse_count = atomic_load(&page_stats.misuse_count);
}

void alloc_page_get_info(alloc_page_info *out)
{
    out->held_ranges = atomic_load(&page_stats.held_ranges);
    out->held_bytes = atomic_load(&page_stats.held_bytes);
    out->unmap_refusals = atomic_load(&page_stats.unmap_refusals);
    out->purge_refusals = atomic_load(&page_stats.purge_refusals);
    out->held_reused = atomic_load(&page_stats.held_reused);
    out->held_unmapped = atomic_load(&page_stats.held_unmapped);
}

size_t alloc_page_release_held(void)
{
    retry_held(SIZE_MAX);
    return atomic_load(&page_stats.held_ranges);
}

bool alloc_page_check(void)
{
    alloc_stats s;
    alloc_page_stats(&s);
    /* Concurrent updates can make a snapshot briefly inconsistent; the check
     * is meant for single-threaded tests. */
    alloc_page_info info;
    alloc_page_get_info(&info);
    return alloc_stats_consistent(&s) && s.bytes_in_use <= s.bytes_reserved &&
           info.held_bytes <= s.bytes_reserved && (info.held_ranges == 0) == (info.held_bytes == 0) &&
           info.held_reused + info.held_unmapped + info.held_ranges == info.unmap_refusals;
}
