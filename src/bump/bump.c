/*
 * bump.c: the bump allocator over a fixed buffer.
 *
 * Algorithm. The state is three addresses, base <= top <= end. An allocation
 * rounds top up to the alignment, checks that padding + len fits in end - top
 * (the check comes before any store, so a failed request changes nothing), and
 * moves top past the block. The most recent block is recognised without a
 * header: it is the one whose end is the top (mem + len == top), which is
 * exactly what the caller's len, passed back by the contract, lets us test.
 * Freeing it moves top back to mem; resizing it moves top to mem + new_len.
 * Any other block cannot be released individually: its free is a no-op that
 * is counted (alloc_bump_stranded) and the bytes come back with a rollback to
 * a savepoint taken before it, or with a reset. A savepoint is just the top.
 *
 * The thread-safe handle runs the same arithmetic inside a compare-and-swap
 * loop on top: a thread reads top, computes the new top, and publishes it only
 * if no other thread moved top in between. The last-block free and resize are
 * one CAS each (from mem + len to the new top), so they succeed only while the
 * block really is the most recent one in the whole process. A CAS that gives
 * bytes back is a release and the one that takes them an acquire, so the
 * previous owner's writes happen before the next owner's.
 *
 * Bounds. Every operation is O(1) (a few instructions; see bump.h for
 * callgrind counts). Overhead per allocation: none besides alignment padding
 * (< align). Largest alignment: any power of two whose padding fits.
 *
 * Metadata. Only the state struct; nothing inside the buffer. That is why the
 * buffer can be fully poisoned: under ASan and Valgrind every byte at or above
 * top, and every released block, is no-access. Valgrind additionally sees each
 * block as a mempool chunk (pool = the state), trimmed on rollback and reset,
 * so its reports name the user's allocation sites.
 *
 * Reference: Zig's std.heap.FixedBufferAllocator has the same last-block rule
 * and the same CAS-loop thread-safe variant.
 */
#include <errno.h>
#include <string.h>

#include "../core/internal.h"
#include "../core/trace.h"
#include "alloc/bump.h"

/* ASan poisons 8-byte granules: a block that started mid-granule could not be
 * poisoned apart from its neighbour, so tracking builds keep starts 8-aligned. */
#define BUMP_MIN_ALIGN (ALLOC_TRACK_ASAN_ENABLED ? 8u : 1u)

static uintptr_t load_top(const alloc_bump *b)
{
    return atomic_load_explicit((_Atomic uintptr_t *)&b->top, memory_order_relaxed);
}

static void store_top(alloc_bump *b, uintptr_t top) { atomic_store_explicit(&b->top, top, memory_order_relaxed); }

static size_t ts_in_use(const alloc_bump *b)
{
    return atomic_load_explicit((_Atomic size_t *)&b->ts_bytes_in_use, memory_order_relaxed);
}

/* Total bytes in use over both handles (each side may wrap alone when a block
 * is allocated through one handle and freed through the other; the sum does not). */
static size_t merged_in_use(const alloc_bump *b) { return b->stats.bytes_in_use + ts_in_use(b); }

static void set_merged_in_use(alloc_bump *b, size_t value) { b->stats.bytes_in_use = value - ts_in_use(b); }

static void report(const alloc_bump *b, const char *what, const void *mem, size_t len, uintptr_t ret_addr)
{
    char site[ALLOC_SITE_BUF];
    alloc_report_misuse("bump: %s of %p (len %zu) at %s: the block is not inside the handed-out part of the "
                        "buffer [%p, %p) (expected a pointer this allocator handed out, not yet released by a "
                        "reset or rollback, with the len of its allocation)",
                        what, mem, len, alloc_describe_addr(ret_addr, site, sizeof site), (void *)b->base,
                        (void *)load_top(b));
}

/* true iff [mem, mem+len) lies in the handed-out part of the buffer. */
static bool handed_out(const alloc_bump *b, const void *mem, size_t len)
{
    return alloc_range_inside(mem, len, (const void *)b->base, (size_t)(load_top(b) - b->base));
}

