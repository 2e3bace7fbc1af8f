/*
 * freelist.h: the coalescing free-list heap, the general-purpose strategy.
 *
 * A heap of variable-size blocks carved from one or more regions: a caller's
 * buffer (fixed heap, for embedded use) and/or regions taken from a backing
 * allocator (the page allocator by default) as the heap grows. Every block
 * carries a one-word boundary tag, so free coalesces with both neighbours in
 * O(1) and alloc splits off whatever it does not need. Three search policies,
 * chosen at init:
 *
 *   ALLOC_FREELIST_TLSF       segregated fit over 56 x 32 size classes found
 *                             through a two-level bitmap (after TLSF). alloc
 *                             and free are O(1): a bounded number of steps
 *                             whatever the heap's size or history. The
 *                             default. A request is rounded up to the next
 *                             class boundary (good fit), so a block may be
 *                             refused although one free block of the
 *                             request's own class would fit; the head of that
 *                             class is tried as well (still O(1)). In front
 *                             of the classes sits a small-block cache (below;
 *                             no_cache turns it off).
 *   ALLOC_FREELIST_FIRST_FIT  one address-ordered list of free blocks; alloc
 *                             takes the lowest-addressed block that fits.
 *                             alloc O(free blocks), free O(free blocks) when
 *                             the block has no free neighbour (it must find
 *                             its place in the list), else O(1).
 *   ALLOC_FREELIST_BEST_FIT   the same list; alloc takes the smallest block
 *                             that fits (stops early on an exact fit).
 *                             O(free blocks) for alloc and free.
 * First fit and best fit are the textbook algorithms, kept for teaching and so
 * the benchmark can compare them; TLSF is what to use.
 *
 * Bounds: TLSF's alloc and free are O(1) whatever the heap holds (two bitmap
 * scans, one split or up to two merges); first fit and best fit walk the free
 * list, so their cost grows with the number of free blocks. Measured figures
 * (per pair, per workload, from one benchmark run) live in
 * docs/benchmarks.md.
 *
 * The small-block cache (TLSF only). A freed block of at most
 * ALLOC_FREELIST_CACHE_MAX_BLOCK bytes (any request up to 4 KiB) does not
 * merge at once: it waits, still tagged as taken, on a LIFO list of blocks of
 * exactly its size, and the next alloc of that block size (alignment up to
 * 16) takes it back without searching, splitting or merging. Both are O(1)
 * and far cheaper than the class path. The cache is bounded: at most
 * ALLOC_FREELIST_CACHE_DEPTH blocks of one size, ALLOC_FREELIST_CACHE_BLOCKS
 * blocks and min(ALLOC_FREELIST_CACHE_BYTES, reserved bytes / 32) bytes in
 * all; a free past a bound takes the class path, and so does every free
 * while a growing heap is mostly free space (more than retain_bytes free and
 * more than twice what is in use; the first such free flushes the cache). An
 * aging hand flushes a list no alloc has taken from since its last visit
 * (one list per 64 blocks cached; at most ALLOC_FREELIST_CACHE_DEPTH frees).
 * A search that finds no block in a heap that cannot grow (fixed, or its
 * backing allocator refuses) flushes the cache (frees every cached block
 * into the classes, merging) and searches again before alloc fails: that
 * alloc costs O(ALLOC_FREELIST_CACHE_BLOCKS) more, a constant, and only a
 * full heap pays it, so a request never fails because memory waits in the
 * cache. A growing heap grows instead (one backing call, not thousands of
 * merges in one alloc): the cache may cost it up to the byte bound above in
 * extra reserve. alloc_freelist_trim flushes it too. Memory accounting:
 * stats (bytes_in_use, free_count) count a
 * cached block as freed; alloc_freelist_info counts it in cached_blocks and
 * cached_bytes, neither in used_blocks nor in free_bytes; the walker reports
 * it as not in use. Until it is flushed a cached block does not merge with
 * its neighbours, so up to the byte bound above may be free memory that only
 * a request of its exact size can use, and a region holding one is not empty
 * (is not given back) until then.
 *
 * Space. Each allocation costs one header word (8 bytes on 64-bit targets)
 * plus the rounding of len + 8 up to a multiple of 16: the block is
 * max(32, roundup16(len + 8)) bytes, so the overhead is 8 bytes when
 * len % 16 == 8 and at most 23 bytes for len >= 24; the smallest block,
 * ALLOC_FREELIST_MIN_BLOCK, is 32 bytes (24 usable). A block keeps up to 16
 * bytes more when the rest is too small to split off as a free block.
 * Payloads are 16-byte aligned. A region costs ALLOC_FREELIST_REGION_OVERHEAD
 * bytes (its descriptor and an end sentinel) plus up to 15 bytes of alignment
 * of the caller's buffer. The alloc_freelist state itself is about 17 KiB (the
 * TLSF class table: 56 x 32 list heads, and 258 cache lists) and lives in the
 * caller's memory.
 *
 * Alignment: any power of two. Above 16 the block is found with room for the
 * alignment and the leading gap is split off as a free block (it is not
 * lost). A fixed heap serves what its buffer has room for; a growing heap
 * serves page size and beyond (the new region is sized for the alignment).
 * TLSF looks for len + align + 32 bytes to stay O(1), so an aligned request
 * may be refused (or grow the heap) when only an exact fit is left; the list
 * policies test each block's real gap.
 *
 * The vtable (contract of alloc.h):
 *   alloc   len bytes, not zeroed (0xAA in debug builds). NULL iff len is 0
 *           or above ALLOC_MAX_LEN, align is not a power of two, or nothing
 *           fits and the heap cannot grow (failed_count counts it).
 *   resize  in place: shrinking splits the tail off as a free block (merged
 *           with a free successor; its pages may be purged, see
 *           ALLOC_FREELIST_PURGE_MIN) and always succeeds; growing takes the
 *           free block after it if that is large enough, or extends a region
 *           the block has to itself through the backing allocator's resize,
 *           else returns false.
 *   remap   resize if it can; else, for a block alone in its grown region,
 *           extends the region through the backing allocator's remap (mremap
 *           for the page allocator: no copy; the region grows by at least
 *           half, so step-by-step growth costs O(log n) backing calls); else
 *           slides down into a large enough free block before it (one
 *           memmove); else moves: a new block (in a region of its own, 1.5x
 *           its size, from min(ALLOC_FREELIST_LARGE_BLOCK, region_size / 4)
 *           on), a copy of len bytes, the old block freed. NULL (block
 *           untouched) iff none of these fits.
 *   free    caches a small block (see above), or coalesces with free
 *           neighbours; may give an emptied region back.
 *
 * Regions: a grown region whose blocks are all free again is kept while the
 * empty regions kept add up to at most retain_bytes (hysteresis: a loop that
 * grows and shrinks the heap reuses it instead of mapping and unmapping), and
 * is given back to the backing allocator otherwise. alloc_freelist_trim gives
 * back every empty grown region. The caller's buffer is never given back.
 *
 * Errors and checks. alloc returns NULL, changing nothing but a flushed cache,
 * when no free block fits and the heap cannot grow. Every build checks the
 * free and cached bits on free (a second free of a block, cached or merged,
 * is reported as misuse) and validates every tag it is about to
 * trust before it writes anything through it: the freed block's own tag, the
 * next block's tag (its copy byte, see below; a zero size only on a region's
 * end sentinel; a size that stays inside the heap; a free neighbour's footer),
 * the previous free block's footer and tag, and both list links of every free
 * block taken off a list (each must point back; "safe unlinking"), and a
 * cached block's tag (cached, its list's size) and link (inside the heap)
 * before an alloc takes it. A damaged
 * tag is reported as corruption (alloc_report_corruption: message, then
 * abort), never followed. On 64-bit targets the top byte of each header is a
 * copy of its low byte, so an overrun of 1 to 7 bytes past a block is seen
 * even when the bytes written still look like a plausible tag; longer
 * overruns are caught by the size and link checks. Block sizes are below
 * 2^56 there. Detection is for accidents, not attacks: bytes that happen to
 * rebuild a consistent tag pass. Debug builds (ALLOC_DEBUG >= 1) also check that the pointer lies
 * in one of the heap's regions, that len and align match the block, and both
 * neighbours' tags, reporting misuse with the call site (alloc_report_misuse;
 * if the handler returns, the call does nothing: free returns, resize
 * returns false, remap returns NULL). Debug builds fill new blocks with 0xAA
 * and freed ones with 0x55.
 *
 * Thread safety: none. One heap is used by one thread at a time (put the
 * locked wrapper in front to share it).
 */
