/*
 * slab.c: size-class pools.
 *
 * Algorithm. Requests up to the limit are rounded up to one of 40 size
 * classes (16-byte steps to 128, then four classes per power of two, as in
 * jemalloc's and mimalloc's bins); each class allocates from its own slabs,
 * 256 KiB blocks aligned to 256 KiB, so the slab header of any object is its
 * address with the low 18 bits cleared. A slab has its own intrusive free
 * list (freed slots) and a carve pointer (slots never used, taken lazily so a
 * new slab costs no page faults beyond those touched). Alloc pops from the
 * class's current slab; free pushes onto the free list of the slab the
 * address masks to. Both are O(1), loop-free and division-free; the class of
 * a request is a shift (<= 128 B) or a count-leading-zeros and two shifts.
 *
 * Slab life cycle per class: the current slab serves allocations until it is
 * exhausted; then the next slab with free slots (the partial list), else the
 * cached empty slab, else a new one, becomes current. A full slab belongs to
 * no list ("unlisted"); the first free into it puts it on the partial list
 * (out of line). When a slab that is not current becomes empty it is removed
 * from the partial list and either cached (one per class) or returned to the
 * backing allocator.
 *
 * Metadata. Per slab a header at its start (free list, carve and end
 * pointers, live count, list links, class); debug builds append one bit per
 * slot (set = live) so that double and foreign frees are caught. Slot 0 starts
 * at the header rounded up to 16, or to the slot size for power-of-two
 * classes, which therefore align their objects to their size. Large requests
 * carry no header: the caller's len and align (which the contract makes it
 * pass back) say whether a block is large.
 *
 * Bounds: O(1) for every operation except when a slab is taken or returned
 * (one backing call); debug builds add an O(slabs) walk to validate pointers.
 * Space: the class rounding (< 25% above 128 B), the slab header and the
 * slab's unusable tail (< one slot).
 */
#include <errno.h>
#include <string.h>

#include "../core/internal.h"
#include "../core/trace.h"
#include "alloc/page.h"
#include "alloc/slab.h"

#define SLAB_CHECKED (ALLOC_DEBUG_CHECKS || ALLOC_TRACK_ENABLED)

struct alloc_slab_chunk {
    void *free;                      /* freed slots of this slab */
    char *carve, *end;               /* never-used slots [carve, end) */
    uint32_t live;                   /* objects handed out and not freed */
    uint32_t listed;                 /* 1 iff current, on the partial list or cached */
    alloc_slab_chunk *next, *prev;    /* partial list */
    alloc_slab_chunk *all_next, *all_prev;
    alloc_slab *owner;
    uint32_t cls, size;
    uint64_t bits[];                 /* ALLOC_DEBUG_CHECKS: bit i = slot i live */
};

/* The current slab of a class that has none: nothing free, nothing to carve,
 * so the hot path falls into the slow path without a NULL test. Never written. */
static alloc_slab_chunk no_slab;

static size_t class_size(unsigned c)
{
    if (c < 8) return (size_t)(c + 1) * 16;
    unsigned k = 7 + (c - 8) / 4, sub = (c - 8) % 4;
    return ((size_t)1 << k) + (size_t)(sub + 1) * ((size_t)1 << (k - 2));
}

/* Class of len (1 <= len <= 32 KiB), alignment <= 16. */
static inline unsigned class_of_len(size_t len)
{
    if (len <= 128) return (unsigned)((len + 15) >> 4) - 1;
    unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)(len - 1));
    return 8 + (k - 7) * 4 + (unsigned)(((len - 1) >> (k - 2)) & 3);
}

/* Classes of lengths up to 1024 by (len + 15) / 16: one load on the hot path. */
#define SMALL_TABLE_MAX 1024
static const uint8_t small_class[SMALL_TABLE_MAX / 16 + 1] = {
    0,  0,  1,  2,  3,  4,  5,  6,  7,                      /* ..128 */
    8,  8,  9,  9,  10, 10, 11, 11,                         /* ..256 */
    12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15, /* ..512 */
    16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 17, 17, 17, /* ..768 */
    18, 18, 18, 18, 18, 18, 18, 18, 19, 19, 19, 19, 19, 19, 19, 19, /* ..1024 */
};

