/*
 * engine.h (internal): what the parts of the global adapter share.
 *
 * The engine is one translation unit (global.c includes the parts in order,
 * the way mimalloc's static.c builds its library from its own files), so the
 * exported malloc names in malloc_names.c inline the fast paths. Every
 * function here is static; this header holds the types, constants and the
 * small inline helpers that more than one part uses, and declares the
 * functions one part calls in another.
 *
 * Glossary (the words the parts use):
 *   block         what malloc hands out: a class block (no header: its span
 *                 says its class) or a direct block (a 16-byte header, then
 *                 the user bytes)
 *   size class    one of NCLASS block sizes for small requests
 *   span          whole 64 KiB units of the page heap; a class's span is cut
 *                 into blocks of that class, a large block's holds one block
 *   freed tag     the second word of a free class block: its address keyed by
 *                 the process secret; how free tells a double free
 *   central list  a class's free blocks shared by all threads (under its lock)
 *   thread cache  a thread's own free blocks per class (a record, see tcache.c)
 *   source        an allocator direct blocks come from (page, free list, ...)
 *   direct block  a block that is one allocation of its source
 */
#ifndef ALLOC_GLOBAL_ENGINE_H
#define ALLOC_GLOBAL_ENGINE_H

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
#include "../os/host.h"
#include "alloc/global.h"
#include "alloc/os.h"
#include "alloc/page.h"

#define HDR 16u
#define MAX_CLASS_BLOCK ((size_t)256 << 10)
#define NCLASS 52u /* class_of(MAX_CLASS_BLOCK) + 1, checked in classes.c */
#define NCLASS_MAX 52
#define MAX_CLASS_ALIGN ((size_t)4096)
#define TAG_FREED_FLIP 0x5A5AA5A5u

#define ALLOC_GLOBAL_TLS _Thread_local __attribute__((tls_model("initial-exec")))

/* --- direct block headers ------------------------------------------------------ */

typedef struct hdr {
    size_t len;
#if SIZE_MAX == UINT32_MAX
    uint32_t pad; /* 16 bytes on 32-bit systems too: user pointers stay 16-aligned */
#endif
    uint32_t meta;
    uint32_t tag;
} hdr;
_Static_assert(sizeof(hdr) == HDR, "the header is 16 bytes");

#define META_SOURCE(m) (((m) >> 8) & 0xFu)  /* index into sources[] */
#define META_OFF(m) ((m) >> 12)             /* log2 of the offset of the user pointer */

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

static inline size_t block_offset(uint32_t meta) { return (size_t)1 << META_OFF(meta); }

/* The freed tag of a class block at p (see classes.c). */
static inline uintptr_t freed_tag(const void *p) { return (uintptr_t)p ^ (uintptr_t)secret; }

/* --- locks ------------------------------------------------------------------------ */

/*
 * Every lock of the engine is taken through these. Between a fork's prepare
 * handler (which takes them all) and its parent or child handler, the forking
 * thread holds every lock, and other fork handlers run in that window: glibc
 * runs prepare handlers in reverse order of registration and the others in
 * order, so a library that registered its handlers before the adapter (any
 * library whose constructor ran first) calls malloc in them while the
 * adapter's locks are held. The forking thread then skips its own lock calls:
 * no other thread can be inside the engine (each waits on a lock it holds,
 * or, in the child, no longer exists), so the thread is alone with the state,
 * as it would be under the locks.
 */
static ALLOC_GLOBAL_TLS bool fork_holds_all;

static inline void engine_lock(pthread_mutex_t *m)
{
    if (ALLOC_UNLIKELY(fork_holds_all)) return;
    pthread_mutex_lock(m);
}

static inline void engine_unlock(pthread_mutex_t *m)
{
    if (ALLOC_UNLIKELY(fork_holds_all)) return;
    pthread_mutex_unlock(m);
}

/* --- counters ------------------------------------------------------------------ */

typedef struct counters {
    _Atomic uint64_t allocs, frees, failed, misuse, resizes, remaps;
    _Atomic size_t in_use_add, in_use_sub;
} counters;

static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    /* Owner-only counters: a load and a store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void count_size(_Atomic size_t *c, size_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static void raise_peak(_Atomic size_t *peak, size_t value)
{
    size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen && !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed,
                                                                  memory_order_relaxed)) {
    }
}

/* --- thread caches (tcache.c) ------------------------------------------------- */

