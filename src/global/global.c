/*
 * global.c: the global adapter's engine (the malloc family over any allocator).
 *
 * Every block the adapter hands out carries a 16-byte header right in front of
 * the user pointer, because free(p) tells us nothing else:
 *
 *     block start                         user pointer (16-aligned)
 *     |<------------- offset ------------->|
 *     [ alignment padding ... ][ len | meta | tag ][ user bytes (len) ... ]
 *
 *   len   usable bytes from the user pointer (what malloc_usable_size says)
 *   meta  size class + 1 (0: a direct block), source index (4 bits), and the
 *         offset: in 16-byte units for class blocks, as log2 for direct ones
 *   tag   32-bit check of (address, len, meta) keyed by a per-process secret
 *         from AT_RANDOM; a freed block's tag is flipped by a constant
 * A free whose header does not verify is either a double free (the flipped
 * tag) or a foreign pointer, both reported before any state is touched.
 *
 * Small blocks (block size incl. header up to 256 KiB) use size classes: 32,
 * 48, ..., 128, then four classes per power of two (160, 192, 224, 256, 320,
 * ...), so rounding wastes at most 25 %. Each class has a central free list
 * and a bump range inside its current span (fresh memory from the page
 * allocator, at least 64 KiB or 8 blocks), both under the class's mutex. In
 * front, every thread has a cache per class: a singly linked list (the link
 * word sits right after the freed block's header) and a count, bounded by
 * cache_cap(class) (about 256 KiB per class, 2..128 blocks). A malloc that
 * hits its cache is a pop, a free a push: O(1), no atomics, no lock. A miss
 * takes the class lock once and moves half a cache's worth; an overfull cache
 * gives half back the same way. Spans are never returned to the system:
 * memory freed to a class stays with that class (the known cost of this
 * design; jemalloc and mimalloc purge, we do not yet).
 *
 * Alignment above 16 for a small request takes a class block of
 * len + align + 16 bytes and puts the user pointer at the first aligned
 * address after the header (align up to 4 KiB); anything bigger is direct.
 *
 * Direct blocks (large, or every block when a strategy other than the default
 * is selected or a handle is installed): one call to the source allocator for
 * len + offset bytes at max(align, 16), where offset = max(align, 16), so the
 * user pointer is aligned like the block. Sources that are not thread-safe
 * are called under their own mutex. realloc of a direct block asks the
 * source's remap first (for the page allocator: mremap, no copy).
 *
 * Initialisation is lazy and allocation-free: the first call reads the secret
 * (getauxval), walks `environ` by hand for ALLOC_STRATEGY and ALLOC_STATS, and
 * publishes a ready flag. A constructor then creates the pthread key whose
 * destructor flushes a thread's cache at exit and registers the fork handlers
 * (both may allocate in glibc, which is fine there: the constructor runs
 * outside malloc, and a nested call simply finds the adapter ready). A
 * thread's first cache use calls pthread_setspecific, which can allocate for
 * high key numbers: the cache is marked "being set up" meanwhile, so such a
 * nested malloc goes to the class directly.
 *
 * Statistics live in each thread's cache (plain stores by the owner, read by
 * anyone with relaxed atomics) and in a "retired" record for threads that
 * exited; the caches are linked in a registry under its own mutex.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "../core/internal.h"
#include "alloc/global.h"
#include "alloc/os.h"
#include "alloc/page.h"
#if ALLOC_GLOBAL_HAVE_FREELIST
#include "alloc/freelist.h"
#endif
#if ALLOC_GLOBAL_HAVE_SLAB
#include "alloc/slab.h"
#endif
#if ALLOC_GLOBAL_HAVE_ARENA
#include "alloc/arena.h"
#endif
#if ALLOC_GLOBAL_HAVE_BUMP
#include "alloc/bump.h"
#endif

extern char **environ;

#define HDR 16u
#define MIN_BLOCK 32u
#define MAX_CLASS_BLOCK ((size_t)256 << 10)
#define NCLASS 51u /* class_of(MAX_CLASS_BLOCK) + 1, checked below */
#define NCLASS_MAX 51
#define MAX_CLASS_ALIGN ((size_t)4096)
#define TAG_FREED_FLIP 0x5A5AA5A5u
#define SPAN_MIN ((size_t)64 << 10)
#define CACHE_BYTES ((size_t)256 << 10)

#define ALLOC_GLOBAL_TLS _Thread_local __attribute__((tls_model("initial-exec")))

/* --- size classes ---------------------------------------------------------- */

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

/* --- headers --------------------------------------------------------------- */

typedef struct hdr {
    size_t len;
    uint32_t meta;
    uint32_t tag;
} hdr;
_Static_assert(sizeof(hdr) == HDR, "the header is 16 bytes");

#define META_CLASS(m) ((m)&0xFFu)           /* class + 1, 0 = direct */
#define META_SOURCE(m) (((m) >> 8) & 0xFu)  /* index into sources[] */
#define META_OFF(m) ((m) >> 12)             /* units (class) or log2 (direct) */

static uint64_t secret = 0x9E3779B97F4A7C15ull;

static inline uint32_t tag_of(const void *user, size_t len, uint32_t meta)
{
    uint64_t x = (uint64_t)(uintptr_t)user ^ secret;
    x ^= (uint64_t)len * 0xFF51AFD7ED558CCDull;
    x ^= (uint64_t)meta << 32;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 29;
    return (uint32_t)(x >> 32);
}

static inline hdr *hdr_of(const void *user) { return (hdr *)((uintptr_t)user - HDR); }

static inline void hdr_write(void *user, size_t len, uint32_t meta)
{
    hdr *h = hdr_of(user);
    ALLOC_TRACK_UNDEFINED(h, HDR);
    h->len = len;
    h->meta = meta;
    h->tag = tag_of(user, len, meta);
    ALLOC_TRACK_NOACCESS(h, HDR);
}

static inline size_t block_offset(uint32_t meta)
{
    return META_CLASS(meta) ? (size_t)META_OFF(meta) * 16 : (size_t)1 << META_OFF(meta);
}

/* --- sources (where direct blocks come from) ------------------------------- */

