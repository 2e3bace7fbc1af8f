/*
 * stack.c: the LIFO stack allocator.
 *
 * Algorithm. Blocks are pushed on a bump region: the top is aligned so that
 * a 32-byte header fits right below an aligned user pointer, the header
 * records the previous top and the previous top block, and the top moves
 * past the block. The state remembers the top block; a free must name it
 * (mem == top_block, len == header.len) and pops it by restoring the header's
 * previous top and previous block. Because that check is one comparison, it
 * runs in every build: an out-of-order free is always refused, and only the
 * reporting differs (debug builds name both blocks and the call sites, then
 * abort by default; release builds count it in misuse_count).
 *
 * Over a backing allocator the region is a chain of chunks (sizes doubling up
 * to max_chunk). A block that does not fit the current chunk goes into a new
 * one, and its header's previous top then points into the older chunk. On a
 * pop, chunks that no longer contain the restored top are dropped: the
 * largest of them is kept as the single spare (so a push/pop loop at a chunk
 * boundary, or bursts that keep reaching the biggest chunk, do not call the
 * backing allocator each time), any other is given back. When the stack
 * empties, the spare becomes the current chunk again, so an empty stack keeps
 * exactly one chunk and its next push needs no chunk change. A pop stays on
 * the fast path unless the restored top leaves the current chunk.
 * remap of the top block pushes a copy in a fresh chunk whose header takes
 * over the old block's links, so the old bytes come back when the copy is
 * popped.
 *
 * Markers are (top block, top). Rollback walks the block chain from the top
 * block down to the marker's block, validating before it changes anything,
 * and pops the blocks it passes (exact bytes_in_use, Valgrind frees).
 *
 * Bounds. alloc, free, resize: O(1). remap: O(len). rollback: O(blocks
 * popped). reset: O(chunks), no block walk. check, depth: O(blocks). Space: 32-byte header per block plus
 * padding; chunk header 16 bytes; at most one spare chunk.
 *
 * Metadata layout. alloc_stack_header {prev_top, prev_block, len, ret_addr}
 * directly below each user pointer (8-aligned); chunks start with
 * {prev, size}. Headers are poisoned except while the allocator reads or
 * writes them (hdr_get/hdr_put).
 *
 * Reference: the double-ended stack allocators of game engines (Gregory,
 * "Game Engine Architecture", ch. 6), with per-block headers so order is
 * checked rather than trusted.
 */
#include <errno.h>
#include <string.h>

#include "../core/internal.h"
#include "../core/trace.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/stack.h"

typedef alloc_stack_header header;

typedef struct alloc_stack_chunk {
    struct alloc_stack_chunk *prev;
    size_t size;
} chunk;

#define HDR sizeof(header)
#define CHUNK_HDR ((sizeof(chunk) + 15) & ~(size_t)15)
#define CHUNK_ALIGN ((size_t)16)
#define MIN_ALIGN ((size_t)8)
#define DEFAULT_FIRST ((size_t)16 << 10)
#define DEFAULT_MAX ((size_t)16 << 20)

_Static_assert(sizeof(header) % MIN_ALIGN == 0, "headers must keep blocks 8-aligned");

static header *hdr_of(const void *mem) { return (header *)((uintptr_t)mem - HDR); }

/* Headers are copied field by field, not with memcpy: gcc turns a struct
 * memcpy into 16-byte loads of 8-byte fields that were just stored (the
 * local built by push, or the header a push wrote a moment before its pop),
 * and such a load waits for the stores to reach the cache instead of being
 * forwarded from them. */
static header hdr_get(const void *mem)
{
    const header *src = hdr_of(mem);
    ALLOC_TRACK_DEFINED(src, HDR);
    header h = {src->prev_top, src->prev_block, src->len, src->ret_addr};
    ALLOC_TRACK_NOACCESS(src, HDR);
    return h;
}

