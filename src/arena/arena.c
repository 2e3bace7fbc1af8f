/*
 * arena.c: the chained arena.
 *
 * Algorithm. Small requests are bump-allocated from the current chunk: align
 * the top, check that padding + len fits before end, move the top. When it
 * does not fit, the arena installs a new current chunk: a retained spare if
 * one is large enough, else a fresh one from the backing allocator, sized
 * max(next_size, header + align - 1 + len), after which next_size grows by
 * growth_percent up to max_chunk (geometric growth: n bytes of small
 * allocations cost O(log n) backing calls). The unused tail of the previous
 * chunk is abandoned until a rollback or reset. Requests longer than
 * large_threshold (or aligned beyond 4096) get a chunk of their own, kept in
 * a separate doubly linked list, so a big buffer neither wastes the current
 * chunk nor outlives its free: its free returns the chunk at once, in any
 * order, and its resize/remap are the backing allocator's (mremap under the
 * page allocator).
 *
 * The most recent small block is the one ending at the top (mem + len ==
 * top, from the caller's len): its free pops it and its resize moves the top.
 * Other small frees are no-ops (counted as stranded).
 *
 * Savepoints. Every chunk gets a sequence number from one counter when it is
 * installed (a reused spare gets a new one). A mark records the counter, the
 * current chunk's number and its top, and the reset epoch. Rolling back pops
 * the shared chunks whose number is above the mark's chunk, frees large
 * chunks numbered above the mark's counter, and restores the top. Before
 * touching anything, rollback walks down to the mark's chunk and checks that
 * it still exists with the top at or above the mark, so a stale mark is
 * refused without damage. One popped chunk (the one right above the mark) is
 * kept as a spare: a scratch scope in a loop that crosses a chunk boundary
 * then reuses it instead of calling the backing allocator every iteration.
 *
 * Savepoints and pops. A position in the arena is (chunk number, address)
 * for small blocks and the chunk number for large ones; both grow with time,
 * so "allocated after savepoint m" is "at or above m's position" -- provided
 * no block allocated after m ever lands below m's position. A pop would break
 * that: popping a block from before m lowers the top below m, and the next
 * allocation (made after m) lands there, where rolling back to m cannot
 * release it. So the arena keeps the open savepoints (levels) and a pop, or
 * an in-place resize, happens only above the newest one (the floor); the free
 * of a newest block below it is a no-op like any other stranded free, its
 * bytes returned by the rollback that releases them. With positions ordered,
 * each level also counts the live bytes of the blocks allocated between the
 * previous save and its own: a free below the floor finds its level by
 * position and subtracts there, and a rollback to level j sets bytes_in_use
 * to the sum of levels 1..j, which is the exact live total of the blocks
 * allocated before the savepoint. The newest segment (above the floor) needs
 * no counter: it is bytes_in_use minus the sum. Levels are a fixed array;
 * past ALLOC_ARENA_LEVELS open savepoints the newest level absorbs the next
 * save (its earlier mark then rolls back with the bound documented in
 * arena.h).
 *
 * Bounds. alloc: O(1) (plus one backing call when a chunk is needed). free,
 * resize: O(1) (debug builds walk the chunks to validate the pointer).
 * rollback, reset: O(chunks released). Space: 48-byte header per chunk
 * (64-bit), padding per block, abandoned chunk tails (at most one request's
 * worth of space per chunk, since a request that does not fit is at most
 * large_threshold + 4095 bytes).
 *
 * Metadata layout. Each chunk begins with struct alloc_arena_chunk {prev,
 * next, size, align, seq}; the shared chunks are singly linked newest-first through
 * prev (cur -> older), the spares likewise, the large chunks doubly linked
 * newest-first. Small data starts 48 bytes into a chunk; a large block
 * starts at the header size rounded up to its alignment. Headers are
 * poisoned (ASan/Valgrind) and read or written only through hdr_get/hdr_put.
 * Each chunk is also a Valgrind mempool whose blocks are the allocations.
 *
 * Reference: Zig's std.heap.ArenaAllocator (reset modes), the scratch arenas
 * of game engines (savepoints), Hanson's "Fast allocation and deallocation of
 * memory based on object lifetimes" (1990).
 */
#include <errno.h>
#include <string.h>

#include "../core/internal.h"
#include "../core/trace.h"
#include "alloc/arena.h"
#include "alloc/os.h"
#include "alloc/page.h"

typedef struct alloc_arena_chunk {
    struct alloc_arena_chunk *prev; /* shared/spare: older chunk; large: newer neighbour */
    struct alloc_arena_chunk *next; /* large: older neighbour; otherwise unused */
    size_t size;                    /* bytes obtained from the backing allocator */
    size_t align;                   /* alignment asked of it (needed to give the chunk back) */
    uint64_t seq;
} chunk;

