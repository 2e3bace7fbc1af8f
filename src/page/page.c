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
 */
#include <stdatomic.h>

#include "../core/internal.h"
#include "alloc/os.h"
#include "alloc/page.h"

static struct {
    _Atomic size_t bytes_in_use, peak_bytes_in_use;
    _Atomic size_t bytes_reserved, peak_bytes_reserved;
    _Atomic uint64_t alloc_count, free_count, resize_count, remap_count, failed_count;
} page_stats;

static void raise_peak(_Atomic size_t *peak, size_t value)
{
    size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen &&
           !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

/* Adds the signed change (in_use_delta, reserved_delta) to the gauges. */
static void adjust(size_t in_use_add, size_t in_use_sub, size_t reserved_add, size_t reserved_sub)
{
    size_t in_use = atomic_fetch_add_explicit(&page_stats.bytes_in_use, in_use_add, memory_order_relaxed) +
                    in_use_add;
    atomic_fetch_sub_explicit(&page_stats.bytes_in_use, in_use_sub, memory_order_relaxed);
    raise_peak(&page_stats.peak_bytes_in_use, in_use - in_use_sub);
    size_t reserved =
        atomic_fetch_add_explicit(&page_stats.bytes_reserved, reserved_add, memory_order_relaxed) +
        reserved_add;
    atomic_fetch_sub_explicit(&page_stats.bytes_reserved, reserved_sub, memory_order_relaxed);
    raise_peak(&page_stats.peak_bytes_reserved, reserved - reserved_sub);
}

static void count(_Atomic uint64_t *counter) { atomic_fetch_add_explicit(counter, 1, memory_order_relaxed); }

static size_t pages_of(size_t len) { return alloc_align_up(len, alloc_os_page_size()); }

static void *page_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)ret_addr;
    void *mem = NULL;
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
    if (ALLOC_UNLIKELY(r != 0)) {
        /* The kernel refused (ENOMEM: unmapping the middle of a mapping would
         * exceed the process's map count): a resource condition, not the
         * caller's mistake. The pages stay mapped and counted as in use. */
        if (ALLOC_DEBUG_CHECKS) {
            char site[ALLOC_SITE_BUF];
            alloc_report_note("page allocator: the OS refused to unmap %p (len %zu, error %d); the pages stay "
                              "mapped (freed at %s)",
                              mem, len, -r, alloc_describe_addr(ret_addr, site, sizeof site));
        }
        return;
    }
    count(&page_stats.free_count);
    adjust(0, len, 0, pages_of(len));
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
    out->misuse_count = 0;
}

bool alloc_page_check(void)
{
    alloc_stats s;
    alloc_page_stats(&s);
    /* Concurrent updates can make a snapshot briefly inconsistent; the check
     * is meant for single-threaded tests. */
    return alloc_stats_consistent(&s) && s.bytes_in_use <= s.bytes_reserved;
}
