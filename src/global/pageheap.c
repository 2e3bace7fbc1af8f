/*
 * pageheap.c: spans, the page map, and the page heap every class and every
 * large block shares; purge with a decay delay and a retained-bytes limit.
 *
 * Memory comes from the system in chunks of at least 4 MiB (one mapping
 * each, aligned to the span unit of 64 KiB) and is handed out as spans:
 * whole multiples of the unit. A span is a size class's (it carves blocks of
 * that class), a large block's (one direct block of up to HEAP_LARGE_MAX),
 * or free. The page map, a two-level radix table keyed by address / 64 KiB,
 * names the span of any address inside a used span (every unit's entry is
 * set) and of the first and last unit of a free span (enough to coalesce);
 * every other entry is empty. So an entry never names a span that does not
 * hold its unit, and free needs no range check after the lookup, whatever
 * pointer it is given. This is tcmalloc's page heap with jemalloc's and
 * mimalloc's purging.
 *
 * Free spans are coalesced with free neighbours at once and kept in lists by
 * size (one list per size up to 128 units, 8 MiB, and one for larger), with a
 * bitmap of the non-empty lists, so taking a span is a find-first-set and a
 * split: O(1) but for the rare walk of the list of spans above 8 MiB. Any class
 * and any large block takes any free span: memory a phase of 64-byte blocks
 * gave back serves the next phase's 4 KiB blocks or a 1 MiB buffer.
 *
 * Giving memory back to the system: a span that becomes free is "dirty" (its
 * pages are resident). Dirty spans are purged (MADV_DONTNEED through src/os;
 * the mapping stays, the pages go, and read as zero when touched again)
 *   - once they have been free for the decay delay (default 100 ms; checked
 *     whenever the heap is used, at most every half delay), and
 *   - at once, largest first, while dirty bytes exceed the retained-bytes
 *     limit, down to half of it: the larger of the configured floor (default
 *     64 MiB) and half the bytes of spans in use (a large live heap churns a
 *     large free slack: 1-3 MiB blocks churned over a few hundred MB spent 5x
 *     glibc's system time purging and faulting the same pages at a fixed
 *     64 MiB),
 *   - and all of them on alloc_global_trim / malloc_trim.
 * Chunks are never unmapped: unmapping part of a mapping needs a new kernel
 * mapping entry and fails at the process's limit (vm.max_map_count), and
 * virtual address space is cheap; what counts, resident memory, goes back.
 * A purge the system refuses is counted and the span stays dirty; it is a
 * resource condition, never misuse.
 *
 * Locking: heap_lock guards the free lists, the descriptors and page map
 * writes. Class locks are taken before it (a class asks for a span under its
 * lock), never after. Page map reads need no lock: the entries a reader
 * looks up belong to a span it holds a block of, written under the lock
 * before that block was handed out.
 */

#define UNIT_SHIFT 16
#define UNIT ((size_t)1 << UNIT_SHIFT)
#define CHUNK_UNITS ((size_t)64)
#define HEAP_BUCKETS 128u
/* Direct blocks up to this (header included) come from the heap; larger
 * ones get a mapping of their own (and grow by mremap). */
#define HEAP_LARGE_MAX ((size_t)32 << 20)
#define DESC_BATCH ((size_t)64 << 10)

enum { SPAN_FREE = 1, SPAN_CLASS, SPAN_LARGE };

typedef struct span {
    /* Read by free without a lock: set before the span's first block is
     * handed out, unchanged while any block of it is live (carved only grows). */
    char *start;
    size_t units;
    uint32_t size;            /* class span: block size in bytes */
    uint32_t recip;           /* class span: ceil(2^32 / size), a block's index by multiply */
    _Atomic uint32_t carved;  /* class span: blocks carved so far (written under the class lock) */
    uint16_t cls;
    uint8_t kind;
    uint8_t dirty;            /* free span: pages may be resident */
    /* Under the class lock (class spans) or the heap lock (free spans). */
    struct span *prev, *next; /* a class's partial list, or a heap free list */
    uint64_t *bits;           /* class span: one bit per block, set = free in the span */
    uint32_t nfree;           /* class span: bits set */
    uint32_t hint;            /* class span: no bit is set in a word below this one */
    uint32_t used;            /* class span: blocks out of the span (in caches or live) */
    uint32_t capacity;        /* class span: blocks it holds (at most SPAN_BLOCKS_MAX) */
    int64_t freed_at;         /* free span: when it became free (ns) */
} span;