#ifndef ALLOC_FREELIST_H
#define ALLOC_FREELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a heap searches for a free block (chosen at init; see above). */
typedef enum alloc_freelist_policy {
    ALLOC_FREELIST_TLSF = 0,      /* two-level segregated fit, O(1); the default */
    ALLOC_FREELIST_FIRST_FIT = 1, /* address-ordered list, lowest address that fits */
    ALLOC_FREELIST_BEST_FIT = 2,  /* address-ordered list, smallest block that fits */
} alloc_freelist_policy;

/* Block geometry. Block sizes are multiples of the granule and include the
 * header; a used block of size s holds s - ALLOC_FREELIST_HEADER bytes. */
#define ALLOC_FREELIST_HEADER (sizeof(size_t))
#define ALLOC_FREELIST_GRANULE ((size_t)16)
/* A free block holds its header, two list links and a footer. */
#define ALLOC_FREELIST_MIN_BLOCK ((4 * sizeof(void *) + 15) & ~(size_t)15)
/* Bytes of each region not available to blocks (descriptor + end sentinel). */
#define ALLOC_FREELIST_REGION_OVERHEAD ((size_t)80)
/* Smallest buffer alloc_freelist_init accepts (one minimum block). */
#define ALLOC_FREELIST_MIN_BUFFER (ALLOC_FREELIST_REGION_OVERHEAD + ALLOC_FREELIST_GRANULE + ALLOC_FREELIST_MIN_BLOCK)

