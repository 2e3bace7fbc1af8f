/*
 * debug.h: the debug wrapper, a contract checker and leak tracker around any
 * allocator.
 *
 * Every call through the wrapper's handle is checked against the contract of
 * alloc.h before it reaches the wrapped ("inner") allocator:
 *   - free/resize/remap of an address the wrapper never handed out ("foreign
 *     pointer"),
 *   - of an address it handed out and has since freed: free is reported as
 *     "double free", resize and remap as "use after free", each with the call
 *     sites of the allocation, of the latest free and of the offending call,
 *   - with a len or align that differ from the live allocation,
 *   - overrun of the block, caught by canary bytes placed after it and checked
 *     at resize, remap, free and in alloc_debug_check,
 *   - an inner allocator that breaks its own contract (misaligned result, an
 *     address already live, a remap that loses alignment) is corruption.
 * A violation produces one line naming the problem and the call sites (via
 * alloc_describe_addr), passed to alloc_report_misuse: by default printed and
 * followed by abort; with a handler installed (alloc_set_misuse_handler) the
 * offending operation then does nothing (free keeps the block live, resize
 * returns false, remap returns NULL) and misuse_count grows.
 *
 * Each live allocation is recorded, with its call site, in a hash table that
 * lives in memory from a separate metadata allocator (the page allocator by
 * default), never from the inner allocator, so wrapping a bump region or a
 * fixed pool does not change what it can hold. A bounded history of the
 * latest freed_history frees tells double frees apart from foreign frees: an
 * address is remembered as freed until freed_history further frees have
 * happened since its most recent free (an address freed, handed out again
 * and freed again is remembered from the newer free).
 *
 * Bounds: alloc/resize/remap/free add O(1) expected time (one hash probe
 * sequence, the table kept at most half full) plus O(canary) for the canary
 * and O(len) for the optional fills; the table grows by doubling (amortised
 * O(1)). Overhead: canary_len bytes per block in the inner allocator, and 48
 * bytes of metadata per live or remembered block (at least two slots each).
 * Alignment: whatever the inner allocator supports.
 *
 * Thread safety: none; a wrapper is used by one thread at a time (put a
 * locked wrapper, locked.h, around it to share it).
 */
#ifndef ALLOC_DEBUG_H
#define ALLOC_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives each line of a leak report (NUL-terminated, no newline). */
typedef void (*alloc_debug_sink)(const char *line, void *user);

/* Options of alloc_debug_init. Start from alloc_debug_default_options and
 * change fields: with options given, a zero field means zero (only meta and
 * sink fall back to their defaults when left empty). */
typedef struct alloc_debug_options {
    /* Bytes of canary after each block, checked for overruns. 0 disables;
     * values above ALLOC_DEBUG_MAX_CANARY are clamped. Default 16. */
    size_t canary_len;
    /* Fill fresh blocks with 0xAA and freed blocks with 0x55 (after SQLite
     * memsys5), to make reads of uninitialised or freed memory visible. */
    bool fill;
    /* At deinit: print a leak report through the sink if blocks are live. */
    bool report_leaks_at_deinit;
    /* At deinit: a leak is also a contract violation, reported through
     * alloc_report_misuse (so by default it aborts: tests that must not leak). */
    bool leaks_are_misuse;
    /* Freed addresses remembered for double-free detection (rounded up to a
     * power of two; 0 remembers none, so every double free reads as foreign). */
    size_t freed_history;
    /* Where the tracking table lives. Its vtable NULL means the page allocator. */
    allocator meta;
    /* Leak report lines go here; NULL means standard error. */
    alloc_debug_sink sink;
    void *sink_user; /* passed to every call of sink as its user argument */
} alloc_debug_options;

/* Largest canary_len; larger values are clamped to it. */
#define ALLOC_DEBUG_MAX_CANARY ((size_t)256)

/* The defaults: canary 16, fill on, leak report at deinit, history 1024,
 * page allocator for metadata, standard error for reports. */
ALLOC_API alloc_debug_options alloc_debug_default_options(void);

/* One live allocation, as alloc_debug_find and reports see it. */
typedef struct alloc_debug_block {
    void *mem;            /* address of the block */
    size_t len, align;    /* length and alignment as the user asked */
    uintptr_t alloc_site; /* ret_addr of the allocating call (0 = unknown) */
    uintptr_t last_site;  /* ret_addr of the latest alloc, resize or remap */
    uint64_t serial;      /* 1 for the first allocation through this wrapper, then 2, ... */
} alloc_debug_block;