static void hdr_put(void *mem, const header *h)
{
    header *dst = hdr_of(mem);
    ALLOC_TRACK_UNDEFINED(dst, HDR);
    dst->prev_top = h->prev_top;
    dst->prev_block = h->prev_block;
    dst->len = h->len;
    dst->ret_addr = h->ret_addr;
    ALLOC_TRACK_NOACCESS(dst, HDR);
}

static chunk chunk_get(const chunk *c)
{
    chunk h;
    alloc_meta_read(&h, c, sizeof h);
    return h;
}

static void chunk_put(chunk *c, const chunk *h) { alloc_meta_write(c, h, sizeof *h); }

static bool chunk_mode(const alloc_stack *s) { return s->backing.vtable != NULL; }

static bool chunk_holds(const chunk *c, size_t size, uintptr_t addr)
{
    return addr >= (uintptr_t)c + CHUNK_HDR && addr <= (uintptr_t)c + size;
}

/* --- init ------------------------------------------------------------------- */

int alloc_stack_init_buffer(alloc_stack *s, void *buf, size_t cap)
{
    if (!s || (!buf && cap > 0) || cap > ALLOC_MAX_LEN || (uintptr_t)buf > UINTPTR_MAX - cap) return -EINVAL;
    memset(s, 0, sizeof *s);
    s->base = s->top = (uintptr_t)buf;
    s->end = (uintptr_t)buf + cap;
    s->slow = ALLOC_TRACK_ENABLED;
    alloc_stats_note_reserve(&s->stats, cap);
    ALLOC_TRACK_POOL_CREATE(s);
    if (cap) ALLOC_TRACK_NOACCESS(buf, cap);
    return 0;
}

int alloc_stack_init(alloc_stack *s, const alloc_stack_options *opts)
{
    alloc_stack_options o = {0};
    if (!s) return -EINVAL;
    if (opts) o = *opts;
    if (!o.backing.vtable) o.backing = alloc_page_allocator();
    if (!o.first_chunk) o.first_chunk = DEFAULT_FIRST;
    if (!o.max_chunk) o.max_chunk = o.first_chunk > DEFAULT_MAX ? o.first_chunk : DEFAULT_MAX;
    if (o.first_chunk < 256 || o.first_chunk > o.max_chunk || o.max_chunk > ALLOC_MAX_LEN / 2) return -EINVAL;
    memset(s, 0, sizeof *s);
    s->backing = o.backing;
    s->first_chunk = s->next_size = o.first_chunk;
    s->max_chunk = o.max_chunk;
    s->slow = ALLOC_TRACK_ENABLED;
    ALLOC_TRACK_POOL_CREATE(s);
    return 0;
}

/* --- chunks ------------------------------------------------------------------- */

static void give_back(alloc_stack *s, chunk *c, size_t size)
{
    alloc_chunk_give(s->backing, c, size, CHUNK_ALIGN, &s->stats, 0);
}

/* Installs a chunk of at least `needed` data bytes as current. false (nothing
 * changed) iff the backing allocator fails. */
static bool new_chunk(alloc_stack *s, size_t needed, uintptr_t ret_addr)
{
    chunk *c = NULL;
    size_t size = 0;
    if (s->spare) {
        chunk h = chunk_get(s->spare);
        if (h.size - CHUNK_HDR >= needed) {
            c = s->spare;
            size = h.size;
            s->spare = NULL;
        }
    }
    if (!c) {
        if (needed > ALLOC_MAX_LEN - CHUNK_HDR - 4096) return false;
        size = s->next_size > needed + CHUNK_HDR ? s->next_size : needed + CHUNK_HDR;
        c = alloc_chunk_take(s->backing, &size, CHUNK_ALIGN, &s->stats, ret_addr);
        if (!c) return false;
        size_t grown = s->next_size * 2;
        s->next_size = grown < s->max_chunk ? grown : s->max_chunk;
        ALLOC_TRACE("stack new chunk %p size %zu", (void *)c, size);
    }
    chunk h = {s->cur, size};
    chunk_put(c, &h);
    s->cur = c;
    s->top = (uintptr_t)c + CHUNK_HDR;
    s->end = (uintptr_t)c + size;
    s->chunk_count++;
    return true;
}

