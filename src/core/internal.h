/*
 * internal.h: what every strategy's source file includes. Assertion tiers,
 * the misuse/corruption reporters, and the shared bookkeeping of alloc_stats.
 *
 * Assertion tiers (after mimalloc and musl):
 *   ALLOC_CHECK(cond, fmt, ...)     always on. For metadata that would corrupt
 *                                   memory if it were wrong: a failure is
 *                                   reported as corruption and aborts.
 *   ALLOC_ASSERT(cond)              on when ALLOC_DEBUG >= 1 (Debug builds):
 *                                   internal consistency, cheap.
 *   ALLOC_ASSERT_EXPENSIVE(cond)    on when ALLOC_DEBUG >= 2: walks, O(n).
 * ALLOC_DEBUG_CHECKS is 1 when debug builds should detect the user's misuse
 * (double free, foreign free, LIFO order) and report it.
 *
 * Glossary (after mimalloc's types.h). Names inside the library follow it;
 * public names that predate it are listed where they differ.
 *   block     what an allocator hands out: len bytes at an address aligned
 *             as asked, until the user frees it (the vtable's unit).
 *   chunk     memory a strategy takes from its backing allocator (or is
 *             given as a buffer) and carves blocks from: the arena's and the
 *             stack's chunks, the pool's and the slab allocator's slabs (the
 *             public types alloc_pool_slab and alloc_slab_chunk), the free
 *             list's regions, the malloc adapter's spans. A chunk is
 *             counted in bytes_reserved while held.
 *   slab      a chunk cut into slots of one size (pool, pool_mt, slab).
 *   slot      one fixed-size position in a slab; a block while handed out,
 *             a link in the slab's free list while free.
 *   spare     an empty chunk kept back instead of returned, because a burst
 *             that needed it once is likely to need it again.
 *   page      only the operating system's unit (alloc_os_page_size); never
 *             a strategy's chunk.
 *   top       the next free byte of a bump-style chunk (bump, arena, stack).
 *   header    metadata in front of a block or at the start of a chunk; kept
 *             NOACCESS to sanitizers at rest (alloc_meta_read/write).
 *   link      the first word of a free slot: the next free slot's address
 *             (alloc_link_read/write).
 *   walker    bool (*)(void *block, size_t len, bool used, void *user)
 *             (alloc_walker): called for each block of a strategy, false
 *             stops the walk. Every strategy's _check is a walk.
 *   misuse    a caller's breach of the contract (double free, foreign
 *             pointer): reported with the call site, then the handler runs.
 *   corruption  metadata that cannot be right whatever the caller did:
 *             reported and fatal.
 */
#ifndef ALLOC_CORE_INTERNAL_H
#define ALLOC_CORE_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/diag.h"
#include "alloc/fit.h"
#include "alloc/stats.h"
#include "track.h"

#ifndef ALLOC_DEBUG
#define ALLOC_DEBUG 0
#endif
#define ALLOC_DEBUG_CHECKS (ALLOC_DEBUG >= 1)

#if defined(__GNUC__) || defined(__clang__)
#define ALLOC_HIDDEN __attribute__((visibility("hidden")))
#else
#define ALLOC_HIDDEN
#endif

#define ALLOC_CHECK(cond, ...)                                                  \
    do {                                                                        \
        if (ALLOC_UNLIKELY(!(cond))) alloc_report_corruption(__VA_ARGS__);      \
    } while (0)