/* The page heap's clock: the C library's clock_gettime (the vDSO, some 20 ns)
 * rather than the page back end's raw system call (some 400 ns), since every
 * span taken or given back reads it: a 300 KiB malloc+free pair spent most of
 * its time there. */
static inline int64_t heap_now_ns(void) { return (int64_t)alloc_host_monotonic_ns(); }

static void note_reserved(size_t n)
{
    size_t now = atomic_fetch_add(&bytes_reserved, n) + n;
    raise_peak(&peak_reserved, now + atomic_load_explicit(&direct_bytes, memory_order_relaxed));
}

/* --- the page map ----------------------------------------------------------------- */

#define MAP_LEAF_BITS 16u
#define MAP_ROOT_BITS 16u
typedef _Atomic(span *) map_entry;
static _Atomic(map_entry *) pagemap_root[(size_t)1 << MAP_ROOT_BITS];

static inline span *span_of(const void *p)
{
    uintptr_t key = (uintptr_t)p >> UNIT_SHIFT;
    uintptr_t hi = key >> MAP_LEAF_BITS;
    if (ALLOC_UNLIKELY(hi >= ((uintptr_t)1 << MAP_ROOT_BITS))) return NULL;
    map_entry *leaf = atomic_load_explicit(&pagemap_root[hi], memory_order_acquire);
    if (ALLOC_UNLIKELY(!leaf)) return NULL;
    return atomic_load_explicit(&leaf[key & (((uintptr_t)1 << MAP_LEAF_BITS) - 1)], memory_order_acquire);
}

/* Makes sure the leaves for [start, start + units) exist. Heap lock held. */
static bool pagemap_reserve(const char *start, size_t units)
{
    uintptr_t first = (uintptr_t)start >> UNIT_SHIFT, last = first + units - 1;
    if ((last >> MAP_LEAF_BITS) >= ((uintptr_t)1 << MAP_ROOT_BITS)) return false;
    for (uintptr_t hi = first >> MAP_LEAF_BITS; hi <= last >> MAP_LEAF_BITS; hi++) {
        if (atomic_load_explicit(&pagemap_root[hi], memory_order_relaxed)) continue;
        void *leaf = NULL;
        size_t bytes = sizeof(map_entry) << MAP_LEAF_BITS;
        if (alloc_os_map(bytes, alloc_os_page_size(), &leaf) != 0) return false;
        note_reserved(bytes);
        atomic_store_explicit(&pagemap_root[hi], (map_entry *)leaf, memory_order_release);
    }
    return true;
}

static inline void pagemap_put(uintptr_t key, span *s)
{
    map_entry *leaf = atomic_load_explicit(&pagemap_root[key >> MAP_LEAF_BITS], memory_order_relaxed);
    atomic_store_explicit(&leaf[key & (((uintptr_t)1 << MAP_LEAF_BITS) - 1)], s, memory_order_release);
}

/* Every unit of s names s (used spans). Heap lock held; leaves exist. */
static void pagemap_set_all(span *s)
{
    uintptr_t key = (uintptr_t)s->start >> UNIT_SHIFT;
    for (size_t i = 0; i < s->units; i++) pagemap_put(key + i, s);
}

/* Units [first, first + n) name no span. */
static void pagemap_clear(const char *first, size_t n)
{
    uintptr_t key = (uintptr_t)first >> UNIT_SHIFT;
    for (size_t i = 0; i < n; i++) pagemap_put(key + i, NULL);
}

/* The first and last unit name s (free spans). */
static void pagemap_set_ends(span *s)
{
    uintptr_t key = (uintptr_t)s->start >> UNIT_SHIFT;
    pagemap_put(key, s);
    pagemap_put(key + s->units - 1, s);
}

/* --- span descriptors ----------------------------------------------------------------- */

static span *desc_free;

