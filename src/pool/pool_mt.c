/*
 * pool_mt.c: the thread-safe fixed-size pool.
 *
 * Algorithm. Free slots form a Treiber stack: a lock-free LIFO list whose
 * head is one 64-bit word updated by compare-and-swap. A pop reads the head,
 * reads the head slot's link and swings the head to the link; a push writes
 * its slot's link to the current head and swings the head to the slot. The
 * classic hazard (ABA: between one thread's read of head = A and its CAS,
 * others pop A, pop B and push A back, so the CAS succeeds with a stale link
 * to B) is defeated by a generation tag packed beside the address: every pop
 * and push increments it, so the stale head no longer compares equal.
 *
 * Head word: bits 0..44 = slot address >> 3 (slots are 8-aligned; slabs must
 * lie below 2^48, checked when a slab is taken), bits 45..63 = 19-bit tag.
 *
 * A pop may read the link of a slot that another thread has just popped and
 * is writing into; the value read is then garbage, but the CAS fails because
 * the tag moved, and the read itself is harmless because slabs stay mapped
 * until reset/deinit. That read is deliberately racy and is kept out of
 * ThreadSanitizer's and AddressSanitizer's view (pool_mt_peek_link). Under
 * Valgrind the slot may have changed from free (no access) to handed out and
 * back between any two instructions, so the peek leaves the slot's state
 * alone and silences memcheck for that one load instead of opening it up.
 *
 * Growth. When the list is empty a thread takes grow_lock (the core spin
 * lock; growth is rare), re-checks the list, takes a slab from the backing
 * allocator, keeps slot 0 for itself and pushes the chain of the other slots
 * with a single CAS. Slabs are threaded completely when taken (no lazy
 * carving: a shared bump pointer would be a second contended word). The
 * backing allocator is only ever called under grow_lock, so it need not be
 * thread-safe as long as nothing else uses it concurrently.
 *
 * Metadata: the same slab header as the single-threaded pool (pool_internal.h);
 * debug builds' per-slot live bits are updated with atomic OR/AND, so a double
 * free is detected even when two threads free the same slot at once.
 *
 * Bounds: alloc and free O(1) plus CAS retries under contention (lock-free:
 * some thread always makes progress); growth O(slots of the new slab) under
 * the lock. Stats counters are relaxed atomics on their own cache line.
 */
#include "pool_internal.h"
#include "../core/spin.h"

#define TAG_SHIFT 45
#define ADDR_MASK (((uint64_t)1 << TAG_SHIFT) - 1)
/* Slots must be 8-aligned for the packing: the low 3 address bits are dropped. */
#define SLOT_ALIGN ((size_t)8)

/* true iff [mem, mem + bytes) lies below 2^48, the reach of the head word
 * (always, with 32-bit pointers). */
static inline bool addressable(const void *mem, size_t bytes)
{
    uint64_t a = (uint64_t)(uintptr_t)mem, limit = (uint64_t)1 << 48;
    return a < limit && (uint64_t)bytes <= limit - a;
}

static inline void *head_ptr(uint64_t h) { return (void *)(uintptr_t)((h & ADDR_MASK) << 3); }
static inline uint64_t head_make(const void *p, uint64_t old)
{
    uint64_t tag = (old >> TAG_SHIFT) + 1;
    return (tag << TAG_SHIFT) | ((uint64_t)(uintptr_t)p >> 3);
}

/* The racy read of a free slot's link (see the essay). */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define POOL_MT_NO_SANITIZE __attribute__((no_sanitize("thread", "address")))
#else
#define POOL_MT_NO_SANITIZE ALLOC_NO_SANITIZE_ADDRESS
#endif
/* Sanitized builds keep it out of line: an inlined copy would be instrumented. */
#if ALLOC_TRACK_ASAN_ENABLED || defined(__SANITIZE_THREAD__)
#define POOL_MT_PEEK_INLINE ALLOC_NOINLINE
#else
#define POOL_MT_PEEK_INLINE inline
#endif
POOL_MT_NO_SANITIZE POOL_MT_PEEK_INLINE static void *pool_mt_peek_link(const void *slot)
{
    ALLOC_VG_QUIET_BEGIN();
    void *next = *(void *const volatile *)slot;
    ALLOC_VG_QUIET_END();
    return next;
}

