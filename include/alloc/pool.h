/*
 * pool.h: fixed-size object pools.
 *
 * Two kinds, one object size and alignment each, chosen at init:
 *
 *   alloc_pool      single-threaded. An intrusive free list threaded through
 *                   free slots (no per-object header). Memory comes in slabs
 *                   from a backing allocator (default: the page allocator), or
 *                   from one caller buffer for a pool that never grows.
 *   alloc_pool_mt   safe to share between threads: a lock-free free list whose
 *                   head is a tagged 64-bit word (address + generation), so a
 *                   pop that raced with pops and pushes of the same slot fails
 *                   its compare-and-swap instead of corrupting the list (ABA).
 *
 * Bounds (both kinds)
 *   time      alloc and free O(1); the alloc that needs a new slab is one call
 *             to the backing allocator (out of line). alloc_pool_mt: lock-free
 *             pop/push, retried under contention; a new slab is taken under a
 *             lock by one thread while the others wait only if the list is
 *             empty.
 *   overhead  none per object: the slot size is the object size rounded up to
 *             the object alignment and to at least one pointer (8 bytes). Per
 *             slab a header of 48 bytes (release builds; debug builds add one
 *             bit per slot) plus alignment padding.
 *   alignment any power of two the backing allocator can give (the page
 *             allocator: any); with a caller buffer, any.
 *
 * Cost: alloc and free are O(1), a pop and a push on the free list (inline
 * with alloc_pool_get/alloc_pool_put, one indirect call through the handle);
 * alloc_pool_mt adds one compare-and-swap each, retried only under
 * contention. Debug and sanitizer builds take the checked path and cost more.
 * Measured figures live in docs/benchmarks.md (bench/callgrind_pool.c
 * holds the pool's cost in release builds to a budget).
 *
 * Through the vtable (alloc.h), a request is served iff len <= obj_size and
 * align <= obj_align; any other request returns NULL (and is counted as
 * failed). resize succeeds iff new_len <= obj_size (the slot does not change);
 * remap is resize returning the same address, else NULL; free gives the slot
 * back.
 *
 * Statistics (alloc_stats): the pool does not remember requested lengths, so
 * bytes_in_use and peak_bytes_in_use count whole objects (live objects times
 * obj_size); this keeps the hot path at two counter increments per pair.
 * bytes_reserved counts slab bytes taken from the backing allocator (for a
 * buffer pool: the buffer). All counts and peaks never decrease.
 *
 * Misuse (debug builds, ALLOC_DEBUG >= 1): free, resize or remap of a pointer
 * that is not a slot of this pool, or of a slot that is not allocated (double
 * free), is reported through alloc_report_misuse naming the call site. The
 * default handler aborts; a handler that returns leaves the pool unchanged.
 * Release builds do not detect it (undefined behaviour).
 *
 * Slab policy: a pool never returns a slab by itself (that would need a
 * per-slab live count on every free). alloc_pool_trim() gives back every slab
 * none of whose objects is live; alloc_pool_reset() frees every object but
 * keeps the slabs; alloc_pool_deinit() returns everything.
 */
#ifndef ALLOC_POOL_H
#define ALLOC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/atomic.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A slab header (opaque; lives at the start of each slab). */
typedef struct alloc_pool_slab alloc_pool_slab;

/* What alloc_pool_init needs. Zero fields take the defaults noted. */
typedef struct alloc_pool_config {
    size_t obj_size;        /* > 0: the largest request served */
    size_t obj_align;       /* power of two; 0 = alignof(max_align_t) (16) */
    allocator backing;      /* where slabs come from; {0} = the page allocator */
    size_t slab_bytes;      /* first slab; 0 = 4 KiB or 8 objects, whichever is larger */
    size_t max_slab_bytes;  /* slabs double up to this; 0 = 256 KiB (at least slab_bytes) */
} alloc_pool_config;

/*
 * The pool state. Lives in caller memory; treat every field as private (the
 * inline fast path below reads the first three). Not thread-safe: one thread
 * at a time (wrap it in a locked allocator to share it, or use alloc_pool_mt).
 */