/* Makes c (size bytes, holding no block) the only chunk of an empty stack. */
static void make_sole_chunk(alloc_stack *s, chunk *c, size_t size)
{
    chunk h = {NULL, size};
    chunk_put(c, &h);
    s->cur = c;
    s->chunk_count = 1;
    s->top = (uintptr_t)c + CHUNK_HDR;
    s->end = (uintptr_t)c + size;
}

/* Makes the spare the current chunk of an empty stack that has none. */
static void install_spare(alloc_stack *s)
{
    chunk *c = s->spare;
    s->spare = NULL;
    make_sole_chunk(s, c, chunk_get(c).size);
}

/* After the top moved down to `top`: drops the chunks that do not hold it. */
static void drop_chunks_above(alloc_stack *s, uintptr_t top)
{
    while (s->cur) {
        chunk h = chunk_get(s->cur);
        if (chunk_holds(s->cur, h.size, top)) {
            s->end = (uintptr_t)s->cur + h.size;
            if (!s->top_block && s->spare) {
                /* Empty, with a current chunk and a spare: an empty stack
                 * keeps one chunk, the larger. The current one is the only
                 * one in the chain (an empty stack's top is at the start of
                 * the chunk it emptied into, which had no chunk below). */
                chunk sh = chunk_get(s->spare);
                if (sh.size > h.size && !h.prev) {
                    chunk *c = s->cur;
                    s->cur = NULL;
                    give_back(s, c, h.size);
                    install_spare(s);
                } else {
                    give_back(s, s->spare, sh.size);
                    s->spare = NULL;
                }
            }
            return;
        }
        chunk *c = s->cur;
        s->cur = h.prev;
        s->chunk_count--;
        if (s->spare) {
            /* Keep the larger of the two as the spare: chunks grow
             * geometrically, so a burst that reached a big chunk will reach
             * it again, and keeping the small one would map and unmap the
             * big one on every burst. */
            chunk sh = chunk_get(s->spare);
            if (sh.size >= h.size) {
                give_back(s, c, h.size);
                continue;
            }
            give_back(s, s->spare, sh.size);
        }
        ALLOC_TRACK_NOACCESS(c, h.size);
        chunk sh = {NULL, h.size};
        chunk_put(c, &sh);
        s->spare = c;
    }
    /* No chunk holds the top: the stack is empty (top 0, where it started).
     * The spare, the largest chunk it had, becomes the current chunk, so a
     * stack that keeps emptying and filling again (a push/pop pair, a
     * per-frame scratch stack) stays on the fast paths: the next bottom block
     * records a top inside this chunk, and popping it needs no chunk walk. */
    if (s->spare) {
        install_spare(s);
        return;
    }
    s->end = 0;
}

/* --- push and pop ------------------------------------------------------------- */

/* Makes p (aligned, header room below it) the top block of len bytes; the
 * header records prev_top, where the stack stood before. */
static inline void *place(alloc_stack *s, uintptr_t p, uintptr_t prev_top, size_t len, uintptr_t ret_addr)
{
    header h = {prev_top, s->top_block, len, ret_addr};
    hdr_put((void *)p, &h);
    s->top = p + len;
    s->top_block = (void *)p;
    ALLOC_TRACK_UNDEFINED((void *)p, len);
    ALLOC_TRACK_POOL_ALLOC(s, (void *)p, len);
    return (void *)p;
}

/* push's slow path, out of line so that the fast path needs no stack frame:
 * the block does not fit the buffer or current chunk. */
static ALLOC_NOINLINE void *push_in_new_chunk(alloc_stack *s, size_t len, size_t align, uintptr_t ret_addr)
{
    uintptr_t top = s->top;
    if (!chunk_mode(s)) return NULL;
    /* Worst case in a fresh chunk: header + padding + len. */
    if (len > ALLOC_MAX_LEN / 2 || align > ALLOC_MAX_LEN / 4) return NULL;
    if (!new_chunk(s, HDR + (align - 1) + len, ret_addr)) return NULL;
    /* The new chunk's top is not where the old top was: the header
     * records the old top, so a pop returns to the older chunk. */
    uintptr_t p = alloc_align_up(s->top + HDR, align);
    return place(s, p, top, len, ret_addr);
}

