/*
 * arena.h: the chained arena (region allocator) over any backing allocator.
 *
 * An arena hands out memory from chunks it takes from a backing allocator (by
 * default the page allocator), bumping a pointer through the current chunk and
 * growing geometrically when it runs out. Memory comes back all at once (reset,
 * in three modes after Zig's ArenaAllocator) or by nested savepoints (scratch
 * scopes). Requests above a threshold get a chunk of their own, which their
 * free gives straight back to the backing allocator, in any order.
 *
 * Contract of the handle (on top of alloc.h):
 *   alloc   small request (len <= large_threshold and align <= 4096): O(1) bump
 *           in the current chunk; when it does not fit, one backing alloc (or
 *           a retained spare chunk) for a new chunk. Large request: one backing
 *           alloc for its own chunk. NULL iff the backing allocator fails (or
 *           the size computation overflows); nothing changes but failed_count.
 *           Not zeroed (the page allocator's fresh chunks happen to be).
 *   resize  small block: only the most recent one, allocated after the newest
 *           savepoint, in place within its chunk, and never past
 *           large_threshold. Large block: the backing
 *           allocator's resize of its chunk. Otherwise false. O(1).
 *   remap   resize, else for a large block the backing allocator's remap of
 *           its chunk (with the page allocator: mremap, no copy). Else NULL.
 *   free    small block: the most recent one is popped (its bytes reusable at
 *           once) unless it was allocated before the newest savepoint; any
 *           other, and such a one, is a no-op whose bytes return at rollback
 *           or reset (counted by alloc_arena_info's stranded_frees). A pop
 *           never takes the top below the newest savepoint: the bytes below it
 *           belong to the scope the savepoint will restore, so new blocks must
 *           not land there. Large block: its chunk goes back to the backing
 *           allocator. O(1) in release builds, except a free of a block
 *           allocated before an open savepoint: O(open savepoints), plus
 *           O(chunks) if the block is not in the current chunk (to find which
 *           savepoint's scope it belongs to). Debug builds check the pointer
 *           against the chunks (O(chunks)) and report a foreign or repeated
 *           free as misuse.
 * Alignment: up to 4096 in shared chunks; any larger power of two is served
 * as a large request (its own chunk; the backing allocator must support that
 * alignment: the page allocator and the bump and arena strategies do).
 * Overhead: one chunk header (48 bytes on 64-bit) per chunk, alignment padding per
 * block, the unused tail of a chunk when a request does not fit in it.
 * Time: see above; reset and rollback are O(chunks released).
 *
 * Cost per alloc: O(1) and branch-light when the current chunk has room (the
 * large-request test, the bump, the stats bookkeeping); a chunk refill is one
 * backing call, amortised over the chunk. Measured figures (time and
 * instruction counts per operation, from one benchmark run) live in
 * docs/benchmarks.md, not here, so they cannot drift from the code.
 *
 * Stats: bytes_in_use sums live requested lengths (a no-op free still
 * subtracts its length), exactly, across every sequence of allocations,
 * frees, savepoints and rollbacks (see alloc_arena_rollback for the one
 * bound); bytes_reserved is the total size of chunks held (spares included).
 * Chunk counts are in alloc_arena_info.
 *
 * Thread safety: none; one arena per thread, or a locking wrapper.
 *
 * Sanitizers: chunk headers and every byte not handed out are poisoned
 * (ASan) and no-access (Valgrind); blocks released by free, rollback or reset
 * are poisoned again. Each chunk is a Valgrind mempool, so its reports name
 * allocation sites.
 */
#ifndef ALLOC_ARENA_H
#define ALLOC_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Chunk policy and backing allocator. Zero fields take the defaults. */
typedef struct alloc_arena_options {
    allocator backing;       /* where chunks come from; .vtable NULL: the page allocator */
    size_t first_chunk;      /* bytes of the first chunk, header included; 0: 16 KiB */
    unsigned growth_percent; /* each new chunk is the previous size times this / 100;
                                0: 200 (doubling); values below 100 are refused */
    size_t max_chunk;        /* growth stops at this size; 0: 16 MiB */
    size_t large_threshold;  /* requests longer than this get their own chunk; 0: 64 KiB.
                                Must not exceed max_chunk / 2. */
} alloc_arena_options;