#define CHUNK_ALIGN ((size_t)16)
#define HDR (((sizeof(chunk)) + CHUNK_ALIGN - 1) & ~(CHUNK_ALIGN - 1))
#define SMALL_MAX_ALIGN ((size_t)4096)
#define DEFAULT_FIRST ((size_t)16 << 10)
#define DEFAULT_MAX ((size_t)16 << 20)
#define DEFAULT_LARGE ((size_t)64 << 10)
#define MIN_FIRST ((size_t)256)

_Static_assert(HDR >= sizeof(chunk) && HDR % 16 == 0, "chunk data must stay 16-aligned");

/* --- headers: poisoned at rest, accessed only through these ---------------- */

static chunk hdr_get(const chunk *c)
{
    chunk h;
    alloc_meta_read(&h, c, sizeof h);
    return h;
}

static void hdr_put(chunk *c, const chunk *h) { alloc_meta_write(c, h, sizeof *h); }

static uintptr_t data_of(const chunk *c) { return (uintptr_t)c + HDR; }

static size_t large_align(size_t align) { return align > CHUNK_ALIGN ? align : CHUNK_ALIGN; }
static size_t large_offset(size_t align) { return alloc_align_up(sizeof(chunk), large_align(align)); }
static chunk *large_of(const void *mem, size_t align) { return (chunk *)((uintptr_t)mem - large_offset(align)); }

static bool is_large(const alloc_arena *a, size_t len, size_t align)
{
    return len > a->large_threshold || align > SMALL_MAX_ALIGN;
}

static void report(const char *what, const void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_report_misuse_from(ret_addr,
                             "arena: %s of %p (len %zu, align %zu): not a live block of this arena (expected a "
                             "pointer this arena handed out and has not released by a reset or rollback, with "
                             "the len and align of its allocation)",
                             what, mem, len, align);
}

/* Returns a chunk to the backing allocator in the state it was handed out. */
static void give_back(alloc_arena *a, chunk *c, size_t size, size_t align, uintptr_t ret_addr)
{
    ALLOC_TRACK_POOL_DESTROY(c);
    alloc_chunk_give(a->backing, c, size, align, &a->stats, ret_addr);
}

/* --- init ------------------------------------------------------------------- */

int alloc_arena_init(alloc_arena *a, const alloc_arena_options *opts)
{
    alloc_arena_options o = {0};
    if (!a) return -EINVAL;
    if (opts) o = *opts;
    if (!o.backing.vtable) o.backing = alloc_page_allocator();
    if (!o.first_chunk) o.first_chunk = DEFAULT_FIRST;
    if (!o.growth_percent) o.growth_percent = 200;
    if (!o.max_chunk) o.max_chunk = o.first_chunk > DEFAULT_MAX ? o.first_chunk : DEFAULT_MAX;
    if (!o.large_threshold) {
        o.large_threshold = DEFAULT_LARGE;
        if (o.large_threshold > o.max_chunk / 2) o.large_threshold = o.max_chunk / 2;
    }
    if (o.growth_percent < 100 || o.first_chunk < MIN_FIRST || o.first_chunk > o.max_chunk ||
        o.max_chunk > ALLOC_MAX_LEN / 2 || o.large_threshold > o.max_chunk / 2)
        return -EINVAL;
    memset(a, 0, sizeof *a);
    a->backing = o.backing;
    a->first_chunk = a->next_size = o.first_chunk;
    a->max_chunk = o.max_chunk;
    a->large_threshold = o.large_threshold;
    a->growth_percent = o.growth_percent;
    return 0;
}

/* --- chunks ------------------------------------------------------------------ */

static void install(alloc_arena *a, chunk *c, size_t size)
{
    chunk h = {a->cur, NULL, size, CHUNK_ALIGN, ++a->seq};
    hdr_put(c, &h);
    a->cur = c;
    a->top = data_of(c);
    a->end = (uintptr_t)c + size;
    a->chunk_count++;
    a->floor = 0; /* every savepoint lies in an older chunk */
}

/* Makes a chunk with at least `needed` bytes (header included) current.
 * Returns false, changing nothing, iff the backing allocator fails. */