static inline uint64_t load_relaxed(const _Atomic uint64_t *p) { return atomic_load_explicit(p, memory_order_relaxed); }
static inline void add_relaxed(_Atomic uint64_t *p, uint64_t v) { atomic_fetch_add_explicit(p, v, memory_order_relaxed); }

static void raise_peak(_Atomic uint64_t *peak, uint64_t value)
{
    uint64_t seen = load_relaxed(peak);
    while (value > seen &&
           !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed, memory_order_relaxed)) {
    }
}

static void lock(alloc_pool_mt *pool) { (void)alloc_spin_lock(&pool->grow_lock); }

static void unlock(alloc_pool_mt *pool) { alloc_spin_unlock(&pool->grow_lock); }

static alloc_pool_slab *first_slab(const alloc_pool_mt *pool)
{
    return atomic_load_explicit(&pool->slabs, memory_order_acquire);
}

static alloc_pool_slab *find_slab(const alloc_pool_mt *pool, const void *p, size_t *index)
{
    return pool_slab_find(first_slab(pool), p, pool->stride, index);
}

/* --- the list ---------------------------------------------------------------- */

/* Pushes the chain first..last (already linked to each other). */
static void push_chain(alloc_pool_mt *pool, void *first, void *last)
{
    uint64_t old = load_relaxed(&pool->head);
    for (;;) {
        alloc_link_write(last, head_ptr(old));
        if (atomic_compare_exchange_weak_explicit(&pool->head, &old, head_make(first, old), memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

static void *pop(alloc_pool_mt *pool)
{
    uint64_t old = atomic_load_explicit(&pool->head, memory_order_acquire);
    for (;;) {
        void *obj = head_ptr(old);
        if (!obj) return NULL;
        void *next = pool_mt_peek_link(obj);
        if (atomic_compare_exchange_weak_explicit(&pool->head, &old, head_make(next, old), memory_order_acquire,
                                                  memory_order_acquire))
            return obj;
    }
}

/* Threads slots [from, slots) of s into a chain; returns its first slot. */
static void *thread_slots(alloc_pool_mt *pool, alloc_pool_slab *s, size_t from, void **last)
{
    char *first = s->first + from * pool->stride;
    for (size_t i = from; i + 1 < s->slots; i++) {
        char *slot = s->first + i * pool->stride;
        alloc_link_write(slot, slot + pool->stride);
    }
    *last = s->first + (s->slots - 1) * pool->stride;
    return first;
}

/* Takes a slab; returns slot 0 for the caller and pushes the rest. NULL on
 * failure. Unless forced, first retries the list under the lock: another
 * thread may have grown the pool meanwhile. */
static void *grow(alloc_pool_mt *pool, bool force)
{
    lock(pool);
    void *obj = force ? NULL : pop(pool);
    if (obj) {
        unlock(pool);
        return obj;
    }
    size_t bytes = pool->next_slab_bytes;
    size_t align = pool->obj_align < SLOT_ALIGN ? SLOT_ALIGN : pool->obj_align;
    void *mem = alloc_bytes_at(pool->backing, bytes, align, 0);
    if (mem && !addressable(mem, bytes)) {
        /* beyond what the head word can address: refuse the slab */
        alloc_free_at(pool->backing, mem, bytes, align, 0);
        mem = NULL;
    }
    if (!mem) {
        unlock(pool);
        return NULL;
    }
    alloc_pool_slab *s = pool_slab_layout(mem, bytes, pool->stride, align);
    ALLOC_CHECK(s != NULL, "pool_mt %p: slab of %zu bytes holds no object", (void *)pool, bytes);
    /* written under the lock, read by stats from any thread */
    size_t reserved = pool->bytes_reserved + bytes;
    atomic_store_explicit(&pool->bytes_reserved, reserved, memory_order_relaxed);
    if (reserved > pool->peak_bytes_reserved)
        atomic_store_explicit(&pool->peak_bytes_reserved, reserved, memory_order_relaxed);
    pool->next_slab_bytes = pool_next_slab(bytes, pool->max_slab_bytes);
    s->next = pool->slabs;
    atomic_store_explicit(&pool->slabs, s, memory_order_release);
    if (s->slots > 1) {
        void *last;
        void *chain = thread_slots(pool, s, 1, &last);
        push_chain(pool, chain, last);
    }
    unlock(pool);
    return s->first;
}

/* --- get and put ------------------------------------------------------------- */

static void *get(alloc_pool_mt *pool, size_t len)
{
    void *obj = pop(pool);
    if (ALLOC_UNLIKELY(!obj)) {
        obj = grow(pool, false);
        if (!obj) {
            add_relaxed(&pool->failed_count, 1);
            return NULL;
        }
    }
#if POOL_BITS
    size_t i;
    alloc_pool_slab *s = find_slab(pool, obj, &i);
    ALLOC_CHECK(s != NULL, "pool_mt %p: free list holds foreign %p", (void *)pool, obj);
    uint64_t bit = (uint64_t)1 << (i % 64);
    uint64_t was = atomic_fetch_or_explicit(&s->bits[i / 64], bit, memory_order_relaxed);
    ALLOC_CHECK(!(was & bit), "pool_mt %p: free list holds live %p", (void *)pool, obj);
#endif
    alloc_slot_handed_out(pool, obj, len);
    uint64_t a = atomic_fetch_add_explicit(&pool->alloc_count, 1, memory_order_relaxed) + 1;
    uint64_t f = load_relaxed(&pool->free_count);
    /* f was read after a, so a - f can only underestimate the live count */
    if (a >= f + pool->forgotten) raise_peak(&pool->peak_live, a - f - pool->forgotten);
    return obj;
}

#if POOL_BITS
static void report(alloc_pool_mt *pool, const char *what, const char *op, const void *obj, uintptr_t ret_addr)
{
    alloc_report_misuse_from(ret_addr, "pool_mt %p: %s of %p, which is %s", (void *)pool, op, obj, what);
    add_relaxed(&pool->misuse_count, 1);
}

#endif

/* Debug builds: true iff obj is a live slot (clearing its bit when clear is set). */
static bool verify(alloc_pool_mt *pool, const void *obj, bool clear, const char *op, uintptr_t ret_addr)
{
#if POOL_BITS
    size_t i;
    alloc_pool_slab *s = find_slab(pool, obj, &i);
    if (!s) {
        report(pool, "not an object of this pool", op, obj, ret_addr);
        return false;
    }
    uint64_t bit = (uint64_t)1 << (i % 64);
    uint64_t was = clear ? atomic_fetch_and_explicit(&s->bits[i / 64], ~bit, memory_order_relaxed)
                         : atomic_load_explicit(&s->bits[i / 64], memory_order_relaxed);
    if (!(was & bit)) {
        report(pool, "not allocated (already freed, or never handed out)", op, obj, ret_addr);
        return false;
    }
#else
    (void)pool, (void)obj, (void)clear, (void)op, (void)ret_addr;
#endif
    return true;
}

static void put(alloc_pool_mt *pool, void *obj, uintptr_t ret_addr)
{
    if (!verify(pool, obj, true, "free", ret_addr)) return;
    ALLOC_TRACK_POOL_FREE(pool, obj);
    ALLOC_TRACK_UNDEFINED(obj, pool->stride);
#if ALLOC_DEBUG_CHECKS
    memset(obj, ALLOC_FILL_FREED, pool->stride);
#endif
    ALLOC_TRACK_NOACCESS(obj, pool->stride);
    add_relaxed(&pool->free_count, 1);
    push_chain(pool, obj, obj);
}

void *alloc_pool_mt_get(alloc_pool_mt *pool) { return get(pool, pool->obj_size); }

void alloc_pool_mt_put(alloc_pool_mt *pool, void *obj) { put(pool, obj, ALLOC_RET_ADDR()); }

/* --- the vtable ---------------------------------------------------------------- */

static void *mt_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_pool_mt *pool = ctx;
    (void)ret_addr;
    if (ALLOC_UNLIKELY(len > pool->obj_size || align > pool->obj_align)) {
        add_relaxed(&pool->failed_count, 1);
        return NULL;
    }
    return get(pool, len);
}

static void mt_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)len, (void)align;
    put(ctx, mem, ret_addr);
}

static bool change(alloc_pool_mt *pool, void *mem, size_t len, size_t new_len, const char *op, uintptr_t ret_addr)
{
    if (!verify(pool, mem, false, op, ret_addr)) return false;
    if (new_len > pool->obj_size) return false;
    alloc_slot_resized(pool, mem, len, new_len, pool->stride);
    return true;
}

static bool mt_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_pool_mt *pool = ctx;
    (void)align;
    if (!change(pool, mem, len, new_len, "resize", ret_addr)) return false;
    add_relaxed(&pool->resize_count, 1);
    return true;
}