/* Pushes a block without touching stats. NULL iff it cannot be had. */
static inline void *push(alloc_stack *s, size_t len, size_t align, uintptr_t ret_addr)
{
    if (align < MIN_ALIGN) align = MIN_ALIGN;
    uintptr_t p = alloc_bump_fit(s->top, s->end, HDR, len, align);
    if (ALLOC_UNLIKELY(!p)) return push_in_new_chunk(s, len, align, ret_addr);
    return place(s, p, s->top, len, ret_addr);
}

/* Pops the top block (whose header is h). */
/* Open markers whose lowest block so far is old now find it at new_block (a
 * pop took old off the stack, or a remap moved it). They form a suffix of
 * the levels, the newest ones. */
static ALLOC_NOINLINE void move_lows(alloc_stack *s, const void *old, void *new_block)
{
    for (unsigned k = s->level_count; k > 0 && s->levels[k - 1].low == old; k--) s->levels[k - 1].low = new_block;
}

/* The rare half of a pop, out of line so that the common one saves no
 * registers: open markers resting on the popped block move down with it, and
 * chunks the top has left are dropped. */
static ALLOC_NOINLINE void pop_slow(alloc_stack *s, const void *popped, bool left_chunk)
{
    if (s->level_count) move_lows(s, popped, s->top_block);
    if (left_chunk) drop_chunks_above(s, s->top);
}

static void pop(alloc_stack *s, const header *h)
{
    void *mem = s->top_block;
    ALLOC_TRACK_POOL_FREE(s, mem);
    /* Header and data; the padding below the header was never unpoisoned. */
    alloc_release_range((uintptr_t)hdr_of(mem), s->top);
    s->top = h->prev_top;
    s->top_block = h->prev_block;
    /* Most pops stay in the current chunk, [cur + CHUNK_HDR, end]; only a pop
     * that leaves it, or empties a stack that holds a spare, reads chunk
     * headers (end is 0 when there is no chunk). */
    bool left_chunk = chunk_mode(s) && (s->top < (uintptr_t)s->cur + CHUNK_HDR || s->top > s->end ||
                                        (s->spare && !s->top_block));
    if (ALLOC_UNLIKELY(left_chunk || s->level_count != 0)) pop_slow(s, mem, left_chunk);
}

void *alloc_stack_alloc(alloc_stack *s, size_t len, size_t align, uintptr_t ret_addr)
{
    void *p = push(s, len, align, ret_addr);
    if (!p) {
        alloc_stats_note_failed(&s->stats);
        return NULL;
    }
    alloc_stats_note_alloc(&s->stats, len);
    return p;
}

/* --- misuse reports ---------------------------------------------------------- */

/* true iff mem is a live block (walks the chain: debug builds only). */
static bool is_live(const alloc_stack *s, const void *mem)
{
    for (void *b = s->top_block; b; b = hdr_get(b).prev_block)
        if (b == mem) return true;
    return false;
}

static void report_order(alloc_stack *s, const char *what, void *mem, size_t len, uintptr_t ret_addr)
{
    alloc_stats_note_misuse(&s->stats);
    if (!ALLOC_DEBUG_CHECKS) return;
    char top_site[ALLOC_SITE_BUF], mem_site[ALLOC_SITE_BUF];
    header top = {0};
    if (s->top_block) top = hdr_get(s->top_block);
    alloc_describe_addr(top.ret_addr, top_site, sizeof top_site);
    if (mem != s->top_block && is_live(s, mem)) {
        header h = hdr_get(mem);
        alloc_describe_addr(h.ret_addr, mem_site, sizeof mem_site);
        alloc_report_misuse_from(ret_addr,
                                 "stack: out-of-order %s of %p (len %zu, allocated at %s); "
                                 "the top block is %p (len %zu, allocated at %s)",
                                 what, mem, h.len, mem_site, s->top_block, top.len, top_site);
    } else if (mem == s->top_block) {
        alloc_report_misuse_from(ret_addr, "stack: %s of %p with len %zu, but it was allocated with len %zu (at %s)",
                                 what, mem, len, top.len, top_site);
    } else {
        alloc_report_misuse_from(ret_addr,
                                 "stack: %s of %p (len %zu), not a live block (double free or foreign pointer); "
                                 "the top block is %p (allocated at %s)",
                                 what, mem, len, s->top_block, top_site);
    }
}