int alloc_bump_init(alloc_bump *b, void *buf, size_t cap)
{
    if (!b || (!buf && cap > 0) || cap > ALLOC_MAX_LEN || (uintptr_t)buf > UINTPTR_MAX - cap) return -EINVAL;
    memset(b, 0, sizeof *b);
    b->base = (uintptr_t)buf;
    b->end = (uintptr_t)buf + cap;
    atomic_init(&b->top, (uintptr_t)buf);
    b->slow = ALLOC_TRACK_ENABLED;
    alloc_stats_note_reserve(&b->stats, cap);
    ALLOC_TRACK_POOL_CREATE(b);
    if (cap) ALLOC_TRACK_NOACCESS(buf, cap);
    return 0;
}

void alloc_bump_deinit(alloc_bump *b)
{
    size_t cap = (size_t)(b->end - b->base);
    ALLOC_TRACK_POOL_DESTROY(b);
    /* The caller gets its buffer back with the bytes it holds. */
    if (cap) ALLOC_TRACK_DEFINED((void *)b->base, cap);
    b->base = b->end = 0;
    store_top(b, 0);
    alloc_stats_note_release(&b->stats, cap);
    alloc_stats_note_reset(&b->stats);
}

void *alloc_bump_alloc(alloc_bump *b, size_t len, size_t align)
{
#if ALLOC_DEBUG_CHECKS
    if (!alloc_is_pow2(align)) {
        alloc_stats_note_failed(&b->stats);
        return NULL;
    }
#endif
    if (align < BUMP_MIN_ALIGN) align = BUMP_MIN_ALIGN;
    uintptr_t top = load_top(b);
    size_t avail = (size_t)(b->end - top);
    size_t pad = (size_t)(-top & (align - 1));
    if (len > avail || pad > avail - len) {
        alloc_stats_note_failed(&b->stats);
        return NULL;
    }
    uintptr_t p = top + pad;
    store_top(b, p + len);
    alloc_stats_note_alloc(&b->stats, len);
    ALLOC_TRACK_UNDEFINED((void *)p, len);
    ALLOC_TRACK_POOL_ALLOC(b, (void *)p, len);
    return (void *)p;
}

/* --- the single-threaded vtable ------------------------------------------- */

static void *bump_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ret_addr;
    return alloc_bump_alloc(ctx, len, align);
}

static bool bump_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)align;
    uintptr_t p = (uintptr_t)mem, top = load_top(b);
    if (ALLOC_DEBUG_CHECKS && !handed_out(b, mem, len)) {
        alloc_stats_note_misuse(&b->stats);
        report(b, "resize", mem, len, ret_addr);
        return false;
    }
    if (p + len != top) return false; /* not the most recent block */
    if (new_len > (size_t)(b->end - p)) return false;
    store_top(b, p + new_len);
    if (new_len > len) {
        ALLOC_TRACK_UNDEFINED((void *)(p + len), new_len - len);
    } else {
        alloc_release_range(p + new_len, p + len);
    }
    ALLOC_TRACK_POOL_CHANGE(b, mem, mem, new_len);
    alloc_stats_note_resize(&b->stats, len, new_len, true);
    return true;
}

static void *bump_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    return bump_resize(ctx, mem, len, align, new_len, ret_addr) ? mem : NULL;
}

static void bump_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)align;
    if (ALLOC_DEBUG_CHECKS && !handed_out(b, mem, len)) {
        alloc_stats_note_misuse(&b->stats);
        report(b, "free", mem, len, ret_addr);
        return;
    }
    uintptr_t p = (uintptr_t)mem;
    ALLOC_TRACK_POOL_FREE(b, mem);
    if (p + len == load_top(b)) {
        store_top(b, p);
    } else {
        b->stranded++;
    }
    alloc_release_range(p, p + len);
    alloc_stats_note_free(&b->stats, len);
}