static void *mt_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_pool_mt *pool = ctx;
    (void)align;
    if (!change(pool, mem, len, new_len, "remap", ret_addr)) {
        add_relaxed(&pool->failed_count, 1);
        return NULL;
    }
    add_relaxed(&pool->remap_count, 1);
    return mem;
}

static const alloc_vtable mt_vtable = {mt_alloc, mt_resize, mt_remap, mt_free};

allocator alloc_pool_mt_allocator(alloc_pool_mt *pool) { return (allocator){pool, &mt_vtable}; }

/* --- lifecycle ------------------------------------------------------------------ */

int alloc_pool_mt_init(alloc_pool_mt *pool, const alloc_pool_config *config)
{
    pool_geometry g;
    int rc = pool_resolve(config, &g);
    if (rc) return rc;
    /* 8-aligned slots even where pointers are 4 bytes (see SLOT_ALIGN) */
    if (g.stride > SIZE_MAX - (SLOT_ALIGN - 1)) return -EINVAL;
    g.stride = alloc_align_up(g.stride, SLOT_ALIGN);
    size_t min_slab = pool_slab_bytes_for(g.stride, g.obj_align < SLOT_ALIGN ? SLOT_ALIGN : g.obj_align, 1);
    if (min_slab == 0 || g.first_slab < min_slab) return -EINVAL;
    memset(pool, 0, sizeof *pool);
    pool->obj_size = g.obj_size;
    pool->obj_align = g.obj_align;
    pool->stride = g.stride;
    pool->backing = g.backing;
    pool->next_slab_bytes = g.first_slab;
    pool->max_slab_bytes = g.max_slab;
    ALLOC_TRACK_POOL_CREATE(pool);
    return 0;
}