/* --- the vtable ---------------------------------------------------------------- */

static void *stack_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    return alloc_stack_alloc(ctx, len, align, ret_addr);
}

static void stack_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_stack *s = ctx;
    (void)align;
    if (ALLOC_UNLIKELY(mem != s->top_block || !mem)) {
        report_order(s, "free", mem, len, ret_addr);
        return;
    }
    header h = hdr_get(mem);
    if (ALLOC_UNLIKELY(h.len != len)) {
        report_order(s, "free", mem, len, ret_addr);
        return;
    }
    alloc_stats_note_free(&s->stats, len);
    pop(s, &h); /* last: its rare call is then a tail call */
}

static bool stack_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_stack *s = ctx;
    (void)align;
    if (mem != s->top_block || !mem) return false;
    header h = hdr_get(mem);
    if (h.len != len) {
        report_order(s, "resize", mem, len, ret_addr);
        return false;
    }
    uintptr_t p = (uintptr_t)mem;
    if (new_len > (size_t)(s->end - p)) return false;
    if (new_len > len)
        ALLOC_TRACK_UNDEFINED((void *)(p + len), new_len - len);
    else
        alloc_release_range(p + new_len, p + len);
    s->top = p + new_len;
    h.len = new_len;
    hdr_put(mem, &h);
    ALLOC_TRACK_POOL_CHANGE(s, mem, mem, new_len);
    alloc_stats_note_resize(&s->stats, len, new_len, true);
    return true;
}

static void *stack_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_stack *s = ctx;
    if (stack_resize(ctx, mem, len, align, new_len, ret_addr)) return mem;
    if (mem != s->top_block || !mem || !chunk_mode(s)) return NULL;
    header old = hdr_get(mem);
    if (old.len != len) return NULL;
    void *q = push(s, new_len, align, ret_addr);
    if (!q) return NULL;
    memcpy(q, mem, len < new_len ? len : new_len);
    /* The copy takes over the old block's place in the chain: popping it
     * returns to where the stack stood before the old block. */
    header h = hdr_get(q);
    h.prev_top = old.prev_top;
    h.prev_block = old.prev_block;
    h.ret_addr = old.ret_addr;
    hdr_put(q, &h);
    ALLOC_TRACK_POOL_FREE(s, mem);
    alloc_release_range((uintptr_t)mem, (uintptr_t)mem + len);
    if (s->level_count) move_lows(s, mem, q); /* the same allocation, from before those markers */
    alloc_stats_note_resize(&s->stats, len, new_len, false);
    return q;
}

ALLOC_CHECKED_VTABLE(stack_vtable, stack_alloc, stack_resize, stack_remap, stack_free, alloc_stack_check);

allocator alloc_stack_allocator(alloc_stack *s) { return (allocator){s, &stack_vtable}; }

/* --- markers, reset, deinit --------------------------------------------------- */

alloc_stack_mark alloc_stack_save(alloc_stack *s)
{
    alloc_stack_mark m = {s->top_block, s->top, ++s->save_serial, ALLOC_STACK_LEVELS};
    if (s->level_count < ALLOC_STACK_LEVELS) {
        m.level = s->level_count++;
        s->levels[m.level] = (alloc_stack_level){m.serial, s->top_block};
    }
    return m;
}