static bool new_chunk(alloc_arena *a, size_t needed, uintptr_t ret_addr)
{
    if (a->spare) {
        chunk h = hdr_get(a->spare);
        if (h.size >= needed) {
            chunk *c = a->spare;
            a->spare = h.prev;
            a->spare_count--;
            install(a, c, h.size);
            ALLOC_TRACE("arena reuse chunk %p size %zu", (void *)c, h.size);
            return true;
        }
    }
    size_t size = a->next_size > needed ? a->next_size : needed;
    chunk *c = alloc_chunk_take(a->backing, &size, CHUNK_ALIGN, &a->stats, ret_addr);
    if (!c) return false;
    ALLOC_TRACK_POOL_CREATE(c);
    install(a, c, size);
    /* Geometric growth, capped; the multiplication cannot overflow because
     * next_size <= max_chunk <= ALLOC_MAX_LEN / 2 and the check below. */
    size_t grown = a->next_size;
    if (grown <= SIZE_MAX / a->growth_percent) grown = grown * a->growth_percent / 100;
    else grown = a->max_chunk;
    a->next_size = grown < a->max_chunk ? grown : a->max_chunk;
    ALLOC_TRACE("arena new chunk %p size %zu", (void *)c, size);
    return true;
}

/* Turns a popped shared chunk into the newest spare. */
static void make_spare(alloc_arena *a, chunk *c, size_t size)
{
    ALLOC_TRACK_POOL_TRIM(c, c, 0);
    ALLOC_TRACK_NOACCESS(c, size);
    chunk h = {a->spare, NULL, size, CHUNK_ALIGN, 0};
    hdr_put(c, &h);
    a->spare = c;
    a->spare_count++;
}

static void free_large_chunk(alloc_arena *a, chunk *c, uintptr_t ret_addr)
{
    chunk h = hdr_get(c);
    if (h.prev) {
        chunk p = hdr_get(h.prev);
        p.next = h.next;
        hdr_put(h.prev, &p);
    } else {
        a->large = h.next;
    }
    if (h.next) {
        chunk n = hdr_get(h.next);
        n.prev = h.prev;
        hdr_put(h.next, &n);
    }
    a->large_count--;
    give_back(a, c, h.size, h.align, ret_addr);
}

/* --- open savepoints (levels) -------------------------------------------------- */

static chunk *small_chunk_of(const alloc_arena *a, const void *mem, size_t len);

/* What the cached floor must be: the newest level's top if that lies in the
 * current chunk, else 0. */
static uintptr_t floor_for(const alloc_arena *a)
{
    const alloc_arena_level *f = a->level_count ? &a->levels[a->level_count - 1] : NULL;
    return f && a->cur && f->chunk_seq == hdr_get(a->cur).seq ? f->top : 0;
}

/* Recomputes the cached floor after the levels or the current chunk changed. */
static void refresh_floor(alloc_arena *a) { a->floor = floor_for(a); }

/* The level whose segment holds a block at position (chunk_seq, p) -- for a
 * large block pass its chunk number as chunk_seq and large = true -- or
 * level_count if it lies above the newest savepoint. */
static unsigned level_of(const alloc_arena *a, uint64_t chunk_seq, uintptr_t p, bool large)
{
    unsigned i = a->level_count;
    while (i > 0) {
        const alloc_arena_level *l = &a->levels[i - 1];
        bool below = large ? chunk_seq <= l->seq
                           : chunk_seq < l->chunk_seq || (chunk_seq == l->chunk_seq && p < l->top);
        if (!below) break;
        i--;
    }
    return i;
}

/* A free of a live block that is not a pop: if it was allocated before the
 * newest savepoint, its bytes leave that savepoint's level. Out of line: the
 * pop fast path never needs it. */
static ALLOC_NOINLINE void note_free_below(alloc_arena *a, const void *mem, size_t len, size_t align)
{
    unsigned i;
    if (is_large(a, len, align)) {
        i = level_of(a, hdr_get(large_of(mem, align)).seq, 0, true);
    } else {
        uintptr_t p = (uintptr_t)mem;
        uint64_t seq;
        if (a->cur && p >= data_of(a->cur) && p < a->top) {
            seq = hdr_get(a->cur).seq;
        } else {
            const chunk *c = small_chunk_of(a, mem, len);
            if (!c) return; /* not ours: the caller's misuse, nothing to count */
            seq = hdr_get(c).seq;
        }
        i = level_of(a, seq, p, false);
    }
    if (i == a->level_count) return;
    a->levels[i].live -= len;
    a->below_live -= len;
}

/* A large block numbered seq changed from len to new_len bytes in place or
 * by remap: if it predates the newest savepoint, so does its level's count. */
static void note_large_resize_below(alloc_arena *a, uint64_t seq, size_t len, size_t new_len)
{
    unsigned i = level_of(a, seq, 0, true);
    if (i == a->level_count) return;
    a->levels[i].live = a->levels[i].live - len + new_len;
    a->below_live = a->below_live - len + new_len;
}

/* --- the vtable -------------------------------------------------------------- */