/* Class of a request, or -1 for the fallback. */
static inline int class_of(const alloc_slab *st, size_t len, size_t align)
{
    if (ALLOC_UNLIKELY(align > ALLOC_SLAB_CLASS_ALIGN)) {
        size_t need = len > align ? len : align; /* > 16 */
        if (need > st->limit) return -1;
        /* next power of two >= need: a power-of-two class, aligned to its size */
        size_t p2 = (size_t)1 << (64 - __builtin_clzll((unsigned long long)(need - 1)));
        if (p2 > st->limit) return -1;
        return (int)class_of_len(p2);
    }
    if (len > st->limit) return -1;
    return (int)class_of_len(len);
}

static inline alloc_slab_chunk *chunk_of(const void *p)
{
    return (alloc_slab_chunk *)((uintptr_t)p & ~(uintptr_t)(ALLOC_SLAB_BYTES - 1));
}

static size_t header_bytes(size_t slots)
{
    return sizeof(alloc_slab_chunk) + (ALLOC_DEBUG_CHECKS ? (slots / 64 + 1) * sizeof(uint64_t) : 0);
}

/* --- lists ------------------------------------------------------------------------ */

static void partial_push(alloc_slab_class *c, alloc_slab_chunk *s)
{
    s->prev = NULL;
    s->next = c->partial;
    if (c->partial) c->partial->prev = s;
    c->partial = s;
}

