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
 * a savepoint taken before it, or with a reset.
 *
 * Savepoints. A savepoint is the top at save, and it is also a floor: a free
 * or resize moves the top only above the newest open savepoint. Otherwise
 * popping a block from before it would let the next allocation, made after
 * it, land below it, out of reach of the rollback that must release it. With
 * that rule addresses order blocks by allocation time across savepoints, and
 * each open savepoint (level, up to ALLOC_BUMP_LEVELS, in the state) counts
 * the live bytes allocated between the previous save and its own: a free
 * below the floor subtracts from the level its address falls in, and a
 * rollback to level j sets bytes_in_use to the sum of levels 1..j. The bytes
 * above the floor need no counter (bytes_in_use minus the sum). Past
 * ALLOC_BUMP_LEVELS open savepoints the newest level absorbs the next one.
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

/* --- open savepoints (levels) ------------------------------------------------ */

/* A free of [p, p + len) below the floor (the block predates the newest
 * savepoint): its bytes leave the level whose scope it was allocated in.
 * Atomic counts, because the thread-safe handle's frees may run at once.
 * Out of line: the free fast path only compares with the floor. */
static ALLOC_NOINLINE void note_free_below(alloc_bump *b, uintptr_t p, size_t len)
{
    unsigned i = b->level_count;
    while (i > 0 && p < b->levels[i - 1].top) i--;
    if (i == b->level_count) return;
    atomic_fetch_sub_explicit(&b->levels[i].live, len, memory_order_relaxed);
    atomic_fetch_sub_explicit(&b->below_live, len, memory_order_relaxed);
}

static void report(const alloc_bump *b, const char *what, const void *mem, size_t len, uintptr_t ret_addr)
{
    alloc_report_misuse_from(ret_addr,
                             "bump: %s of %p (len %zu): the block is not inside the handed-out part of the "
                             "buffer [%p, %p) (expected a pointer this allocator handed out, not yet released by "
                             "a reset or rollback, with the len of its allocation)",
                             what, mem, len, (void *)b->base, (void *)load_top(b));
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
    uintptr_t p = alloc_bump_fit(load_top(b), b->end, 0, len, align);
    if (!p) {
        alloc_stats_note_failed(&b->stats);
        return NULL;
    }
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
    if (p + len != top || p < b->floor) return false; /* not the most recent block, or from before a savepoint */
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
    alloc_release_range(p, p + len);
    alloc_stats_note_free(&b->stats, len);
    if (p + len == load_top(b) && p >= b->floor) {
        store_top(b, p);
        return;
    }
    b->stranded++;
    /* Last, so that the call is a tail call and the pop path saves nothing. */
    if (ALLOC_UNLIKELY(p < b->floor)) note_free_below(b, p, len);
}

ALLOC_CHECKED_VTABLE(bump_vtable, bump_alloc, bump_resize, bump_remap, bump_free, alloc_bump_check);

allocator alloc_bump_allocator(alloc_bump *b) { return (allocator){b, &bump_vtable}; }

/* --- the thread-safe vtable ------------------------------------------------ */

static void ts_count(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

static void *ts_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)ret_addr;
    if (align < BUMP_MIN_ALIGN) align = BUMP_MIN_ALIGN;
    uintptr_t top = atomic_load_explicit(&b->top, memory_order_relaxed), p;
    do {
        p = alloc_bump_fit(top, b->end, 0, len, align);
        if (!p) {
            ts_count(&b->ts_failed_count);
            return NULL;
        }
    } while (!atomic_compare_exchange_weak_explicit(&b->top, &top, p + len, memory_order_acquire,
                                                    memory_order_relaxed));
    ts_count(&b->ts_alloc_count);
    size_t in_use = atomic_fetch_add_explicit(&b->ts_bytes_in_use, len, memory_order_relaxed) + len;
    /* Peak of this handle's own figure: exact when only this handle is used. */
    alloc_peak_raise_atomic(&b->ts_peak, in_use + b->stats.bytes_in_use);
    ALLOC_TRACK_UNDEFINED((void *)p, len);
    ALLOC_TRACK_POOL_ALLOC(b, (void *)p, len);
    return (void *)p;
}

static bool ts_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_bump *b = ctx;
    (void)align, (void)ret_addr;
    uintptr_t p = (uintptr_t)mem, expected = p + len;
    if (new_len > (size_t)(b->end - p) || p < b->floor) return false;
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
        alloc_peak_raise_atomic(&b->ts_peak, in_use + b->stats.bytes_in_use);
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
    if (ALLOC_UNLIKELY(p < b->floor)) {
        note_free_below(b, p, len);
        ts_count(&b->ts_stranded);
    } else if (!atomic_compare_exchange_strong_explicit(&b->top, &expected, p, memory_order_release,
                                                        memory_order_relaxed)) {
        ts_count(&b->ts_stranded);
    }
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
    b->level_count = 0;
    b->floor = 0;
    atomic_store_explicit(&b->below_live, 0, memory_order_relaxed);
    ALLOC_TRACE("bump reset %zu bytes", (size_t)(top - b->base));
}

