/*
 * classes.c: size classes and the central free lists over spans.
 *
 * Small blocks (block size incl. header up to 256 KiB) use size classes: 32,
 * 48, ..., 128, then four classes per power of two (160, 192, 224, 256, 320,
 * ...), so rounding wastes at most 25 %. Each class has a central list of
 * spans with free blocks, under the class's mutex; thread caches (tcache.c)
 * sit in front of it.
 *
 * A free block's header is the live header of the block at offset 16 with its
 * tag flipped by TAG_FREED_FLIP, and its first user word links it into a list
 * (a thread cache's or its span's). That is what makes the fast paths in
 * tcache.c and entry.c cheap, and what lets a double free be told from a
 * foreign pointer.
 */

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

/* --- central lists: each class's spans ------------------------------------------------ */

/*
 * A class's blocks live in its spans (pageheap.c). Each span keeps its own
 * free list and a count of the blocks out of it (in thread caches or live);
 * the class keeps the spans that have a block to give (a free one, or one not
 * carved yet) on its partial list. When a span's last block comes back, the
 * span goes back to the page heap (unless it is the class's only partial span:
 * a class that allocates and frees one block at a time keeps its span), and
 * from there to any class or large block, or to the system after the decay
 * delay. Carving writes each block's freed header, so a block on any list
 * always carries one.
 */
typedef struct central {
    pthread_mutex_t lock;
    span *partial; /* spans with a free or uncarved block, doubly linked */
} central;

/* Zero-filled static mutexes are default mutexes in glibc and musl; init_slow
 * initialises them all the same, before any thread can reach them. */
static central classes[NCLASS];

static inline bool span_has_block(const span *s) { return s->free || s->carved < s->capacity; }

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
    span *s = heap_take(class_span_units(cls), SPAN_CLASS);
    if (!s) return NULL;
    size_t bytes = s->units * UNIT;
    ALLOC_TRACK_NOACCESS(s->start, bytes);
    s->cls = (uint16_t)cls;
    s->capacity = (uint32_t)(bytes / class_size(cls));
    s->carved = s->used = 0;
    s->free = NULL;
    partial_push(c, s);
    sample_peak_in_use();
    return s;
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
    while (got < want) {
        span *s = c->partial;
        if (!s && !(s = class_span_new(c, cls))) break;
        while (got < want && s->free) {
            void *p = s->free;
            s->free = link_get(p);
            link_set(p, *list);
            *list = p;
            s->used++;
            got++;
        }
        while (got < want && s->carved < s->capacity) {
            void *p = s->start + (size_t)s->carved * size + HDR;
            s->carved++;
            mark_freed(p, cls);
            link_set(p, *list);
            *list = p;
            s->used++;
            got++;
        }
        if (!span_has_block(s)) partial_unlink(c, s);
    }
    pthread_mutex_unlock(&c->lock);
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
    pthread_mutex_lock(&c->lock);
    void *p = head;
    for (uint32_t i = 0; i < n; i++) {
        void *next = link_get(p);
        span *s = span_of(p);
        ALLOC_ASSERT(s && s->kind == SPAN_CLASS && s->cls == cls && s->used > 0);
        if (!span_has_block(s)) partial_push(c, s);
        link_set(p, s->free);
        s->free = p;
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
    pthread_mutex_unlock(&c->lock);
    for (unsigned k = 0; k < nrelease; k++) heap_release(release[k]);
}

/* Gives back the empty span each class may keep (see central_give). */
static void classes_release_empty(void)
{
    for (unsigned cls = 0; cls < NCLASS; cls++) {
        central *c = &classes[cls];
        span *empty = NULL;
        pthread_mutex_lock(&c->lock);
        for (span *s = c->partial; s; s = s->next)
            if (s->used == 0) {
                empty = s;
                break;
            }
        if (empty) partial_unlink(c, empty);
        pthread_mutex_unlock(&c->lock);
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
    pthread_mutex_lock(&c->lock);
    for (span *s = c->partial; s && ok; s = s->next) {
        ok = s->kind == SPAN_CLASS && s->cls == cls && span_has_block(s) && (!s->next || s->next->prev == s);
        uint32_t nfree = 0;
        for (void *p = s->free; p && ok; p = link_get(p), nfree++)
            ok = nfree < s->capacity && span_of(p) == s && is_freed_block(p, cls);
        ok = ok && nfree + (s->capacity - s->carved) + s->used == s->capacity;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

_Static_assert(NCLASS == 51, "class table size");