static span *desc_new(void)
{
    if (!desc_free) {
        void *mem = NULL;
        if (alloc_os_map(DESC_BATCH, alloc_os_page_size(), &mem) != 0) return NULL;
        note_reserved(DESC_BATCH);
        span *d = mem;
        for (size_t i = 0; i < DESC_BATCH / sizeof(span); i++) {
            d[i].next = desc_free;
            desc_free = &d[i];
        }
    }
    span *s = desc_free;
    desc_free = s->next;
    memset(s, 0, sizeof *s);
    return s;
}

/*
 * Class span bitmaps: one bit per block, ceil(capacity / 64) words, from
 * batches the heap maps, reused by size (a free bitmap links through its
 * first word). Under heap_lock: taken when a class span is made and given
 * back with it, never on the fast paths.
 */
#define SPAN_BLOCKS_MAX 4096u /* a 64 KiB span of 16-byte blocks */
#define BITMAP_BATCH ((size_t)64 << 10)
static uint64_t *bitmap_free[SPAN_BLOCKS_MAX / 64 + 1];
static char *bitmap_batch, *bitmap_batch_end;

static inline size_t bitmap_words(uint32_t capacity) { return (capacity + 63u) / 64u; }

static uint64_t *bitmap_new_locked(size_t words)
{
    uint64_t *b = bitmap_free[words];
    if (b) {
        bitmap_free[words] = (uint64_t *)(uintptr_t)b[0];
    } else {
        if ((size_t)(bitmap_batch_end - bitmap_batch) < words * sizeof(uint64_t)) {
            void *mem = NULL;
            if (alloc_os_map(BITMAP_BATCH, alloc_os_page_size(), &mem) != 0) return NULL;
            note_reserved(BITMAP_BATCH);
            bitmap_batch = mem;
            bitmap_batch_end = bitmap_batch + BITMAP_BATCH;
        }
        b = (uint64_t *)(void *)bitmap_batch;
        bitmap_batch += words * sizeof(uint64_t);
    }
    memset(b, 0, words * sizeof(uint64_t));
    return b;
}

static void bitmap_delete_locked(uint64_t *b, size_t words)
{
    b[0] = (uint64_t)(uintptr_t)bitmap_free[words];
    bitmap_free[words] = b;
}

static void desc_delete(span *s)
{
    s->kind = 0;
    s->next = desc_free;
    desc_free = s;
}

/* --- the heap ---------------------------------------------------------------------------- */

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static span *heap_lists[HEAP_BUCKETS + 1]; /* [n]: n units (1..127); [HEAP_BUCKETS]: 128 and more */
static uint64_t heap_nonempty[(HEAP_BUCKETS + 1 + 63) / 64];
/* Bytes of chunks mapped, of free spans, of dirty free spans; purge figures. */
static size_t heap_mapped, heap_free_bytes, heap_dirty_bytes;
static _Atomic uint64_t heap_purged_bytes, heap_purge_failures;
static int64_t heap_last_decay;

/* Options (alloc_global_set_decay, ALLOC_PURGE_DELAY_MS, ALLOC_RETAIN_BYTES). */
static _Atomic int64_t opt_decay_ns = (int64_t)100 * 1000 * 1000;
static _Atomic size_t opt_retain_bytes = (size_t)64 << 20;

static inline unsigned bucket_of(size_t units) { return units < HEAP_BUCKETS ? (unsigned)units : HEAP_BUCKETS; }

static void heap_insert(span *s)
{
    unsigned b = bucket_of(s->units);
    s->kind = SPAN_FREE;
    s->prev = NULL;
    s->next = heap_lists[b];
    if (s->next) s->next->prev = s;
    heap_lists[b] = s;
    heap_nonempty[b / 64] |= (uint64_t)1 << (b % 64);
    heap_free_bytes += s->units * UNIT;
    if (s->dirty) heap_dirty_bytes += s->units * UNIT;
    pagemap_set_ends(s);
}

static void heap_remove(span *s)
{
    unsigned b = bucket_of(s->units);
    if (s->prev)
        s->prev->next = s->next;
    else
        heap_lists[b] = s->next;
    if (s->next) s->next->prev = s->prev;
    if (!heap_lists[b]) heap_nonempty[b / 64] &= ~((uint64_t)1 << (b % 64));
    heap_free_bytes -= s->units * UNIT;
    if (s->dirty) heap_dirty_bytes -= s->units * UNIT;
    s->prev = s->next = NULL;
}