static void *alloc_large(alloc_arena *a, size_t len, size_t align, uintptr_t ret_addr)
{
    size_t off = large_offset(align);
    if (len > ALLOC_MAX_LEN - off) {
        alloc_stats_note_failed(&a->stats);
        return NULL;
    }
    size_t size = off + len;
    chunk *c = a->backing.vtable->alloc(a->backing.ctx, size, large_align(align), ret_addr);
    if (!c) {
        alloc_stats_note_failed(&a->stats);
        return NULL;
    }
    alloc_stats_note_reserve(&a->stats, size);
    ALLOC_TRACK_POOL_CREATE(c);
    ALLOC_TRACK_NOACCESS(c, off);
    chunk h = {NULL, a->large, size, large_align(align), ++a->seq};
    if (a->large) {
        chunk n = hdr_get(a->large);
        n.prev = c;
        hdr_put(a->large, &n);
    }
    hdr_put(c, &h);
    a->large = c;
    a->large_count++;
    void *p = (void *)((uintptr_t)c + off);
    ALLOC_TRACK_UNDEFINED(p, len);
    ALLOC_TRACK_POOL_ALLOC(c, p, len);
    alloc_stats_note_alloc(&a->stats, len);
    ALLOC_TRACE("arena large chunk %p size %zu", (void *)c, size);
    return p;
}

static void *arena_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_arena *a = ctx;
    if (ALLOC_UNLIKELY(is_large(a, len, align))) return alloc_large(a, len, align, ret_addr);
    uintptr_t p = alloc_bump_fit(a->top, a->end, 0, len, align);
    if (ALLOC_UNLIKELY(!p)) {
        /* len <= large_threshold <= ALLOC_MAX_LEN / 4 and align <= 4096: no overflow. */
        if (!new_chunk(a, HDR + (align - 1) + len, ret_addr)) {
            alloc_stats_note_failed(&a->stats);
            return NULL;
        }
        p = alloc_bump_fit(a->top, a->end, 0, len, align);
        ALLOC_ASSERT(p != 0);
    }
    a->top = p + len;
    alloc_stats_note_alloc(&a->stats, len);
    ALLOC_TRACK_UNDEFINED((void *)p, len);
    ALLOC_TRACK_POOL_ALLOC(a->cur, (void *)p, len);
    return (void *)p;
}

/* The shared chunk holding [mem, mem+len) in its handed-out part, or NULL. */
static chunk *small_chunk_of(const alloc_arena *a, const void *mem, size_t len)
{
    uintptr_t limit = a->top;
    for (chunk *c = a->cur; c;) {
        chunk h = hdr_get(c);
        if (alloc_range_inside(mem, len, (void *)data_of(c), (size_t)(limit - data_of(c)))) return c;
        c = h.prev;
        if (c) limit = (uintptr_t)c + hdr_get(c).size;
    }
    return NULL;
}

static bool large_listed(const alloc_arena *a, const chunk *target)
{
    for (chunk *c = a->large; c; c = hdr_get(c).next)
        if (c == target) return true;
    return false;
}

/* Debug builds: is this a block of ours? Reports misuse if not. */
static bool valid_block(alloc_arena *a, const char *what, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    bool ok;
    if (is_large(a, len, align))
        ok = alloc_is_aligned(mem, large_align(align)) && large_listed(a, large_of(mem, align)) &&
             hdr_get(large_of(mem, align)).size == large_offset(align) + len;
    else
        ok = small_chunk_of(a, mem, len) != NULL;
    if (!ok) {
        alloc_stats_note_misuse(&a->stats);
        report(what, mem, len, align, ret_addr);
    }
    return ok;
}

static bool arena_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_arena *a = ctx;
    if (ALLOC_DEBUG_CHECKS && !valid_block(a, "resize", mem, len, align, ret_addr)) return false;
    uintptr_t p = (uintptr_t)mem;
    if (is_large(a, len, align)) {
        if (!is_large(a, new_len, align)) return false; /* a block never changes class */
        chunk *c = large_of(mem, align);
        chunk h = hdr_get(c);
        size_t off = large_offset(align);
        if (new_len > ALLOC_MAX_LEN - off) return false;
        if (!a->backing.vtable->resize(a->backing.ctx, c, h.size, large_align(align), off + new_len, ret_addr))
            return false;
        if (off + new_len > h.size)
            alloc_stats_note_reserve(&a->stats, off + new_len - h.size);
        else
            alloc_stats_note_release(&a->stats, h.size - (off + new_len));
        h.size = off + new_len;
        hdr_put(c, &h);
        if (a->level_count) note_large_resize_below(a, h.seq, len, new_len);
        if (new_len > len) ALLOC_TRACK_UNDEFINED((void *)(p + len), new_len - len);
        ALLOC_TRACK_POOL_CHANGE(c, mem, mem, new_len);
    } else {
        if (is_large(a, new_len, align) || p + len != a->top || new_len > (size_t)(a->end - p) ||
            p < a->floor)
            return false;
        a->top = p + new_len;
        if (new_len > len)
            ALLOC_TRACK_UNDEFINED((void *)(p + len), new_len - len);
        else
            alloc_release_range(p + new_len, p + len);
        ALLOC_TRACK_POOL_CHANGE(a->cur, mem, mem, new_len);
    }
    alloc_stats_note_resize(&a->stats, len, new_len, true);
    return true;
}