alloc_bump_mark alloc_bump_save(alloc_bump *b)
{
    alloc_bump_mark m = {load_top(b), merged_in_use(b), ++b->save_serial};
    /* Everything live now was allocated before this savepoint: the bytes
     * above the previous floor become this level's. When the levels are
     * full, the newest one stretches up to here instead. */
    size_t below = atomic_load_explicit(&b->below_live, memory_order_relaxed);
    size_t above = m.bytes_in_use - below;
    alloc_bump_level *l;
    if (b->level_count < ALLOC_BUMP_LEVELS) {
        l = &b->levels[b->level_count++];
        atomic_store_explicit(&l->live, above, memory_order_relaxed);
    } else {
        l = &b->levels[ALLOC_BUMP_LEVELS - 1];
        b->merged_upto = l->serial; /* its mark now rolls back approximately */
        atomic_fetch_add_explicit(&l->live, above, memory_order_relaxed);
    }
    atomic_store_explicit(&b->below_live, below + above, memory_order_relaxed);
    l->serial = m.serial;
    l->top = m.top;
    b->floor = m.top;
    return m;
}

static int stale(alloc_bump *b, alloc_bump_mark m, const char *why)
{
    alloc_stats_note_misuse(&b->stats);
    if (ALLOC_DEBUG_CHECKS)
        alloc_report_misuse("bump: rollback to a stale savepoint (top %p): %s", (void *)m.top, why);
    return -EINVAL;
}

int alloc_bump_rollback(alloc_bump *b, alloc_bump_mark m)
{
    uintptr_t top = load_top(b);
    if (m.top < b->base || m.top > top) return stale(b, m, "above the current top: it was already released");
    /* The levels that stay: those below m, and m's own (the lowest one at
     * m's address: later ones there are empty). */
    unsigned keep = 0;
    bool exact = false;
    while (keep < b->level_count && b->levels[keep].top <= m.top) {
        if (b->levels[keep++].top == m.top) {
            exact = true;
            break;
        }
    }
    /* Without a level of its own, m was either absorbed (too many open) or
     * released by a rollback below it or a reset since. */
    if (!exact && (m.serial > b->merged_upto || (keep > 0 && b->levels[keep - 1].serial > m.serial)))
        return stale(b, m, "taken before a reset or above an earlier rollback");
    alloc_release_range(m.top, top);
    ALLOC_TRACK_POOL_TRIM(b, (void *)b->base, (size_t)(m.top - b->base));
    store_top(b, m.top);
    size_t sum = 0;
    for (unsigned i = 0; i < keep; i++) sum += atomic_load_explicit(&b->levels[i].live, memory_order_relaxed);
    size_t in_use = sum;
    if (!exact) {
        size_t now = merged_in_use(b);
        size_t at_save = m.bytes_in_use < now ? m.bytes_in_use : now;
        in_use = at_save > sum ? at_save : sum;
        alloc_bump_level *l;
        if (keep < ALLOC_BUMP_LEVELS) {
            l = &b->levels[keep++];
            atomic_store_explicit(&l->live, in_use - sum, memory_order_relaxed);
        } else {
            l = &b->levels[keep - 1]; /* all full and below m: the last stretches up to m */
            atomic_fetch_add_explicit(&l->live, in_use - sum, memory_order_relaxed);
        }
        l->serial = m.serial;
        l->top = m.top;
    }
    b->level_count = keep;
    b->floor = keep ? b->levels[keep - 1].top : 0;
    atomic_store_explicit(&b->below_live, in_use, memory_order_relaxed);
    set_merged_in_use(b, in_use);
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
    /* Open savepoints: in address and serial order, under the top, counts summed. */
    if (b->level_count > ALLOC_BUMP_LEVELS) return false;
    size_t below = 0;
    for (unsigned i = 0; i < b->level_count; i++) {
        const alloc_bump_level *l = &b->levels[i];
        below += atomic_load_explicit((_Atomic size_t *)&l->live, memory_order_relaxed);
        if (l->top < b->base || l->top > top || l->serial > b->save_serial) return false;
        if (i > 0 && (l->top < b->levels[i - 1].top || l->serial <= b->levels[i - 1].serial)) return false;
    }
    if (b->floor != (b->level_count ? b->levels[b->level_count - 1].top : 0)) return false;
    if (below != atomic_load_explicit((_Atomic size_t *)&b->below_live, memory_order_relaxed) ||
        below > s.bytes_in_use)
        return false;
#if ALLOC_TRACK_ASAN_ENABLED
    /* Free space is poisoned: probe the first whole granule above the top. */
    uintptr_t probe = alloc_align_up(top, 8);
    if (probe >= top && probe < b->end && b->end - probe >= 8 && !ALLOC_ASAN_IS_POISONED((void *)probe)) return false;
#endif
    return true;
}
