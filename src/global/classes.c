/*
 * classes.c: size classes, spans and the central free lists.
 *
 * Small blocks (block size incl. header up to 256 KiB) use size classes: 32,
 * 48, ..., 128, then four classes per power of two (160, 192, 224, 256, 320,
 * ...), so rounding wastes at most 25 %. Each class has a central free list
 * and a bump range inside its current span (fresh memory from the page
 * allocator, at least 64 KiB or 8 blocks), both under the class's mutex.
 *
 * A free block's header is the live header of the block at offset 16 with its
 * tag flipped by TAG_FREED_FLIP, and its first user word links it into a list
 * (a thread cache's or the central one). That is what makes the fast paths in
 * tcache.c and entry.c cheap, and what lets a double free be told from a
 * foreign pointer.
 *
 * Spans are never returned to the system: memory freed to a class stays with
 * that class (the known cost of this design; jemalloc and mimalloc purge).
 */

#define SPAN_MIN ((size_t)64 << 10)
#define CACHE_BYTES ((size_t)256 << 10)

/* The class of a block of `block` bytes (header included); block <= MAX_CLASS_BLOCK. */
static inline unsigned class_of(size_t block)
{
    if (block <= 128) return block <= MIN_BLOCK ? 0u : (unsigned)((block + 15) / 16 - 2);
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(block - 1));
    return 7u + (lg - 7u) * 4u + (unsigned)((block - 1 - ((size_t)1 << lg)) >> (lg - 2u));
}

static inline size_t class_size_compute(unsigned cls)
{
    if (cls < 7) return (size_t)(cls + 2) * 16;
    unsigned k = cls - 7, lg = 7 + k / 4;
    return ((size_t)1 << lg) + (size_t)(k % 4 + 1) * ((size_t)1 << (lg - 2));
}

/* Tables filled at initialisation (a load instead of arithmetic on the fast path). */
static uint32_t class_size_table[NCLASS_MAX];
static uint32_t cache_cap_table[NCLASS_MAX];

static inline size_t class_size(unsigned cls) { return class_size_table[cls]; }
static inline uint32_t cache_cap(unsigned cls) { return cache_cap_table[cls]; }

static void fill_class_tables(void)
{
    for (unsigned cls = 0; cls < NCLASS_MAX; cls++) {
        size_t size = class_size_compute(cls);
        size_t n = CACHE_BYTES / size;
        class_size_table[cls] = (uint32_t)size;
        cache_cap_table[cls] = n < 2 ? 2u : n > 128 ? 128u : (uint32_t)n;
    }
}

typedef struct central {
    pthread_mutex_t lock;
    void *free;     /* user pointers, linked through their first word */
    size_t nfree;
    char *bump, *bump_end;
} central;

/* Zero-filled static mutexes are default mutexes in glibc and musl; init_slow
 * initialises them all the same, before any thread can reach them. */
static central classes[NCLASS];

/* The link word of a freed class block lives in its first user word. */
static inline void *link_get(void *user)
{
    void *next;
    ALLOC_TRACK_DEFINED(user, sizeof next);
    memcpy(&next, user, sizeof next);
    return next;
}

static inline void link_set(void *user, void *next)
{
    ALLOC_TRACK_UNDEFINED(user, sizeof next);
    memcpy(user, &next, sizeof next);
}

/* Marks a block (given by its canonical user pointer, block + 16) as freed. */
static inline void mark_freed(void *user, unsigned cls)
{
    size_t usable = class_size(cls) - HDR;
    uint32_t meta = (cls + 1u) | (1u << 12);
    hdr *h = hdr_of(user);
    ALLOC_TRACK_UNDEFINED(h, HDR);
    h->len = usable;
    h->meta = meta;
    h->tag = tag_of(user, usable, meta) ^ TAG_FREED_FLIP;
    ALLOC_TRACK_NOACCESS(h, HDR);
#if ALLOC_DEBUG_CHECKS
    ALLOC_TRACK_UNDEFINED(user, usable);
    memset(user, ALLOC_FILL_FREED, usable);
#endif
    ALLOC_TRACK_NOACCESS(user, usable);
}

static inline bool is_freed_block(void *user, unsigned cls)
{
    hdr *h = hdr_of(user);
    ALLOC_TRACK_DEFINED(h, HDR);
    hdr copy = *h;
    ALLOC_TRACK_NOACCESS(h, HDR);
    return copy.meta == ((cls + 1u) | (1u << 12)) && copy.len == class_size(cls) - HDR &&
           copy.tag == (tag_of(user, copy.len, copy.meta) ^ TAG_FREED_FLIP);
}

