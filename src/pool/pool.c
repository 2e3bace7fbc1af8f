/*
 * pool.c: the fixed-size object pool (single-threaded).
 *
 * Algorithm. Every object has the same slot size (the object size rounded up
 * to its alignment and to a pointer). A free slot's first word links it to the
 * next free slot, so the free list costs no memory beyond the slots
 * themselves, and alloc/free are a pop/push at its head: O(1), no loop, no
 * division. Slots are carved lazily from the newest slab (a bump pointer),
 * so a fresh slab is never touched before it is needed, and the free list
 * only ever holds slots that were handed out at least once. Slabs come from a
 * backing allocator, each twice the size of the one before up to a cap, so a
 * pool of n objects has O(log n) slabs below the cap; or from one caller
 * buffer, which the pool never outgrows.
 *
 * A useful consequence of lazy carving: a slot is carved only when every
 * carved slot is live, so the number of slots carved since the last reset is
 * exactly the peak number of live objects since then. The peak statistic
 * therefore costs nothing on the hot path, which only increments one counter
 * per operation (alloc_count on alloc, free_count on free).
 *
 * Metadata layout. The state (alloc_pool) holds the free-list head, the carve
 * range and two slab lists: carved slabs (the one being carved first) and
 * spare slabs (taken by preheat or emptied by reset, not carved yet). Each
 * slab starts with a 48-byte header (next, first slot, slot count, length,
 * base, alignment); debug builds append one bit per slot, set while the slot
 * is live, so that double and foreign frees are caught (the slab is found by
 * walking the slab list: O(slabs), debug only).
 *
 * Checked builds (debug, or ASan/Valgrind tracking) keep the free list in
 * checked_head and leave free_head NULL, so the inline alloc_pool_get of
 * pool.h always falls through to the checked slow path; alloc_pool_put reads
 * the `checked` flag. Release builds run the three-instruction pop/push.
 *
 * Sanitizers: every byte of a slab that is not handed out is poisoned (ASan)
 * and no-access (Valgrind); a handed-out object is unpoisoned for exactly its
 * requested length; Valgrind sees each object as a mempool chunk of the pool.
 *
 * Bounds: alloc, free, resize, remap O(1) (debug: O(slabs)); preheat
 * O(slabs taken); reset O(slabs) (debug: O(slots)); trim O(free x slabs);
 * check O(slots). Space: slot rounding plus one header per slab.
 */
#include "pool_internal.h"

#include "../core/trace.h"

/* --- slabs ---------------------------------------------------------------- */

static size_t carved_in(const alloc_pool *pool, const alloc_pool_slab *s)
{
    if (s == pool->slabs && pool->carve_end == s->first + s->slots * pool->stride)
        return (size_t)(pool->carve - s->first) / pool->stride;
    return s->slots;
}

/* Alignment asked of the backing allocator: slot 0 must be object-aligned. */
static size_t slab_align(const alloc_pool *pool)
{
    return pool->obj_align < sizeof(void *) ? sizeof(void *) : pool->obj_align;
}

/* Makes the next slab (a spare one, else a new one) the one being carved. */
static bool next_slab(alloc_pool *pool)
{
    alloc_pool_slab *s = pool->spare;
    if (s) {
        pool->spare = s->next;
    } else {
        if (pool->fixed) return false;
        size_t bytes = pool->next_slab_bytes;
        size_t align = slab_align(pool);
        void *mem = alloc_bytes_at(pool->backing, bytes, align, 0);
        if (!mem) return false;
        s = pool_slab_layout(mem, bytes, pool->stride, align);
        ALLOC_CHECK(s != NULL, "pool %p: slab of %zu bytes holds no object", (void *)pool, bytes);
        alloc_stats_note_reserve(&pool->cold, bytes);
        pool->next_slab_bytes = pool_next_slab(bytes, pool->max_slab_bytes);
        ALLOC_TRACE("pool slab %p bytes %zu slots %zu", (void *)s, bytes, s->slots);
    }
    s->next = pool->slabs;
    pool->slabs = s;
    pool->carve = s->first;
    pool->carve_end = s->first + s->slots * pool->stride;
    return true;
}

