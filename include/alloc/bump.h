/*
 * bump.h: the bump allocator over a fixed buffer.
 *
 * The caller hands over a buffer (on the stack, static, or from another
 * allocator); every allocation advances one pointer through it. Only the most
 * recent allocation can be freed or resized; everything else comes back at
 * once by reset, or in LIFO slices by savepoints (mark + rollback).
 *
 * Contract of the handle (on top of alloc.h):
 *   alloc   aligns the top up to align, hands out len bytes, moves the top.
 *           NULL iff padding + len does not fit in the bytes left; a failed
 *           alloc changes nothing but failed_count. Not zeroed. O(1).
 *   resize  only the most recent allocation (mem + len == top), allocated
 *           after the newest open savepoint, in place, up to the end of the
 *           buffer. Any other block: false. O(1).
 *   remap   resize, else NULL (nothing in a fixed buffer can move somewhere
 *           a resize could not reach).
 *   free    the most recent allocation: the top returns to mem, unless the
 *           block was allocated before the newest open savepoint. Any other
 *           block, and such a one: no-op (its bytes come back at rollback or
 *           reset), counted by alloc_bump_stranded(). Debug builds report a
 *           pointer outside the handed-out region as misuse. O(1), or
 *           O(open savepoints) for a block from before the newest one.
 * Alignment: any power of two (the padding must fit in the buffer).
 * Overhead: no header; at most align - 1 bytes of padding per allocation.
 * Padding in front of a freed most-recent block is reclaimed only by rollback
 * or reset.
 *
 * Cost per alloc: O(1), no loop: an align-up, a bounds check, a store of the
 * top and the stats bookkeeping (inline with alloc_bump_alloc_fast, one
 * indirect call through the vtable); the thread-safe handle adds one
 * compare-and-swap, retried only under contention. Measured figures live in
 * docs/benchmarks.md.
 *
 * Stats (alloc_bump_stats): bytes_in_use sums the lengths of blocks not yet
 * freed, rolled back or reset; bytes_reserved is the buffer's size; a
 * non-last free still subtracts its length from bytes_in_use.
 *
 * Thread safety: none, except the handle from alloc_bump_allocator_threadsafe,
 * whose alloc, resize and free are lock-free (one compare-and-swap loop on the
 * top). Reset, save, rollback, check and the single-threaded handle must not
 * run concurrently with anything else on the same bump.
 *
 * Sanitizers: bytes not handed out are poisoned (ASan) and no-access
 * (Valgrind); blocks released by free, rollback or reset are poisoned again,
 * so a read through a stale pointer is reported. Under ASan block starts are
 * kept 8-aligned (its poisoning granularity). alloc_bump_deinit unpoisons the
 * buffer before the caller gets it back.
 */
#ifndef ALLOC_BUMP_H
#define ALLOC_BUMP_H

#include "alloc/atomic.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/fit.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open savepoints whose bytes_in_use the allocator tracks exactly; see
 * alloc_bump_rollback for what happens beyond. */
#define ALLOC_BUMP_LEVELS 16

/* Private: one open savepoint. */
typedef struct alloc_bump_level {
    uint64_t serial;     /* the save that opened it */
    uintptr_t top;       /* the top at save */
    ALLOC_ATOMIC(size_t) live; /* live bytes of blocks allocated after the previous
                            level's save and before this one's */
} alloc_bump_level;

/* State of one bump allocator; lives in caller memory. Fields are private
 * (they are visible only for the inline fast path and sizeof). */
typedef struct alloc_bump {
    ALLOC_ATOMIC(uintptr_t) top; /* next free byte; base <= top <= end */
    uintptr_t base;
    uintptr_t end;
    unsigned slow;         /* non-zero: every alloc takes the out-of-line path (tracking builds) */
    alloc_stats stats;     /* single-threaded operations */
    uint64_t stranded;     /* non-last frees */
    /* Counters of the thread-safe handle, merged by alloc_bump_stats. */
    ALLOC_ATOMIC(uint64_t) ts_alloc_count, ts_free_count, ts_resize_count, ts_failed_count, ts_stranded;
    ALLOC_ATOMIC(size_t) ts_bytes_in_use, ts_peak;
    /* Open savepoints, oldest first (saves and rollbacks run alone, frees
     * from both handles update the counts). */
    alloc_bump_level levels[ALLOC_BUMP_LEVELS];
    unsigned level_count;
    uint64_t save_serial;       /* saves so far */
    uint64_t merged_upto;       /* newest save whose level was merged into a later one */
    ALLOC_ATOMIC(size_t) below_live;  /* sum of levels[].live */
    uintptr_t floor;            /* the newest open savepoint's top, 0 if none */
} alloc_bump;

/* A savepoint: the top at the time it was taken. */
typedef struct alloc_bump_mark {
    uintptr_t top;       /* the top at save */
    size_t bytes_in_use; /* bytes_in_use at save (used only past ALLOC_BUMP_LEVELS) */
    uint64_t serial;     /* which save this was */
} alloc_bump_mark;

/*
 * Initialises b over buf[0, cap). The buffer must outlive b and must not be
 * used by anyone else until alloc_bump_deinit.
 * Returns 0, or -EINVAL (b untouched) iff b is NULL, buf is NULL with cap > 0,
 * cap > ALLOC_MAX_LEN, or buf + cap wraps around. O(1) (O(cap) when sanitizer
 * tracking is on: the buffer is poisoned).
 */