static void *arena_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_arena *a = ctx;
    if (arena_resize(ctx, mem, len, align, new_len, ret_addr)) return mem;
    if (!is_large(a, len, align) || !is_large(a, new_len, align)) return NULL;
    chunk *c = large_of(mem, align);
    chunk h = hdr_get(c);
    size_t off = large_offset(align);
    if (new_len > ALLOC_MAX_LEN - off) return NULL;
    /* The backing allocator may copy the chunk: let it read the header. */
    ALLOC_TRACK_DEFINED(c, off);
    chunk *nc = a->backing.vtable->remap(a->backing.ctx, c, h.size, large_align(align), off + new_len, ret_addr);
    if (!nc) {
        ALLOC_TRACK_NOACCESS(c, off);
        return NULL;
    }
    ALLOC_TRACK_POOL_DESTROY(c);
    ALLOC_TRACK_POOL_CREATE(nc);
    if (off + new_len > h.size)
        alloc_stats_note_reserve(&a->stats, off + new_len - h.size);
    else
        alloc_stats_note_release(&a->stats, h.size - (off + new_len));
    h.size = off + new_len;
    hdr_put(nc, &h);
    if (a->level_count) note_large_resize_below(a, h.seq, len, new_len);
    if (h.prev) {
        chunk n = hdr_get(h.prev);
        n.next = nc;
        hdr_put(h.prev, &n);
    } else {
        a->large = nc;
    }
    if (h.next) {
        chunk n = hdr_get(h.next);
        n.prev = nc;
        hdr_put(h.next, &n);
    }
    ALLOC_TRACK_NOACCESS(nc, off);
    void *q = (void *)((uintptr_t)nc + off);
    /* Registering the block marks it undefined; the kept bytes are not. */
    ALLOC_TRACK_POOL_ALLOC(nc, q, new_len);
    ALLOC_TRACK_DEFINED(q, new_len < len ? new_len : len);
    if (new_len > len) ALLOC_TRACK_UNDEFINED((char *)q + len, new_len - len);
    alloc_stats_note_resize(&a->stats, len, new_len, false);
    return q;
}

/* The free of a large block, out of line so that the small-block free saves
 * no registers. */
static ALLOC_NOINLINE void free_large(alloc_arena *a, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    if (a->level_count) note_free_below(a, mem, len, align); /* before the chunk goes */
    free_large_chunk(a, large_of(mem, align), ret_addr);
    alloc_stats_note_free(&a->stats, len);
}

static void arena_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_arena *a = ctx;
    if (ALLOC_DEBUG_CHECKS && !valid_block(a, "free", mem, len, align, ret_addr)) return;
    if (is_large(a, len, align)) {
        free_large(a, mem, len, align, ret_addr);
        return;
    }
    uintptr_t p = (uintptr_t)mem;
#if ALLOC_TRACK_VALGRIND_ENABLED
    chunk *owner = small_chunk_of(a, mem, len);
    if (owner) ALLOC_TRACK_POOL_FREE(owner, mem);
#endif
    alloc_release_range(p, p + len);
    alloc_stats_note_free(&a->stats, len);
    if (p + len == a->top && p >= a->floor) {
        a->top = p; /* a pop, above every savepoint: no level to update */
        return;
    }
    a->stranded++;
    /* Last, so that the call is a tail call and the pop path saves nothing. */
    if (ALLOC_UNLIKELY(a->level_count != 0)) note_free_below(a, mem, len, align);
}

ALLOC_CHECKED_VTABLE(arena_vtable, arena_alloc, arena_resize, arena_remap, arena_free, alloc_arena_check);

allocator alloc_arena_allocator(alloc_arena *a) { return (allocator){a, &arena_vtable}; }

/* --- savepoints and reset -------------------------------------------------- */