typedef struct alloc_pool {
    /* hot: the inline fast path and the vtable touch only these */
    void *free_head;            /* free slots (NULL in checked builds: see checked_head) */
    uint64_t alloc_count;       /* successful allocations, ever */
    uint64_t free_count;        /* frees, ever */
    unsigned char checked;      /* the library checks or tracks every free (debug/sanitizer build) */
    unsigned char fixed;        /* buffer pool: never grows */
    /* cold */
    void *checked_head;         /* the free list when checked is set */
    size_t obj_size, obj_align; /* as configured (obj_align resolved) */
    size_t stride;              /* slot size: obj_size rounded up to obj_align and 8 */
    char *carve, *carve_end;    /* untouched slots of the current slab, carved lazily */
    alloc_pool_slab *slabs;     /* slabs being carved or fully carved, newest first */
    alloc_pool_slab *spare;     /* slabs not carved yet (preheat, reset) */
    allocator backing;
    size_t next_slab_bytes, max_slab_bytes;
    size_t carved;              /* slots carved since init/reset/trim (= peak live since then) */
    size_t peak_slots;          /* highest live slot count before the last reset/trim */
    uint64_t forgotten;         /* objects that were live at a reset */
    alloc_stats cold;           /* bytes_reserved, resize/remap/failed/misuse counts */
} alloc_pool;

/*
 * Initialises pool in caller memory. Takes no memory yet (the first alloc or a
 * preheat takes the first slab).
 * Returns 0, or -EINVAL iff obj_size is 0, obj_align is not 0 or a power of
 * two, slab sizes are inconsistent, or the slot size overflows. O(1).
 */
ALLOC_API int alloc_pool_init(alloc_pool *pool, const alloc_pool_config *config);

/*
 * Initialises a pool that serves objects from buf only and never grows: when
 * every slot is live, alloc returns NULL. buf must stay valid until deinit;
 * the pool never frees it. alloc_pool_buffer_bytes tells how big a buffer must
 * be for a given number of objects.
 * Returns 0, -EINVAL (as alloc_pool_init, or buf NULL) or -ENOMEM iff buf
 * cannot hold the slab header and one object. O(1).
 */
ALLOC_API int alloc_pool_init_buffer(alloc_pool *pool, void *buf, size_t buf_bytes, size_t obj_size,
                                     size_t obj_align);

/*
 * Bytes a buffer (of any alignment) needs to hold count objects with
 * alloc_pool_init_buffer, in this build of the library (debug builds need one
 * bit per slot more). 0 iff the arguments are invalid or the size overflows.
 */
ALLOC_API size_t alloc_pool_buffer_bytes(size_t obj_size, size_t obj_align, size_t count);

/* Returns every slab to the backing allocator (nothing for a buffer pool).
 * Live objects die with it. The pool must be initialised again before use. */
ALLOC_API void alloc_pool_deinit(alloc_pool *pool);

/* The pool as an allocator handle (see the vtable rules above). */
ALLOC_API allocator alloc_pool_allocator(alloc_pool *pool);

/*
 * Makes sure count more objects can be allocated without asking the backing
 * allocator: takes slabs until the free capacity reaches count.
 * Returns 0, or -ENOMEM iff the backing allocator refused (slabs taken before
 * the refusal stay, as spare capacity) or the pool is a buffer pool without
 * room for them. O(slabs taken).
 */
ALLOC_API int alloc_pool_preheat(alloc_pool *pool, size_t count);

/* Frees every object at once; the slabs stay for reuse. O(slabs) (debug
 * builds: O(slots), to clear the free bits). Peaks and counts stay. */
ALLOC_API void alloc_pool_reset(alloc_pool *pool);

/*
 * Returns to the backing allocator every slab none of whose objects is live,
 * and returns the number of bytes given back (always 0 for a buffer pool).
 * O(free objects x slabs).
 */
ALLOC_API size_t alloc_pool_trim(alloc_pool *pool);