ALLOC_API int alloc_bump_init(alloc_bump *b, void *buf, size_t cap);

/* Releases everything and unpoisons the buffer (contents as they are: debug
 * builds leave 0x55 where blocks were released); b may be initialised again.
 * Returns nothing: there is nothing to fail. O(1) (O(cap) when tracking). */
ALLOC_API void alloc_bump_deinit(alloc_bump *b);

/* The handle (ctx = b). Not thread-safe. */
ALLOC_API allocator alloc_bump_allocator(alloc_bump *b);

/* A handle whose alloc, resize and free are lock-free (ctx = b). Several
 * threads may use it at once; see the header comment for what must not. */
ALLOC_API allocator alloc_bump_allocator_threadsafe(alloc_bump *b);

/*
 * Out-of-line allocation (what the vtable calls): len > 0, align a power of
 * two. Returns NULL iff it does not fit (or, in debug builds, align is not a
 * power of two); counts the failure. O(1).
 */
ALLOC_API void *alloc_bump_alloc(alloc_bump *b, size_t len, size_t align);

/* Releases everything handed out (the top returns to the buffer's start;
 * released bytes are poisoned). Peaks and counts stay. O(1) (O(used) when
 * tracking or in debug builds, which fill released bytes with 0x55). */
ALLOC_API void alloc_bump_reset(alloc_bump *b);

/*
 * Takes a savepoint and records it as open (which is why b is not const):
 * from now on a free or resize never moves the top below it, so every block
 * allocated later lies above it and a rollback releases them all; the live
 * bytes allocated before it are counted apart so that a rollback restores
 * bytes_in_use exactly. Freeing the newest block from before the savepoint
 * is legal and does not pop it: its bytes come back with the rollback (or
 * reset) that releases them. Never fails. Not concurrently with anything else
 * on b. O(1).
 */
ALLOC_API alloc_bump_mark alloc_bump_save(alloc_bump *b);

/*
 * Releases everything allocated after m was taken (bytes poisoned; debug
 * builds fill them with 0x55). m stays valid; marks taken later than m become
 * invalid, except those at m's very position.
 * Returns 0, or -EINVAL (nothing changed; misuse reported in debug builds,
 * counted in misuse_count) iff m is stale: it lies above the current top or
 * outside the buffer, or was taken before a reset or above an earlier
 * rollback. A legal pop after the savepoint does not make it stale.
 * bytes_in_use becomes the live bytes allocated before m, exactly, as long as
 * at most ALLOC_BUMP_LEVELS savepoints are open (taken and not rolled back
 * past or reset). Beyond that the newest level absorbs the next savepoint and
 * a rollback to a mark whose level was absorbed sets bytes_in_use to
 * min(its value at save, now).
 * O(open savepoints) (plus O(released) when tracking or in debug builds).
 */
ALLOC_API int alloc_bump_rollback(alloc_bump *b, alloc_bump_mark m);

/* true iff p points into the handed-out part of the buffer [start, top). O(1). */
ALLOC_API bool alloc_bump_owns(const alloc_bump *b, const void *p);

/* Bytes between the top and the end of the buffer (an alloc with align 1 of
 * at most this many bytes succeeds). O(1). */
ALLOC_API size_t alloc_bump_remaining(const alloc_bump *b);

/* Bytes handed out so far, padding included (top - start). O(1). */
ALLOC_API size_t alloc_bump_used(const alloc_bump *b);

/* Frees that could not give memory back because the block was not the most
 * recent one; never decreases. O(1). */
ALLOC_API uint64_t alloc_bump_stranded(const alloc_bump *b);

/* Fills *out (both handles' operations merged). O(1). */
ALLOC_API void alloc_bump_stats(const alloc_bump *b, alloc_stats *out);

/* Invariant check: base <= top <= end, stats consistent, under tracking the
 * bytes above the top are poisoned. true iff they hold. O(1) (the poison
 * probe looks at a few bytes). */
ALLOC_API bool alloc_bump_check(const alloc_bump *b);

/*
 * Inline fast path for hot loops (benchmarks, parsers): the same as
 * alloc_bump_alloc, minus the call. Preconditions: len > 0, align a power of
 * two (not checked here). Not thread-safe. Falls back to the out-of-line path
 * when the block does not fit (which then counts the failure) and in builds
 * with sanitizer tracking.
 */
ALLOC_INLINE void *alloc_bump_alloc_fast(alloc_bump *b, size_t len, size_t align)
{
    uintptr_t p = alloc_bump_fit(ALLOC_ATOMIC_LOAD_RELAXED(&b->top), b->end, 0, len, align);
    if (ALLOC_UNLIKELY(b->slow | !p)) return alloc_bump_alloc(b, len, align);
    ALLOC_ATOMIC_STORE_RELAXED(&b->top, p + len);
    b->stats.alloc_count++;
    b->stats.bytes_in_use += len;
    alloc_peak_raise(&b->stats.peak_bytes_in_use, b->stats.bytes_in_use);
    return (void *)p;
}

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_BUMP_H */