static const alloc_vtable bump_vtable = {bump_alloc, bump_resize, bump_remap, bump_free};

allocator alloc_bump_allocator(alloc_bump *b) { return (allocator){b, &bump_vtable}; }

/* --- the thread-safe vtable ------------------------------------------------ */

static void ts_raise_peak(alloc_bump *b, size_t value)
{
    size_t seen = atomic_load_explicit(&b->ts_peak, memory_order_relaxed);
    while (value > seen &&
           !atomic_compare_exchange_weak_explicit(&b->ts_peak, &seen, value, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static void ts_count(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

static void *ts_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)ret_addr;
    if (align < BUMP_MIN_ALIGN) align = BUMP_MIN_ALIGN;
    uintptr_t top = atomic_load_explicit(&b->top, memory_order_relaxed), p;
    do {
        size_t avail = (size_t)(b->end - top);
        size_t pad = (size_t)(-top & (align - 1));
        if (len > avail || pad > avail - len) {
            ts_count(&b->ts_failed_count);
            return NULL;
        }
        p = top + pad;
    } while (!atomic_compare_exchange_weak_explicit(&b->top, &top, p + len, memory_order_acquire,
                                                    memory_order_relaxed));
    ts_count(&b->ts_alloc_count);
    size_t in_use = atomic_fetch_add_explicit(&b->ts_bytes_in_use, len, memory_order_relaxed) + len;
    /* Peak of this handle's own figure: exact when only this handle is used. */
    ts_raise_peak(b, in_use + b->stats.bytes_in_use);
    ALLOC_TRACK_UNDEFINED((void *)p, len);
    ALLOC_TRACK_POOL_ALLOC(b, (void *)p, len);
    return (void *)p;
}

static bool ts_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)align, (void)ret_addr;
    uintptr_t p = (uintptr_t)mem, expected = p + len;
    if (new_len > (size_t)(b->end - p)) return false;
    /* A shrunk tail is poisoned before the lower top is published (another
     * thread may hand it out and unpoison it the moment it is), and made
     * accessible again, contents intact, if the block turns out not to be
     * the last. (Valgrind then sees those bytes as defined even where the
     * caller never wrote them: a missed report, never a false one.) */
    if (new_len < len) ALLOC_TRACK_NOACCESS((void *)(p + new_len), len - new_len);
    if (!atomic_compare_exchange_strong_explicit(&b->top, &expected, p + new_len, memory_order_acq_rel,
                                                 memory_order_relaxed)) {
        if (new_len < len) ALLOC_TRACK_DEFINED((void *)(p + new_len), len - new_len);
        return false; /* not (or no longer) the most recent block */
    }
    if (new_len > len) {
        ALLOC_TRACK_UNDEFINED((void *)(p + len), new_len - len);
        size_t in_use =
            atomic_fetch_add_explicit(&b->ts_bytes_in_use, new_len - len, memory_order_relaxed) + new_len - len;
        ts_raise_peak(b, in_use + b->stats.bytes_in_use);
    } else {
        atomic_fetch_sub_explicit(&b->ts_bytes_in_use, len - new_len, memory_order_relaxed);
    }
    ALLOC_TRACK_POOL_CHANGE(b, mem, mem, new_len);
    ts_count(&b->ts_resize_count);
    return true;
}

static void *ts_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    return ts_resize(ctx, mem, len, align, new_len, ret_addr) ? mem : NULL;
}

static void ts_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)align, (void)ret_addr;
    uintptr_t p = (uintptr_t)mem, expected = p + len;
    ALLOC_TRACK_POOL_FREE(b, mem);
    /* Poison before publishing the lower top: once it is published another
     * thread may hand these bytes out and unpoison them. */
    ALLOC_TRACK_NOACCESS(mem, len);
    if (!atomic_compare_exchange_strong_explicit(&b->top, &expected, p, memory_order_release,
                                                 memory_order_relaxed))
        ts_count(&b->ts_stranded);
    atomic_fetch_sub_explicit(&b->ts_bytes_in_use, len, memory_order_relaxed);
    ts_count(&b->ts_free_count);
}