static int refuse(alloc_stack *s, const char *why)
{
    alloc_stats_note_misuse(&s->stats);
    if (ALLOC_DEBUG_CHECKS) alloc_report_misuse("stack: rollback to a stale marker (%s)", why);
    return -EINVAL;
}

int alloc_stack_rollback(alloc_stack *s, alloc_stack_mark m)
{
    void *target;
    bool tracked = m.level < s->level_count && s->levels[m.level].serial == m.serial;
    if (tracked) {
        /* Its level followed every pop below it: the blocks above its low
         * block are exactly those pushed after the marker. */
        target = s->levels[m.level].low;
    } else {
        /* An open marker beyond the levels keeps its own top block; a marker
         * whose level is gone was closed by a reset or a rollback below it. */
        if (m.level < ALLOC_STACK_LEVELS)
            return refuse(s, "closed by a reset or by a rollback to an older marker");
        /* Validate first: m's block must still be on the stack. */
        void *b = s->top_block;
        while (b && b != m.top_block) b = hdr_get(b).prev_block;
        bool ok = b == m.top_block;
        if (ok && !b && !chunk_mode(s)) ok = m.top == s->base;
        if (!ok) return refuse(s, "its block was already popped");
        target = m.top_block;
    }
    while (s->top_block != target) {
        header h = hdr_get(s->top_block);
        s->stats.bytes_in_use -= h.len;
        pop(s, &h);
    }
    if (tracked) s->level_count = m.level + 1;
    /* The top may lie above the target block's end only if that block was
     * shrunk since; it never lies below. */
    if (target) {
        header h = hdr_get(target);
        uintptr_t block_end = (uintptr_t)target + h.len;
        if (s->top > block_end) {
            alloc_release_range(block_end, s->top);
            s->top = block_end;
        }
    }
    return 0;
}

/* Pops everything without walking the blocks: the chunks are sorted out
 * instead (the largest stays as the current one, as after the last pop of a
 * rollback), and the tools forget every block at once. */
void alloc_stack_reset(alloc_stack *s)
{
    s->top_block = NULL;
    s->level_count = 0; /* every open marker is now stale */
    s->stats.bytes_in_use = 0;
    /* every block at once: a Valgrind mempool is emptied by recreating it */
    ALLOC_TRACK_POOL_DESTROY(s);
    ALLOC_TRACK_POOL_CREATE(s);
    if (!chunk_mode(s)) {
        alloc_release_range(s->base, s->top);
        s->top = s->base;
        return;
    }
    chunk *keep = s->spare;
    size_t keep_size = keep ? chunk_get(keep).size : 0;
    uintptr_t keep_used = keep ? (uintptr_t)keep + CHUNK_HDR : 0; /* a spare holds nothing */
    s->spare = NULL;
    for (chunk *c = s->cur; c;) {
        chunk h = chunk_get(c);
        /* bytes in use in c: up to the top in the current chunk; an older
         * chunk may be used to its end */
        uintptr_t used = c == s->cur ? s->top : (uintptr_t)c + h.size;
        if (h.size > keep_size) {
            if (keep) give_back(s, keep, keep_size);
            keep = c, keep_size = h.size, keep_used = used;
        } else {
            give_back(s, c, h.size);
        }
        c = h.prev;
    }
    s->cur = NULL;
    s->chunk_count = 0;
    s->top = s->end = 0;
    if (keep) {
        alloc_release_range((uintptr_t)keep + CHUNK_HDR, keep_used);
        make_sole_chunk(s, keep, keep_size);
    }
}

void alloc_stack_deinit(alloc_stack *s)
{
    alloc_stack_reset(s);
    if (chunk_mode(s)) {
        /* reset leaves the one chunk an empty stack keeps, and no spare */
        if (s->cur) {
            give_back(s, s->cur, chunk_get(s->cur).size);
            s->cur = NULL;
            s->chunk_count = 0;
        }
        s->top = s->end = 0;
    } else {
        size_t cap = (size_t)(s->end - s->base);
        if (cap) ALLOC_TRACK_DEFINED((void *)s->base, cap); /* the caller's bytes, as they are */
        alloc_stats_note_release(&s->stats, cap);
        s->base = s->top = s->end = 0;
    }
    ALLOC_TRACK_POOL_DESTROY(s);
}