/* A never-used slot, or NULL if no slab can be had. */
static void *take_fresh(alloc_pool *pool)
{
    if (pool->carve == pool->carve_end && !next_slab(pool)) return NULL;
    void *obj = pool->carve;
    pool->carve += pool->stride;
    pool->carved++;
    return obj;
}

static void release_slab(alloc_pool *pool, alloc_pool_slab *s)
{
    size_t bytes = s->bytes, align = s->align;
    void *base = s->base;
    alloc_stats_note_release(&pool->cold, bytes);
    ALLOC_TRACK_UNDEFINED(base, bytes); /* the backing allocator owns it again */
    alloc_free_at(pool->backing, base, bytes, align, 0);
}

#if POOL_BITS
static alloc_pool_slab *find_slab(const alloc_pool *pool, const void *p, size_t *index)
{
    alloc_pool_slab *s = pool_slab_find(pool->slabs, p, pool->stride, index);
    return s ? s : pool_slab_find(pool->spare, p, pool->stride, index);
}

/* The live bits are atomic for pool_mt's sake (the slab header is shared);
 * one thread owns this pool, so relaxed loads and stores suffice (plain
 * moves, no locked read-modify-write). */
static bool bit_get(const alloc_pool_slab *s, size_t i)
{
    return (atomic_load_explicit(&s->bits[i / 64], memory_order_relaxed) >> (i % 64)) & 1u;
}
static void bit_set(alloc_pool_slab *s, size_t i, bool on)
{
    uint64_t w = atomic_load_explicit(&s->bits[i / 64], memory_order_relaxed), bit = (uint64_t)1 << (i % 64);
    atomic_store_explicit(&s->bits[i / 64], on ? w | bit : w & ~bit, memory_order_relaxed);
}

/* Reports misuse of obj by op unless it is a live object of pool. true = live. */
static bool verify_live(alloc_pool *pool, const void *obj, const char *op, uintptr_t ret_addr)
{
    size_t i;
    alloc_pool_slab *s = find_slab(pool, obj, &i);
    if (s && bit_get(s, i)) return true;
    alloc_report_misuse_from(ret_addr, "pool %p: %s of %p, which is %s", (void *)pool, op, obj,
                             s ? "not allocated (already freed, or never handed out)" : "not an object of this pool");
    alloc_stats_note_misuse(&pool->cold);
    return false;
}
#endif

/* --- checked alloc and free ---------------------------------------------------- */

#if POOL_CHECKED
static void *get_checked(alloc_pool *pool, size_t len, uintptr_t ret_addr)
{
    (void)ret_addr;
    void *obj = pool->checked_head;
    if (obj) {
        pool->checked_head = alloc_link_read(obj);
        ALLOC_TRACK_NOACCESS(obj, sizeof(void *));
    } else {
        obj = take_fresh(pool);
        if (!obj) {
            alloc_stats_note_failed(&pool->cold);
            return NULL;
        }
    }
#if POOL_BITS
    size_t i;
    alloc_pool_slab *s = find_slab(pool, obj, &i);
    ALLOC_CHECK(s != NULL && !bit_get(s, i), "pool %p: free list holds %p, which is live or foreign",
                (void *)pool, obj);
    bit_set(s, i, true);
#endif
    pool->alloc_count++;
    alloc_slot_handed_out(pool, obj, len);
    return obj;
}

#endif

static void put_checked(alloc_pool *pool, void *obj, uintptr_t ret_addr)
{
    (void)ret_addr;
#if POOL_BITS
    if (!verify_live(pool, obj, "free", ret_addr)) return;
    size_t i;
    alloc_pool_slab *s = find_slab(pool, obj, &i);
    bit_set(s, i, false);
#endif
    ALLOC_TRACK_POOL_FREE(pool, obj);
    ALLOC_TRACK_UNDEFINED(obj, pool->stride);
#if ALLOC_DEBUG_CHECKS
    memset(obj, ALLOC_FILL_FREED, pool->stride);
#endif
    *(void **)obj = pool->checked_head;
    pool->checked_head = obj;
    ALLOC_TRACK_NOACCESS(obj, pool->stride);
    pool->free_count++;
}