static void partial_remove(alloc_slab_class *c, alloc_slab_chunk *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->partial = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void release_chunk(alloc_slab *st, alloc_slab_chunk *s)
{
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        st->all = s->all_next;
    if (s->all_next) s->all_next->all_prev = s->all_prev;
    st->cls[s->cls].slabs--;
    alloc_stats_note_release(&st->stats, ALLOC_SLAB_BYTES);
    ALLOC_TRACE("slab release %p class %u", (void *)s, s->cls);
    ALLOC_TRACK_UNDEFINED(s, ALLOC_SLAB_BYTES);
    alloc_free_at(st->backing, s, ALLOC_SLAB_BYTES, ALLOC_SLAB_BYTES, 0);
}

static alloc_slab_chunk *new_chunk(alloc_slab *st, unsigned ci)
{
    alloc_slab_class *c = &st->cls[ci];
    void *mem = alloc_bytes_at(st->backing, ALLOC_SLAB_BYTES, ALLOC_SLAB_BYTES, 0);
    if (!mem) return NULL;
    ALLOC_CHECK(alloc_is_aligned(mem, ALLOC_SLAB_BYTES), "slab %p: backing allocator ignored the alignment", mem);
    alloc_slab_chunk *s = mem;
    ALLOC_TRACK_UNDEFINED(s, c->first);
    memset(s, 0, c->first);
    s->carve = (char *)mem + c->first;
    s->end = s->carve + (size_t)c->slots * c->size;
    s->owner = st;
    s->cls = ci;
    s->size = c->size;
    s->all_next = st->all;
    if (st->all) st->all->all_prev = s;
    st->all = s;
    c->slabs++;
    alloc_stats_note_reserve(&st->stats, ALLOC_SLAB_BYTES);
    ALLOC_TRACK_NOACCESS(s->carve, ALLOC_SLAB_BYTES - c->first);
    ALLOC_TRACE("slab new %p class %u size %u", (void *)s, ci, c->size);
    return s;
}

/* --- alloc -------------------------------------------------------------------------- */

static void *note_alloc(alloc_slab *st, alloc_slab_chunk *s, void *p, size_t len)
{
    s->live++;
    alloc_stats_note_alloc(&st->stats, len);
#if ALLOC_DEBUG_CHECKS
    size_t i = (size_t)((char *)p - ((char *)s + st->cls[s->cls].first)) / s->size;
    ALLOC_CHECK(!((s->bits[i / 64] >> (i % 64)) & 1u), "slab %p: free list holds live %p", (void *)s, p);
    s->bits[i / 64] |= (uint64_t)1 << (i % 64);
#endif
    alloc_slot_handed_out(st, p, len);
    return p;
}

/* The current slab has nothing free: carve, or switch slabs. */
static ALLOC_NOINLINE void *alloc_slow(alloc_slab *st, unsigned ci, size_t len)
{
    alloc_slab_class *c = &st->cls[ci];
    alloc_slab_chunk *s = c->current;
    if (s->carve == s->end) {
        alloc_slab_chunk *full = s;
        if (c->partial) {
            s = c->partial;
            partial_remove(c, s);
        } else if (c->empty) {
            s = c->empty;
            c->empty = NULL;
        } else {
            s = new_chunk(st, ci);
            if (!s) {
                /* nothing changed: the full slab stays current */
                alloc_stats_note_failed(&st->stats);
                return NULL;
            }
        }
        if (full != &no_slab) full->listed = 0; /* it rejoins a list on its first free */
        s->listed = 1;
        c->current = s;
        void *p = s->free;
        if (p) {
            s->free = alloc_link_read(p);
            ALLOC_TRACK_NOACCESS(p, sizeof(void *));
            return note_alloc(st, s, p, len);
        }
    }
    void *p = s->carve;
    s->carve += s->size;
    return note_alloc(st, s, p, len);
}

static ALLOC_NOINLINE void *alloc_large(alloc_slab *st, size_t len, size_t align, uintptr_t ret_addr)
{
    void *p = st->fallback.vtable->alloc(st->fallback.ctx, len, align, ret_addr);
    if (!p) {
        alloc_stats_note_failed(&st->stats);
        return NULL;
    }
    st->large_live++;
    alloc_stats_note_alloc(&st->stats, len);
    alloc_stats_note_reserve(&st->stats, len);
    return p;
}

/* Requests outside the table's range: any class, or the fallback. */
static ALLOC_NOINLINE void *alloc_general(alloc_slab *st, size_t len, size_t align, uintptr_t ret_addr)
{
    int ci = class_of(st, len, align);
    if (ci < 0) return alloc_large(st, len, align, ret_addr);
    alloc_slab_chunk *s = st->cls[ci].current;
    void *p = s->free;
    if (p) {
        s->free = alloc_link_read(p);
        ALLOC_TRACK_NOACCESS(p, sizeof(void *));
        return note_alloc(st, s, p, len);
    }
    return alloc_slow(st, (unsigned)ci, len);
}

static void *slab_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_slab *st = ctx;
    if (ALLOC_UNLIKELY(len > st->small_max || align > ALLOC_SLAB_CLASS_ALIGN))
        return alloc_general(st, len, align, ret_addr);
    unsigned ci = small_class[(len + 15) >> 4];
    alloc_slab_chunk *s = st->cls[ci].current;
    void *p = s->free;
#if !SLAB_CHECKED
    if (ALLOC_LIKELY(p != NULL)) {
        s->free = *(void **)p;
        s->live++;
        alloc_stats_note_alloc(&st->stats, len);
        return p;
    }
#else
    if (p) {
        s->free = alloc_link_read(p);
        ALLOC_TRACK_NOACCESS(p, sizeof(void *));
        return note_alloc(st, s, p, len);
    }
#endif
    return alloc_slow(st, ci, len);
}

/* --- free ----------------------------------------------------------------------------- */