/* --- queries ---------------------------------------------------------------- */

void *alloc_stack_top(const alloc_stack *s) { return s->top_block; }

size_t alloc_stack_depth(const alloc_stack *s)
{
    size_t n = 0;
    for (void *b = s->top_block; b; b = hdr_get(b).prev_block) n++;
    return n;
}

size_t alloc_stack_remaining(const alloc_stack *s) { return (size_t)(s->end - s->top); }

void alloc_stack_stats(const alloc_stack *s, alloc_stats *out) { *out = s->stats; }

bool alloc_stack_walk(const alloc_stack *s, alloc_walker walker, void *user)
{
    for (void *b = s->top_block; b;) {
        header h = hdr_get(b);
        if (!walker(b, h.len, true, user)) return false;
        b = h.prev_block;
    }
    return true;
}

/* The check's walk: each block ends exactly where the block above it
 * recorded the top (for the top block: at the top itself). */
typedef struct chain_audit {
    uintptr_t above;
    size_t in_use;
} chain_audit;

static bool audit_block(void *block, size_t len, bool used, void *user)
{
    chain_audit *a = user;
    if (!used || !alloc_is_aligned(block, MIN_ALIGN) || (uintptr_t)block + len != a->above) return false;
    a->in_use += len;
    a->above = hdr_get(block).prev_top;
    return true;
}

bool alloc_stack_check(const alloc_stack *s)
{
    if (!alloc_stats_consistent(&s->stats) || s->top > s->end) return false;
    size_t chunks = 0, reserved = 0;
    chain_audit chain = {s->top, 0};
    if (!alloc_stack_walk(s, audit_block, &chain) || chain.in_use != s->stats.bytes_in_use) return false;
    /* Open markers: each low block on the stack, older markers' at or below
     * newer ones' (depth counted from the top, so it must not decrease). */
    if (s->level_count > ALLOC_STACK_LEVELS) return false;
    size_t last_depth = 0;
    for (unsigned k = s->level_count; k > 0; k--) {
        const alloc_stack_level *l = &s->levels[k - 1];
        if (l->serial > s->save_serial || (k > 1 && s->levels[k - 2].serial >= l->serial)) return false;
        size_t depth = 0;
        void *b = s->top_block;
        while (b && b != l->low) {
            b = hdr_get(b).prev_block;
            depth++;
        }
        if (b != l->low || depth < last_depth) return false;
        last_depth = depth;
    }
    if (chunk_mode(s)) {
        for (chunk *c = s->cur; c; chunks++) {
            chunk h = chunk_get(c);
            reserved += h.size;
            c = h.prev;
        }
        if (s->spare) reserved += chunk_get(s->spare).size;
        if (chunks != s->chunk_count || reserved != s->stats.bytes_reserved) return false;
        if (!s->cur && (s->top_block || s->end)) return false;
        if (s->cur && !chunk_holds(s->cur, chunk_get(s->cur).size, s->top)) return false;
        /* an empty stack keeps one chunk at most */
        if (!s->top_block && (s->spare || s->chunk_count > 1)) return false;
        /* pop's fast path takes end as the current chunk's end */
        if (s->cur && s->end != (uintptr_t)s->cur + chunk_get(s->cur).size) return false;
    } else {
        if (s->top < s->base || s->stats.bytes_reserved != s->end - s->base) return false;
    }
#if ALLOC_TRACK_ASAN_ENABLED
    uintptr_t probe = alloc_align_up(s->top, 8);
    if (probe < s->end && s->end - probe >= 8 && !ALLOC_ASAN_IS_POISONED((void *)probe)) return false;
    if (s->top_block && !ALLOC_ASAN_IS_POISONED(hdr_of(s->top_block))) return false;
#endif
    return true;
}