/* Fixed sources first (the strategies of the library that are compiled in,
 * set up on first selection), then the handles of alloc_global_install. */
enum {
    SRC_CLASSES = 0,
    SRC_PAGE,
    SRC_FREELIST,
    SRC_POOLS,
    SRC_ARENA,
    SRC_BUMP,
    SRC_FIRST_INSTALLED,
    NSOURCES = 16
};
_Static_assert(SRC_FIRST_INSTALLED + ALLOC_GLOBAL_MAX_INSTALLED <= NSOURCES, "4 bits of source index");

typedef struct source {
    allocator a;
    pthread_mutex_t lock;
    bool locked;      /* call a under lock */
    bool fresh_zero;  /* every alloc returns zeroed memory (calloc skips memset) */
    const char *name;
} source;

static source sources[NSOURCES] = {
    [SRC_CLASSES] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "default"},
    [SRC_PAGE] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "page"},
    [SRC_FREELIST] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "freelist"},
    [SRC_POOLS] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "pools"},
    [SRC_ARENA] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "arena"},
    [SRC_BUMP] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "bump"},
};
/* Set once a fixed source's strategy is initialised (under install_lock). */
static _Atomic bool source_ready[SRC_FIRST_INSTALLED];
static _Atomic unsigned source_count = SRC_FIRST_INSTALLED;
/* Where new blocks come from: SRC_CLASSES (classes, large blocks to the page
 * allocator) or the index of a source that takes everything. */
static _Atomic unsigned active_source = SRC_CLASSES;

/* --- classes and thread caches ---------------------------------------------- */

typedef struct central {
    pthread_mutex_t lock;
    void *free;     /* user pointers, linked through their first word */
    size_t nfree;
    char *bump, *bump_end;
} central;

static central classes[NCLASS];

typedef struct bin {
    void *head;
    uint32_t count;
} bin;

enum { TC_NEW = 0, TC_SETUP, TC_ACTIVE, TC_DEAD };

typedef struct counters {
    _Atomic uint64_t allocs, frees, failed, misuse, resizes, remaps;
    _Atomic size_t in_use_add, in_use_sub;
} counters;

typedef struct tcache {
    bin bins[NCLASS];
    int state;
    counters c;
    struct tcache *next, *prev;
} tcache;

static ALLOC_GLOBAL_TLS tcache tc;

/* Threads without a usable cache (being set up, exited) count here. */
static counters shared_counters;
/* Counters of exited threads and of caches discarded by fork. */
static counters retired;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static tcache *registry;
/* Span bytes, and bytes of direct blocks (header and padding included). */
static _Atomic size_t bytes_reserved, direct_bytes, peak_reserved, peak_in_use;

static pthread_key_t exit_key;
static _Atomic bool exit_key_ready;

static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    /* Owner-only counters: a load and a store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void count_size(_Atomic size_t *c, size_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline counters *my_counters(void) { return tc.state == TC_ACTIVE ? &tc.c : NULL; }

/* Counting for threads without a cache uses real atomic adds (shared). */
#define NOTE(field, n)                                                                \
    do {                                                                              \
        counters *mine_ = my_counters();                                              \
        if (mine_)                                                                    \
            count(&mine_->field, (n));                                                \
        else                                                                          \
            atomic_fetch_add_explicit(&shared_counters.field, (n), memory_order_relaxed); \
    } while (0)
#define NOTE_SIZE(field, n)                                                           \
    do {                                                                              \
        counters *mine_ = my_counters();                                              \
        if (mine_)                                                                    \
            count_size(&mine_->field, (n));                                           \
        else                                                                          \
            atomic_fetch_add_explicit(&shared_counters.field, (n), memory_order_relaxed); \
    } while (0)

static void raise_peak(_Atomic size_t *peak, size_t value)
{
    size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen && !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed,
                                                                  memory_order_relaxed)) {
    }
}

/* --- lazy initialisation ----------------------------------------------------- */

enum { INIT_NONE = 0, INIT_RUNNING, INIT_DONE };
static _Atomic int init_state;
static bool saw_environ;
static bool print_stats_at_exit;