/* true iff p points at a slot (live or free) of one of the pool's slabs. O(slabs). */
ALLOC_API bool alloc_pool_owns(const alloc_pool *pool, const void *p);

/* Objects that can be allocated before the pool needs another slab. O(1). */
ALLOC_API size_t alloc_pool_capacity_left(const alloc_pool *pool);

/*
 * Invariant check: every free-list link lands on a slot boundary inside a
 * slab, no slot is on the list twice, free + live = carved, and (debug builds)
 * no free slot is marked live. Returns true iff all hold. O(slots + slabs).
 */
ALLOC_API bool alloc_pool_check(const alloc_pool *pool);

/*
 * Calls walker(slot, obj_size, used, user) for the pool's slots. Debug builds
 * keep a live bit per slot: every slot carved so far, in each slab in address
 * order (slabs newest first), used exact. Release builds keep no such bit:
 * only the free slots on the free list, used false. Returns false iff the
 * walker stopped the walk. The walker must not get or put. O(slots).
 */
ALLOC_API bool alloc_pool_walk(const alloc_pool *pool, alloc_walker walker, void *user);

/* Fills *out (see the statistics note above). O(1). */
ALLOC_API void alloc_pool_stats(const alloc_pool *pool, alloc_stats *out);

/* The out-of-line halves of the inline fast path. Use the inline forms. */
ALLOC_API void *alloc_pool_get_slow(alloc_pool *pool, uintptr_t ret_addr);
ALLOC_API void alloc_pool_put_checked(alloc_pool *pool, void *obj, uintptr_t ret_addr);

/*
 * alloc_pool_get: one object (obj_size bytes, aligned to obj_align), not
 * zeroed. NULL iff the pool has no free slot and cannot get a slab (backing
 * allocator refused, or buffer pool exhausted). O(1). Not thread-safe.
 */
ALLOC_INLINE ALLOC_NODISCARD void *alloc_pool_get_at(alloc_pool *pool, uintptr_t ret_addr)
{
    void *obj = pool->free_head; /* always NULL in checked builds: they take the slow path */
    if (ALLOC_LIKELY(obj != NULL)) {
        pool->free_head = *(void **)obj;
        pool->alloc_count++;
        return obj;
    }
    return alloc_pool_get_slow(pool, ret_addr);
}

/*
 * alloc_pool_put: gives obj (from alloc_pool_get or the handle) back. obj must
 * be a live object of this pool (debug builds check). O(1). Not thread-safe.
 */
ALLOC_INLINE void alloc_pool_put_at(alloc_pool *pool, void *obj, uintptr_t ret_addr)
{
    if (ALLOC_UNLIKELY(pool->checked)) {
        alloc_pool_put_checked(pool, obj, ret_addr);
        return;
    }
    *(void **)obj = pool->free_head;
    pool->free_head = obj;
    pool->free_count++;
}

/*
 * The short forms of alloc_pool_get_at and alloc_pool_put_at. They are macros
 * so that ret_addr is the call site itself (ALLOC_CALL_SITE in alloc.h), which
 * a misuse report names as function+offset.
 */
#define alloc_pool_get(pool) alloc_pool_get_at((pool), ALLOC_CALL_SITE())
#define alloc_pool_put(pool, obj) alloc_pool_put_at((pool), (obj), ALLOC_CALL_SITE())

/* ===========================================================================
 * alloc_pool_mt: the thread-safe pool.
 *
 * Free slots form a lock-free LIFO list (Treiber stack). Its head packs the
 * slot address (bits 3..47; slots are 8-aligned and every slab must lie below
 * 2^48, which Linux on x86_64 and aarch64 guarantees unless a mapping is
 * explicitly asked for above it; a slab that does not is refused) with a
 * 19-bit generation counter bumped by every pop and push, so a stale head
 * never matches after the slot went out and came back (ABA would need exactly
 * 2^19 list operations between one thread's read and its CAS).
 * Slabs are threaded completely when they are taken (under a lock, so only
 * one thread grows the pool) and pushed onto the list with one CAS; they stay
 * until reset/deinit, because a concurrent pop may still read a slot's link.
 *
 * Thread-safety: alloc, free, resize, remap, stats, owns: any thread, any
 * time. init, deinit, reset, check: no concurrent use of the pool.
 * Counters are relaxed atomics; stats read them one at a time.
 * =========================================================================== */