static void heap_purge_span(span *s)
{
    if (!s->dirty) return;
    int r = alloc_os_purge(s->start, s->units * UNIT, false);
    if (r != 0) {
        atomic_fetch_add_explicit(&heap_purge_failures, 1, memory_order_relaxed);
        return; /* stays dirty: a resource condition, tried again later */
    }
    ALLOC_TRACK_NOACCESS(s->start, s->units * UNIT);
    s->dirty = 0;
    heap_dirty_bytes -= s->units * UNIT;
    atomic_fetch_add_explicit(&heap_purged_bytes, s->units * UNIT, memory_order_relaxed);
}

/* Purges free spans by age and by the retained limit. Heap lock held. */
static void heap_decay(bool all)
{
    int64_t now = heap_now_ns();
    int64_t delay = atomic_load_explicit(&opt_decay_ns, memory_order_relaxed);
    size_t retain = atomic_load_explicit(&opt_retain_bytes, memory_order_relaxed);
    /* A large live heap churns a large free slack: allow half the bytes of
     * the spans in use, so its free spans are not purged and faulted in again
     * and again; a heap emptied falls back to the configured floor. */
    size_t in_use = heap_mapped - heap_free_bytes;
    if (retain && retain < in_use / 2) retain = in_use / 2;
    if (all) retain = 0;
    if (heap_dirty_bytes > retain) {
        /* Over the limit: the largest first, down to half the limit. */
        for (unsigned b = HEAP_BUCKETS + 1; b-- > 0 && heap_dirty_bytes > retain / 2;)
            for (span *s = heap_lists[b]; s && heap_dirty_bytes > retain / 2; s = s->next) heap_purge_span(s);
    }
    if (now < 0 || heap_dirty_bytes == 0 || now - heap_last_decay < delay / 2) return;
    heap_last_decay = now;
    for (unsigned b = 0; b <= HEAP_BUCKETS; b++)
        for (span *s = heap_lists[b]; s; s = s->next)
            if (s->dirty && now - s->freed_at >= delay) heap_purge_span(s);
}

/* Gives span s back: coalesced with free neighbours. Heap lock held. */
static void heap_release_locked(span *s)
{
    if (s->bits) bitmap_delete_locked(s->bits, bitmap_words(s->capacity));
    s->bits = NULL;
    s->nfree = s->hint = 0;
    s->dirty = 1;
    s->freed_at = heap_now_ns();
    s->used = s->capacity = 0;
    atomic_store_explicit(&s->carved, 0, memory_order_relaxed);
    /* A free span's units name no span but its ends (heap_insert): clear
     * them all, so that none names s if s is merged away. */
    pagemap_clear(s->start, s->units);
    span *left = span_of(s->start - 1);
    if (left && left->kind == SPAN_FREE && left->start + left->units * UNIT == s->start) {
        heap_remove(left);
        pagemap_clear(s->start - UNIT, 1); /* left's last unit is inside now */
        left->units += s->units;
        left->dirty = 1;
        left->freed_at = s->freed_at;
        desc_delete(s);
        s = left;
    }
    span *right = span_of(s->start + s->units * UNIT);
    if (right && right->kind == SPAN_FREE && right->start == s->start + s->units * UNIT) {
        heap_remove(right);
        pagemap_clear(right->start, 1); /* right's first unit is inside now */
        s->units += right->units;
        desc_delete(right);
    }
    heap_insert(s);
    heap_decay(false);
}

/* A free span of at least `units` from the lists, or NULL. Heap lock held. */
static span *heap_find(size_t units)
{
    unsigned b = bucket_of(units);
    if (b < HEAP_BUCKETS) {
        for (unsigned w = b / 64; w < sizeof heap_nonempty / sizeof heap_nonempty[0]; w++) {
            uint64_t bits = heap_nonempty[w];
            if (w == b / 64) bits &= ~(uint64_t)0 << (b % 64);
            if (bits) return heap_lists[w * 64 + (unsigned)__builtin_ctzll(bits)];
        }
        return NULL;
    }
    span *best = NULL;
    for (span *s = heap_lists[HEAP_BUCKETS]; s; s = s->next)
        if (s->units >= units && (!best || s->units < best->units)) best = s;
    return best;
}