struct alloc_arena_chunk; /* private: the header at the start of each chunk */

/* Open savepoints whose bytes_in_use the arena tracks exactly; see
 * alloc_arena_rollback for what happens beyond. */
#define ALLOC_ARENA_LEVELS 16

/* Private: one open savepoint. Its boundary is the position of the top when
 * it was taken: (chunk number, top) for shared chunks, seq for large ones. */
typedef struct alloc_arena_level {
    uint64_t serial;    /* the save that opened it */
    uint64_t chunk_seq; /* current chunk's number at save (0: none) */
    uintptr_t top;      /* the top at save */
    uint64_t seq;       /* last chunk number at save */
    size_t live;        /* live bytes of blocks allocated after the previous level's
                           save and before this one's */
} alloc_arena_level;

/* State of one arena; lives in caller memory. Fields are private. */
typedef struct alloc_arena {
    uintptr_t top, end;              /* free range of the current chunk */
    struct alloc_arena_chunk *cur;   /* current chunk (its prev chain: older chunks) */
    struct alloc_arena_chunk *large; /* newest large chunk (doubly linked, newest first) */
    struct alloc_arena_chunk *spare; /* retained empty chunks, next to use first */
    allocator backing;
    size_t first_chunk, max_chunk, large_threshold, next_size;
    unsigned growth_percent;
    uint64_t seq;   /* last sequence number given to a chunk */
    uint64_t epoch; /* resets so far (savepoints from before a reset are stale) */
    size_t chunk_count, large_count, spare_count;
    uint64_t stranded;
    alloc_stats stats;
    alloc_arena_level levels[ALLOC_ARENA_LEVELS]; /* open savepoints, oldest first */
    unsigned level_count;
    uint64_t save_serial; /* saves so far */
    size_t below_live;    /* sum of levels[].live: live bytes allocated before the newest save */
    uint64_t merged_upto; /* newest save whose level was merged into a later one */
    uintptr_t floor;      /* the newest open savepoint's top if it lies in the current
                             chunk, else 0: pops and resizes stay at or above it */
} alloc_arena;

/* A savepoint (scratch scope). Plain data; copy it freely. */
typedef struct alloc_arena_mark {
    uint64_t epoch, seq, chunk_seq; /* at save: resets so far, last chunk number, current chunk's (0: none) */
    uintptr_t top;                  /* at save: the top in the current chunk */
    size_t bytes_in_use;            /* at save: bytes_in_use (used only past ALLOC_ARENA_LEVELS) */
    uint64_t serial;                /* which save this was */
    unsigned level;                 /* its index in the arena's open savepoints */
} alloc_arena_mark;

/* Reset modes (Zig's ArenaAllocator.ResetMode). */
typedef enum alloc_arena_reset_mode {
    ALLOC_ARENA_FREE_ALL,        /* every chunk goes back to the backing allocator */
    ALLOC_ARENA_RETAIN_CAPACITY, /* small chunks are kept for reuse; large ones go back */
    ALLOC_ARENA_RETAIN_LIMIT,    /* as RETAIN_CAPACITY, keeping at most `limit` bytes of chunks */
} alloc_arena_reset_mode;

/* What the arena holds, for tests and tuning. */
typedef struct alloc_arena_info {
    size_t chunks;          /* chunks in the chain of shared (small-request) chunks */
    size_t large_chunks;    /* chunks holding one large request each */
    size_t spare_chunks;    /* empty chunks retained by rollback or reset */
    size_t bytes_reserved;  /* total size of all of those */
    size_t chunk_free;      /* bytes left in the current chunk */
    uint64_t stranded_frees;/* frees that could not give bytes back; never decreases */
} alloc_arena_info;

/*
 * Initialises a with opts (NULL: all defaults). Takes no memory yet: the first
 * chunk comes with the first allocation.
 * Returns 0, or -EINVAL (a untouched) iff a is NULL, growth_percent is in
 * 1..99, first_chunk is below 256 bytes or above max_chunk, or
 * large_threshold exceeds max_chunk / 2. O(1).
 */
