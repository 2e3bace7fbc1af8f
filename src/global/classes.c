/*
 * classes.c: size classes and the central free lists over spans.
 *
 * Small requests (up to 256 KiB) use size classes: 16, 32, ..., 128, then
 * four classes per power of two (160, 192, 224, 256, 320, ...), so rounding
 * wastes at most 25 %. A class block has no header. Its span (found through
 * the page map, pageheap.c) says its class and size, and free checks that
 * the pointer is a block boundary of a block the span has handed out, which
 * tells a foreign pointer without touching the block. This is how tcmalloc
 * and mimalloc find a block's size, and how musl's mallocng validates a
 * pointer against its out-of-line metadata; the memory saved is the 16 bytes
 * a header took from every block (a quarter of a 64-byte request).
 *
 * A free block carries two words: the link of whatever list it is on (a
 * thread cache's or its span's) and its freed tag, its own address keyed by
 * the process secret. malloc clears the tag; free finds it on a block that is
 * already free and reports a double free before touching anything (glibc's
 * tcache keeps a key in freed blocks for the same reason). A live block whose
 * second word equals its tag by chance would have to hold a 64-bit value
 * derived from a secret the program never sees.
 *
 * Each class has a central list of spans with free blocks, under the class's
 * mutex; thread caches (tcache.c) sit in front of it.
 */

/* A thread caches at most 128 blocks or 64 KiB of a class, whichever is
 * less (at least 2 blocks), and no blocks above 32 KiB (jemalloc's default
 * tcache_max): at most about 2.3 MiB per thread over all classes, which an
 * idle thread keeps until it exits. */
#define CACHE_BYTES ((size_t)64 << 10)
#define CACHE_MAX_BLOCK ((size_t)32 << 10)
#define SMALL_LOOKUP_MAX 1024u

/* The class of a request of n bytes; n <= MAX_CLASS_BLOCK. */
static inline unsigned class_of_compute(size_t n)
{
    if (n <= 128) return n <= 16 ? 0u : (unsigned)((n + 15) / 16 - 1);
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return 8u + (lg - 7u) * 4u + (unsigned)((n - 1 - ((size_t)1 << lg)) >> (lg - 2u));
}

static inline size_t class_size_compute(unsigned cls)
{
    if (cls < 8) return (size_t)(cls + 1) * 16;
    unsigned k = cls - 8, lg = 7 + k / 4;
    return ((size_t)1 << lg) + (size_t)(k % 4 + 1) * ((size_t)1 << (lg - 2));
}

/* Tables filled at initialisation (a load instead of arithmetic on the fast path). */
static uint32_t class_size_table[NCLASS_MAX];
static uint32_t cache_cap_table[NCLASS_MAX];
static uint8_t class_small_table[SMALL_LOOKUP_MAX / 16 + 1]; /* by (n + 15) / 16 */

static inline size_t class_size(unsigned cls) { return class_size_table[cls]; }
static inline uint32_t cache_cap(unsigned cls) { return cache_cap_table[cls]; }
static inline unsigned class_of(size_t n)
{
    return ALLOC_LIKELY(n <= SMALL_LOOKUP_MAX) ? class_small_table[(n + 15) / 16] : class_of_compute(n);
}

/* The smallest class for n bytes whose blocks are all aligned to align (a
 * power of two up to MAX_CLASS_ALIGN): spans start on a 64 KiB boundary, so
 * a class whose size is a multiple of align has only aligned blocks. NCLASS
 * if none is big enough. */
static unsigned class_of_aligned(size_t n, size_t align)
{
    unsigned cls = class_of(n > align ? n : align);
    while (cls < NCLASS && class_size(cls) % align != 0) cls++;
    return cls;
}

static void fill_class_tables(void)
{
    for (unsigned cls = 0; cls < NCLASS_MAX; cls++) {
        size_t size = class_size_compute(cls);
        size_t n = CACHE_BYTES / size;
        class_size_table[cls] = (uint32_t)size;
        cache_cap_table[cls] = size > CACHE_MAX_BLOCK ? 0u : n < 2 ? 2u : n > 128 ? 128u : (uint32_t)n;
    }
    for (unsigned i = 0; i <= SMALL_LOOKUP_MAX / 16; i++) class_small_table[i] = (uint8_t)class_of_compute((size_t)i * 16);
}

/* The two words of a free class block: its list link, then its freed tag. */
static inline void *link_get(void *block)
{
    void *next;
    ALLOC_TRACK_DEFINED(block, sizeof next);
    memcpy(&next, block, sizeof next);
    return next;
}

static inline void link_set(void *block, void *next)
{
    ALLOC_TRACK_UNDEFINED(block, sizeof next);
    memcpy(block, &next, sizeof next);
}

static inline uintptr_t tag_get(void *block)
{
    uintptr_t tag;
    ALLOC_TRACK_DEFINED((char *)block + sizeof(void *), sizeof tag);
    memcpy(&tag, (char *)block + sizeof(void *), sizeof tag);
    return tag;
}