/* Maps a chunk of at least `units` and puts it in the free lists. */
static bool heap_grow(size_t units)
{
    size_t n = units > CHUNK_UNITS ? units : CHUNK_UNITS;
    void *mem = NULL;
    if (alloc_os_map(n * UNIT, UNIT, &mem) != 0) return false;
    if (!pagemap_reserve(mem, n)) {
        (void)alloc_os_unmap(mem, n * UNIT);
        return false;
    }
    span *s = desc_new();
    if (!s) {
        (void)alloc_os_unmap(mem, n * UNIT);
        return false;
    }
    ALLOC_TRACK_NOACCESS(mem, n * UNIT);
    heap_mapped += n * UNIT;
    note_reserved(n * UNIT);
    s->start = mem;
    s->units = n;
    s->dirty = 0; /* fresh pages: nothing resident */
    /* A new chunk may sit right after a free span of an older one, or right
     * before one (the system places mappings downwards as often as not). */
    span *left = span_of(s->start - 1);
    if (left && left->kind == SPAN_FREE && left->start + left->units * UNIT == s->start) {
        heap_remove(left);
        pagemap_clear(s->start - UNIT, 1); /* left's last unit is inside now */
        left->units += s->units;
        desc_delete(s);
        s = left;
    }
    span *right = span_of(s->start + s->units * UNIT);
    if (right && right->kind == SPAN_FREE && right->start == s->start + s->units * UNIT) {
        heap_remove(right);
        pagemap_clear(right->start, 1); /* right's first unit is inside now */
        s->units += right->units;
        if (right->dirty) { /* the merged span counts as resident, as a release merges */
            s->dirty = 1;
            s->freed_at = right->freed_at;
        }
        desc_delete(right);
    }
    heap_insert(s);
    return true;
}

/* A used span of exactly `units` (kind set by the caller), or NULL. A class
 * span (bitmap_words > 0) comes with a zeroed bitmap of that many words. */
static span *heap_take(size_t units, uint8_t kind, size_t bitmap_words)
{
    engine_lock(&heap_lock);
    uint64_t *bits = NULL;
    if (bitmap_words && !(bits = bitmap_new_locked(bitmap_words))) {
        engine_unlock(&heap_lock);
        return NULL;
    }
    span *s = heap_find(units);
    if (!s && heap_grow(units)) s = heap_find(units);
    if (!s) {
        if (bits) bitmap_delete_locked(bits, bitmap_words);
        engine_unlock(&heap_lock);
        return NULL;
    }
    heap_remove(s);
    if (s->units > units) {
        span *rest = desc_new();
        if (rest) {
            rest->start = s->start + units * UNIT;
            rest->units = s->units - units;
            rest->dirty = s->dirty;
            rest->freed_at = s->freed_at;
            s->units = units;
            heap_insert(rest);
        } /* no descriptor: the caller gets the whole span */
    }
    s->kind = kind;
    s->bits = bits;
    pagemap_set_all(s);
    heap_decay(false);
    engine_unlock(&heap_lock);
    return s;
}

static void heap_release(span *s)
{
    ALLOC_TRACK_NOACCESS(s->start, s->units * UNIT);
    engine_lock(&heap_lock);
    heap_release_locked(s);
    engine_unlock(&heap_lock);
}

/* Purges every dirty free span; returns the bytes purged. */
static size_t heap_trim(void)
{
    engine_lock(&heap_lock);
    uint64_t before = atomic_load(&heap_purged_bytes);
    heap_decay(true);
    uint64_t after = atomic_load(&heap_purged_bytes);
    engine_unlock(&heap_lock);
    return (size_t)(after - before);
}

/* Free lists, bitmap and byte counts agree; every free span's ends map to it
 * and its neighbours are not free (coalesced). Heap lock taken. */