ALLOC_API int alloc_arena_init(alloc_arena *a, const alloc_arena_options *opts);

/* Gives every chunk back (as ALLOC_ARENA_FREE_ALL). a may be initialised
 * again. O(chunks). */
ALLOC_API void alloc_arena_deinit(alloc_arena *a);

/* The handle (ctx = a). Not thread-safe. */
ALLOC_API allocator alloc_arena_allocator(alloc_arena *a);

/*
 * Releases every allocation. FREE_ALL returns all chunks to the backing
 * allocator; RETAIN_CAPACITY keeps the shared chunks (the largest becomes
 * current, the others spares used next); RETAIN_LIMIT keeps them only up to
 * limit bytes in total (largest first). Large chunks always go back.
 * Savepoints taken before become stale. Peaks and counts stay.
 * Returns 0, or -EINVAL (nothing changed) for an unknown mode. O(chunks).
 */
ALLOC_API int alloc_arena_reset(alloc_arena *a, alloc_arena_reset_mode mode, size_t limit);

/*
 * Begins a scratch scope: a savepoint. The arena records it as an open
 * savepoint (which is why a is not const): from now on a free never pops the
 * top below this point, and the live bytes allocated before it are counted
 * apart so that a rollback can restore bytes_in_use exactly. Never fails.
 * O(1).
 */
ALLOC_API alloc_arena_mark alloc_arena_save(alloc_arena *a);

/*
 * Ends a scratch scope: releases everything allocated since m, including
 * whole chunks taken after it (given back to the backing allocator, except
 * one kept as a spare so a scope that crosses a chunk boundary in a loop does
 * not call the backing allocator every time) and large chunks allocated after
 * it. m stays valid (roll back to it again as often as needed); savepoints
 * taken after m become stale, except those at m's very position.
 * bytes_in_use becomes the live bytes allocated before m, exactly (frees of
 * them since m subtracted, whatever their order), as long as at most
 * ALLOC_ARENA_LEVELS savepoints are open (taken and neither rolled back past
 * nor made stale by a reset). Beyond that the newest levels are merged and a
 * rollback to a savepoint whose level was merged sets bytes_in_use to
 * min(its value at save, its current value) (exact unless blocks from before
 * the savepoint were freed since).
 * Returns 0, or -EINVAL (nothing changed; misuse reported in debug builds and
 * counted in misuse_count) iff m is stale: taken before a reset or above an
 * earlier rollback. A legal pop after the savepoint (free of its newest block)
 * does not make it stale. O(chunks released + open savepoints).
 */
ALLOC_API int alloc_arena_rollback(alloc_arena *a, alloc_arena_mark m);

/* true iff p lies in a block handed out and not released by rollback or
 * reset (bytes of no-op frees still count). O(chunks). */
ALLOC_API bool alloc_arena_owns(const alloc_arena *a, const void *p);

/* Fills *out. O(1). */
ALLOC_API void alloc_arena_get_info(const alloc_arena *a, alloc_arena_info *out);

/* Fills *out. O(1). */
ALLOC_API void alloc_arena_stats(const alloc_arena *a, alloc_stats *out);

/*
 * Calls walker for what the arena knows of its blocks, which it does not
 * record one by one: per chunk of the chain (newest first) the handed-out
 * span as one used block and, for the current chunk, the span above the top
 * as one free block (older chunks count whole as used: their unused tails
 * are not recorded); then each large block (its usable bytes, used); then
 * each spare chunk (free). Returns false iff the walker stopped the walk.
 * The walker must not allocate from or free to a. O(chunks).
 */
ALLOC_API bool alloc_arena_walk(const alloc_arena *a, alloc_walker walker, void *user);

/* Invariant check: a walk (every live byte inside a used span), chunk chain
 * order and sizes, counts, reserved bytes, stats, and (under ASan) poisoned
 * free space. true iff all hold. O(chunks). */
ALLOC_API bool alloc_arena_check(const alloc_arena *a);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_ARENA_H */
