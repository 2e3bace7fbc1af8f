/*
 * page.h: the page allocator, every allocation its own mapping from the OS.
 *
 * The default backing allocator of the arena, pool and free-list strategies,
 * and the right choice for big buffers that grow: remap goes through mremap,
 * so growing a 64 MiB buffer to 128 MiB moves page-table entries, not bytes.
 *
 * Contract (on top of alloc.h):
 *   alloc   len rounded up to whole pages; memory is zeroed. align: any power
 *           of two (above the page size it over-maps and trims). NULL iff the
 *           OS refuses (or len rounds past ALLOC_MAX_LEN). One mmap.
 *   resize  in place: shrinking unmaps the tail pages; growing takes the
 *           following pages if they are free (mremap without MAYMOVE). Within
 *           the same page count it always succeeds. Never moves.
 *   remap   resize, else mremap with MAYMOVE (align <= page size only; larger
 *           alignments return NULL so the caller copies). No copy of bytes.
 *   free    munmap. Pages never stay cached; put an arena or pool in front for
 *           small objects.
 * Overhead: the rounding to pages, nothing else (no header). Time: one system
 * call per operation. Thread-safe: yes (stats are atomic).
 */
#ifndef ALLOC_PAGE_H
#define ALLOC_PAGE_H

#include <stdbool.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The process-wide page allocator (stateless handle; ctx is NULL). */
ALLOC_API allocator alloc_page_allocator(void);

/* The page allocator's vtable, for strategies that test whether a backing
 * allocator is the page allocator (and so can rely on page alignment). */
ALLOC_API extern const alloc_vtable alloc_page_vtable;

/*
 * Process-wide stats of the page allocator: bytes_in_use counts requested
 * lengths, bytes_reserved whole mapped pages. Counts and peaks never decrease.
 * Safe to call from any thread (each field read atomically, not all together).
 */
ALLOC_API void alloc_page_stats(alloc_stats *out);

/* Invariant check of the stats (in use <= reserved, peaks >= current). */
ALLOC_API bool alloc_page_check(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_PAGE_H */