#if ALLOC_DEBUG_CHECKS
/* Reports misuse unless p is a live object of st. */
static bool verify_live(alloc_slab *st, const void *p, const char *op, uintptr_t ret_addr)
{
    alloc_slab_chunk *s = chunk_of(p);
    const char *what = NULL;
    alloc_slab_chunk *t = st->all;
    while (t && t != s) t = t->all_next;
    if (!t) {
        what = "not an object of this allocator";
    } else {
        uintptr_t first = (uintptr_t)s + st->cls[s->cls].first;
        uintptr_t a = (uintptr_t)p;
        if (a < first || a >= (uintptr_t)s->end || (a - first) % s->size) {
            what = "not the start of an object of this allocator";
        } else {
            size_t i = (a - first) / s->size;
            if ((s->bits[i / 64] >> (i % 64)) & 1u) return true;
            what = "not allocated (already freed, or never handed out)";
        }
    }
    alloc_report_misuse_from(ret_addr, "slab %p: %s of %p, which is %s", (void *)st, op, p, what);
    alloc_stats_note_misuse(&st->stats);
    return false;
}
#endif

/* A free into a slab that was full (unlisted) or became empty. */
static ALLOC_NOINLINE void free_slow(alloc_slab *st, alloc_slab_chunk *s)
{
    alloc_slab_class *c = &st->cls[s->cls];
    if (s == c->current) return;
    if (!s->listed) {
        /* was full: it has a free slot now */
        s->listed = 1;
        if (s->live) {
            partial_push(c, s);
            return;
        }
    } else if (s->live == 0) {
        partial_remove(c, s);
    } else {
        return;
    }
    /* s is empty and not current */
    if (!c->empty) {
        c->empty = s;
        return;
    }
    release_chunk(st, s);
}

static ALLOC_NOINLINE void free_large(alloc_slab *st, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    st->fallback.vtable->free(st->fallback.ctx, mem, len, align, ret_addr);
    st->large_live--;
    alloc_stats_note_free(&st->stats, len);
    alloc_stats_note_release(&st->stats, len);
}

static void slab_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_slab *st = ctx;
    if (ALLOC_UNLIKELY((len > st->small_max || align > ALLOC_SLAB_CLASS_ALIGN) && class_of(st, len, align) < 0)) {
        free_large(st, mem, len, align, ret_addr);
        return;
    }
#if ALLOC_DEBUG_CHECKS
    if (!verify_live(st, mem, "free", ret_addr)) return;
#endif
    alloc_slab_chunk *s = chunk_of(mem);
#if SLAB_CHECKED
    ALLOC_TRACK_POOL_FREE(st, mem);
    ALLOC_TRACK_UNDEFINED(mem, s->size);
#if ALLOC_DEBUG_CHECKS
    memset(mem, ALLOC_FILL_FREED, s->size);
    size_t i = (size_t)((char *)mem - ((char *)s + st->cls[s->cls].first)) / s->size;
    s->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
#endif
#endif
    *(void **)mem = s->free;
    s->free = mem;
    ALLOC_TRACK_NOACCESS(mem, s->size);
    alloc_stats_note_free(&st->stats, len);
    if (ALLOC_UNLIKELY(--s->live == 0 || !s->listed)) free_slow(st, s);
}

/* --- resize and remap -------------------------------------------------------------------- */

/* In place: true iff done. */
static bool change_in_place(alloc_slab *st, void *mem, size_t len, size_t align, size_t new_len, int old_c,
                            int new_c, uintptr_t ret_addr)
{
    if (old_c >= 0 && new_c >= 0) {
        alloc_slab_chunk *s = chunk_of(mem);
        if (new_len > s->size) return false;
        alloc_slot_resized(st, mem, len, new_len, s->size);
        return true;
    }
    if (old_c < 0 && new_c < 0 &&
        st->fallback.vtable->resize(st->fallback.ctx, mem, len, align, new_len, ret_addr)) {
        alloc_stats_note_release(&st->stats, len);
        alloc_stats_note_reserve(&st->stats, new_len);
        return true;
    }
    return false;
}

static bool slab_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_slab *st = ctx;
    int old_c = class_of(st, len, align), new_c = class_of(st, new_len, align);