/* Size classes of the TLSF policy: second level 2^5 lists per power of two;
 * the first level covers every block size a size_t can express. */
#define ALLOC_FREELIST_SL_LOG2 5
#define ALLOC_FREELIST_SL_COUNT (1 << ALLOC_FREELIST_SL_LOG2) /* second-level lists per first-level class */
#if SIZE_MAX > 0xFFFFFFFFu
/* First-level classes: blocks below 512 bytes, then one per power of two. */
#define ALLOC_FREELIST_FL_COUNT 56
#else
/* First-level classes: blocks below 512 bytes, then one per power of two. */
#define ALLOC_FREELIST_FL_COUNT 24
#endif

/* A block that must move to grow to at least min(this, region_size / 4)
 * bytes (block size) moves into a region of its own, which later growth
 * extends in place or through the backing allocator's remap (mremap for the
 * page allocator). */
#define ALLOC_FREELIST_LARGE_BLOCK ((size_t)64 << 10)

/* Freeing a block, or cutting a tail off one by a shrink, of at least
 * min(this, region_size) bytes gives the whole pages of that range back to
 * the OS (alloc_os_purge, MADV_DONTNEED) if the heap's free bytes then exceed
 * retain_bytes (the hysteresis: a heap with little free space that frees and
 * retakes a large block does not purge and fault the same pages each time)
 * and the heap grows from the page allocator (a caller's buffer added to such
 * a heap is purged the same way: its free pages read back as zeros). Smaller
 * frees never make a system call; alloc_freelist_trim purges all free pages. */
#define ALLOC_FREELIST_PURGE_MIN ((size_t)64 << 10)