/*
 * Spans of up to SPAN_CHUNK / 4 bytes are cut from shared 2 MiB chunks (one
 * mmap for many classes: short-lived processes touch dozens of classes and
 * would otherwise pay a system call for each); bigger spans are mapped alone.
 * The tail of a chunk too small for the next span is left unused.
 */
#define SPAN_CHUNK ((size_t)2 << 20)
static pthread_mutex_t span_lock = PTHREAD_MUTEX_INITIALIZER;
static char *span_chunk, *span_chunk_end;

static void note_reserved(size_t n)
{
    size_t spans = atomic_fetch_add(&bytes_reserved, n) + n;
    raise_peak(&peak_reserved, spans + atomic_load_explicit(&direct_bytes, memory_order_relaxed));
}

static char *take_span(size_t span)
{
    allocator page = alloc_page_allocator();
    if (span > SPAN_CHUNK / 4) {
        char *mem = alloc_bytes_at(page, span, alloc_os_page_size(), 0);
        if (mem) note_reserved(span);
        return mem;
    }
    pthread_mutex_lock(&span_lock);
    if ((size_t)(span_chunk_end - span_chunk) < span) {
        char *chunk = alloc_bytes_at(page, SPAN_CHUNK, alloc_os_page_size(), 0);
        if (!chunk) {
            pthread_mutex_unlock(&span_lock);
            return NULL;
        }
        note_reserved(SPAN_CHUNK);
        span_chunk = chunk;
        span_chunk_end = chunk + SPAN_CHUNK;
    }
    char *mem = span_chunk;
    span_chunk += span;
    pthread_mutex_unlock(&span_lock);
    return mem;
}

/* Gets a span for the class into bump/bump_end. Caller holds the class lock
 * (sample_peak_in_use then takes registry_lock: class before registry is the
 * lock order everywhere). */
static bool grow_class(central *c, unsigned cls)
{
    size_t size = class_size(cls);
    size_t span = size * 8 > SPAN_MIN ? size * 8 : SPAN_MIN;
    span = alloc_align_up(span, alloc_os_page_size());
    char *mem = take_span(span);
    if (!mem) return false;
    ALLOC_TRACK_NOACCESS(mem, span);
    c->bump = mem;
    /* Whole blocks only: the tail that is not a multiple of the class stays unused. */
    c->bump_end = mem + span / size * size;
    sample_peak_in_use();
    return true;
}

/*
 * Moves up to `want` free blocks of class cls onto *list (user pointers,
 * linked, marked freed). Returns how many. Takes the class lock.
 */
static uint32_t central_take(unsigned cls, uint32_t want, void **list)
{
    central *c = &classes[cls];
    size_t size = class_size(cls);
    uint32_t got = 0;
    pthread_mutex_lock(&c->lock);
    while (got < want && c->free) {
        void *p = c->free;
        c->free = link_get(p);
        c->nfree--;
        link_set(p, *list);
        *list = p;
        got++;
    }
    while (got < want) {
        if (c->bump == c->bump_end && !grow_class(c, cls)) break;
        void *p = c->bump + HDR;
        c->bump += size;
        mark_freed(p, cls);
        link_set(p, *list);
        *list = p;
        got++;
    }
    pthread_mutex_unlock(&c->lock);
    return got;
}

/* Gives a linked list of n freed blocks (head .. tail) back to class cls. */
static void central_give(unsigned cls, void *head, void *tail, uint32_t n)
{
    central *c = &classes[cls];
    pthread_mutex_lock(&c->lock);
    link_set(tail, c->free);
    c->free = head;
    c->nfree += n;
    pthread_mutex_unlock(&c->lock);
}

static void classes_init(void)
{
    fill_class_tables();
    for (unsigned i = 0; i < NCLASS; i++) {
        pthread_mutex_init(&classes[i].lock, NULL);
        classes[i].free = NULL;
        classes[i].nfree = 0;
        classes[i].bump = classes[i].bump_end = NULL;
    }
}

/* Class invariants for alloc_global_check: the central list holds only freed
 * blocks of the class and its count agrees. Takes the class lock. */
static bool central_check(unsigned cls)
{
    central *c = &classes[cls];
    bool ok = true;
    pthread_mutex_lock(&c->lock);
    size_t n = 0;
    for (void *p = c->free; p && ok; p = link_get(p), n++) ok = is_freed_block(p, cls);
    ok = ok && n == c->nfree && (size_t)(c->bump_end - c->bump) % class_size(cls) == 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

_Static_assert(NCLASS == 51, "class table size");