alloc_arena_mark alloc_arena_save(alloc_arena *a)
{
    alloc_arena_mark m = {a->epoch, a->seq, 0, a->top, a->stats.bytes_in_use, ++a->save_serial, 0};
    if (a->cur) m.chunk_seq = hdr_get(a->cur).seq;
    /* Everything live now was allocated before this savepoint: the bytes
     * above the previous floor become this level's. When the levels are
     * full, the newest one stretches up to here instead. */
    size_t above = a->stats.bytes_in_use - a->below_live;
    alloc_arena_level *l;
    if (a->level_count < ALLOC_ARENA_LEVELS) {
        l = &a->levels[a->level_count++];
        l->live = 0;
    } else {
        l = &a->levels[ALLOC_ARENA_LEVELS - 1];
        a->merged_upto = l->serial; /* its mark now rolls back approximately */
    }
    l->live += above;
    a->below_live += above;
    l->serial = m.serial;
    l->chunk_seq = m.chunk_seq;
    l->top = m.top;
    l->seq = m.seq;
    m.level = (unsigned)(l - a->levels);
    a->floor = a->cur ? m.top : 0;
    return m;
}

/* Whether level l was opened at exactly m's position. */
static bool level_at(const alloc_arena_level *l, const alloc_arena_mark *m)
{
    return l->chunk_seq == m->chunk_seq && l->top == m->top && l->seq == m->seq;
}

/* How many levels a rollback to m keeps: those below m's position, and m's
 * own level (the lowest one opened at m's position: later ones there are
 * empty and go). *exact tells whether m's own level is among them; it is
 * missing only when more than ALLOC_ARENA_LEVELS savepoints were open and
 * m's level was merged into a newer one, or when m is stale. */
static unsigned levels_kept(const alloc_arena *a, const alloc_arena_mark *m, bool *exact)
{
    unsigned keep = 0;
    *exact = false;
    while (keep < a->level_count) {
        const alloc_arena_level *l = &a->levels[keep];
        if (level_at(l, m)) {
            *exact = true;
            return keep + 1;
        }
        bool below = l->chunk_seq < m->chunk_seq || (l->chunk_seq == m->chunk_seq && l->top < m->top) ||
                     (l->chunk_seq == m->chunk_seq && l->top == m->top && l->seq < m->seq);
        if (!below || l->seq > m->seq) break;
        keep++;
    }
    return keep;
}

/* Whether a mark without a level of its own was made stale by a rollback
 * below it (rather than merged away): its serial was never merged, or a
 * level opened after it lies below it. */
static bool lost_its_level(const alloc_arena *a, const alloc_arena_mark *m, unsigned keep)
{
    return m->serial > a->merged_upto || (keep > 0 && a->levels[keep - 1].serial > m->serial);
}

/* After a rollback to m: keeps the levels levels_kept() found, m's own the
 * newest; if m's level was merged away, opens one at m for the bytes_in_use
 * the rollback settles on. Returns that bytes_in_use. */
static size_t close_levels_above(alloc_arena *a, const alloc_arena_mark *m, unsigned keep, bool exact)
{
    size_t sum = 0;
    for (unsigned i = 0; i < keep; i++) sum += a->levels[i].live;
    size_t in_use = sum;
    if (!exact) {
        /* The bytes between the level below and m are known only as they
         * were at save. */
        size_t now = a->stats.bytes_in_use;
        size_t at_save = m->bytes_in_use < now ? m->bytes_in_use : now;
        in_use = at_save > sum ? at_save : sum;
        alloc_arena_level *l;
        if (keep < ALLOC_ARENA_LEVELS) {
            l = &a->levels[keep++];
            l->live = in_use - sum;
        } else {
            l = &a->levels[keep - 1]; /* all full and below m: the last stretches up to m */
            l->live += in_use - sum;
        }
        l->serial = m->serial;
        l->chunk_seq = m->chunk_seq;
        l->top = m->top;
        l->seq = m->seq;
    }
    a->level_count = keep;
    a->below_live = in_use;
    refresh_floor(a);
    return in_use;
}

static void free_large_newer_than(alloc_arena *a, uint64_t seq)
{
    while (a->large && hdr_get(a->large).seq > seq) free_large_chunk(a, a->large, 0);
}

/* Where the handed-out part of shared chunk c ends (the top for the current
 * chunk; older chunks are treated as used to their end). */
static uintptr_t used_end(const alloc_arena *a, const chunk *c, size_t size)
{
    return c == a->cur ? a->top : (uintptr_t)c + size;
}

static int stale(alloc_arena *a, const char *why)
{
    alloc_stats_note_misuse(&a->stats);
    if (ALLOC_DEBUG_CHECKS) alloc_report_misuse("arena: rollback to a stale savepoint (%s)", why);
    return -EINVAL;
}