#define ALLOC_POOL_ALIGNAS(n) ALLOC_ALIGNAS(n)

/* Hot words on their own cache lines, so frees and counters do not contend. */
typedef struct alloc_pool_mt {
    ALLOC_POOL_ALIGNAS(64) ALLOC_ATOMIC(uint64_t) head;        /* tagged free-list head */
    ALLOC_POOL_ALIGNAS(64) ALLOC_ATOMIC(uint64_t) alloc_count; /* successful allocations */
    ALLOC_ATOMIC(uint64_t) free_count; /* frees */
    ALLOC_ATOMIC(uint64_t) peak_live;  /* highest alloc_count - free_count seen */
    ALLOC_POOL_ALIGNAS(64) ALLOC_ATOMIC(int) grow_lock; /* spin lock: one thread takes slabs at a time */
    ALLOC_ATOMIC(alloc_pool_slab *) slabs; /* newest first */
    size_t obj_size, obj_align, stride; /* as in alloc_pool: as configured (obj_align resolved), slot size */
    allocator backing;                 /* where slabs come from (the page allocator for {0}) */
    size_t next_slab_bytes, max_slab_bytes; /* size of the next slab; it doubles up to the max */
    ALLOC_ATOMIC(size_t) bytes_reserved; /* bytes of slabs; changed under grow_lock */
    ALLOC_ATOMIC(size_t) peak_bytes_reserved; /* highest bytes_reserved; changed under grow_lock */
    ALLOC_ATOMIC(uint64_t) failed_count; /* allocations that returned NULL */
    ALLOC_ATOMIC(uint64_t) misuse_count; /* misuse reports */
    ALLOC_ATOMIC(uint64_t) resize_count; /* resizes in place that succeeded */
    ALLOC_ATOMIC(uint64_t) remap_count; /* remaps that succeeded */
    uint64_t forgotten;                /* live objects dropped by resets */
} alloc_pool_mt;

/* Like alloc_pool_init (same config and errors). Takes no memory yet. O(1). */
ALLOC_API int alloc_pool_mt_init(alloc_pool_mt *pool, const alloc_pool_config *config);
/* Returns every slab. No thread may use the pool any more. */
ALLOC_API void alloc_pool_mt_deinit(alloc_pool_mt *pool);
/* The pool as an allocator handle (same vtable rules as alloc_pool; thread-safe). */
ALLOC_API allocator alloc_pool_mt_allocator(alloc_pool_mt *pool);
/* One object, or NULL iff no free slot and the backing allocator refused a slab.
 * O(1) amortised, lock-free except when a slab is taken. Not zeroed. */
ALLOC_API void *alloc_pool_mt_get(alloc_pool_mt *pool);
/* Gives a live object back. Lock-free. Debug builds detect foreign and double frees. */
ALLOC_API void alloc_pool_mt_put(alloc_pool_mt *pool, void *obj);
/* Takes slabs until at least count objects are free. 0 or -ENOMEM. */
ALLOC_API int alloc_pool_mt_preheat(alloc_pool_mt *pool, size_t count);
/* Frees every object; slabs stay. No concurrent use. O(slots). */
ALLOC_API void alloc_pool_mt_reset(alloc_pool_mt *pool);
/* true iff p points at a slot of one of the pool's slabs. O(slabs). Any thread. */
ALLOC_API bool alloc_pool_mt_owns(const alloc_pool_mt *pool, const void *p);
/* Invariant check (as alloc_pool_check). No concurrent use. O(slots). */
ALLOC_API bool alloc_pool_mt_check(const alloc_pool_mt *pool);
/* Stats (objects counted as whole obj_size, as alloc_pool). Any thread. */
ALLOC_API void alloc_pool_mt_stats(const alloc_pool_mt *pool, alloc_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_POOL_H */