#if ALLOC_DEBUG >= 1
#define ALLOC_ASSERT(cond)                                                              \
    do {                                                                                \
        if (ALLOC_UNLIKELY(!(cond)))                                                    \
            alloc_report_corruption("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
    } while (0)
#else
#define ALLOC_ASSERT(cond) ((void)0)
#endif

#if ALLOC_DEBUG >= 2
#define ALLOC_ASSERT_EXPENSIVE(cond) ALLOC_ASSERT(cond)
#else
#define ALLOC_ASSERT_EXPENSIVE(cond) ((void)0)
#endif

/*
 * A strategy's vtable, named name, over its four operations. At
 * ALLOC_DEBUG >= 2 every operation is followed by the strategy's invariant
 * checker, check(ctx) (a walk, O(blocks)), asserted with
 * ALLOC_ASSERT_EXPENSIVE: a broken invariant is caught at the operation that
 * broke it, not later. Below that level the vtable is the operations
 * themselves, with no added call. Only for handles whose checker may run
 * after any operation (not the thread-safe handles: their checkers must not
 * run while another thread operates).
 */
#if ALLOC_DEBUG >= 2
#define ALLOC_CHECKED_VTABLE(name, alloc_fn, resize_fn, remap_fn, free_fn, check)                            \
    static void *name##_alloc_checked(void *ctx, size_t len, size_t align, uintptr_t ret_addr)                \
    {                                                                                                        \
        void *p = alloc_fn(ctx, len, align, ret_addr);                                                       \
        ALLOC_ASSERT_EXPENSIVE(check(ctx));                                                                  \
        return p;                                                                                            \
    }                                                                                                        \
    static bool name##_resize_checked(void *ctx, void *mem, size_t len, size_t align, size_t new_len,         \
                                      uintptr_t ret_addr)                                                    \
    {                                                                                                        \
        bool ok = resize_fn(ctx, mem, len, align, new_len, ret_addr);                                         \
        ALLOC_ASSERT_EXPENSIVE(check(ctx));                                                                  \
        return ok;                                                                                           \
    }                                                                                                        \
    static void *name##_remap_checked(void *ctx, void *mem, size_t len, size_t align, size_t new_len,         \
                                      uintptr_t ret_addr)                                                    \
    {                                                                                                        \
        void *p = remap_fn(ctx, mem, len, align, new_len, ret_addr);                                          \
        ALLOC_ASSERT_EXPENSIVE(check(ctx));                                                                  \
        return p;                                                                                            \
    }                                                                                                        \
    static void name##_free_checked(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)       \
    {                                                                                                        \
        free_fn(ctx, mem, len, align, ret_addr);                                                             \
        ALLOC_ASSERT_EXPENSIVE(check(ctx));                                                                  \
    }                                                                                                        \
    static const alloc_vtable name = {name##_alloc_checked, name##_resize_checked, name##_remap_checked,     \
                                      name##_free_checked}
#else
#define ALLOC_CHECKED_VTABLE(name, alloc_fn, resize_fn, remap_fn, free_fn, check)                            \
    static const alloc_vtable name = {alloc_fn, resize_fn, remap_fn, free_fn}
#endif

/* alloc_format with a va_list (diag.c); the trace emitter formats with it. */
ALLOC_HIDDEN size_t alloc_format_va(char *buf, size_t cap, const char *fmt, va_list ap);

/* A diagnostic that is neither misuse nor corruption (diag.c): one line
 * "alloc: note: ..." on standard error, then the caller carries on. For
 * debug builds to explain a NULL or a leak that the contract allows but the
 * user would not expect (a request the allocator can never serve, pages the
 * OS refused to unmap). Never calls the misuse handler, never aborts. */
ALLOC_HIDDEN void alloc_report_note(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Debug fill patterns (after SQLite memsys5): fresh blocks 0xAA, freed 0x55. */
#define ALLOC_FILL_ALLOCATED 0xAA
#define ALLOC_FILL_FREED 0x55

/* --- metadata kept poisoned at rest ----------------------------------------
 * Headers inside memory the user can reach (chunk headers, block headers) stay
 * NOACCESS for ASan and Valgrind except while the allocator copies them in or
 * out, so a user's overrun into one is reported. */

static inline void alloc_meta_read(void *dst, const void *meta, size_t len)
{
    ALLOC_TRACK_DEFINED(meta, len);
    memcpy(dst, meta, len);
    ALLOC_TRACK_NOACCESS(meta, len);
}

static inline void alloc_meta_write(void *meta, const void *src, size_t len)
{
    ALLOC_TRACK_UNDEFINED(meta, len);
    memcpy(meta, src, len);
    ALLOC_TRACK_NOACCESS(meta, len);
}

/* --- intrusive links -------------------------------------------------------
 * A free slot (pool, slab) holds the address of the next free slot in its
 * first word. The slot is NOACCESS to sanitizers while free, so the link is
 * read and written with the slot opened for exactly that word and closed
 * again (ASan is kept out of these two functions: its shadow says free, and
 * that is right for everyone but the allocator). slot must be aligned for a
 * pointer. O(1). */
ALLOC_NO_SANITIZE_ADDRESS static inline void *alloc_link_read(const void *slot)
{
    ALLOC_ASSERT(alloc_is_aligned(slot, sizeof(void *)));
    ALLOC_VG_DEFINED(slot, sizeof(void *));
    void *next = *(void *const *)slot;
    ALLOC_VG_NOACCESS(slot, sizeof(void *));
    return next;
}

ALLOC_NO_SANITIZE_ADDRESS static inline void alloc_link_write(void *slot, void *next)
{
    ALLOC_ASSERT(alloc_is_aligned(slot, sizeof(void *)));
    ALLOC_VG_UNDEFINED(slot, sizeof(void *));
    *(void **)slot = next;
    ALLOC_VG_NOACCESS(slot, sizeof(void *));
}

/* A slot of a slab-style strategy (pool, pool_mt, slab) handed out as a
 * block of len bytes: registered with Valgrind's pool pool_id, undefined to
 * the sanitizers; debug builds first fill it with the allocated pattern (so a
 * read before write sees something obviously wrong without sanitizers). */
static inline void alloc_slot_handed_out(const void *pool_id, void *p, size_t len)
{
    (void)pool_id;
    ALLOC_TRACK_POOL_ALLOC(pool_id, p, len);
    ALLOC_TRACK_UNDEFINED(p, len);
#if ALLOC_DEBUG_CHECKS
    memset(p, ALLOC_FILL_ALLOCATED, len);
    ALLOC_TRACK_UNDEFINED(p, len); /* the fill is not meaningful data */
#endif
}

/* A block in a slot of slot_len bytes resized in place from len to new_len
 * (new_len <= slot_len): the grown bytes become undefined, the bytes from the new
 * end to the slot's end NOACCESS (up to the slot end, so that ASan can mark a
 * partial granule). */
static inline void alloc_slot_resized(const void *pool_id, void *mem, size_t len, size_t new_len, size_t slot_len)
{
    (void)pool_id;
    ALLOC_ASSERT(new_len <= slot_len);
    ALLOC_TRACK_POOL_CHANGE(pool_id, mem, mem, new_len);
    if (new_len > len)
        ALLOC_TRACK_UNDEFINED((char *)mem + len, new_len - len);
    else
        ALLOC_TRACK_NOACCESS((char *)mem + new_len, slot_len - new_len);
}

/* Bytes [from, to) given back to a bump-style region: debug builds write the
 * freed pattern over them (a stale read without sanitizers still sees
 * something obviously wrong), then they become NOACCESS. */
static inline void alloc_release_range(uintptr_t from, uintptr_t to)
{
    if (from >= to) return;
#if ALLOC_DEBUG_CHECKS
    ALLOC_TRACK_UNDEFINED((void *)from, to - from);
    memset((void *)from, ALLOC_FILL_FREED, to - from);
#endif
    ALLOC_TRACK_NOACCESS((void *)from, to - from);
}

/* Formats a call site for a message into a caller-provided buffer of this size. */
#define ALLOC_SITE_BUF 160

/* alloc_report_misuse with the call site appended: the message, then
 * " (called from <site>)", the site being ret_addr as alloc_describe_addr
 * names it ("unknown" for 0). What every strategy's misuse report ends with,
 * so the site is found in the same place in each. Returns iff the installed
 * misuse handler returns (diag.c). */
ALLOC_HIDDEN void alloc_report_misuse_from(uintptr_t ret_addr, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* --- alloc_stats bookkeeping: the one place peaks and counts are kept. ---- */

static inline void alloc_stats_note_alloc(alloc_stats *s, size_t len)
{
    s->alloc_count++;
    s->bytes_in_use += len;
    alloc_peak_raise(&s->peak_bytes_in_use, s->bytes_in_use);
}

static inline void alloc_stats_note_free(alloc_stats *s, size_t len)
{
    s->free_count++;
    s->bytes_in_use -= len;
}

/* A successful resize (in_place) or remap (!in_place) from old_len to new_len. */
static inline void alloc_stats_note_resize(alloc_stats *s, size_t old_len, size_t new_len, bool in_place)
{
    if (in_place)
        s->resize_count++;
    else
        s->remap_count++;
    s->bytes_in_use = s->bytes_in_use - old_len + new_len;
    alloc_peak_raise(&s->peak_bytes_in_use, s->bytes_in_use);
}

/* alloc_peak_raise for a peak that several threads raise at once: a
 * compare-and-swap loop that gives up as soon as the peak is at least value
 * (so it never lowers one another thread raised). Relaxed: a peak orders
 * nothing. Lock-free. */
static inline void alloc_peak_raise_atomic(_Atomic size_t *peak, size_t value)
{
    size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen &&
           !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed, memory_order_relaxed)) {
    }
}

static inline void alloc_stats_note_failed(alloc_stats *s) { s->failed_count++; }
static inline void alloc_stats_note_misuse(alloc_stats *s) { s->misuse_count++; }

static inline void alloc_stats_note_reserve(alloc_stats *s, size_t n)
{
    s->bytes_reserved += n;
    alloc_peak_raise(&s->peak_bytes_reserved, s->bytes_reserved);
}

static inline void alloc_stats_note_release(alloc_stats *s, size_t n) { s->bytes_reserved -= n; }

/* Forgets everything live (a reset): current figures drop, peaks and counts stay. */
static inline void alloc_stats_note_reset(alloc_stats *s) { s->bytes_in_use = 0; }

/* Stats invariants every checker verifies. */
static inline bool alloc_stats_consistent(const alloc_stats *s)
{
    return s->bytes_in_use <= s->peak_bytes_in_use && s->bytes_reserved <= s->peak_bytes_reserved &&
           s->free_count <= s->alloc_count;
}

/* --- chunks taken from a backing allocator (chunk.c, page.c) ------------- */

/* The granule the page allocator rounds every request to (the OS page size)
 * if backing is the page allocator, else 1 (page.c: the allocator that knows
 * it answers, so no strategy compares vtables). O(1). */
ALLOC_HIDDEN size_t alloc_page_granule(allocator backing);

/* len rounded up to alloc_page_granule(backing): the bytes the backing
 * allocator would hand out anyway. 0 iff the rounding overflows ALLOC_MAX_LEN. */
ALLOC_HIDDEN size_t alloc_backing_round(allocator backing, size_t len);

/* Takes a chunk of at least *size bytes (rounded by alloc_backing_round; the
 * size had is written back) aligned to align (a power of two) from backing.
 * The chunk is counted in stats->bytes_reserved and left NOACCESS; an
 * unaligned answer from the backing allocator is reported as corruption.
 * Returns NULL, changing nothing, iff the backing allocator fails or the
 * rounding overflows. */
ALLOC_HIDDEN void *alloc_chunk_take(allocator backing, size_t *size, size_t align, alloc_stats *stats,
                                    uintptr_t ret_addr);

/* Gives back a chunk from alloc_chunk_take (size as it wrote back):
 * unpoisoned, freed to backing, uncounted from bytes_reserved. */
ALLOC_HIDDEN void alloc_chunk_give(allocator backing, void *chunk, size_t size, size_t align, alloc_stats *stats,
                                   uintptr_t ret_addr);

/* true iff [p, p+n) lies inside [base, base+size). */
static inline bool alloc_range_inside(const void *p, size_t n, const void *base, size_t size)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a - b <= size && n <= size - (a - b);
}

#endif /* ALLOC_CORE_INTERNAL_H */