/* --- out-of-line halves of the inline fast path ----------------------------- */

void *alloc_pool_get_slow(alloc_pool *pool, uintptr_t ret_addr)
{
#if POOL_CHECKED
    return get_checked(pool, pool->obj_size, ret_addr);
#else
    (void)ret_addr;
    void *obj = take_fresh(pool);
    if (ALLOC_UNLIKELY(!obj)) {
        alloc_stats_note_failed(&pool->cold);
        return NULL;
    }
    pool->alloc_count++;
    return obj;
#endif
}

void alloc_pool_put_checked(alloc_pool *pool, void *obj, uintptr_t ret_addr)
{
    put_checked(pool, obj, ret_addr);
}

/* --- the vtable ------------------------------------------------------------- */

static ALLOC_NOINLINE void *refuse(alloc_pool *pool)
{
    alloc_stats_note_failed(&pool->cold);
    return NULL;
}

/* A request larger or more aligned than the pool's objects fails now and
 * always will: usually a composition mistake (an arena or a free list whose
 * chunks or regions are larger than the pool they come from). Debug builds say
 * so, then return NULL as the contract asks; release builds only count it. */
static ALLOC_NOINLINE void *refuse_never(alloc_pool *pool, size_t len, size_t align, uintptr_t ret_addr)
{
    if (ALLOC_DEBUG_CHECKS) {
        char site[ALLOC_SITE_BUF];
        alloc_report_note("pool %p: a request of %zu bytes (align %zu) can never be served: its objects are "
                          "%zu bytes (align %zu); returning NULL (requested at %s)",
                          (void *)pool, len, align, pool->obj_size, pool->obj_align,
                          alloc_describe_addr(ret_addr, site, sizeof site));
    }
    return refuse(pool);
}

static void *pool_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_pool *pool = ctx;
    if (ALLOC_UNLIKELY(len > pool->obj_size || align > pool->obj_align))
        return refuse_never(pool, len, align, ret_addr);
#if POOL_CHECKED
    return get_checked(pool, len, ret_addr);
#else
    void *obj = pool->free_head;
    if (ALLOC_LIKELY(obj != NULL)) {
        pool->free_head = *(void **)obj;
        pool->alloc_count++;
        return obj;
    }
    return alloc_pool_get_slow(pool, ret_addr);
#endif
}

static void pool_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_pool *pool = ctx;
    (void)len, (void)align;
#if POOL_CHECKED
    put_checked(pool, mem, ret_addr);
#else
    (void)ret_addr;
    *(void **)mem = pool->free_head;
    pool->free_head = mem;
    pool->free_count++;
#endif
}

/* Changes mem's length within its slot. */
static bool change(alloc_pool *pool, void *mem, size_t len, size_t new_len, const char *op, uintptr_t ret_addr)
{
    (void)op, (void)ret_addr, (void)len;
#if POOL_BITS
    if (!verify_live(pool, mem, op, ret_addr)) return false;
#endif
    if (new_len > pool->obj_size) return false;
    alloc_slot_resized(pool, mem, len, new_len, pool->stride);
    return true;
}

static bool pool_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_pool *pool = ctx;
    (void)align;
    if (!change(pool, mem, len, new_len, "resize", ret_addr)) return false;
    pool->cold.resize_count++;
    return true;
}

static void *pool_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_pool *pool = ctx;
    (void)align;
    if (!change(pool, mem, len, new_len, "remap", ret_addr)) {
        alloc_stats_note_failed(&pool->cold);
        return NULL;
    }
    pool->cold.remap_count++;
    return mem;
}