/* The small-block cache (TLSF policy): a freed block of at most this many
 * bytes (block size: a request of up to 4 KiB) may wait in a LIFO list of
 * blocks of exactly its size instead of going back to the size classes; an
 * alloc of that exact block size takes it back first. */
#define ALLOC_FREELIST_CACHE_MAX_BLOCK ((size_t)4112)
/* One list per block size up to ALLOC_FREELIST_CACHE_MAX_BLOCK (granules). */
#define ALLOC_FREELIST_CACHE_CLASSES (ALLOC_FREELIST_CACHE_MAX_BLOCK / 16 + 1)
/* Most blocks one list holds; most blocks the cache holds in all. */
#define ALLOC_FREELIST_CACHE_DEPTH 16
#define ALLOC_FREELIST_CACHE_BLOCKS 2048
/* Most bytes (block sizes) the cache holds: the smaller of this and 1/32 of
 * the bytes the heap has reserved. */
#define ALLOC_FREELIST_CACHE_BYTES ((size_t)4 << 20)

/* Smallest grown region when the config's region_size is 0: 256 KiB. */
#define ALLOC_FREELIST_DEFAULT_REGION_SIZE ((size_t)256 << 10)

/* What alloc_freelist_init needs (NULL: all defaults). Zero fields take the
 * defaults noted. */
typedef struct alloc_freelist_config {
    alloc_freelist_policy policy; /* 0: TLSF */
    /* Optional first region: a caller's buffer of buffer_size bytes, any
     * alignment. It stays the caller's; the heap never gives it back. */
    void *buffer;
    size_t buffer_size; /* at least ALLOC_FREELIST_MIN_BUFFER; 0 without a buffer */
    /* true: never take memory from the backing allocator (a fixed heap; needs
     * a buffer). false: grow when no free block fits. */
    bool no_grow;
    /* Where grown regions come from; vtable NULL: the page allocator. */
    allocator backing;
    /* Smallest grown region in bytes (a larger request gets a region of its
     * own size). 0: ALLOC_FREELIST_DEFAULT_REGION_SIZE. */
    size_t region_size;
    /* Empty grown regions are kept while they add up to at most this many
     * bytes. 0: one region_size. Any value below the region size (1, say)
     * keeps none. */
    size_t retain_bytes;
    /* true: no small-block cache; every free merges at once (TLSF exactly as
     * published). The list policies never cache. */
    bool no_cache;
} alloc_freelist_config;

struct alloc_freelist_region;

/* The heap's state. Initialise with alloc_freelist_init; the fields are
 * private (they are here so the state can live in the caller's memory). */
typedef struct alloc_freelist {
    alloc_freelist_policy policy;
    bool can_grow;
    allocator backing;
    size_t region_size;
    size_t retain_bytes;
    size_t retained_bytes;    /* sum of the spans of empty regions kept */
    size_t large_block;       /* min(ALLOC_FREELIST_LARGE_BLOCK, region_size / 4) */
    size_t purge_min;         /* min(ALLOC_FREELIST_PURGE_MIN, region_size) */
    struct alloc_freelist_region *regions;
    size_t region_count;
    void *addr_head;          /* first-fit / best-fit: address-ordered free list */
    uint64_t fl_bitmap;       /* TLSF: bit f set iff sl_bitmap[f] != 0 */
    uint32_t sl_bitmap[ALLOC_FREELIST_FL_COUNT];
    void *heads[ALLOC_FREELIST_FL_COUNT][ALLOC_FREELIST_SL_COUNT];
    size_t free_bytes;        /* sum of the sizes of free blocks */
    size_t free_blocks;
    size_t used_blocks;
    size_t used_block_bytes;  /* sum of the sizes of used blocks */
    uintptr_t lo, hi;         /* lowest and highest address any region has covered */
    size_t purged_bytes;      /* bytes of free pages given back to the OS so far (never decreases) */
    size_t cached_blocks;     /* blocks waiting in the small-block cache */
    size_t cached_bytes;      /* sum of their sizes */
    size_t cache_cap;         /* blocks the cache may hold (0: no cache, list policies) */
    size_t cache_puts;        /* blocks ever cached (paces the aging hand) */
    size_t cache_hand;        /* the list the aging hand visits next */
    unsigned char cache_count[ALLOC_FREELIST_CACHE_CLASSES];
    unsigned char cache_hit[ALLOC_FREELIST_CACHE_CLASSES]; /* taken from since the hand last passed */
    void *cache[ALLOC_FREELIST_CACHE_CLASSES]; /* LIFO list heads by block size / 16 */
    alloc_stats stats;
} alloc_freelist;