#if ALLOC_DEBUG_CHECKS
    if (old_c >= 0 && !verify_live(st, mem, "resize", ret_addr)) return false;
#endif
    if (!change_in_place(st, mem, len, align, new_len, old_c, new_c, ret_addr)) return false;
    alloc_stats_note_resize(&st->stats, len, new_len, true);
    return true;
}

static void *slab_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_slab *st = ctx;
    int old_c = class_of(st, len, align), new_c = class_of(st, new_len, align);
#if ALLOC_DEBUG_CHECKS
    if (old_c >= 0 && !verify_live(st, mem, "remap", ret_addr)) return NULL;
#endif
    if (change_in_place(st, mem, len, align, new_len, old_c, new_c, ret_addr)) {
        alloc_stats_note_resize(&st->stats, len, new_len, false);
        return mem;
    }
    if (old_c < 0 && new_c < 0) {
        void *moved = st->fallback.vtable->remap(st->fallback.ctx, mem, len, align, new_len, ret_addr);
        if (moved) {
            alloc_stats_note_resize(&st->stats, len, new_len, false);
            alloc_stats_note_release(&st->stats, len);
            alloc_stats_note_reserve(&st->stats, new_len);
            return moved;
        }
    }
    /* another class, or across the limit: move the bytes ourselves */
    void *fresh = slab_alloc(st, new_len, align, ret_addr);
    if (!fresh) return NULL; /* counted as failed by the alloc */
    memcpy(fresh, mem, len < new_len ? len : new_len);
    /* the pair below counts as one remap, not an alloc and a free */
    slab_free(st, mem, len, align, ret_addr);
    st->stats.alloc_count--;
    st->stats.free_count--;
    st->stats.remap_count++;
    return fresh;
}

ALLOC_CHECKED_VTABLE(slab_vtable, slab_alloc, slab_resize, slab_remap, slab_free, alloc_slab_check);

allocator alloc_slab_allocator(alloc_slab *state) { return (allocator){state, &slab_vtable}; }

/* --- lifecycle and queries -------------------------------------------------------------------- */

int alloc_slab_init(alloc_slab *st, const alloc_slab_config *config)
{
    alloc_slab_config def = {0};
    if (!config) config = &def;
    size_t limit = config->limit ? config->limit : ALLOC_SLAB_MAX_LIMIT;
    if (limit < 16 || limit > ALLOC_SLAB_MAX_LIMIT) return -EINVAL;
    memset(st, 0, sizeof *st);
    unsigned n = 0;
    while (n < ALLOC_SLAB_CLASSES && class_size(n) <= limit) n++;
    st->nclasses = n;
    st->limit = class_size(n - 1);
    st->small_max = st->limit < SMALL_TABLE_MAX ? st->limit : SMALL_TABLE_MAX;
    for (unsigned i = 0; i < ALLOC_SLAB_CLASSES; i++) {
        alloc_slab_class *c = &st->cls[i];
        size_t size = class_size(i);
        size_t hb = header_bytes(ALLOC_SLAB_BYTES / size);
        size_t align = alloc_is_pow2(size) ? size : 16;
        size_t first = alloc_align_up(hb, align);
        c->current = &no_slab;
        c->size = (uint32_t)size;
        c->first = (uint32_t)first;
        c->slots = (uint32_t)((ALLOC_SLAB_BYTES - first) / size);
    }
    st->backing = config->backing.vtable ? config->backing : alloc_page_allocator();
    st->fallback = config->fallback.vtable ? config->fallback : alloc_page_allocator();
    ALLOC_TRACK_POOL_CREATE(st);
    return 0;
}

void alloc_slab_deinit(alloc_slab *st)
{
#if ALLOC_DEBUG_CHECKS
    if (st->large_live)
        alloc_report_misuse("slab %p: deinit with %zu large blocks still live (leaked to the fallback)",
                            (void *)st, st->large_live);
#endif
    while (st->all) release_chunk(st, st->all);
    ALLOC_TRACK_POOL_DESTROY(st);
    memset(st, 0, sizeof *st);
}