int alloc_arena_rollback(alloc_arena *a, alloc_arena_mark m)
{
    if (m.epoch != a->epoch) return stale(a, "taken before a reset");
    if (m.seq > a->seq) return stale(a, "from the future");
    /* Validate before changing anything: the mark's chunk must still be in
     * the chain, with the top at or above the mark. */
    chunk *target = NULL;
    chunk th = {0};
    if (m.chunk_seq) {
        chunk *c = a->cur;
        while (c) {
            th = hdr_get(c);
            if (th.seq <= m.chunk_seq) break;
            c = th.prev;
        }
        if (!c || th.seq != m.chunk_seq) return stale(a, "its chunk was already released");
        if (m.top < data_of(c) || m.top > used_end(a, c, th.size)) return stale(a, "above the current top");
        target = c;
    }
    bool exact;
    unsigned keep = levels_kept(a, &m, &exact);
    if (!exact && lost_its_level(a, &m, keep)) return stale(a, "above an earlier rollback");
    while (a->cur != target) {
        chunk *c = a->cur;
        chunk h = hdr_get(c);
        alloc_release_range(data_of(c), used_end(a, c, h.size));
        a->cur = h.prev;
        a->chunk_count--;
        if (h.prev == target)
            make_spare(a, c, h.size); /* the next chunk a regrowing scope will want */
        else
            give_back(a, c, h.size, h.align, 0);
        if (a->cur) a->top = (uintptr_t)a->cur + hdr_get(a->cur).size;
    }
    free_large_newer_than(a, m.seq);
    if (target) {
        alloc_release_range(m.top, a->top); /* a->top: the old top, or target's end if chunks were popped */
        ALLOC_TRACK_POOL_TRIM(target, (void *)data_of(target), (size_t)(m.top - data_of(target)));
        a->top = m.top;
        a->end = (uintptr_t)target + th.size;
    } else {
        a->top = a->end = 0;
    }
    a->stats.bytes_in_use = close_levels_above(a, &m, keep, exact);
    return 0;
}

int alloc_arena_reset(alloc_arena *a, alloc_arena_reset_mode mode, size_t limit)
{
    if (mode != ALLOC_ARENA_FREE_ALL && mode != ALLOC_ARENA_RETAIN_CAPACITY && mode != ALLOC_ARENA_RETAIN_LIMIT)
        return -EINVAL;
    if (mode == ALLOC_ARENA_FREE_ALL) limit = 0;
    if (mode == ALLOC_ARENA_RETAIN_CAPACITY) limit = SIZE_MAX;
    free_large_newer_than(a, 0);
    /* Shared chunks newest (largest) first, then the old spares: keep while
     * the running total stays within the limit; the kept ones become the
     * spare list in that order, so the largest is used first. */
    chunk *keep_head = NULL, *keep_tail = NULL;
    size_t kept = 0, kept_count = 0;
    chunk *c = a->cur;
    bool in_chain = true;
    while (c || in_chain) {
        if (!c) {
            in_chain = false;
            c = a->spare;
            continue;
        }
        chunk h = hdr_get(c);
        if (in_chain) alloc_release_range(data_of(c), used_end(a, c, h.size));
        if (h.size <= limit - kept) {
            kept += h.size;
            kept_count++;
            ALLOC_TRACK_POOL_TRIM(c, c, 0);
            chunk nh = {NULL, NULL, h.size, h.align, 0};
            hdr_put(c, &nh);
            if (keep_tail) {
                chunk t = hdr_get(keep_tail);
                t.prev = c;
                hdr_put(keep_tail, &t);
            } else {
                keep_head = c;
            }
            keep_tail = c;
        } else {
            give_back(a, c, h.size, h.align, 0);
        }
        c = h.prev;
    }
    a->cur = NULL;
    a->top = a->end = 0;
    a->chunk_count = 0;
    a->spare = keep_head;
    a->spare_count = kept_count;
    if (mode == ALLOC_ARENA_FREE_ALL) a->next_size = a->first_chunk;
    a->epoch++;
    a->level_count = 0;
    a->below_live = 0;
    a->floor = 0;
    alloc_stats_note_reset(&a->stats);
    ALLOC_TRACE("arena reset mode %d kept %zu bytes", (int)mode, kept);
    return 0;
}

void alloc_arena_deinit(alloc_arena *a)
{
    alloc_arena_reset(a, ALLOC_ARENA_FREE_ALL, 0);
    ALLOC_ASSERT(a->stats.bytes_reserved == 0);
}

/* --- queries ------------------------------------------------------------------ */

bool alloc_arena_owns(const alloc_arena *a, const void *p)
{
    if (small_chunk_of(a, p, 1)) return true;
    for (chunk *c = a->large; c;) {
        chunk h = hdr_get(c);
        uintptr_t q = (uintptr_t)p, base = (uintptr_t)c;
        if (q >= base + large_offset(h.align) && q < base + h.size) return true;
        c = h.next;
    }
    return false;
}