/* What alloc_freelist_heap_info reports on top of alloc_stats. */
typedef struct alloc_freelist_info {
    alloc_stats base;         /* bytes_reserved: regions (buffer included) */
    size_t free_bytes;        /* sum of the sizes of free blocks, headers included */
    size_t largest_free;      /* size of the largest free block (0 if none) */
    size_t free_blocks;       /* number of free blocks */
    size_t used_blocks;       /* number of live allocations */
    size_t overhead_bytes;    /* used block bytes minus bytes_in_use: headers and rounding */
    size_t region_count;      /* regions, the caller's buffer included */
    size_t retained_bytes;    /* bytes of empty grown regions kept for reuse */
    size_t purged_bytes;      /* bytes of free pages given back to the OS so far (never decreases) */
    size_t cached_blocks;     /* freed blocks waiting in the small-block cache (not in free_blocks) */
    size_t cached_bytes;      /* sum of their sizes, headers included (not in free_bytes) */
    double fragmentation;     /* 1 - largest_free / free_bytes; 0 when nothing is free */
} alloc_freelist_info;

/*
 * Initialises heap from config (NULL: all defaults: TLSF, grows from the page
 * allocator). Takes no memory from the backing allocator yet: the first
 * region is grown on the first alloc that needs it.
 * Returns 0, or -EINVAL (unknown policy; a buffer smaller than
 * ALLOC_FREELIST_MIN_BUFFER or a buffer_size without a buffer; no_grow
 * without a buffer; region_size above ALLOC_MAX_LEN), leaving heap unusable.
 * O(1) apart from clearing the class table.
 */
ALLOC_API int alloc_freelist_init(alloc_freelist *heap, const alloc_freelist_config *config);

/*
 * Gives every grown region back to the backing allocator, live blocks or not
 * (they become invalid); the caller's buffer becomes the caller's again. The
 * heap must be initialised again before use. O(regions).
 */
ALLOC_API void alloc_freelist_deinit(alloc_freelist *heap);

/* The allocator handle of heap (ctx = heap). Valid until deinit. */
ALLOC_API allocator alloc_freelist_allocator(alloc_freelist *heap);

/*
 * Adds a caller's buffer as one more region (never given back). Returns 0, or
 * -EINVAL if it is smaller than ALLOC_FREELIST_MIN_BUFFER. The buffer must
 * not overlap memory the heap already manages. O(1) (TLSF), O(free blocks)
 * (list policies).
 */
ALLOC_API int alloc_freelist_add_buffer(alloc_freelist *heap, void *buffer, size_t size);

/*
 * Like the vtable's alloc, but the allocation is the whole block: its length
 * (for the stats, and for a later sized free or resize) is
 * alloc_freelist_usable_size(ptr) (see there for its bounds). For
 * callers that free without a length (the malloc adapter pairs it with
 * alloc_freelist_free_unsized so bytes_in_use stays exact). Returns NULL,
 * changing nothing, iff len is 0 or above ALLOC_MAX_LEN, align is not a
 * power of two, or no block fits and the heap cannot grow. Not zeroed.
 * O(1) (TLSF) / O(free blocks) (list policies), plus a backing allocation
 * when the heap grows.
 */