void alloc_pool_mt_deinit(alloc_pool_mt *pool)
{
    alloc_pool_slab *s = pool->slabs;
    while (s) {
        alloc_pool_slab *next = s->next;
        void *base = s->base;
        size_t bytes = s->bytes, align = s->align;
        ALLOC_TRACK_UNDEFINED(base, bytes);
        alloc_free_at(pool->backing, base, bytes, align, 0);
        s = next;
    }
    ALLOC_TRACK_POOL_DESTROY(pool);
    memset(pool, 0, sizeof *pool);
}

int alloc_pool_mt_preheat(alloc_pool_mt *pool, size_t count)
{
    for (;;) {
        size_t free_now = 0;
        uint64_t a = load_relaxed(&pool->alloc_count), f = load_relaxed(&pool->free_count);
        size_t total = 0;
        for (const alloc_pool_slab *s = first_slab(pool); s; s = s->next) total += s->slots;
        size_t live = (size_t)(a - f - pool->forgotten);
        free_now = total > live ? total - live : 0;
        if (free_now >= count) return 0;
        /* grow() hands slot 0 to its caller: give it straight back */
        void *obj = grow(pool, true);
        if (!obj) return -ENOMEM;
        push_chain(pool, obj, obj); /* still poisoned: it was never handed out */
    }
}