/* getenv without libc's locking or allocation: a walk of environ. */
static const char *env_lookup(const char *name)
{
    char **env = environ;
    if (!env) return NULL;
    size_t n = strlen(name);
    for (; *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=') return *env + n + 1;
    return NULL;
}

static void warn(const char *fmt, const char *arg)
{
    char line[256];
    size_t n = alloc_format(line, sizeof line, fmt, arg);
    alloc_os_write_stderr(line, n < sizeof line ? n : sizeof line - 1);
}

static int select_by_name(const char *name);
static bool setup_fixed_source(unsigned idx);

static void read_environment(void)
{
    saw_environ = environ != NULL;
    const char *stats = env_lookup("ALLOC_STATS");
    print_stats_at_exit = stats && stats[0] && strcmp(stats, "0") != 0;
    const char *strategy = env_lookup("ALLOC_STRATEGY");
    if (strategy && strategy[0] && select_by_name(strategy) != 0)
        warn("alloc: ALLOC_STRATEGY=%s is not available here; using the default\n", strategy);
}

static ALLOC_NOINLINE void init_slow(void)
{
    int expected = INIT_NONE;
    if (atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
        const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
        if (rnd) {
            uint64_t s;
            memcpy(&s, rnd + 8, sizeof s); /* the first 8 bytes are the stack protector's */
            secret ^= s;
        }
        secret ^= (uint64_t)(uintptr_t)&expected;
        fill_class_tables();
        for (unsigned i = 0; i < NCLASS; i++) {
            pthread_mutex_init(&classes[i].lock, NULL);
            classes[i].free = NULL;
            classes[i].nfree = 0;
            classes[i].bump = classes[i].bump_end = NULL;
        }
        sources[SRC_PAGE].a = alloc_page_allocator();
        sources[SRC_PAGE].fresh_zero = true;
        setup_fixed_source(SRC_FREELIST); /* the default's middle sizes, if compiled in */
        read_environment();
        atomic_store_explicit(&init_state, INIT_DONE, memory_order_release);
        return;
    }
    /* Another thread is initialising: it does not allocate, so this is short. */
    while (atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE) sched_yield();
}

static inline void ensure_init(void)
{
    if (ALLOC_UNLIKELY(atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE)) init_slow();
}

static void thread_exit(void *arg);

__attribute__((constructor)) static void global_constructor(void)
{
    ensure_init();
    /* Programs whose first malloc ran before the C library had set environ
     * (possible under LD_PRELOAD) get their selection now. */
    if (!saw_environ) read_environment();
    if (pthread_key_create(&exit_key, thread_exit) == 0) atomic_store(&exit_key_ready, true);
    pthread_atfork(alloc_global_fork_prepare, alloc_global_fork_parent, alloc_global_fork_child);
}

__attribute__((destructor)) static void global_destructor(void)
{
    if (print_stats_at_exit) alloc_global_print_stats(2);
}

/* --- reporting ------------------------------------------------------------- */

static ALLOC_NOINLINE void report_bad_pointer(const char *fn, const void *p, const hdr *h, uintptr_t ret_addr)
{
    char site[ALLOC_SITE_BUF];
    int saved = errno;
    bool freed = h && h->tag == (tag_of(p, h->len, h->meta) ^ TAG_FREED_FLIP);
    NOTE(misuse, 1);
    alloc_report_misuse("%s(%p): %s, called from %s", fn, p,
                        freed ? "double free (the block was already freed)"
                              : "pointer not allocated by alloc's malloc (or its header was overwritten)",
                        alloc_describe_addr(ret_addr, site, sizeof site));
    errno = saved;
}

/*
 * Reads and verifies p's header into *out. Returns false after reporting when
 * p is not a live block of the adapter.
 */
static inline bool verify(const char *fn, const void *p, hdr *out, uintptr_t ret_addr)
{
    if (ALLOC_UNLIKELY(((uintptr_t)p & 15u) != 0 || (uintptr_t)p < 4096)) {
        report_bad_pointer(fn, p, NULL, ret_addr);
        return false;
    }
    hdr *h = hdr_of(p);
    ALLOC_TRACK_DEFINED(h, HDR);
    *out = *h;
    ALLOC_TRACK_NOACCESS(h, HDR);
    if (ALLOC_LIKELY(out->tag == tag_of(p, out->len, out->meta))) {
        unsigned cls = META_CLASS(out->meta), src = META_SOURCE(out->meta);
        if (ALLOC_LIKELY(cls ? cls <= NCLASS && src == SRC_CLASSES : src >= SRC_PAGE && src < NSOURCES))
            return true;
    }
    report_bad_pointer(fn, p, out, ret_addr);
    return false;
}

/* --- class blocks ------------------------------------------------------------- */

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

static size_t sum_in_use(void);

/* The in-use total at a rare moment (a new span), for peak_bytes_in_use. */
static void sample_peak_in_use(void) { raise_peak(&peak_in_use, sum_in_use()); }

/* Gets a span for the class into bump/bump_end. Caller holds the class lock. */
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

static void thread_setup(void)
{
    tc.state = TC_SETUP;
    /* May allocate (glibc, keys beyond the first 32): the nested call sees
     * TC_SETUP and goes to the classes directly. */
    if (atomic_load(&exit_key_ready)) pthread_setspecific(exit_key, &tc);
    pthread_mutex_lock(&registry_lock);
    tc.prev = NULL;
    tc.next = registry;
    if (registry) registry->prev = &tc;
    registry = &tc;
    pthread_mutex_unlock(&registry_lock);
    tc.state = TC_ACTIVE;
}

static ALLOC_NOINLINE void *class_alloc_slow(unsigned cls)
{
    if (tc.state == TC_NEW) thread_setup();
    void *list = NULL;
    if (tc.state != TC_ACTIVE) {
        /* No cache (being set up, or the thread is exiting): one block. */
        return central_take(cls, 1, &list) ? list : NULL;
    }
    bin *b = &tc.bins[cls];
    uint32_t cap = cache_cap(cls);
    /* Half a cache, but at most about 32 KiB at once: carving writes a header
     * into every block, and a process that wants one 4 KiB buffer should not
     * fault in 40 pages for it. */
    uint32_t batch = (uint32_t)(((size_t)32 << 10) / class_size(cls));
    if (batch > cap / 2) batch = cap / 2;
    if (batch == 0) batch = 1;
    uint32_t got = central_take(cls, batch, &list);
    if (!got) return NULL;
    void *p = list;
    b->head = link_get(p);
    b->count = got - 1;
    return p;
}

static inline void *class_pop(unsigned cls)
{
    bin *b = &tc.bins[cls];
    void *p = b->head;
    if (ALLOC_LIKELY(p != NULL)) {
        b->head = link_get(p);
        b->count--;
        return p;
    }
    return class_alloc_slow(cls);
}

static ALLOC_NOINLINE void class_free_slow(void *user, unsigned cls)
{
    if (tc.state == TC_NEW) thread_setup();
    if (tc.state != TC_ACTIVE) {
        link_set(user, NULL);
        central_give(cls, user, user, 1);
        return;
    }
    bin *b = &tc.bins[cls];
    if (b->count < cache_cap(cls)) { /* the cache was just set up */
        link_set(user, b->head);
        b->head = user;
        b->count++;
        return;
    }
    /* Full cache: keep the newest half, give the older half back. */
    uint32_t keep = cache_cap(cls) / 2;
    void *cut = b->head;
    for (uint32_t i = 1; i < keep; i++) cut = link_get(cut);
    void *give = keep ? link_get(cut) : b->head;
    void *tail = give;
    uint32_t n = b->count - keep;
    for (uint32_t i = 1; i < n; i++) tail = link_get(tail);
    if (keep) {
        link_set(cut, NULL);
    } else {
        b->head = NULL;
    }
    b->count = keep;
    central_give(cls, give, tail, n);
    link_set(user, b->head);
    b->head = user;
    b->count++;
}

static inline void class_push(void *user, unsigned cls)
{
    bin *b = &tc.bins[cls];
    if (ALLOC_LIKELY(tc.state == TC_ACTIVE && b->count < cache_cap(cls))) {
        link_set(user, b->head);
        b->head = user;
        b->count++;
        return;
    }
    class_free_slow(user, cls);
}

/* Flushes every bin of the calling thread's cache to the classes. */
static void cache_flush_all(void)
{
    for (unsigned cls = 0; cls < NCLASS; cls++) {
        bin *b = &tc.bins[cls];
        if (!b->head) continue;
        void *tail = b->head;
        for (uint32_t i = 1; i < b->count; i++) tail = link_get(tail);
        central_give(cls, b->head, tail, b->count);
        b->head = NULL;
        b->count = 0;
    }
}

static void fold_counters(counters *into, counters *from)
{
#define FOLD(f) atomic_fetch_add(&into->f, atomic_load(&from->f))
    FOLD(allocs);
    FOLD(frees);
    FOLD(failed);
    FOLD(misuse);
    FOLD(resizes);
    FOLD(remaps);
    FOLD(in_use_add);
    FOLD(in_use_sub);
#undef FOLD
}

static void thread_exit(void *arg)
{
    (void)arg;
    if (tc.state != TC_ACTIVE) return;
    cache_flush_all();
    pthread_mutex_lock(&registry_lock);
    if (tc.prev)
        tc.prev->next = tc.next;
    else
        registry = tc.next;
    if (tc.next) tc.next->prev = tc.prev;
    fold_counters(&retired, &tc.c);
    pthread_mutex_unlock(&registry_lock);
    /* Later mallocs from other destructors of this thread go to the classes. */
    tc.state = TC_DEAD;
}

void alloc_global_thread_flush(void)
{
    if (tc.state == TC_ACTIVE) cache_flush_all();
}

static void *class_alloc_general(size_t len, size_t align);

/* A class block for len bytes at align (<= MAX_CLASS_ALIGN); NULL if none fits or OOM. */
/*
 * The fast path of both directions rests on one fact: a cached block's freed
 * header differs from the live header of an unaligned (offset 16) block of
 * the same class only by TAG_FREED_FLIP. So malloc flips the tag back and free
 * (after verifying the live tag) flips it again: one hash per malloc/free
 * pair, in free.
 */
static inline void *class_alloc(size_t len, size_t align)
{
    if (ALLOC_LIKELY(align <= HDR)) {
        unsigned cls = class_of(len + HDR);
        bin *b = &tc.bins[cls];
        void *p = b->head;
        if (ALLOC_LIKELY(p != NULL)) {
            b->head = link_get(p);
            b->count--;
            size_t usable = class_size(cls) - HDR;
            hdr *h = hdr_of(p);
            ALLOC_TRACK_DEFINED(h, HDR);
            h->tag ^= TAG_FREED_FLIP;
            ALLOC_TRACK_NOACCESS(h, HDR);
            ALLOC_TRACK_UNDEFINED(p, usable);
            ALLOC_TRACK_MALLOCLIKE(p, usable);
            /* A non-empty cache means this thread's cache is active. */
            count(&tc.c.allocs, 1);
            count_size(&tc.c.in_use_add, usable);
            return p;
        }
    }
    return class_alloc_general(len, align);
}

static ALLOC_NOINLINE void *class_alloc_general(size_t len, size_t align)
{
    size_t extra = align > HDR ? align : 0;
    size_t block = len + HDR + extra;
    unsigned cls = class_of(block);
    void *p = class_pop(cls);
    if (ALLOC_UNLIKELY(!p)) return NULL;
    size_t size = class_size(cls);
    size_t offset = HDR;
    if (extra) {
        uintptr_t start = (uintptr_t)p - HDR;
        offset = alloc_align_up(start + HDR, align) - start;
    }
    void *user = (char *)p - HDR + offset;
    size_t usable = size - offset;
    ALLOC_TRACK_UNDEFINED(user, usable);
    hdr_write(user, usable, (cls + 1u) | (uint32_t)((offset / 16) << 12));
    ALLOC_TRACK_MALLOCLIKE(user, usable);
    NOTE(allocs, 1);
    NOTE_SIZE(in_use_add, usable);
    return user;
}

static inline void class_free(void *user, const hdr *h)
{
    unsigned cls = META_CLASS(h->meta) - 1u;
    bin *b = &tc.bins[cls];
    if (ALLOC_LIKELY(META_OFF(h->meta) == 1 && tc.state == TC_ACTIVE && b->count < cache_cap(cls))) {
        /* Unaligned block into a cache with room: flip the verified tag. */
        hdr *live = hdr_of(user);
        ALLOC_TRACK_FREELIKE(user);
        count(&tc.c.frees, 1);
        count_size(&tc.c.in_use_sub, h->len);
        ALLOC_TRACK_DEFINED(live, HDR);
        live->tag = h->tag ^ TAG_FREED_FLIP;
        ALLOC_TRACK_NOACCESS(live, HDR);
#if ALLOC_DEBUG_CHECKS
        ALLOC_TRACK_UNDEFINED(user, h->len);
        memset(user, ALLOC_FILL_FREED, h->len);
#endif
        ALLOC_TRACK_NOACCESS(user, h->len);
        link_set(user, b->head);
        b->head = user;
        b->count++;
        return;
    }
    void *canon = (char *)user - block_offset(h->meta) + HDR;
    ALLOC_TRACK_FREELIKE(user);
    NOTE(frees, 1);
    NOTE_SIZE(in_use_sub, h->len);
    mark_freed(canon, cls);
    class_push(canon, cls);
}

/* --- direct blocks ------------------------------------------------------------ */

static inline unsigned log2_of(size_t pow2) { return (unsigned)__builtin_ctzll((unsigned long long)pow2); }

static void note_direct_reserve(size_t n)
{
    size_t now = atomic_fetch_add_explicit(&direct_bytes, n, memory_order_relaxed) + n;
    raise_peak(&peak_reserved, now + atomic_load_explicit(&bytes_reserved, memory_order_relaxed));
}

static void *direct_alloc(unsigned src, size_t len, size_t align, bool zero, uintptr_t ret_addr)
{
    source *s = &sources[src];
    size_t offset = align > HDR ? align : HDR;
    if (len > ALLOC_MAX_LEN - offset) return NULL;
    if (s->locked) pthread_mutex_lock(&s->lock);
    char *base = alloc_bytes_at(s->a, len + offset, offset, ret_addr);
    if (s->locked) pthread_mutex_unlock(&s->lock);
    if (!base) return NULL;
    void *user = base + offset;
    hdr_write(user, len, (uint32_t)(src << 8) | (log2_of(offset) << 12));
    ALLOC_TRACK_MALLOCLIKE(user, len);
    if (zero) {
        if (s->fresh_zero)
            ALLOC_TRACK_DEFINED(user, len); /* zero already, tell the tools */
        else
            memset(user, 0, len);
    }
    note_direct_reserve(len + offset);
    NOTE(allocs, 1);
    /* Strategies without classes never take a span: sample the peak here,
     * every 256th direct block of a thread (the sum takes the registry lock). */
    if ((atomic_load_explicit(&tc.c.allocs, memory_order_relaxed) & 255) == 0) sample_peak_in_use();
    NOTE_SIZE(in_use_add, len);
    return user;
}

static void direct_free(void *user, const hdr *h, uintptr_t ret_addr)
{
    source *s = &sources[META_SOURCE(h->meta)];
    size_t offset = block_offset(h->meta);
    /* Flip the tag first so a racing second free is seen as a double free. */
    hdr *live = hdr_of(user);
    ALLOC_TRACK_DEFINED(live, HDR);
    live->tag ^= TAG_FREED_FLIP;
    ALLOC_TRACK_NOACCESS(live, HDR);
    NOTE(frees, 1);
    NOTE_SIZE(in_use_sub, h->len);
    ALLOC_TRACK_FREELIKE(user);
    /* Hand the memory back as it came: the source (or the kernel, for pages
     * reused by a later mapping) must not inherit our header's poisoning. */
    ALLOC_TRACK_UNDEFINED(live, HDR);
    int saved = errno; /* free never changes errno, whatever the source does */
    if (s->locked) pthread_mutex_lock(&s->lock);
    alloc_free_at(s->a, (char *)user - offset, h->len + offset, offset, ret_addr);
    if (s->locked) pthread_mutex_unlock(&s->lock);
    atomic_fetch_sub_explicit(&direct_bytes, h->len + offset, memory_order_relaxed);
    errno = saved;
}

/* --- the family ---------------------------------------------------------------- */

static inline void *fail_nomem(void)
{
    NOTE(failed, 1);
    errno = ENOMEM;
    return NULL;
}

/* Where the default strategy puts a block too big for the classes: the free
 * list (when compiled in) up to MID_MAX, which reuses memory between blocks
 * of a few MiB; beyond it, or at alignments above a page, a mapping each. */
#define MID_MAX ((size_t)4 << 20)

static inline unsigned large_source(size_t len, size_t align)
{
#if ALLOC_GLOBAL_HAVE_FREELIST
    if (len <= MID_MAX && align <= MAX_CLASS_ALIGN &&
        atomic_load_explicit(&source_ready[SRC_FREELIST], memory_order_acquire))
        return SRC_FREELIST;
#endif
    (void)len, (void)align;
    return SRC_PAGE;
}

/* The allocation behind every entry point. align is a power of two >= 16. */
static inline void *alloc_impl(size_t len, size_t align, bool zero, uintptr_t ret_addr)
{
    ensure_init();
    if (ALLOC_UNLIKELY(len > ALLOC_MAX_LEN)) return fail_nomem();
    unsigned src = atomic_load_explicit(&active_source, memory_order_relaxed);
    if (ALLOC_LIKELY(src == SRC_CLASSES)) {
        if (ALLOC_LIKELY(align <= MAX_CLASS_ALIGN && len <= MAX_CLASS_BLOCK - HDR - (align > HDR ? align : 0))) {
            void *p = class_alloc(len, align);
            if (ALLOC_UNLIKELY(!p)) return fail_nomem();
            if (zero) memset(p, 0, len);
            return p;
        }
        src = large_source(len, align);
    }
    void *p = direct_alloc(src, len, align, zero, ret_addr);
    if (ALLOC_UNLIKELY(!p)) return fail_nomem();
    return p;
}

static inline void free_impl(void *p, const char *fn, uintptr_t ret_addr)
{
    if (!p) return;
    hdr h;
    if (ALLOC_LIKELY(verify(fn, p, &h, ret_addr))) {
        if (META_CLASS(h.meta))
            class_free(p, &h);
        else
            direct_free(p, &h, ret_addr);
    }
}

static void *realloc_impl(void *p, size_t len, uintptr_t ret_addr)
{
    if (!p) return alloc_impl(len, HDR, false, ret_addr);
    if (len == 0) {
        free_impl(p, "realloc", ret_addr);
        return NULL;
    }
    hdr h;
    if (!verify("realloc", p, &h, ret_addr)) {
        errno = EINVAL;
        return NULL;
    }
    if (len > ALLOC_MAX_LEN) return fail_nomem();
    if (META_CLASS(h.meta)) {
        /* Stay in the block if it fits and is not more than twice too big. */
        if (len <= h.len && (len >= h.len / 2 || h.len <= 64)) return p;
    } else {
        source *s = &sources[META_SOURCE(h.meta)];
        size_t offset = block_offset(h.meta);
        if (len <= ALLOC_MAX_LEN - offset) {
            char *base = (char *)p - offset;
            ALLOC_TRACK_DEFINED(hdr_of(p), HDR); /* the header moves with the block */
            if (s->locked) pthread_mutex_lock(&s->lock);
            char *moved = alloc_remap_at(s->a, base, h.len + offset, offset, len + offset, ret_addr);
            if (s->locked) pthread_mutex_unlock(&s->lock);
            if (moved) {
                void *user = moved + offset;
                ALLOC_TRACK_FREELIKE(p);
                hdr_write(user, len, h.meta);
                ALLOC_TRACK_MALLOCLIKE(user, len);
                ALLOC_TRACK_DEFINED(user, h.len < len ? h.len : len); /* the contents moved along */
                note_direct_reserve(len + offset);
                atomic_fetch_sub_explicit(&direct_bytes, h.len + offset, memory_order_relaxed);
                NOTE(remaps, 1);
                NOTE_SIZE(in_use_add, len);
                NOTE_SIZE(in_use_sub, h.len);
                return user;
            }
            ALLOC_TRACK_NOACCESS(hdr_of(p), HDR);
        }
    }
    void *fresh = alloc_impl(len, HDR, false, ret_addr);
    if (!fresh) return NULL; /* errno set; p untouched */
    memcpy(fresh, p, h.len < len ? h.len : len);
    if (META_CLASS(h.meta))
        class_free(p, &h);
    else
        direct_free(p, &h, ret_addr);
    return fresh;
}

/* glibc's memalign: alignments up to 16 are plain malloc; others round up to a
 * power of two; more than half the address space is EINVAL. */
static void *memalign_impl(size_t align, size_t len, uintptr_t ret_addr)
{
    if (align <= HDR) return alloc_impl(len, HDR, false, ret_addr);
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (!alloc_is_pow2(align)) align = (size_t)1 << (64 - __builtin_clzll((unsigned long long)align));
    return alloc_impl(len, align, false, ret_addr);
}

/* Exported, with an explicit caller address (the malloc names pass theirs). */
ALLOC_HIDDEN void *alloc_global_malloc_at(size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void alloc_global_free_at(void *p, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_calloc_at(size_t n, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_realloc_at(void *p, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_reallocarray_at(void *p, size_t n, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN int alloc_global_posix_memalign_at(void **out, size_t align, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_memalign_at(size_t align, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_valloc_at(size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_pvalloc_at(size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN size_t alloc_global_usable_size_at(const void *p, uintptr_t ret_addr);
ALLOC_HIDDEN void alloc_global_free_sized_at(void *p, size_t align, size_t size, uintptr_t ret_addr);

void *alloc_global_malloc_at(size_t size, uintptr_t ret_addr)
{
    return alloc_impl(size, HDR, false, ret_addr);
}

void alloc_global_free_at(void *p, uintptr_t ret_addr) { free_impl(p, "free", ret_addr); }

void *alloc_global_calloc_at(size_t n, size_t size, uintptr_t ret_addr)
{
    size_t total;
    if (alloc_mul_overflows(n, size, &total)) {
        ensure_init();
        return fail_nomem();
    }
    return alloc_impl(total, HDR, true, ret_addr);
}

void *alloc_global_realloc_at(void *p, size_t size, uintptr_t ret_addr)
{
    return realloc_impl(p, size, ret_addr);
}

void *alloc_global_reallocarray_at(void *p, size_t n, size_t size, uintptr_t ret_addr)
{
    size_t total;
    if (alloc_mul_overflows(n, size, &total)) {
        ensure_init();
        return fail_nomem();
    }
    return realloc_impl(p, total, ret_addr);
}

int alloc_global_posix_memalign_at(void **out, size_t align, size_t size, uintptr_t ret_addr)
{
    if (align % sizeof(void *) != 0 || !alloc_is_pow2(align)) return EINVAL;
    int saved = errno;
    void *p = alloc_impl(size, align > HDR ? align : HDR, false, ret_addr);
    errno = saved;
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *alloc_global_memalign_at(size_t align, size_t size, uintptr_t ret_addr)
{
    return memalign_impl(align, size, ret_addr);
}

void *alloc_global_valloc_at(size_t size, uintptr_t ret_addr)
{
    return memalign_impl(alloc_os_page_size(), size, ret_addr);
}

void *alloc_global_pvalloc_at(size_t size, uintptr_t ret_addr)
{
    size_t page = alloc_os_page_size();
    if (size > ALLOC_MAX_LEN - page) {
        ensure_init();
        return fail_nomem();
    }
    size_t rounded = alloc_align_up(size, page);
    return memalign_impl(page, rounded, ret_addr);
}

size_t alloc_global_usable_size_at(const void *p, uintptr_t ret_addr)
{
    if (!p) return 0;
    hdr h;
    if (!verify("malloc_usable_size", p, &h, ret_addr)) return 0;
    return h.len;
}

void alloc_global_free_sized_at(void *p, size_t align, size_t size, uintptr_t ret_addr)
{
    if (!p) return;
    hdr h;
    int saved = errno;
    if (verify("free_sized", p, &h, ret_addr)) {
        bool aligned_ok = align == 0 || ((uintptr_t)p & (align - 1)) == 0;
        if (ALLOC_UNLIKELY(size > h.len || !aligned_ok)) {
            char site[ALLOC_SITE_BUF];
            NOTE(misuse, 1);
            alloc_report_misuse("free_sized(%p, %zu): the block has %zu usable bytes at alignment %zu; "
                                "size or alignment does not match, called from %s",
                                p, size, h.len, align, alloc_describe_addr(ret_addr, site, sizeof site));
        } else if (META_CLASS(h.meta)) {
            class_free(p, &h);
        } else {
            direct_free(p, &h, ret_addr);
        }
    }
    errno = saved;
}

void *alloc_global_malloc(size_t size) { return alloc_global_malloc_at(size, ALLOC_RET_ADDR()); }
void alloc_global_free(void *p) { alloc_global_free_at(p, ALLOC_RET_ADDR()); }
void *alloc_global_calloc(size_t n, size_t size) { return alloc_global_calloc_at(n, size, ALLOC_RET_ADDR()); }
void *alloc_global_realloc(void *p, size_t size) { return realloc_impl(p, size, ALLOC_RET_ADDR()); }
void *alloc_global_reallocarray(void *p, size_t n, size_t size)
{
    return alloc_global_reallocarray_at(p, n, size, ALLOC_RET_ADDR());
}
int alloc_global_posix_memalign(void **out, size_t align, size_t size)
{
    return alloc_global_posix_memalign_at(out, align, size, ALLOC_RET_ADDR());
}
void *alloc_global_memalign(size_t align, size_t size) { return memalign_impl(align, size, ALLOC_RET_ADDR()); }
void *alloc_global_aligned_alloc(size_t align, size_t size)
{
    return memalign_impl(align, size, ALLOC_RET_ADDR());
}
void *alloc_global_valloc(size_t size) { return alloc_global_valloc_at(size, ALLOC_RET_ADDR()); }
void *alloc_global_pvalloc(size_t size) { return alloc_global_pvalloc_at(size, ALLOC_RET_ADDR()); }
size_t alloc_global_usable_size(const void *p) { return alloc_global_usable_size_at(p, ALLOC_RET_ADDR()); }
void alloc_global_free_sized(void *p, size_t size) { alloc_global_free_sized_at(p, 0, size, ALLOC_RET_ADDR()); }
void alloc_global_free_aligned_sized(void *p, size_t align, size_t size)
{
    alloc_global_free_sized_at(p, align, size, ALLOC_RET_ADDR());
}

/* --- selection ------------------------------------------------------------------- */

/*
 * The library's strategies as sources, each one static state set up on first
 * use. None of their init functions allocates (they take memory from the page
 * allocator on their first alloc), so this is safe inside malloc.
 */
#if ALLOC_GLOBAL_HAVE_FREELIST
static alloc_freelist freelist_heap;
#endif
#if ALLOC_GLOBAL_HAVE_SLAB
static alloc_slab slab_state;
#endif
#if ALLOC_GLOBAL_HAVE_ARENA
static alloc_arena arena_state;
#endif
#if ALLOC_GLOBAL_HAVE_BUMP
static alloc_bump bump_state;
#define BUMP_RESERVATION ((size_t)4 << 30)
#endif

/* Sets up fixed source idx; true iff it is usable. Caller holds install_lock
 * (or is the initialising thread). */
static bool setup_fixed_source(unsigned idx)
{
    if (idx == SRC_CLASSES || idx == SRC_PAGE) return true;
    if (atomic_load(&source_ready[idx])) return true;
    source *s = &sources[idx];
    (void)s; /* unused when no strategy is compiled in */
    switch (idx) {
#if ALLOC_GLOBAL_HAVE_FREELIST
    case SRC_FREELIST: {
        /* Regions of 8 MiB, up to 32 MiB of empty ones kept: blocks of a few
         * MiB are reused rather than mapped and unmapped every time. */
        alloc_freelist_config cfg = {0};
        cfg.region_size = (size_t)8 << 20;
        cfg.retain_bytes = (size_t)32 << 20;
        if (alloc_freelist_init(&freelist_heap, &cfg) != 0) return false;
        s->a = alloc_freelist_allocator(&freelist_heap);
        s->locked = true;
        break;
    }
#endif
#if ALLOC_GLOBAL_HAVE_SLAB
    case SRC_POOLS:
        if (alloc_slab_init(&slab_state, NULL) != 0) return false;
        s->a = alloc_slab_allocator(&slab_state);
        s->locked = true;
        break;
#endif
#if ALLOC_GLOBAL_HAVE_ARENA
    case SRC_ARENA: {
        alloc_arena_options opts = {0};
        opts.first_chunk = (size_t)1 << 20;
        if (alloc_arena_init(&arena_state, &opts) != 0) return false;
        s->a = alloc_arena_allocator(&arena_state);
        s->locked = true;
        break;
    }
#endif
#if ALLOC_GLOBAL_HAVE_BUMP
    case SRC_BUMP: {
        /* One reservation; pages become real only when touched. */
        void *buf = NULL;
        if (alloc_os_map(BUMP_RESERVATION, alloc_os_page_size(), &buf) != 0) return false;
        if (alloc_bump_init(&bump_state, buf, BUMP_RESERVATION) != 0) {
            alloc_os_unmap(buf, BUMP_RESERVATION);
            return false;
        }
        s->a = alloc_bump_allocator_threadsafe(&bump_state);
        s->locked = false;
        break;
    }
#endif
    default: return false;
    }
    atomic_store(&source_ready[idx], true);
    return true;
}

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static int select_by_name(const char *name)
{
    for (unsigned i = 0; i < SRC_FIRST_INSTALLED; i++) {
        if (strcmp(sources[i].name, name) != 0) continue;
        pthread_mutex_lock(&install_lock);
        bool ok = setup_fixed_source(i);
        pthread_mutex_unlock(&install_lock);
        if (!ok) return -ENOENT;
        atomic_store(&active_source, i);
        return 0;
    }
    return -ENOENT;
}

int alloc_global_select(const char *name)
{
    ensure_init();
    return select_by_name(name);
}

int alloc_global_install(allocator a, unsigned flags)
{
    ensure_init();
    pthread_mutex_lock(&install_lock);
    unsigned n = atomic_load(&source_count);
    if (n >= SRC_FIRST_INSTALLED + ALLOC_GLOBAL_MAX_INSTALLED || n >= NSOURCES) {
        pthread_mutex_unlock(&install_lock);
        return -ENOSPC;
    }
    source *s = &sources[n];
    s->a = a;
    pthread_mutex_init(&s->lock, NULL);
    s->locked = !(flags & ALLOC_GLOBAL_THREAD_SAFE);
    s->fresh_zero = false;
    s->name = "installed";
    atomic_store(&source_count, n + 1);
    atomic_store(&active_source, n);
    pthread_mutex_unlock(&install_lock);
    return 0;
}

const char *alloc_global_strategy_name(void)
{
    ensure_init();
    return sources[atomic_load(&active_source)].name;
}

/* --- the adapter as a handle -------------------------------------------------------- */

static void *handle_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx;
    void *p = alloc_impl(len, align > HDR ? align : HDR, false, ret_addr);
    return p;
}

static bool handle_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align;
    hdr h;
    if (!verify("resize", mem, &h, ret_addr)) return false;
    if (new_len <= h.len) {
        NOTE(resizes, 1);
        return true;
    }
    return false;
}

static void *handle_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len;
    hdr h;
    if (!verify("remap", mem, &h, ret_addr)) return NULL;
    if (new_len <= h.len) return mem;
    if (META_CLASS(h.meta) || align > HDR) return NULL;
    void *moved = realloc_impl(mem, new_len, ret_addr);
    return moved;
}

static void handle_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align;
    free_impl(mem, "free", ret_addr);
}

static const alloc_vtable global_vtable = {handle_alloc, handle_resize, handle_remap, handle_free};

allocator alloc_global_allocator(void) { return (allocator){NULL, &global_vtable}; }

/* --- stats, check, fork ---------------------------------------------------------------- */

static void add_counters(alloc_stats *s, size_t *add, size_t *sub, counters *c)
{
    s->alloc_count += atomic_load_explicit(&c->allocs, memory_order_relaxed);
    s->free_count += atomic_load_explicit(&c->frees, memory_order_relaxed);
    s->failed_count += atomic_load_explicit(&c->failed, memory_order_relaxed);
    s->misuse_count += atomic_load_explicit(&c->misuse, memory_order_relaxed);
    s->resize_count += atomic_load_explicit(&c->resizes, memory_order_relaxed);
    s->remap_count += atomic_load_explicit(&c->remaps, memory_order_relaxed);
    *add += atomic_load_explicit(&c->in_use_add, memory_order_relaxed);
    *sub += atomic_load_explicit(&c->in_use_sub, memory_order_relaxed);
}

static size_t sum_in_use(void)
{
    alloc_stats s = {0};
    size_t add = 0, sub = 0;
    pthread_mutex_lock(&registry_lock);
    for (tcache *t = registry; t; t = t->next) add_counters(&s, &add, &sub, &t->c);
    add_counters(&s, &add, &sub, &retired);
    add_counters(&s, &add, &sub, &shared_counters);
    pthread_mutex_unlock(&registry_lock);
    return add >= sub ? add - sub : 0;
}

void alloc_global_stats(alloc_stats *out)
{
    ensure_init();
    alloc_stats s = {0};
    size_t add = 0, sub = 0;
    pthread_mutex_lock(&registry_lock);
    for (tcache *t = registry; t; t = t->next) add_counters(&s, &add, &sub, &t->c);
    add_counters(&s, &add, &sub, &retired);
    add_counters(&s, &add, &sub, &shared_counters);
    pthread_mutex_unlock(&registry_lock);
    /* Frees counted before the matching alloc was read can make this dip below
     * zero for a moment under concurrency: clamp. */
    s.bytes_in_use = add >= sub ? add - sub : 0;
    if (s.free_count > s.alloc_count) s.free_count = s.alloc_count;
    raise_peak(&peak_in_use, s.bytes_in_use);
    s.peak_bytes_in_use = atomic_load(&peak_in_use);
    s.bytes_reserved = atomic_load(&bytes_reserved) + atomic_load(&direct_bytes);
    raise_peak(&peak_reserved, s.bytes_reserved);
    s.peak_bytes_reserved = atomic_load(&peak_reserved);
    *out = s;
}

bool alloc_global_check(void)
{
    ensure_init();
    bool ok = true;
    for (unsigned cls = 0; cls < NCLASS && ok; cls++) {
        central *c = &classes[cls];
        pthread_mutex_lock(&c->lock);
        size_t n = 0;
        for (void *p = c->free; p && ok; p = link_get(p), n++) ok = is_freed_block(p, cls);
        ok = ok && n == c->nfree && (size_t)(c->bump_end - c->bump) % class_size(cls) == 0;
        pthread_mutex_unlock(&c->lock);
        if (!ok) break;
        bin *b = &tc.bins[cls];
        uint32_t m = 0;
        for (void *p = b->head; p && ok; p = link_get(p), m++) ok = is_freed_block(p, cls);
        ok = ok && m == b->count && m <= cache_cap(cls);
    }
    alloc_stats s;
    alloc_global_stats(&s);
    return ok && alloc_stats_consistent(&s);
}

void alloc_global_print_stats(int fd)
{
    alloc_stats s;
    alloc_global_stats(&s);
    char buf[768];
    size_t n = alloc_format(buf, sizeof buf,
                            "alloc: strategy %s: in use %zu B (peak %zu), reserved %zu B (peak %zu), "
                            "allocs %llu, frees %llu, remaps %llu, failed %llu, misuse %llu\n",
                            sources[atomic_load(&active_source)].name, s.bytes_in_use,
                            s.peak_bytes_in_use, s.bytes_reserved, s.peak_bytes_reserved,
                            (unsigned long long)s.alloc_count, (unsigned long long)s.free_count,
                            (unsigned long long)s.remap_count, (unsigned long long)s.failed_count,
                            (unsigned long long)s.misuse_count);
    if (n >= sizeof buf) n = sizeof buf - 1;
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        n -= (size_t)w;
    }
}

void alloc_global_fork_prepare(void)
{
    ensure_init();
    pthread_mutex_lock(&install_lock);
    for (unsigned i = 0; i < NSOURCES; i++)
        if (sources[i].locked) pthread_mutex_lock(&sources[i].lock);
    for (unsigned cls = 0; cls < NCLASS; cls++) pthread_mutex_lock(&classes[cls].lock);
    pthread_mutex_lock(&span_lock);
    pthread_mutex_lock(&registry_lock);
}

void alloc_global_fork_parent(void)
{
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_unlock(&span_lock);
    for (unsigned cls = NCLASS; cls-- > 0;) pthread_mutex_unlock(&classes[cls].lock);
    for (unsigned i = NSOURCES; i-- > 0;)
        if (sources[i].locked) pthread_mutex_unlock(&sources[i].lock);
    pthread_mutex_unlock(&install_lock);
}

void alloc_global_fork_child(void)
{
    /* Only the forking thread survives: the other caches' blocks are lost to
     * the child (their owners do not exist); keep their counts. */
    for (tcache *t = registry; t; t = t->next)
        if (t != &tc) fold_counters(&retired, &t->c);
    if (tc.state == TC_ACTIVE) {
        tc.next = tc.prev = NULL;
        registry = &tc;
    } else {
        registry = NULL;
    }
    alloc_global_fork_parent();
}

_Static_assert(NCLASS == 51, "class table size");