static inline void tag_set(void *block, uintptr_t tag)
{
    ALLOC_TRACK_UNDEFINED((char *)block + sizeof(void *), sizeof tag);
    memcpy((char *)block + sizeof(void *), &tag, sizeof tag);
}

/* Marks a block freed: its link, its tag, a debug fill of the rest, and no
 * access for the tools. */
static inline void mark_freed(void *block, size_t size, void *next)
{
    link_set(block, next);
    tag_set(block, freed_tag(block));
#if ALLOC_DEBUG_CHECKS
    ALLOC_TRACK_UNDEFINED((char *)block + 2 * sizeof(void *), size - 2 * sizeof(void *));
    memset((char *)block + 2 * sizeof(void *), ALLOC_FILL_FREED, size - 2 * sizeof(void *));
#endif
    ALLOC_TRACK_NOACCESS(block, size);
}

/* The index of p in class span s, or UINT32_MAX when p is not the start of a
 * block s has carved (a foreign or interior pointer). O(1),
 * no lock: a multiply by the span's reciprocal instead of a division. Exact
 * at every block boundary: for off = k * size, off * recip = k * 2^32 + k * e
 * with e = size * recip - 2^32 < size, and k * e < off < 2^32 (a class span
 * is at most a few MiB); an offset that is not a multiple of the size never
 * passes the product check. */
static inline uint32_t block_index(const span *s, const void *p)
{
    /* p is inside s: the page map names only spans that hold the unit. */
    size_t off = (size_t)((const char *)p - s->start);
    uint64_t idx = ((uint64_t)off * s->recip) >> 32;
    if (ALLOC_UNLIKELY(idx * s->size != off || idx >= atomic_load_explicit(&s->carved, memory_order_relaxed)))
        return UINT32_MAX;
    return (uint32_t)idx;
}

/* Whether block is a free block of class cls: its span's, a boundary, tagged. */
static inline bool is_freed_block(void *block, unsigned cls)
{
    span *s = span_of(block);
    if (!s || s->kind != SPAN_CLASS || s->cls != cls || block_index(s, block) == UINT32_MAX) return false;
    bool freed = tag_get(block) == freed_tag(block);
    ALLOC_TRACK_NOACCESS((char *)block + sizeof(void *), sizeof(uintptr_t));
    return freed;
}

/* --- central lists: each class's spans ------------------------------------------------ */

/*
 * A class's blocks live in its spans (pageheap.c). Each span keeps a bitmap
 * of its free blocks (a bit per block, as jemalloc's slabs and mallocng's
 * groups do, rather than a list threaded through the blocks: giving a batch
 * back and taking one out read no block, where a list walked a chain of
 * cache misses in the order the program freed) and a count of the blocks out
 * of it (in thread caches or live). The class keeps the spans that have a
 * block to give (a free one, or one not carved yet) on its partial list. When
 * a span's last block comes back, the span goes back to the page heap (unless
 * it is the class's only partial span: a class that allocates and frees one
 * block at a time keeps its span), and from there to any class or large
 * block, or to the system after the decay delay. Carving writes each block's
 * freed tag, and a free block keeps it wherever it is, so a second free of
 * it is known.
 */
typedef struct central {
    pthread_mutex_t lock;
    span *partial; /* spans with a free or uncarved block, doubly linked */
} central;

/* Zero-filled static mutexes are default mutexes in glibc and musl; init_slow
 * initialises them all the same, before any thread can reach them. */
static central classes[NCLASS];

static inline uint32_t span_carved(const span *s) { return atomic_load_explicit(&s->carved, memory_order_relaxed); }
static inline bool span_has_block(const span *s) { return s->nfree || span_carved(s) < s->capacity; }

static void partial_push(central *c, span *s)
{
    s->prev = NULL;
    s->next = c->partial;
    if (s->next) s->next->prev = s;
    c->partial = s;
}