/* A thread's cache of one class. allocs and frees count the blocks handed
 * out and taken back through this bin (the fast paths); the bytes in use of
 * the class follow from them and the class size, so the fast paths keep one
 * counter each, on the line they already touch. */
typedef struct bin {
    void *head;
    uint32_t count;
    uint32_t cap; /* cache_cap of the class, copied when the record is set up */
    _Atomic uint64_t allocs, frees;
} bin;

/*
 * A thread cache record. Records live in memory the engine maps for them, not
 * in TLS: a thread's TLS block is the C library's, reused for a later thread
 * whether or not this thread's exit hook ran, so nothing shared may point
 * into it. The thread reaches its record through tc_self.
 */
typedef struct tcache {
    bin bins[NCLASS];
    counters c;
    struct tcache *next_all;  /* the registry: every record ever made */
    struct tcache *next_free; /* free records, or a retire batch */
    int state;                /* REC_* below; under registry_lock */
    long tid;                 /* owner's kernel thread id */
    const void *tls_slot;     /* owner's &tc_self (equal for a reused TLS block) */
} tcache;

enum { REC_FREE = 0, REC_LIVE, REC_RETIRING };

/* The calling thread's record; NULL until its cache is set up, and again after
 * its exit hook ran. Non-NULL exactly when tc_state is TC_ACTIVE. */
static ALLOC_GLOBAL_TLS tcache *tc_self;
enum { TC_NEW = 0, TC_SETUP, TC_ACTIVE, TC_DEAD };
static ALLOC_GLOBAL_TLS unsigned char tc_state;

/* Threads without a record count here with real atomic adds. */
static counters shared_counters;
/* Counters of records that were retired (their threads exited). */
static counters retired;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

#define NOTE(field, n)                                                                    \
    do {                                                                                  \
        tcache *mine_ = tc_self;                                                          \
        if (mine_)                                                                        \
            count(&mine_->c.field, (n));                                                  \
        else                                                                              \
            atomic_fetch_add_explicit(&shared_counters.field, (n), memory_order_relaxed); \
    } while (0)
#define NOTE_SIZE(field, n)                                                               \
    do {                                                                                  \
        tcache *mine_ = tc_self;                                                          \
        if (mine_)                                                                        \
            count_size(&mine_->c.field, (n));                                             \
        else                                                                              \
            atomic_fetch_add_explicit(&shared_counters.field, (n), memory_order_relaxed); \
    } while (0)

/* --- sources (sources.c) ----------------------------------------------------------- */

/* The sources: the default (classes), the page allocator, the page heap's
 * large blocks (pageheap.c; not selectable), each strategy of
 * strategies.def, then the handles of alloc_global_install. */
enum {
    SRC_CLASSES = 0,
    SRC_PAGE,
    SRC_HEAP,
#define ALLOC_GLOBAL_STRATEGY(id, name, folder) SRC_##id,
#include "strategies.def"
#undef ALLOC_GLOBAL_STRATEGY
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

/* --- process-wide state --------------------------------------------------------------- */

/* Bytes the engine mapped itself (page heap chunks, records, descriptors,
 * page map), bytes of direct blocks of other sources (header and padding
 * included), live usable bytes of all direct blocks, and the peaks. */
static _Atomic size_t bytes_reserved, direct_bytes, direct_in_use, peak_reserved, peak_in_use;
/* Direct blocks that are mappings of their own (SRC_PAGE). */
static _Atomic size_t page_blocks, page_in_use; /* and their usable bytes */
/* The class in-use total at the last full sum (see stats.c). */
static _Atomic size_t class_in_use_seen;

/* --- what the parts call across files ------------------------------------------------- */

static inline void ensure_init(void);
static size_t sum_in_use(void);
static void sample_peak_in_use(void);
static void thread_setup(void);
static void cache_flush_all(void);
static void warn(const char *fmt, const char *arg);
static int select_by_name(const char *name);
static bool setup_fixed_source(unsigned idx);
static size_t list_strategies(char *buf, size_t cap);

#endif /* ALLOC_GLOBAL_ENGINE_H */