void alloc_arena_get_info(const alloc_arena *a, alloc_arena_info *out)
{
    out->chunks = a->chunk_count;
    out->large_chunks = a->large_count;
    out->spare_chunks = a->spare_count;
    out->bytes_reserved = a->stats.bytes_reserved;
    out->chunk_free = (size_t)(a->end - a->top);
    out->stranded_frees = a->stranded;
}

void alloc_arena_stats(const alloc_arena *a, alloc_stats *out) { *out = a->stats; }

bool alloc_arena_walk(const alloc_arena *a, alloc_walker walker, void *user)
{
    for (chunk *c = a->cur; c;) {
        chunk h = hdr_get(c);
        uintptr_t data = data_of(c), end = (uintptr_t)c + h.size;
        uintptr_t top = c == a->cur ? a->top : end; /* older chunks: tails not recorded */
        if (top > data && !walker((void *)data, (size_t)(top - data), true, user)) return false;
        if (end > top && !walker((void *)top, (size_t)(end - top), false, user)) return false;
        c = h.prev;
    }
    for (chunk *c = a->large; c;) {
        chunk h = hdr_get(c);
        size_t off = large_offset(h.align);
        if (!walker((void *)((uintptr_t)c + off), h.size - off, true, user)) return false;
        c = h.next;
    }
    for (chunk *c = a->spare; c;) {
        chunk h = hdr_get(c);
        if (!walker((void *)data_of(c), h.size - HDR, false, user)) return false;
        c = h.prev;
    }
    return true;
}

/* The check's walk: every live byte lies in a used span. */
static bool sum_used(void *block, size_t len, bool used, void *user)
{
    (void)block;
    if (used) *(size_t *)user += len;
    return true;
}

bool alloc_arena_check(const alloc_arena *a)
{
    size_t reserved = 0, n = 0;
    if (!alloc_stats_consistent(&a->stats)) return false;
    size_t spans = 0;
    (void)alloc_arena_walk(a, sum_used, &spans);
    if (spans < a->stats.bytes_in_use) return false;
    if (!a->cur) {
        if (a->top || a->end || a->chunk_count) return false;
    } else {
        chunk h = hdr_get(a->cur);
        if (a->end != (uintptr_t)a->cur + h.size || a->top < data_of(a->cur) || a->top > a->end) return false;
    }
    uint64_t last_seq = UINT64_MAX;
    for (chunk *c = a->cur; c; n++) {
        chunk h = hdr_get(c);
        if (h.seq >= last_seq || h.seq > a->seq || h.size < HDR || h.align != CHUNK_ALIGN) return false;
        last_seq = h.seq;
        reserved += h.size;
        c = h.prev;
    }
    if (n != a->chunk_count) return false;
    n = 0;
    for (chunk *c = a->spare; c; n++) {
        chunk h = hdr_get(c);
        reserved += h.size;
        c = h.prev;
    }
    if (n != a->spare_count) return false;
    n = 0;
    last_seq = UINT64_MAX;
    chunk *newer = NULL;
    for (chunk *c = a->large; c; n++) {
        chunk h = hdr_get(c);
        if (h.prev != newer || h.seq >= last_seq || !alloc_is_pow2(h.align) || h.align < CHUNK_ALIGN) return false;
        last_seq = h.seq;
        reserved += h.size;
        newer = c;
        c = h.next;
    }
    if (n != a->large_count) return false;
    if (reserved != a->stats.bytes_reserved) return false;
    /* Open savepoints: ordered by position and serial, their counts summed. */
    if (a->level_count > ALLOC_ARENA_LEVELS) return false;
    size_t below = 0;
    for (unsigned i = 0; i < a->level_count; i++) {
        const alloc_arena_level *l = &a->levels[i];
        below += l->live;
        if (l->serial > a->save_serial || l->seq > a->seq) return false;
        if (i > 0) {
            const alloc_arena_level *p = &a->levels[i - 1];
            if (l->serial <= p->serial || l->seq < p->seq || l->chunk_seq < p->chunk_seq ||
                (l->chunk_seq == p->chunk_seq && l->top < p->top))
                return false;
        }
    }
    if (below != a->below_live || below > a->stats.bytes_in_use) return false;
    if (a->floor != floor_for(a)) return false;
#if ALLOC_TRACK_ASAN_ENABLED
    if (a->cur) {
        if (!ALLOC_ASAN_IS_POISONED(a->cur)) return false;
        uintptr_t probe = alloc_align_up(a->top, 8);
        if (probe < a->end && a->end - probe >= 8 && !ALLOC_ASAN_IS_POISONED((void *)probe)) return false;
    }
#endif
    return true;
}