static void partial_unlink(central *c, span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->partial = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* The units of a span for class cls: 8 blocks at least, 64 KiB at least. */
static size_t class_span_units(unsigned cls)
{
    size_t bytes = class_size(cls) * 8;
    return bytes <= UNIT ? 1 : units_for(bytes);
}

/* A new span for the class on its partial list. Class lock held. */
static span *class_span_new(central *c, unsigned cls)
{
    size_t units = class_span_units(cls), size = class_size(cls);
    size_t capacity = units * UNIT / size;
    if (capacity > SPAN_BLOCKS_MAX) capacity = SPAN_BLOCKS_MAX;
    span *s = heap_take(units, SPAN_CLASS, bitmap_words((uint32_t)capacity));
    if (!s) return NULL;
    ALLOC_TRACK_NOACCESS(s->start, s->units * UNIT);
    s->cls = (uint16_t)cls;
    s->size = (uint32_t)size;
    s->recip = (uint32_t)((((uint64_t)1 << 32) + size - 1) / size);
    s->capacity = (uint32_t)capacity;
    atomic_store_explicit(&s->carved, 0, memory_order_relaxed);
    s->used = s->nfree = s->hint = 0;
    partial_push(c, s);
    sample_peak_in_use();
    return s;
}

/*
 * Moves up to `want` free blocks of class cls onto *list (linked, marked
 * freed). Returns how many. Takes the class lock.
 */
static uint32_t central_take(unsigned cls, uint32_t want, void **list)
{
    central *c = &classes[cls];
    size_t size = class_size(cls);
    uint32_t got = 0;
    engine_lock(&c->lock);
    while (got < want) {
        span *s = c->partial;
        if (!s && !(s = class_span_new(c, cls))) break;
        /* The span's free blocks, lowest address first, found in its bitmap:
         * no block is read, so blocks freed in random order cost no chain
         * of cache misses here (each one is written once, its link). */
        for (size_t w = s->hint, words = bitmap_words(s->capacity); s->nfree && got < want && w < words; w++) {
            uint64_t bits = s->bits[w];
            while (bits && got < want) {
                void *p = s->start + ((size_t)w * 64 + (unsigned)__builtin_ctzll(bits)) * size;
                bits &= bits - 1;
                link_set(p, *list);
                ALLOC_TRACK_NOACCESS(p, sizeof(void *));
                *list = p;
                s->used++;
                s->nfree--;
                got++;
            }
            s->bits[w] = bits;
            s->hint = (uint32_t)w;
        }
        uint32_t carved = span_carved(s);
        while (got < want && carved < s->capacity) {
            void *p = s->start + (size_t)carved * size;
            carved++;
            mark_freed(p, size, *list);
            *list = p;
            s->used++;
            got++;
        }
        /* Published after the blocks' tags: a free that sees the new count
         * finds a tagged block. */
        atomic_store_explicit(&s->carved, carved, memory_order_release);
        if (!span_has_block(s)) partial_unlink(c, s);
    }
    engine_unlock(&c->lock);
    return got;
}

/* Gives a linked list of n freed blocks (head .. tail) back to class cls:
 * each to its own span. O(n). */
static void central_give(unsigned cls, void *head, void *tail, uint32_t n)
{
    (void)tail;
    central *c = &classes[cls];
    span *release[8];
    unsigned nrelease = 0;
    engine_lock(&c->lock);
    void *p = head;
    for (uint32_t i = 0; i < n; i++) {
        void *next = link_get(p);
        ALLOC_TRACK_NOACCESS(p, sizeof(void *));
        span *s = span_of(p);
        ALLOC_ASSERT(s && s->kind == SPAN_CLASS && s->cls == cls && s->used > 0);
        uint32_t idx = block_index(s, p);
        ALLOC_ASSERT(idx != UINT32_MAX && !(s->bits[idx / 64] >> (idx % 64) & 1u));
        if (!span_has_block(s)) partial_push(c, s);
        s->bits[idx / 64] |= (uint64_t)1 << (idx % 64);
        if (idx / 64 < s->hint) s->hint = idx / 64;
        s->nfree++;
        s->used--;
        if (s->used == 0 && (c->partial != s || s->next)) {
            /* Empty, and not the class's last partial span: back to the heap. */
            partial_unlink(c, s);
            if (nrelease == sizeof release / sizeof release[0]) {
                for (unsigned k = 0; k < nrelease; k++) heap_release(release[k]);
                nrelease = 0;
            }
            release[nrelease++] = s;
        }
        p = next;
    }
    engine_unlock(&c->lock);
    for (unsigned k = 0; k < nrelease; k++) heap_release(release[k]);
}

/* Gives back the empty span each class may keep (see central_give). */
static void classes_release_empty(void)
{
    for (unsigned cls = 0; cls < NCLASS; cls++) {
        central *c = &classes[cls];
        span *empty = NULL;
        engine_lock(&c->lock);
        for (span *s = c->partial; s; s = s->next)
            if (s->used == 0) {
                empty = s;
                break;
            }
        if (empty) partial_unlink(c, empty);
        engine_unlock(&c->lock);
        if (empty) heap_release(empty);
    }
}

static void classes_init(void)
{
    fill_class_tables();
    for (unsigned i = 0; i < NCLASS; i++) {
        pthread_mutex_init(&classes[i].lock, NULL);
        classes[i].partial = NULL;
    }
}

/* Class invariants for alloc_global_check: every partial span is the class's,
 * has a block to give, and its free list holds only freed blocks of the
 * class inside it, with free + uncarved + used = capacity. Takes the class lock. */
static bool central_check(unsigned cls)
{
    central *c = &classes[cls];
    bool ok = true;
    engine_lock(&c->lock);
    for (span *s = c->partial; s && ok; s = s->next) {
        ok = s->kind == SPAN_CLASS && s->cls == cls && span_has_block(s) && (!s->next || s->next->prev == s);
        uint32_t nfree = 0, carved = span_carved(s);
        for (uint32_t i = 0; i < s->capacity && ok; i++) {
            if (!(s->bits[i / 64] >> (i % 64) & 1u)) continue;
            nfree++;
            ok = i < carved && i / 64 >= s->hint && is_freed_block(s->start + (size_t)i * s->size, cls);
        }
        ok = ok && nfree == s->nfree && nfree + (s->capacity - carved) + s->used == s->capacity;
    }
    engine_unlock(&c->lock);
    return ok;
}

_Static_assert(NCLASS == 52, "class table size");