ALLOC_CHECKED_VTABLE(pool_vtable, pool_alloc, pool_resize, pool_remap, pool_free, alloc_pool_check);

allocator alloc_pool_allocator(alloc_pool *pool) { return (allocator){pool, &pool_vtable}; }

/* --- lifecycle ----------------------------------------------------------------- */

static void init_common(alloc_pool *pool, const pool_geometry *g)
{
    memset(pool, 0, sizeof *pool);
    pool->checked = POOL_CHECKED;
    pool->obj_size = g->obj_size;
    pool->obj_align = g->obj_align;
    pool->stride = g->stride;
    pool->backing = g->backing;
    pool->next_slab_bytes = g->first_slab;
    pool->max_slab_bytes = g->max_slab;
    ALLOC_TRACK_POOL_CREATE(pool);
}

int alloc_pool_init(alloc_pool *pool, const alloc_pool_config *config)
{
    pool_geometry g;
    int rc = pool_resolve(config, &g);
    if (rc) return rc;
    init_common(pool, &g);
    return 0;
}

int alloc_pool_init_buffer(alloc_pool *pool, void *buf, size_t buf_bytes, size_t obj_size, size_t obj_align)
{
    if (!buf) return -EINVAL;
    alloc_pool_config c = {.obj_size = obj_size, .obj_align = obj_align};
    pool_geometry g;
    int rc = pool_resolve(&c, &g);
    if (rc) return rc;
    size_t unit = g.obj_align < sizeof(void *) ? sizeof(void *) : g.obj_align;
    alloc_pool_slab *s = pool_slab_layout(buf, buf_bytes, g.stride, unit);
    if (!s) return -ENOMEM;
    init_common(pool, &g);
    pool->fixed = 1;
    pool->spare = s;
    alloc_stats_note_reserve(&pool->cold, buf_bytes);
    return 0;
}

size_t alloc_pool_buffer_bytes(size_t obj_size, size_t obj_align, size_t count)
{
    alloc_pool_config c = {.obj_size = obj_size, .obj_align = obj_align};
    pool_geometry g;
    if (pool_resolve(&c, &g) != 0 || count == 0) return 0;
    size_t slots, hb = pool_header_bytes(count);
    if (hb == 0 || alloc_mul_overflows(count, g.stride, &slots)) return 0;
    /* worst case: 7 bytes to align the header, align - 1 to align slot 0 */
    size_t extra = 7 + hb + (g.slab_align - 1);
    if (extra < hb || slots > SIZE_MAX - extra) return 0;
    size_t total = slots + extra;
    /* a larger buffer has more bits in its header: make sure the result holds count */
    size_t hb2 = pool_header_bytes(total / g.stride);
    if (hb2 > hb) {
        if (total > SIZE_MAX - (hb2 - hb)) return 0;
        total += hb2 - hb;
    }
    return total;
}

void alloc_pool_deinit(alloc_pool *pool)
{
    alloc_pool_slab *lists[2] = {pool->slabs, pool->spare};
    for (int l = 0; l < 2; l++) {
        alloc_pool_slab *s = lists[l];
        while (s) {
            alloc_pool_slab *next = s->next;
            if (pool->fixed)
                ALLOC_TRACK_UNDEFINED(s->base, s->bytes); /* the caller's buffer again */
            else
                release_slab(pool, s);
            s = next;
        }
    }
    ALLOC_TRACK_POOL_DESTROY(pool);
    memset(pool, 0, sizeof *pool);
}

int alloc_pool_preheat(alloc_pool *pool, size_t count)
{
    size_t have = alloc_pool_capacity_left(pool);
    while (have < count) {
        if (pool->fixed) return -ENOMEM;
        size_t bytes = pool->next_slab_bytes;
        size_t align = slab_align(pool);
        void *mem = alloc_bytes_at(pool->backing, bytes, align, 0);
        if (!mem) return -ENOMEM;
        alloc_pool_slab *s = pool_slab_layout(mem, bytes, pool->stride, align);
        ALLOC_CHECK(s != NULL, "pool %p: slab of %zu bytes holds no object", (void *)pool, bytes);
        alloc_stats_note_reserve(&pool->cold, bytes);
        pool->next_slab_bytes = pool_next_slab(bytes, pool->max_slab_bytes);
        /* appended, so slabs are carved in the order they were taken */
        alloc_pool_slab **tail = &pool->spare;
        while (*tail) tail = &(*tail)->next;
        *tail = s;
        have += s->slots;
    }
    return 0;
}

