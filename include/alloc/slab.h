/*
 * slab.h: size-class pools. One allocator for any size: small requests are
 * served from per-class slabs, large ones by a fallback allocator.
 *
 * Size classes (ALLOC_SLAB_CLASSES = 40):
 *   16, 32, 48, ..., 128                      16-byte steps (8 classes)
 *   then four per doubling: 160 192 224 256, 320 384 448 512, ..., 20480 24576 28672 32768
 * A request of len bytes with align <= 16 gets the smallest class >= len.
 * With align > 16 it gets the smallest power-of-two class >= max(len, align)
 * (power-of-two classes are aligned to their size). Requests whose class
 * would exceed the limit (config, at most 32 KiB) go to the fallback.
 *
 * Internal fragmentation (bytes of the slot the request does not use):
 *   up to 128 B     < 16 B per block (16 B granularity; relative worst case
 *                   1 B in a 16 B slot)
 *   above 128 B     worst case (2^k/4 - 1) bytes for a request of 2^k + 1,
 *                   i.e. below 25% of the request (e.g. 129 -> 160: 24.0%;
 *                   1025 -> 1280: 24.9%), 12.5% on average for uniform sizes.
 * Plus, per slab, the header and the slack at its end (< one slot).
 *
 * Slabs are ALLOC_SLAB_BYTES (256 KiB), aligned to their size, taken from the
 * backing allocator (default: the page allocator, which can align that far;
 * any other backing allocator must support 256 KiB alignment). Every object
 * of a class sits in a slab of that class, so objects of one size are packed
 * together; a slab's header is found from any of its objects by masking the
 * address (alloc_slab_block_size is O(1)).
 *
 * Vtable (alloc.h):
 *   alloc   class request: O(1), pop from the class's current slab; when that
 *           is exhausted, the next slab with free slots, else a cached empty
 *           one, else a new one (out of line). Large: the fallback's alloc.
 *           Not zeroed. NULL iff the backing or fallback allocator refuses.
 *   resize  true iff old and new request are both class requests and new_len
 *           fits the block's slot, or both are large and the fallback
 *           resizes. Never moves.
 *   remap   resize, else moves: class to class (alloc + copy + free, the
 *           classes differ), large to large (the fallback's remap, e.g.
 *           mremap), or across the limit (alloc + copy + free). NULL iff the
 *           needed allocation fails; the block is then untouched.
 *   free    class: O(1) push on its slab's free list; large: fallback free.
 * Slab release: when a slab's last object is freed, the class keeps it as
 * its one cached empty slab, or returns it to the backing allocator if the
 * class already has one (so alternating alloc/free at a slab boundary never
 * thrashes the backing allocator). alloc_slab_trim returns cached ones too.
 *
 * Cost: an alloc + free pair is O(1): a table lookup of the class, a pop and a
 * push, the live count, the stats. Measured figures live in
 * docs/benchmarks.md.
 *
 * Overhead: no per-object header. Largest alignment: 32 KiB through the
 * classes (with the default limit); any the fallback supports above.
 * Statistics: bytes_in_use counts requested lengths (class and large);
 * bytes_reserved counts slabs plus large blocks' lengths.
 * Debug builds (ALLOC_DEBUG >= 1) detect free/resize/remap of a pointer that
 * is not a live object (double free, foreign pointer) and report it naming
 * the call site (O(slabs) lookup in debug builds only).
 *
 * Thread-safety: none; one thread at a time (wrap in a locked allocator).
 */
#ifndef ALLOC_SLAB_H
#define ALLOC_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of size classes (see the table above). */
#define ALLOC_SLAB_CLASSES 40
/* Size and alignment of every slab: 256 KiB. */
#define ALLOC_SLAB_BYTES ((size_t)256 << 10)
/* Largest class size a config limit may ask for (and the default): 32 KiB. */
#define ALLOC_SLAB_MAX_LIMIT ((size_t)32 << 10)
/* Largest alignment served by the classes without the fallback. */
#define ALLOC_SLAB_CLASS_ALIGN 16

/* One slab's header (opaque): a slab is a chunk of the backing allocator cut
 * into slots of one class. */
typedef struct alloc_slab_chunk alloc_slab_chunk;

/* What alloc_slab_init needs (NULL: all defaults). Zero fields take the
 * defaults noted. */
typedef struct alloc_slab_config {
    size_t limit;       /* largest class size; 0 = 32 KiB; rounded down to a class; >= 16 */
    allocator backing;  /* slabs (256 KiB, 256 KiB-aligned); {0} = the page allocator */
    allocator fallback; /* requests above the limit; {0} = the page allocator */
} alloc_slab_config;

/* Per class state (private). */
typedef struct alloc_slab_class {
    alloc_slab_chunk *current; /* slab allocations come from (a shared empty sentinel at first) */
    alloc_slab_chunk *partial; /* other slabs with free slots (doubly linked) */
    alloc_slab_chunk *empty;   /* one cached slab with no live object, or NULL */
    uint32_t size;            /* slot size */
    uint32_t slots;           /* slots per slab */
    uint32_t first;           /* offset of slot 0 in a slab */
    uint32_t slabs;           /* slabs of this class */
} alloc_slab_class;

/* The state; lives in caller memory. Treat fields as private. */
typedef struct alloc_slab {
    alloc_slab_class cls[ALLOC_SLAB_CLASSES];
    unsigned nclasses;        /* classes in use (those <= limit) */
    size_t limit;             /* size of the largest class in use */
    size_t small_max;         /* lengths up to this (align <= 16) take the table lookup */
    allocator backing, fallback;
    alloc_slab_chunk *all;     /* every slab (doubly linked) */
    size_t large_live;        /* large blocks live */
    alloc_stats stats;
} alloc_slab;

/* Initialises state. Takes no memory yet. 0, or -EINVAL iff limit is below 16
 * or above ALLOC_SLAB_MAX_LIMIT. O(classes). */
ALLOC_API int alloc_slab_init(alloc_slab *state, const alloc_slab_config *config);

/* Returns every slab to the backing allocator. Large blocks still live are
 * not known to the state (no header) and stay with the fallback: free them
 * first (debug builds report any that remain). */
ALLOC_API void alloc_slab_deinit(alloc_slab *state);

/* The state as an allocator handle (see the vtable rules above). */
ALLOC_API allocator alloc_slab_allocator(alloc_slab *state);

/* The class a request (len > 0, align a power of two) maps to, or -1 if it
 * goes to the fallback. O(1). */
ALLOC_API int alloc_slab_class_of(const alloc_slab *state, size_t len, size_t align);

/* The slot size of class c (0 <= c < ALLOC_SLAB_CLASSES, any limit). */
ALLOC_API size_t alloc_slab_class_size(int c);

/* The slot size of a live block p that was a class request (alloc_slab_class_of
 * >= 0). O(1): masks p to its slab header. Undefined for large blocks. */
ALLOC_API size_t alloc_slab_block_size(const void *p);

/* true iff p lies in one of state's slabs. O(slabs). */
ALLOC_API bool alloc_slab_owns(const alloc_slab *state, const void *p);

/* Returns every cached empty slab to the backing allocator; returns the bytes given back. O(classes). */
ALLOC_API size_t alloc_slab_trim(alloc_slab *state);

/* Invariant check: every slab's free list stays inside its slot area, free +
 * live + uncarved = slots, class lists consistent, stats consistent.
 * O(slots). */
ALLOC_API bool alloc_slab_check(const alloc_slab *state);

/* Fills *out. O(1). */
ALLOC_API void alloc_slab_stats(const alloc_slab *state, alloc_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_SLAB_H */