int alloc_slab_class_of(const alloc_slab *st, size_t len, size_t align)
{
    if (len == 0 || !alloc_is_pow2(align)) return -1;
    return class_of(st, len, align);
}

size_t alloc_slab_class_size(int c)
{
    return c >= 0 && c < ALLOC_SLAB_CLASSES ? class_size((unsigned)c) : 0;
}

size_t alloc_slab_block_size(const void *p) { return chunk_of(p)->size; }

bool alloc_slab_owns(const alloc_slab *st, const void *p)
{
    const alloc_slab_chunk *s = chunk_of(p);
    for (const alloc_slab_chunk *t = st->all; t; t = t->all_next)
        if (t == s) return (const char *)p >= (const char *)s + st->cls[s->cls].first && (const char *)p < s->end;
    return false;
}

size_t alloc_slab_trim(alloc_slab *st)
{
    size_t n = 0;
    for (unsigned i = 0; i < ALLOC_SLAB_CLASSES; i++) {
        alloc_slab_class *c = &st->cls[i];
        if (c->empty) {
            alloc_slab_chunk *s = c->empty;
            c->empty = NULL;
            release_chunk(st, s);
            n += ALLOC_SLAB_BYTES;
        }
    }
    return n;
}

static bool check_chunk(const alloc_slab *st, const alloc_slab_chunk *s)
{
    const alloc_slab_class *c = &st->cls[s->cls];
    if (s->owner != st || s->cls >= st->nclasses || s->size != c->size) return false;
    char *first = (char *)s + c->first;
    if (s->end != first + (size_t)c->slots * c->size || s->carve < first || s->carve > s->end ||
        (size_t)(s->carve - first) % c->size)
        return false;
    size_t carved = (size_t)(s->carve - first) / c->size, n = 0;
    for (const void *p = s->free; p; p = alloc_link_read(p)) {
        if (++n > carved) return false;
        if ((const char *)p < first || (const char *)p >= s->carve || (size_t)((const char *)p - first) % c->size)
            return false;
#if ALLOC_DEBUG_CHECKS
        size_t i = (size_t)((const char *)p - first) / c->size;
        if ((s->bits[i / 64] >> (i % 64)) & 1u) return false;
#endif
    }
    if (n + s->live != carved) return false;
#if ALLOC_DEBUG_CHECKS
    size_t marked = 0;
    for (size_t w = 0; w <= c->slots / 64; w++) marked += (size_t)__builtin_popcountll(s->bits[w]);
    if (marked != s->live) return false;
#endif
    return true;
}

bool alloc_slab_check(const alloc_slab *st)
{
    size_t slabs = 0, live = 0;
    for (const alloc_slab_chunk *s = st->all; s; s = s->all_next) {
        if (!check_chunk(st, s)) return false;
        if (s->all_next && s->all_next->all_prev != s) return false;
        slabs++;
        live += s->live;
    }
    size_t per_class = 0;
    for (unsigned i = 0; i < ALLOC_SLAB_CLASSES; i++) {
        const alloc_slab_class *c = &st->cls[i];
        per_class += c->slabs;
        if (i >= st->nclasses && (c->slabs || c->current != &no_slab)) return false;
        if (c->current != &no_slab && (c->current->cls != i || !c->current->listed)) return false;
        if (c->empty && (c->empty->live || !c->empty->listed || c->empty->cls != i)) return false;
        for (const alloc_slab_chunk *s = c->partial; s; s = s->next) {
            if (s->cls != i || !s->listed || s == c->current || s->live == 0) return false;
            if (s->next && s->next->prev != s) return false;
        }
    }
    if (per_class != slabs) return false;
    if (st->stats.bytes_reserved < slabs * ALLOC_SLAB_BYTES) return false;
    (void)live;
    return alloc_stats_consistent(&st->stats);
}

void alloc_slab_stats(const alloc_slab *st, alloc_stats *out) { *out = st->stats; }