size_t alloc_pool_capacity_left(const alloc_pool *pool)
{
    size_t live = (size_t)(pool->alloc_count - pool->free_count - pool->forgotten);
    size_t n = pool->carved - live; /* on the free list */
    n += (size_t)(pool->carve_end - pool->carve) / pool->stride;
    for (const alloc_pool_slab *s = pool->spare; s; s = s->next) n += s->slots;
    return n;
}

void alloc_pool_reset(alloc_pool *pool)
{
    /* every slab becomes spare again, carved ones first so the order is kept */
    alloc_pool_slab *order = NULL;
    while (pool->slabs) {
        alloc_pool_slab *s = pool->slabs;
        pool->slabs = s->next;
        s->next = order;
        order = s;
    }
    alloc_pool_slab **tail = &order;
    while (*tail) tail = &(*tail)->next;
    *tail = pool->spare;
    pool->spare = order;
    for (alloc_pool_slab *s = pool->spare; s; s = s->next) {
#if POOL_BITS
        memset(s->bits, 0, (s->slots / 64 + 1) * sizeof(uint64_t));
#endif
        ALLOC_TRACK_NOACCESS(s->first, s->slots * pool->stride);
    }
    ALLOC_TRACK_POOL_DESTROY(pool);
    ALLOC_TRACK_POOL_CREATE(pool);
    pool->free_head = pool->checked_head = NULL;
    pool->carve = pool->carve_end = NULL;
    uint64_t live = pool->alloc_count - pool->free_count - pool->forgotten;
    pool->forgotten += live;
    if (pool->carved > pool->peak_slots) pool->peak_slots = pool->carved;
    pool->carved = 0;
}

static void **list_head(alloc_pool *pool) { return POOL_CHECKED ? &pool->checked_head : &pool->free_head; }

size_t alloc_pool_trim(alloc_pool *pool)
{
    if (pool->fixed) return 0;
    size_t released = 0;
    while (pool->spare) {
        alloc_pool_slab *s = pool->spare;
        pool->spare = s->next;
        released += s->bytes;
        release_slab(pool, s);
    }
    if (pool->carved > pool->peak_slots) pool->peak_slots = pool->carved;
    void **head = list_head(pool);
    alloc_pool_slab **link = &pool->slabs;
    while (*link) {
        alloc_pool_slab *s = *link;
        size_t carved = carved_in(pool, s), free_here = 0;
        for (void *p = *head; p; p = alloc_link_read(p))
            if (pool_slot_index(s, p, pool->stride) != SIZE_MAX) free_here++;
        if (free_here != carved) {
            link = &s->next;
            continue;
        }
        /* unlink its slots from the free list */
        void *prev = NULL;
        for (void *p = *head; p;) {
            void *next = alloc_link_read(p);
            if (pool_slot_index(s, p, pool->stride) == SIZE_MAX)
                prev = p;
            else if (prev)
                alloc_link_write(prev, next);
            else
                *head = next;
            p = next;
        }
        if (s == pool->slabs) pool->carve = pool->carve_end = NULL;
        pool->carved -= carved;
        *link = s->next;
        released += s->bytes;
        release_slab(pool, s);
    }
    return released;
}

bool alloc_pool_owns(const alloc_pool *pool, const void *p)
{
    const alloc_pool_slab *lists[2] = {pool->slabs, pool->spare};
    for (int l = 0; l < 2; l++)
        for (const alloc_pool_slab *s = lists[l]; s; s = s->next)
            if (pool_slot_index(s, p, pool->stride) != SIZE_MAX) return true;
    return false;
}

