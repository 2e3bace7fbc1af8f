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
 *           small objects. free never fails and never aborts for a block this
 *           allocator handed out, and never changes errno. If the OS refuses
 *           the munmap (ENOMEM when splitting a mapping would pass the
 *           process's mapping-count limit, vm.max_map_count on Linux, or any
 *           other error but EINVAL), the block is released another way: its
 *           physical pages are purged (madvise DONTNEED) and the range is
 *           *held*: counted in alloc_page_info, still in bytes_reserved, handed
 *           out again by the next alloc of the same page count (before any new
 *           mapping is asked for), and unmapped by a later free's retry or by
 *           alloc_page_release_held(). The free itself counts in free_count
 *           and leaves bytes_in_use. EINVAL means the range is not a mapping
 *           (or mem is not page-aligned): the pointer was not ours, which is
 *           reported as misuse (misuse_count; abort with the default handler).
 *   resize and remap, when the OS refuses (munmap of the tail, mremap):
 *           false and NULL, nothing changed; the caller copies or keeps the
 *           block as it is.
 * Overhead: the rounding to pages, nothing else (no header). Time: one system
 * call per operation; while ranges are held, alloc looks at up to 16 of them
 * first and a successful free retries the unmap of one (one more system call),
 * each O(1) amortised however many are held.
 * A held range keeps one resident page (the list header in it).
 * Thread-safe: yes (stats are atomic; a refused free pushes its range
 * lock-free, and reuse and retries only ever try the held list's lock, so no
 * call waits).
 */
#ifndef ALLOC_PAGE_H
#define ALLOC_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * lengths, bytes_reserved whole mapped pages (held ranges included).
 * misuse_count counts frees of memory it did not map. Counts and peaks never
 * decrease.
 * Safe to call from any thread (each field read atomically, not all together).
 */
ALLOC_API void alloc_page_stats(alloc_stats *out);

/* Held ranges: blocks whose unmap the OS refused (see free above). */
typedef struct alloc_page_info {
    size_t held_ranges;      /* ranges held now */
    size_t held_bytes;       /* their total size (whole pages; part of bytes_reserved) */
    uint64_t unmap_refusals; /* frees whose munmap the OS refused; never decreases */
    uint64_t purge_refusals; /* of those, ranges whose purge failed too (their pages
                                stay resident until reuse or unmap); never decreases */
    uint64_t held_reused;    /* held ranges handed out again by alloc; never decreases */
    uint64_t held_unmapped;  /* held ranges unmapped by a later retry; never decreases */
} alloc_page_info;

/* Fills *out (each field read atomically, not all together). Any thread. O(1). */
ALLOC_API void alloc_page_get_info(alloc_page_info *out);

/*
 * Retries the unmap of every held range once, for instance after the process
 * has released other mappings. Returns the number of ranges still held (0
 * when all went). Never fails, never waits, never changes errno: if another
 * thread (or the code a signal handler interrupted) is working on the held
 * list at that moment, it retries nothing and returns the current count. Any
 * thread. O(held ranges) system calls.
 */
ALLOC_API size_t alloc_page_release_held(void);

/* Invariant check of the stats (in use <= reserved, peaks >= current, held
 * ranges accounted for: refusals = reused + unmapped + still held).
 * Single-threaded use: concurrent updates can make a snapshot inconsistent. */
ALLOC_API bool alloc_page_check(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_PAGE_H */
