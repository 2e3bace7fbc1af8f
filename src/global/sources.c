/*
 * sources.c: where direct blocks come from, and choosing it.
 *
 * Direct blocks (large, or every block when a strategy other than the default
 * is selected or a handle is installed): one call to the source allocator for
 * len + offset bytes at max(align, 16), where offset = max(align, 16), so the
 * user pointer is aligned like the block. Sources that are not thread-safe
 * are called under their own mutex. realloc of a direct block asks the
 * source's remap first (for the page allocator: mremap, no copy).
 *
 * Fixed sources first (the strategies of the library that are compiled in,
 * set up on first selection), then the handles of alloc_global_install. None
 * of the library strategies' init functions allocates (they take memory from
 * the page allocator on their first alloc), so setting one up inside malloc
 * is safe.
 *
 * A freed direct block goes back to its source, which may write its own free
 * list links (or, in debug builds, a fill pattern) over the adapter's header.
 * So a second free of it would find no freed header and look like a foreign
 * pointer. The adapter therefore remembers the addresses of the last
 * FREED_RING direct blocks it freed: a pointer whose header does not verify
 * and that is in the ring was freed here, and the report says so (double free
 * or use after free) instead of "not allocated by alloc's malloc".
 */
static source sources[NSOURCES] = {
    [SRC_CLASSES] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "default"},
    [SRC_PAGE] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "page"},
    [SRC_HEAP] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = "heap"},
#define ALLOC_GLOBAL_STRATEGY(id, nm, folder) [SRC_##id] = {.lock = PTHREAD_MUTEX_INITIALIZER, .name = nm},
#include "strategies.def"
#undef ALLOC_GLOBAL_STRATEGY
};
/* Whether each fixed source is part of this build and can be selected. */
static const bool source_compiled[SRC_FIRST_INSTALLED] = {
    [SRC_CLASSES] = true,
    [SRC_PAGE] = true,
#define ALLOC_GLOBAL_STRATEGY(id, nm, folder) [SRC_##id] = ALLOC_GLOBAL_HAVE_##id,
#include "strategies.def"
#undef ALLOC_GLOBAL_STRATEGY
};
/* Set once a fixed source's strategy is initialised (under install_lock). */
static _Atomic bool source_ready[SRC_FIRST_INSTALLED];
static _Atomic unsigned source_count = SRC_FIRST_INSTALLED;
/* Where new blocks come from: SRC_CLASSES (classes, large blocks to the page
 * allocator) or the index of a source that takes everything. */
static _Atomic unsigned active_source = SRC_CLASSES;
/* The largest request malloc_fast serves: SMALL_LOOKUP_MAX while the classes
 * are the active source, 0 otherwise (one compare on the fast path tests
 * both the size and the source). */
static _Atomic size_t fast_max = SMALL_LOOKUP_MAX;

static void set_active_source(unsigned src)
{
    atomic_store(&active_source, src);
    atomic_store(&fast_max, src == SRC_CLASSES ? (size_t)SMALL_LOOKUP_MAX : 0);
}
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- freed direct blocks ---------------------------------------------------------- */

#define FREED_RING 256u
static _Atomic uintptr_t freed_ring[FREED_RING];
static _Atomic unsigned freed_ring_next;

static inline void freed_ring_note(const void *user)
{
    unsigned i = atomic_fetch_add_explicit(&freed_ring_next, 1, memory_order_relaxed) % FREED_RING;
    atomic_store_explicit(&freed_ring[i], (uintptr_t)user, memory_order_relaxed);
}

/* Whether user is among the last FREED_RING direct blocks freed. O(FREED_RING),
 * only on the error path. */
static bool freed_ring_has(const void *user)
{
    for (unsigned i = 0; i < FREED_RING; i++)
        if (atomic_load_explicit(&freed_ring[i], memory_order_relaxed) == (uintptr_t)user) return true;
    return false;
}

/* --- direct blocks ------------------------------------------------------------ */

static inline unsigned log2_of(size_t pow2) { return (unsigned)__builtin_ctzll((unsigned long long)pow2); }

static void note_direct_reserve(size_t n)
{
    size_t now = atomic_fetch_add_explicit(&direct_bytes, n, memory_order_relaxed) + n;
    raise_peak(&peak_reserved, now + atomic_load_explicit(&bytes_reserved, memory_order_relaxed));
}

/* Direct blocks change the in-use total by large steps: each one raises the
 * peak exactly (their own total is exact; the classes' part is the one seen
 * at the last full sum). */
static void note_direct_in_use(size_t add, size_t sub)
{
    size_t now = atomic_fetch_add_explicit(&direct_in_use, add - sub, memory_order_relaxed) + add - sub;
    if (add > sub) raise_peak(&peak_in_use, now + atomic_load_explicit(&class_in_use_seen, memory_order_relaxed));
}

/* The tools' view of the bytes after a direct block of the page heap or of a
 * mapping of its own, up to the end of its span or page: no access while the
 * block is live (closed), so that memcheck and ASan see an overrun past the
 * requested length, and open again before the memory goes back to its source
 * or moves (ASan keeps its shadow for an address range after munmap, and a
 * later mapping there must not inherit it). Other sources round as they see
 * fit, and tell the tools themselves. */
static inline void track_direct_slack(unsigned src, char *user, size_t len, size_t offset, bool closed)
{
#if ALLOC_TRACK_ENABLED
    size_t round = src == SRC_HEAP ? UNIT : src == SRC_PAGE ? alloc_os_page_size() : 0;
    if (!round) return;
    size_t slack = alloc_align_up(len + offset, round) - (len + offset);
    if (closed)
        ALLOC_TRACK_NOACCESS(user + len, slack);
    else
        ALLOC_TRACK_UNDEFINED(user + len, slack);
#else
    (void)src, (void)user, (void)len, (void)offset, (void)closed;
#endif
}