/* Internal slot of the tracking table; public only so the state can live in
 * caller memory. */
typedef struct alloc_debug_slot {
    uintptr_t addr; /* 0 = empty */
    size_t len;     /* 0 = a freed record (history), else the live length */
    size_t align;   /* alignment of the allocation */
    uintptr_t alloc_site, last_site; /* for freed records: alloc site, free site */
    uint64_t serial; /* allocation number, as in alloc_debug_block */
} alloc_debug_slot;

/* One entry of the freed-address ring: the address and the serial of the
 * allocation whose free it records. An address freed again after being
 * handed out anew has several entries; only the one whose serial its freed
 * record still carries may drop that record when it leaves the ring. */
typedef struct alloc_debug_freed {
    uintptr_t addr;  /* the freed address */
    uint64_t serial; /* serial of the allocation that free ended */
} alloc_debug_freed;

/* State of one debug wrapper; lives in caller memory (visible for sizeof).
 * Read it through the functions below. */
typedef struct alloc_debug {
    allocator inner, meta;    /* the wrapped allocator; where the table and history live */
    alloc_debug_slot *slots;  /* open addressing, linear probing, power-of-two size */
    size_t slot_count;        /* 0 after deinit */
    size_t used;              /* live + freed records in the table */
    size_t live;              /* live records */
    alloc_debug_freed *history; /* ring of recent frees, oldest first at history_head */
    size_t history_cap, history_len, history_head; /* ring capacity (a power of two, 0 = none), entries, oldest */
    uint64_t next_serial;     /* serial of the latest allocation (0 before the first) */
    alloc_stats stats;        /* user lengths; bytes_reserved = inner bytes + table bytes */
    alloc_debug_options opt;  /* options in effect (defaults filled in, canary_len clamped) */
} alloc_debug;

/*
 * Initialises d in caller memory to wrap inner. opt NULL means the defaults.
 * Returns 0, or -ENOMEM when the metadata allocator cannot give the initial
 * table (d is then not initialised and needs no deinit), or -EINVAL when
 * inner has no vtable. O(1) plus one metadata allocation. Not thread-safe.
 */
ALLOC_API int alloc_debug_init(alloc_debug *d, allocator inner, const alloc_debug_options *opt);

/*
 * Ends d: reports leaks through the sink if opt.report_leaks_at_deinit and
 * blocks are live, gives every leaked block back to the inner allocator (the
 * wrapper knows their len and align), and returns the table to the metadata
 * allocator. Returns the number of blocks that were still live (0 = no
 * leaks), so a test can assert on it. O(table size).
 */
ALLOC_API size_t alloc_debug_deinit(alloc_debug *d);

/* The handle. Valid until alloc_debug_deinit. */
ALLOC_API allocator alloc_debug_allocator(alloc_debug *d);

/*
 * Writes a leak report through the sink (nothing when no block is live):
 * a summary line "N leaked blocks, B bytes", then one line per allocating
 * call site with its count and bytes, largest first (at most 32 sites; the
 * rest are summed in one line). Returns the number of live blocks. Does not
 * free anything. O(table size).
 */
ALLOC_API size_t alloc_debug_report_leaks(const alloc_debug *d);

/* Live blocks and their total length, without a report. O(1). */
ALLOC_API size_t alloc_debug_live_blocks(const alloc_debug *d, size_t *bytes);

/* Calls walker(mem, len, true, user) for every live block (len as the user
 * asked), in no particular order; alloc_debug_find gives a block's call sites
 * and serial. Returns false iff the walker stopped the walk. The walker must
 * not allocate through d. O(table size). */
ALLOC_API bool alloc_debug_walk(const alloc_debug *d, alloc_walker walker, void *user);

/* The record of the live block at mem, or false when mem is not live. O(1) expected. */
ALLOC_API bool alloc_debug_find(const alloc_debug *d, const void *mem, alloc_debug_block *out);

/*
 * Invariant check: table structure (every record reachable from its home
 * slot, counts agree), stats consistent with the records, and every live
 * block's canary intact. A damaged canary is reported as misuse (with the
 * block's call site); the function then returns false. O(table + canaries).
 */
ALLOC_API bool alloc_debug_check(const alloc_debug *d);

/* Stats of the wrapper: lengths as the user asked; bytes_reserved counts the
 * inner allocator's bytes (len + canary) plus the table. */
ALLOC_API void alloc_debug_stats(const alloc_debug *d, alloc_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_DEBUG_H */
