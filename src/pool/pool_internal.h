/*
 * pool_internal.h: what the single-threaded and the thread-safe pool share:
 * the slab header, slab geometry, configuration defaults and the accessors
 * for a free slot's link word (which sanitizers must be told about).
 */
#ifndef ALLOC_POOL_INTERNAL_H
#define ALLOC_POOL_INTERNAL_H

#include <errno.h>
#include <string.h>

#include "../core/internal.h"
#include "alloc/page.h"
#include "alloc/pool.h"

/* Checked builds keep their free list away from the inline fast path, check
 * every free (debug) and tell sanitizers about every slot (tracking). */
#define POOL_CHECKED (ALLOC_DEBUG_CHECKS || ALLOC_TRACK_ENABLED)
/* Debug builds keep one "live" bit per slot in the slab header. */
#define POOL_BITS ALLOC_DEBUG_CHECKS

/*
 * A slab: [header | debug bits | padding | slot 0 | slot 1 | ... | slack].
 * The header sits at the start of the memory the backing allocator gave (or
 * at the start of the caller's buffer, rounded up to 8).
 */
struct alloc_pool_slab {
    alloc_pool_slab *next; /* next slab in the pool's list */
    char *first;           /* slot 0 */
    size_t slots;          /* number of slots */
    size_t bytes;          /* length asked of the backing allocator (buffer: buffer length) */
    void *base;            /* address the backing allocator returned (buffer: the buffer) */
    size_t align;          /* alignment asked of the backing allocator */
    _Atomic uint64_t bits[]; /* POOL_BITS: bit i set = slot i is live (atomic for pool_mt's frees) */
};

_Static_assert(sizeof(struct alloc_pool_slab) == 6 * sizeof(void *), "slab header layout");

#define POOL_DEFAULT_SLAB ((size_t)4096)
#define POOL_DEFAULT_MAX_SLAB ((size_t)256 << 10)
#define POOL_DEFAULT_MIN_OBJECTS 8
#define POOL_DEFAULT_ALIGN ((size_t)_Alignof(max_align_t))

/* Header bytes (with bits for up to max_slots slots), or 0 on overflow. */
static inline size_t pool_header_bytes(size_t max_slots)
{
    size_t words = POOL_BITS ? max_slots / 64 + 1 : 0;
    size_t bits;
    if (alloc_mul_overflows(words, sizeof(uint64_t), &bits)) return 0;
    if (bits > SIZE_MAX - sizeof(struct alloc_pool_slab)) return 0;
    return sizeof(struct alloc_pool_slab) + bits;
}

/*
 * Lays out a slab over [mem, mem + bytes): header at mem rounded up to 8, slots
 * from the first multiple of align after the header. Returns the header, or
 * NULL if not even one slot fits.
 */
static inline alloc_pool_slab *pool_slab_layout(void *mem, size_t bytes, size_t stride, size_t align)
{
    uintptr_t start = (uintptr_t)mem, end = start + bytes;
    if (end < start) return NULL;
    uintptr_t hdr = (start + 7) & ~(uintptr_t)7;
    size_t hb = pool_header_bytes(bytes / stride);
    if (hb == 0 || hdr > end || end - hdr < hb) return NULL;
    uintptr_t first = hdr + hb;
    if (first > UINTPTR_MAX - (align - 1)) return NULL;
    first = (first + align - 1) & ~(uintptr_t)(align - 1);
    if (first > end || end - first < stride) return NULL;
    alloc_pool_slab *s = (alloc_pool_slab *)hdr;
    ALLOC_TRACK_UNDEFINED(s, hb);
    s->next = NULL;
    s->first = (char *)first;
    s->slots = (end - first) / stride;
    s->bytes = bytes;
    s->base = mem;
    s->align = align;
    if (POOL_BITS) memset(s->bits, 0, hb - sizeof *s);
    /* Nothing in the slot area is handed out yet. */
    ALLOC_TRACK_NOACCESS(s->first, s->slots * stride);
    return s;
}