static void *direct_alloc(unsigned src, size_t len, size_t align, bool zero, uintptr_t ret_addr)
{
    source *s = &sources[src];
    size_t offset = align > HDR ? align : HDR;
    if (len > ALLOC_MAX_LEN - offset) return NULL;
    /* At least one byte after the user pointer: a zero-length block whose
     * pointer were its end would point into the next span, which free looks
     * up by address (at alignment 64 KiB, a heap span of one unit). */
    if (len < HDR) len = HDR;
    if (s->locked) engine_lock(&s->lock);
    char *base = alloc_bytes_at(s->a, len + offset, offset, ret_addr);
    if (s->locked) engine_unlock(&s->lock);
    if (!base) return NULL;
    void *user = base + offset;
    if (src != SRC_HEAP) note_direct_reserve(len + offset); /* heap chunks are counted as mapped */
    if (src == SRC_PAGE) {
        atomic_fetch_add_explicit(&page_blocks, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&page_in_use, len, memory_order_relaxed);
    }
    hdr_write(user, len, (uint32_t)(src << 8) | (log2_of(offset) << 12));
    ALLOC_TRACK_UNDEFINED(user, len); /* whatever an earlier block here left */
    ALLOC_TRACK_MALLOCLIKE(user, len);
    track_direct_slack(src, user, len, offset, true);
    if (zero) {
        if (s->fresh_zero)
            ALLOC_TRACK_DEFINED(user, len); /* zero already, tell the tools */
        else
            memset(user, 0, len);
    }
    NOTE(allocs, 1);
    NOTE_SIZE(in_use_add, len);
    note_direct_in_use(len, 0);
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
    note_direct_in_use(0, h->len);
    ALLOC_TRACK_FREELIKE(user);
    /* Hand the memory back as it came: the source (or the kernel, for pages
     * reused by a later mapping) must not inherit our header's poisoning. */
    ALLOC_TRACK_UNDEFINED(live, HDR);
    track_direct_slack(META_SOURCE(h->meta), user, h->len, offset, false);
    int saved = errno; /* free never changes errno, whatever the source does */
    freed_ring_note(user);
    if (s->locked) engine_lock(&s->lock);
    alloc_free_at(s->a, (char *)user - offset, h->len + offset, offset, ret_addr);
    if (s->locked) engine_unlock(&s->lock);
    if (META_SOURCE(h->meta) != SRC_HEAP)
        atomic_fetch_sub_explicit(&direct_bytes, h->len + offset, memory_order_relaxed);
    if (META_SOURCE(h->meta) == SRC_PAGE) {
        atomic_fetch_sub_explicit(&page_blocks, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&page_in_use, h->len, memory_order_relaxed);
    }
    errno = saved;
}

/* Where the default strategy puts a block too big for the classes: the page
 * heap up to HEAP_LARGE_MAX (its spans are reused, and purged after the decay
 * delay, so a program that allocates and frees 5-25 MiB buffers in a loop does
 * not fault in fresh pages every time); beyond it, or at alignments above the
 * heap's 64 KiB unit, a mapping each (which grows and shrinks by mremap). */
static inline unsigned large_source(size_t len, size_t align)
{
    size_t offset = align > HDR ? align : HDR;
    if (align <= UNIT && len <= HEAP_LARGE_MAX - offset) return SRC_HEAP;
    return SRC_PAGE;
}

/* --- selection ------------------------------------------------------------------- */

/* Sets up fixed source idx; true iff it is usable. Caller holds install_lock
 * (or is the initialising thread). */
static bool setup_fixed_source(unsigned idx)
{
    if (idx == SRC_CLASSES || idx == SRC_PAGE) return true;
    if (idx >= SRC_FIRST_INSTALLED || !source_compiled[idx] || !strategy_setup[idx]) return false;
    if (atomic_load(&source_ready[idx])) return true;
    if (!strategy_setup[idx](&sources[idx])) return false;
    atomic_store(&source_ready[idx], true);
    return true;
}

static int select_by_name(const char *name)
{
    for (unsigned i = 0; i < SRC_FIRST_INSTALLED; i++) {
        if (!source_compiled[i] || strcmp(sources[i].name, name) != 0) continue;
        engine_lock(&install_lock);
        bool ok = setup_fixed_source(i);
        engine_unlock(&install_lock);
        if (!ok) return -ENOENT;
        set_active_source(i);
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
    engine_lock(&install_lock);
    unsigned n = atomic_load(&source_count);
    if (n >= SRC_FIRST_INSTALLED + ALLOC_GLOBAL_MAX_INSTALLED || n >= NSOURCES) {
        engine_unlock(&install_lock);
        return -ENOSPC;
    }
    source *s = &sources[n];
    s->a = a;
    pthread_mutex_init(&s->lock, NULL);
    s->locked = !(flags & ALLOC_GLOBAL_THREAD_SAFE);
    s->fresh_zero = false;
    s->name = "installed";
    atomic_store(&source_count, n + 1);
    set_active_source(n);
    engine_unlock(&install_lock);
    return 0;
}

const char *alloc_global_strategy_name(void)
{
    ensure_init();
    return sources[atomic_load(&active_source)].name;
}

/* The names ALLOC_STRATEGY accepts in this build, comma separated, into buf
 * (NUL-terminated). Returns the length. */
static size_t list_strategies(char *buf, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < SRC_FIRST_INSTALLED && cap; i++) {
        if (!source_compiled[i]) continue;
        n += alloc_format(buf + n, cap - n, n ? ", %s" : "%s", sources[i].name);
        if (n >= cap) n = cap - 1;
    }
    return n;
}