void alloc_pool_mt_reset(alloc_pool_mt *pool)
{
    uint64_t live = pool->alloc_count - pool->free_count - pool->forgotten;
    pool->forgotten += live;
    pool->head = 0;
    ALLOC_TRACK_POOL_DESTROY(pool);
    ALLOC_TRACK_POOL_CREATE(pool);
    for (alloc_pool_slab *s = pool->slabs; s; s = s->next) {
#if POOL_BITS
        memset(s->bits, 0, (s->slots / 64 + 1) * sizeof(uint64_t));
#endif
        ALLOC_TRACK_NOACCESS(s->first, s->slots * pool->stride);
        void *last;
        void *chain = thread_slots(pool, s, 0, &last);
        push_chain(pool, chain, last);
    }
}

bool alloc_pool_mt_owns(const alloc_pool_mt *pool, const void *p)
{
    size_t i;
    return find_slab(pool, p, &i) != NULL;
}

bool alloc_pool_mt_check(const alloc_pool_mt *pool)
{
    if (!pool->stride || pool->stride % SLOT_ALIGN) return false;
    if (pool->alloc_count < pool->free_count + pool->forgotten) return false;
    size_t live = (size_t)(pool->alloc_count - pool->free_count - pool->forgotten);
    size_t total = 0;
    for (const alloc_pool_slab *s = pool->slabs; s; s = s->next) total += s->slots;
    if (live > total) return false;
    size_t n = 0;
    for (void *p = head_ptr(pool->head); p; p = alloc_link_read(p)) {
        if (++n > total - live) return false;
        size_t i;
        alloc_pool_slab *s = find_slab(pool, p, &i);
        if (!s) return false;
#if POOL_BITS
        if ((s->bits[i / 64] >> (i % 64)) & 1u) return false;
#endif
    }
    if (n != total - live) return false;
#if POOL_BITS
    size_t marked = 0;
    for (const alloc_pool_slab *s = pool->slabs; s; s = s->next)
        for (size_t w = 0; w <= s->slots / 64; w++) marked += (size_t)__builtin_popcountll(s->bits[w]);
    if (marked != live) return false;
#endif
    alloc_stats st;
    alloc_pool_mt_stats(pool, &st);
    return alloc_stats_consistent(&st);
}

void alloc_pool_mt_stats(const alloc_pool_mt *pool, alloc_stats *out)
{
    memset(out, 0, sizeof *out);
    /* free_count first: reading it before alloc_count never shows more frees than allocations */
    uint64_t f = load_relaxed(&pool->free_count);
    uint64_t a = load_relaxed(&pool->alloc_count);
    uint64_t live = a >= f + pool->forgotten ? a - f - pool->forgotten : 0;
    uint64_t peak = load_relaxed(&pool->peak_live);
    if (live > peak) peak = live;
    out->alloc_count = a;
    out->free_count = f;
    out->bytes_in_use = (size_t)live * pool->obj_size;
    out->peak_bytes_in_use = (size_t)peak * pool->obj_size;
    out->bytes_reserved = atomic_load_explicit(&pool->bytes_reserved, memory_order_relaxed);
    out->peak_bytes_reserved = atomic_load_explicit(&pool->peak_bytes_reserved, memory_order_relaxed);
    out->resize_count = load_relaxed(&pool->resize_count);
    out->remap_count = load_relaxed(&pool->remap_count);
    out->failed_count = load_relaxed(&pool->failed_count);
    out->misuse_count = load_relaxed(&pool->misuse_count);
}