ALLOC_API void *alloc_freelist_alloc_usable(alloc_freelist *heap, size_t len, size_t align);

/*
 * Bytes usable at ptr, a live allocation of heap: at least the length len it
 * was allocated or resized with, at most max(24, len + 15) + 16 (rounding,
 * and a remainder too small to split off). The malloc adapter's malloc_usable_size.
 * O(1). Debug builds report misuse for a pointer that is not a live block of
 * heap (and return 0 if the handler returns).
 */
ALLOC_API size_t alloc_freelist_usable_size(const alloc_freelist *heap, const void *ptr);

/*
 * Frees ptr without knowing its length (the malloc adapter's free): like the
 * vtable's free with len = the block's usable size, which is the length stats
 * subtract: exact for blocks from alloc_freelist_alloc_usable; for blocks
 * allocated with a smaller len, bytes_in_use drops by at most 23 bytes more
 * than was counted (never below zero). ptr NULL does nothing.
 * O(1) (TLSF); O(free blocks) for the list policies.
 */
ALLOC_API void alloc_freelist_free_unsized(alloc_freelist *heap, void *ptr, uintptr_t ret_addr);

/* true iff ptr lies inside one of heap's regions (not necessarily at a live
 * block). O(regions). */
ALLOC_API bool alloc_freelist_owns(const alloc_freelist *heap, const void *ptr);

/*
 * Flushes the small-block cache (every cached block merges into the
 * classes), gives every empty grown region back to the backing allocator,
 * whatever retain_bytes says, and (heaps over the page allocator) purges the whole
 * pages inside every remaining free block, whatever its size. Returns the
 * number of region bytes given back (purged pages are counted in
 * alloc_freelist_info.purged_bytes). O(regions + free blocks + cached blocks).
 */
ALLOC_API size_t alloc_freelist_trim(alloc_freelist *heap);

/*
 * Invariant checker: every region's blocks tile it exactly, tags agree
 * (each block's "previous is free" bit matches its neighbour, each free
 * block's footer matches its header), no two free blocks are adjacent,
 * every free block is on exactly the list its policy says (TLSF: the list of
 * its class, with the bitmaps set exactly for non-empty lists; list
 * policies: the address-ordered list, strictly increasing) except the
 * reserved tail right after a large block in its own region, which is on no
 * list, every header's copy byte agrees (64-bit targets), links are mutual,
 * every block flagged as cached is on the cache list of its size exactly
 * once (each list as long as its count, at most the depth), and the
 * counters and stats add up (cached blocks in their own counts). The cache is
 * checked, not flushed: the checker changes nothing. Returns true iff all hold; does
 * not abort or report. O(blocks). Not thread-safe.
 */
ALLOC_API bool alloc_freelist_check(const alloc_freelist *heap);

/* Callback of alloc_freelist_walk (an alloc_walker): one block, its payload
 * address, the bytes usable there, whether it is allocated (a block in the
 * small-block cache is not). Return false to stop the walk. */
typedef alloc_walker alloc_freelist_walker;

/*
 * Visits every block of every region in address order within a region
 * (regions newest first). Returns false iff the callback stopped the walk.
 * The callback must not allocate from or free to heap. O(blocks).
 */
ALLOC_API bool alloc_freelist_walk(const alloc_freelist *heap, alloc_freelist_walker walker, void *user);

/* The shared statistics (O(1)). */
ALLOC_API void alloc_freelist_stats(const alloc_freelist *heap, alloc_stats *out);

/* All statistics, including largest free block and fragmentation.
 * O(1) for the counters; finding the largest free block is O(length of the
 * highest non-empty class list) for TLSF and O(free blocks) for the others. */
ALLOC_API void alloc_freelist_heap_info(const alloc_freelist *heap, alloc_freelist_info *out);

/* The policy's name: "tlsf", "first-fit" or "best-fit". */
ALLOC_API const char *alloc_freelist_policy_name(alloc_freelist_policy policy);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_FREELIST_H */