/* --- check and stats ---------------------------------------------------------------- */

static const alloc_pool_slab *slab_of(const alloc_pool *pool, const void *p, size_t *index)
{
    return pool_slab_find(pool->slabs, p, pool->stride, index);
}

bool alloc_pool_walk(const alloc_pool *pool, alloc_walker walker, void *user)
{
#if POOL_BITS
    for (const alloc_pool_slab *s = pool->slabs; s; s = s->next) {
        size_t carved = carved_in(pool, s);
        for (size_t i = 0; i < carved; i++)
            if (!walker(s->first + i * pool->stride, pool->obj_size, bit_get(s, i), user)) return false;
    }
#else
    /* No live bits: the free list is all the pool knows. */
    for (void *p = POOL_CHECKED ? pool->checked_head : pool->free_head; p; p = alloc_link_read(p))
        if (!walker(p, pool->obj_size, false, user)) return false;
#endif
    return true;
}

#if POOL_BITS
static bool count_used(void *block, size_t len, bool used, void *user)
{
    (void)block, (void)len;
    *(size_t *)user += used;
    return true;
}
#endif

bool alloc_pool_check(const alloc_pool *pool)
{
    if (!pool->stride || pool->stride < pool->obj_size || pool->stride % sizeof(void *)) return false;
    if (pool->alloc_count < pool->free_count + pool->forgotten) return false;
    size_t live = (size_t)(pool->alloc_count - pool->free_count - pool->forgotten);
    if (live > pool->carved) return false;
    /* the carve range is the tail of the newest slab, or empty */
    if (pool->carve != pool->carve_end) {
        const alloc_pool_slab *s = pool->slabs;
        if (!s || pool->carve < s->first || pool->carve_end != s->first + s->slots * pool->stride ||
            (size_t)(pool->carve - s->first) % pool->stride)
            return false;
    }
    if (POOL_CHECKED ? pool->free_head != NULL : pool->checked_head != NULL) return false;
    /* the free list: carved slots only, each once, as many as carved - live */
    size_t n = 0;
    const void *p = POOL_CHECKED ? pool->checked_head : pool->free_head;
    while (p) {
        if (++n > pool->carved - live) return false;
        size_t i;
        const alloc_pool_slab *s = slab_of(pool, p, &i);
        if (!s) return false;
        if (i >= carved_in(pool, s)) return false;
#if POOL_BITS
        if (bit_get(s, i)) return false;
#endif
        p = alloc_link_read(p);
    }
    if (n != pool->carved - live) return false;
    size_t slab_carved = 0;
    for (const alloc_pool_slab *s = pool->slabs; s; s = s->next) slab_carved += carved_in(pool, s);
    if (slab_carved != pool->carved) return false;
#if POOL_BITS
    /* Live bits: exactly the live objects, all in carved slots of the
     * current slabs (a walk), none in the spares. */
    size_t marked = 0;
    (void)alloc_pool_walk(pool, count_used, &marked);
    for (const alloc_pool_slab *s = pool->spare; s; s = s->next)
        for (size_t w = 0; w <= s->slots / 64; w++) marked += (size_t)__builtin_popcountll(s->bits[w]);
    if (marked != live) return false;
#endif
    alloc_stats st;
    alloc_pool_stats(pool, &st);
    return alloc_stats_consistent(&st);
}

void alloc_pool_stats(const alloc_pool *pool, alloc_stats *out)
{
    *out = pool->cold;
    size_t live = (size_t)(pool->alloc_count - pool->free_count - pool->forgotten);
    size_t peak = pool->carved > pool->peak_slots ? pool->carved : pool->peak_slots;
    if (live > peak) peak = live;
    out->alloc_count = pool->alloc_count;
    out->free_count = pool->free_count;
    out->bytes_in_use = live * pool->obj_size;
    out->peak_bytes_in_use = peak * pool->obj_size;
}