/* Smallest slab (from an allocator aligned to align) holding min_objects slots. 0 on overflow. */
static inline size_t pool_slab_bytes_for(size_t stride, size_t align, size_t min_objects)
{
    size_t slots_bytes;
    if (alloc_mul_overflows(stride, min_objects, &slots_bytes)) return 0;
    size_t hb = pool_header_bytes(min_objects);
    if (hb == 0 || hb > SIZE_MAX - (align - 1)) return 0;
    size_t head = alloc_align_up(hb, align);
    if (slots_bytes > SIZE_MAX - head) return 0;
    return head + slots_bytes;
}

/* The resolved configuration both pools keep. */
typedef struct pool_geometry {
    size_t obj_size, obj_align, stride, slab_align;
    size_t first_slab, max_slab;
    allocator backing;
} pool_geometry;

/* Validates a config and computes slot size, alignments and slab sizes. 0 or -EINVAL. */
static inline int pool_resolve(const alloc_pool_config *c, pool_geometry *g)
{
    if (!c || c->obj_size == 0 || c->obj_size > ALLOC_MAX_LEN) return -EINVAL;
    size_t align = c->obj_align ? c->obj_align : POOL_DEFAULT_ALIGN;
    if (!alloc_is_pow2(align) || align > ALLOC_MAX_LEN / 2) return -EINVAL;
    size_t unit = align < sizeof(void *) ? sizeof(void *) : align;
    if (c->obj_size > SIZE_MAX - (unit - 1)) return -EINVAL;
    g->obj_size = c->obj_size;
    g->obj_align = align;
    g->stride = alloc_align_up(c->obj_size, unit);
    g->slab_align = unit;
    size_t min_slab = pool_slab_bytes_for(g->stride, unit, 1);
    size_t def_slab = pool_slab_bytes_for(g->stride, unit, POOL_DEFAULT_MIN_OBJECTS);
    if (min_slab == 0 || def_slab == 0) return -EINVAL;
    if (def_slab < POOL_DEFAULT_SLAB) def_slab = POOL_DEFAULT_SLAB;
    g->first_slab = c->slab_bytes ? c->slab_bytes : def_slab;
    if (g->first_slab < min_slab) return -EINVAL;
    if (c->max_slab_bytes) {
        if (c->max_slab_bytes < g->first_slab) return -EINVAL;
        g->max_slab = c->max_slab_bytes;
    } else {
        g->max_slab = g->first_slab > POOL_DEFAULT_MAX_SLAB ? g->first_slab : POOL_DEFAULT_MAX_SLAB;
    }
    g->backing = c->backing.vtable ? c->backing : alloc_page_allocator();
    return 0;
}

/* The size of the slab after one of size cur. */
static inline size_t pool_next_slab(size_t cur, size_t max)
{
    return cur > max / 2 ? max : cur * 2;
}

/* Index of p's slot in s, or SIZE_MAX if p is not the start of one of s's slots. */
static inline size_t pool_slot_index(const alloc_pool_slab *s, const void *p, size_t stride)
{
    uintptr_t a = (uintptr_t)p, f = (uintptr_t)s->first;
    if (a < f) return SIZE_MAX;
    uintptr_t off = a - f;
    if (off / stride >= s->slots || off % stride != 0) return SIZE_MAX;
    return (size_t)(off / stride);
}

/* The slab of the list starting at first (linked by next) that has a slot
 * starting at p, with that slot's index in *index; NULL if none has.
 * O(slabs in the list). */
static inline alloc_pool_slab *pool_slab_find(alloc_pool_slab *first, const void *p, size_t stride, size_t *index)
{
    for (alloc_pool_slab *s = first; s; s = s->next) {
        size_t i = pool_slot_index(s, p, stride);
        if (i != SIZE_MAX) {
            *index = i;
            return s;
        }
    }
    return NULL;
}

#endif /* ALLOC_POOL_INTERNAL_H */