static const alloc_vtable bump_ts_vtable = {ts_alloc, ts_resize, ts_remap, ts_free};

allocator alloc_bump_allocator_threadsafe(alloc_bump *b) { return (allocator){b, &bump_ts_vtable}; }

/* --- whole-buffer operations ------------------------------------------------ */

void alloc_bump_reset(alloc_bump *b)
{
    uintptr_t top = load_top(b);
    alloc_release_range(b->base, top);
    ALLOC_TRACK_POOL_TRIM(b, (void *)b->base, 0);
    store_top(b, b->base);
    set_merged_in_use(b, 0);
    ALLOC_TRACE("bump reset %zu bytes", (size_t)(top - b->base));
}

alloc_bump_mark alloc_bump_save(const alloc_bump *b) { return (alloc_bump_mark){load_top(b), merged_in_use(b)}; }

int alloc_bump_rollback(alloc_bump *b, alloc_bump_mark m)
{
    uintptr_t top = load_top(b);
    if (m.top < b->base || m.top > top) {
        alloc_stats_note_misuse(&b->stats);
        if (ALLOC_DEBUG_CHECKS)
            alloc_report_misuse("bump: rollback to a savepoint (top %p) above the current top %p: "
                                "it was already released",
                                (void *)m.top, (void *)top);
        return -EINVAL;
    }
    alloc_release_range(m.top, top);
    ALLOC_TRACK_POOL_TRIM(b, (void *)b->base, (size_t)(m.top - b->base));
    store_top(b, m.top);
    size_t now = merged_in_use(b);
    set_merged_in_use(b, m.bytes_in_use < now ? m.bytes_in_use : now);
    return 0;
}

bool alloc_bump_owns(const alloc_bump *b, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    return a >= b->base && a < load_top(b);
}

size_t alloc_bump_remaining(const alloc_bump *b) { return (size_t)(b->end - load_top(b)); }

size_t alloc_bump_used(const alloc_bump *b) { return (size_t)(load_top(b) - b->base); }

uint64_t alloc_bump_stranded(const alloc_bump *b)
{
    return b->stranded + atomic_load_explicit((_Atomic uint64_t *)&b->ts_stranded, memory_order_relaxed);
}

static uint64_t load64(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

void alloc_bump_stats(const alloc_bump *b, alloc_stats *out)
{
    *out = b->stats;
    out->bytes_in_use = merged_in_use(b);
    size_t ts_peak = atomic_load_explicit((_Atomic size_t *)&b->ts_peak, memory_order_relaxed);
    if (ts_peak > out->peak_bytes_in_use) out->peak_bytes_in_use = ts_peak;
    if (out->bytes_in_use > out->peak_bytes_in_use) out->peak_bytes_in_use = out->bytes_in_use;
    out->alloc_count += load64(&b->ts_alloc_count);
    out->free_count += load64(&b->ts_free_count);
    out->resize_count += load64(&b->ts_resize_count);
    out->failed_count += load64(&b->ts_failed_count);
}

bool alloc_bump_check(const alloc_bump *b)
{
    uintptr_t top = load_top(b);
    if (b->base > top || top > b->end) return false;
    alloc_stats s;
    alloc_bump_stats(b, &s);
    if (!alloc_stats_consistent(&s)) return false;
    if (s.bytes_in_use > top - b->base) return false;
    if (s.bytes_reserved != b->end - b->base) return false;
#if ALLOC_TRACK_ASAN_ENABLED
    /* Free space is poisoned: probe the first whole granule above the top. */
    uintptr_t probe = alloc_align_up(top, 8);
    if (probe >= top && probe < b->end && b->end - probe >= 8 && !ALLOC_ASAN_IS_POISONED((void *)probe)) return false;
#endif
    return true;
}