static bool heap_check(void)
{
    bool ok = true;
    size_t free_bytes = 0, dirty = 0;
    engine_lock(&heap_lock);
    for (unsigned b = 0; b <= HEAP_BUCKETS && ok; b++) {
        bool bit = (heap_nonempty[b / 64] >> (b % 64)) & 1u;
        ok = bit == (heap_lists[b] != NULL);
        for (span *s = heap_lists[b]; s && ok; s = s->next) {
            ok = s->kind == SPAN_FREE && bucket_of(s->units) == b && span_of(s->start) == s &&
                 span_of(s->start + (s->units - 1) * UNIT) == s;
            for (size_t u = 1; u + 1 < s->units && ok; u++) ok = span_of(s->start + u * UNIT) == NULL;
            span *right = span_of(s->start + s->units * UNIT);
            ok = ok && !(right && right->kind == SPAN_FREE && right->start == s->start + s->units * UNIT);
            free_bytes += s->units * UNIT;
            if (s->dirty) dirty += s->units * UNIT;
        }
    }
    ok = ok && free_bytes == heap_free_bytes && dirty == heap_dirty_bytes && free_bytes <= heap_mapped;
    engine_unlock(&heap_lock);
    return ok;
}

/* --- the heap as a source of large blocks -------------------------------------------------- */

static inline size_t units_for(size_t len) { return (len + UNIT - 1) >> UNIT_SHIFT; }

static void *heap_vt_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)ret_addr;
    if (align > UNIT || len > HEAP_LARGE_MAX) return NULL;
    span *s = heap_take(units_for(len), SPAN_LARGE, 0);
    if (!s) return NULL;
    ALLOC_TRACK_UNDEFINED(s->start, s->units * UNIT);
    return s->start;
}

/* In place: the span keeps its units, gives back a tail, or takes the free
 * span right after it. */
static bool heap_vt_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align, (void)ret_addr;
    span *s = span_of(mem);
    size_t want = units_for(new_len);
    if (!s || s->kind != SPAN_LARGE || new_len > HEAP_LARGE_MAX) return false;
    if (want == s->units) return true;
    bool ok = false;
    engine_lock(&heap_lock);
    if (want < s->units) {
        span *tail = desc_new();
        if (tail) {
            tail->start = s->start + want * UNIT;
            tail->units = s->units - want;
            s->units = want;
            tail->kind = SPAN_LARGE;
            pagemap_set_all(tail);
            ALLOC_TRACK_NOACCESS(tail->start, tail->units * UNIT);
            heap_release_locked(tail);
            ok = true;
        }
    } else {
        span *right = span_of(s->start + s->units * UNIT);
        if (right && right->kind == SPAN_FREE && right->start == s->start + s->units * UNIT &&
            s->units + right->units >= want) {
            heap_remove(right);
            size_t extra = want - s->units;
            if (right->units > extra) {
                right->start += extra * UNIT;
                right->units -= extra;
                heap_insert(right);
            } else {
                desc_delete(right);
            }
            ALLOC_TRACK_UNDEFINED(s->start + s->units * UNIT, extra * UNIT);
            s->units = want;
            pagemap_set_all(s);
            ok = true;
        }
    }
    engine_unlock(&heap_lock);
    return ok;
}

static void *heap_vt_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    return heap_vt_resize(ctx, mem, len, align, new_len, ret_addr) ? mem : NULL;
}

static void heap_vt_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align, (void)ret_addr;
    span *s = span_of(mem);
    if (s && s->kind == SPAN_LARGE && s->start == mem) heap_release(s);
}

static const alloc_vtable heap_vtable = {heap_vt_alloc, heap_vt_resize, heap_vt_remap, heap_vt_free};

/* --- trimming and options ----------------------------------------------------------------- */

/* Internal figures for mallinfo2 and the report. Heap lock taken. */
static void heap_counts(size_t *mapped, size_t *free_bytes, size_t *dirty, size_t *free_spans)
{
    size_t n = 0;
    engine_lock(&heap_lock);
    for (unsigned b = 0; b <= HEAP_BUCKETS; b++)
        for (span *s = heap_lists[b]; s; s = s->next) n++;
    *mapped = heap_mapped;
    *free_bytes = heap_free_bytes;
    *dirty = heap_dirty_bytes;
    *free_spans = n;
    engine_unlock(&heap_lock);
}

int alloc_global_set_decay(long delay_ms, size_t retain_bytes)
{
    if (delay_ms < 0 || delay_ms > 3600L * 1000) return -EINVAL;
    atomic_store(&opt_decay_ns, (int64_t)delay_ms * 1000 * 1000);
    atomic_store(&opt_retain_bytes, retain_bytes);
    return 0;
}
