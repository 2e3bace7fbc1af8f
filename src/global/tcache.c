/*
 * tcache.c: thread caches, their registry, and every way a thread can end.
 *
 * In front of the central lists every thread has a cache per class: a singly
 * linked list (the link is the free block's first word) and a count, bounded
 * by cache_cap(class) (at most 64 KiB and 128 blocks per class, none for
 * blocks above 32 KiB). A malloc that hits its cache is a pop, a free a push: O(1), no
 * atomics, no lock. A miss takes the class lock once and moves a batch; an
 * overfull cache gives half back the same way.
 *
 * Records, not TLS. A thread's cache and counters live in a record the engine
 * maps itself (never in thread-local storage) and the thread finds it through
 * one initial-exec TLS pointer, tc_self. The registry links records; nothing
 * shared points into a TLS block. That is the design decision this file
 * rests on, because the C library owns TLS blocks: it reuses a dead thread's
 * stack and TLS for the next thread, zeroed, whether or not the dead thread's
 * exit hook ran. A registry that linked TLS blocks became a cycle the first
 * time a thread's hook did not run (a thread started by another library's
 * constructor before ours registered the key, a thread whose first malloc is
 * in a key destructor of glibc's last round, a fork child's dead threads).
 *
 * How a record goes back. A thread's exit hook (a pthread key destructor)
 * flushes its cache to the classes and frees the record for reuse. When the
 * hook cannot run, the record's owner is found dead later, and the record is
 * retired the same way by another thread (its cached blocks go back to the
 * classes, its counters to `retired`), never lost for good:
 *   - at a thread's setup, a live record with the same TLS slot address or the
 *     same kernel thread id as the new thread: two live threads never share
 *     either, so that owner has ended;
 *   - at a thread's setup after as many new records as there are live ones
 *     (amortised O(1) per thread), and on alloc_global_trim_threads(): every
 *     live record whose kernel thread id no longer exists in the process
 *     (alloc_os_thread_alive);
 *   - in a fork child, every record but the forking thread's.
 * A retired cache is walked block by block and every block's freed tag is
 * verified before it goes back; the walk stops at the first block that does
 * not verify (a thread that ended inside a push, or a fork in the middle of
 * one, can leave a count one off; at worst a block leaks, nothing corrupts).
 *
 * Fork and flushing: a flush detaches a cache's list from its record before
 * it gives the list to the classes, so a fork from another thread in between
 * leaves the child a leak at worst, never a block in two places.
 *
 * Lock order: a class lock, then registry_lock (a span refill samples the
 * in-use total under its class lock). So nothing here takes a class lock
 * while holding registry_lock: retiring collects records under the registry
 * lock and flushes them after releasing it.
 *
 * The exit key is created on the first thread setup (pthread_key_create does
 * not allocate in glibc or musl) or by the constructor, whichever comes
 * first, so a thread that mallocs before the constructor has its hook too.
 * pthread_setspecific may allocate (glibc, keys past the first 32): the
 * thread is marked TC_SETUP meanwhile, and such a nested malloc goes to the
 * classes directly.
 */

static pthread_key_t exit_key;
enum { KEY_NONE = 0, KEY_CREATING, KEY_READY, KEY_FAILED };
static _Atomic int exit_key_state;

static tcache *records_all;  /* the registry */
static tcache *records_free; /* records ready for reuse (empty caches, zero counters) */
static size_t records_live, records_made_since_probe;
#define RECORD_BATCH ((size_t)64 << 10)

static void thread_exit(void *arg);

static void ensure_exit_key(void)
{
    if (atomic_load_explicit(&exit_key_state, memory_order_acquire) >= KEY_READY) return;
    int expected = KEY_NONE;
    if (atomic_compare_exchange_strong(&exit_key_state, &expected, KEY_CREATING)) {
        int r = pthread_key_create(&exit_key, thread_exit);
        atomic_store_explicit(&exit_key_state, r == 0 ? KEY_READY : KEY_FAILED, memory_order_release);
        return;
    }
    /* Another thread is creating it: a short, non-blocking call. */
    while (atomic_load_explicit(&exit_key_state, memory_order_acquire) == KEY_CREATING) sched_yield();
}

/* A fresh record from the engine's own mappings. Caller holds registry_lock. */
static tcache *record_make(void)
{
    static char *batch, *batch_end;
    size_t size = alloc_align_up(sizeof(tcache), 64);
    if ((size_t)(batch_end - batch) < size) {
        void *mem = NULL;
        if (alloc_os_map(RECORD_BATCH, alloc_os_page_size(), &mem) != 0) return NULL;
        note_reserved(RECORD_BATCH);
        batch = mem;
        batch_end = batch + RECORD_BATCH;
    }
    tcache *t = (tcache *)(void *)batch;
    batch += size;
    memset(t, 0, sizeof *t);
    t->next_all = records_all;
    records_all = t;
    return t;
}

/* Moves the counts of t's bins into `into` (allocs, frees and the bytes they
 * stand for). */
static void fold_bins(counters *into, tcache *t)
{
    for (unsigned cls = 0; cls < NCLASS; cls++) {
        uint64_t a = atomic_exchange(&t->bins[cls].allocs, 0), f = atomic_exchange(&t->bins[cls].frees, 0);
        atomic_fetch_add(&into->allocs, a);
        atomic_fetch_add(&into->frees, f);
        atomic_fetch_add(&into->in_use_add, (size_t)a * class_size(cls));
        atomic_fetch_add(&into->in_use_sub, (size_t)f * class_size(cls));
    }
}

static void fold_counters(counters *into, counters *from)
{
#define FOLD(f) atomic_fetch_add(&into->f, atomic_exchange(&from->f, 0))
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

/*
 * Gives every cached block of t back to its class, verifying each block on
 * the way (t's owner may have ended inside a push or pop). No lock held on
 * entry; takes the class locks.
 */
static void record_flush_verified(tcache *t)
{
    for (unsigned cls = 0; cls < NCLASS; cls++) {
        bin *b = &t->bins[cls];
        void *head = b->head, *tail = NULL;
        b->head = NULL; /* detached before it is given (see cache_flush_all) */
        b->count = 0;
        uint32_t n = 0, limit = cache_cap(cls) + 1;
        for (void *p = head; p && n < limit && is_freed_block(p, cls); p = link_get(p)) {
            tail = p;
            n++;
        }
        if (n) {
            link_set(tail, NULL);
            central_give(cls, head, tail, n);
        }
    }
}

/* Puts a flushed record on the free list. Caller holds registry_lock. */
static void record_release_locked(tcache *t)
{
    fold_counters(&retired, &t->c);
    fold_bins(&retired, t);
    t->state = REC_FREE;
    t->tid = 0;
    t->tls_slot = NULL;
    t->next_free = records_free;
    records_free = t;
    records_live--;
}

/* Retires a batch of records (state REC_RETIRING, linked by next_free) whose
 * owners have ended. No lock held on entry. */
static void records_retire(tcache *batch)
{
    while (batch) {
        tcache *t = batch;
        batch = t->next_free;
        record_flush_verified(t);
        engine_lock(&registry_lock);
        record_release_locked(t);
        engine_unlock(&registry_lock);
    }
}

/* Marks t as retiring and adds it to *batch. Caller holds registry_lock. */
static void record_doom_locked(tcache *t, tcache **batch)
{
    t->state = REC_RETIRING;
    t->next_free = *batch;
    *batch = t;
}

/* Adds every live record whose owner no longer exists (other than `keep`) to
 * *batch. Caller holds registry_lock. O(records) system calls. */
static void records_probe_locked(const tcache *keep, tcache **batch)
{
    for (tcache *t = records_all; t; t = t->next_all)
        if (t->state == REC_LIVE && t != keep && alloc_os_thread_alive(t->tid) == 0) record_doom_locked(t, batch);
    records_made_since_probe = 0;
}

static void thread_setup(void)
{
    tc_state = TC_SETUP;
    ensure_exit_key();
    long tid = alloc_os_thread_id();
    tcache *doomed = NULL;
    engine_lock(&registry_lock);
    /* Owners this thread proves dead: the same TLS block, or the same id. */
    for (tcache *t = records_all; t; t = t->next_all)
        if (t->state == REC_LIVE && (t->tls_slot == (const void *)&tc_self || (tid > 0 && t->tid == tid)))
            record_doom_locked(t, &doomed);
    if (!records_free && records_made_since_probe >= (records_live > 16 ? records_live : 16))
        records_probe_locked(NULL, &doomed);
    tcache *mine = records_free;
    if (mine) {
        records_free = mine->next_free;
    } else {
        mine = record_make();
        records_made_since_probe++;
    }
    if (mine) {
        for (unsigned cls = 0; cls < NCLASS; cls++) mine->bins[cls].cap = cache_cap(cls);
        mine->state = REC_LIVE;
        mine->tid = tid;
        mine->tls_slot = &tc_self;
        mine->next_free = NULL;
        records_live++;
    }
    engine_unlock(&registry_lock);
    records_retire(doomed);
    if (!mine) {
        tc_state = TC_DEAD; /* no memory for a record: this thread uses the classes directly */
        return;
    }
    if (atomic_load_explicit(&exit_key_state, memory_order_acquire) == KEY_READY)
        pthread_setspecific(exit_key, mine);
    tc_self = mine;
    tc_state = TC_ACTIVE;
}

/* Flushes every bin of the calling thread's cache to the classes. */
static void cache_flush_all(void)
{
    tcache *t = tc_self;
    if (!t) return;
    for (unsigned cls = 0; cls < NCLASS; cls++) {
        bin *b = &t->bins[cls];
        void *head = b->head;
        uint32_t n = b->count;
        if (!head) continue;
        /* Detach first, give second: a fork between the two (from another
         * thread) leaves the child a record without these blocks and a class
         * without them, a leak there; the other order left it both, and the
         * child's retiring of this record handed the blocks out twice. */
        b->head = NULL;
        b->count = 0;
        void *tail = head;
        for (uint32_t i = 1; i < n; i++) tail = link_get(tail);
        central_give(cls, head, tail, n);
    }
}

static void thread_exit(void *arg)
{
    (void)arg;
    tcache *t = tc_self;
    if (!t) return;
    cache_flush_all();
    /* Later mallocs from other destructors of this thread go to the classes. */
    tc_self = NULL;
    tc_state = TC_DEAD;
    engine_lock(&registry_lock);
    record_release_locked(t);
    engine_unlock(&registry_lock);
}

void alloc_global_thread_flush(void) { cache_flush_all(); }

size_t alloc_global_trim_threads(void)
{
    ensure_init();
    tcache *doomed = NULL;
    engine_lock(&registry_lock);
    records_probe_locked(tc_self, &doomed);
    engine_unlock(&registry_lock);
    size_t n = 0;
    for (tcache *t = doomed; t; t = t->next_free) n++;
    records_retire(doomed);
    return n;
}

/* In a fork child whose parent held every lock (fork_child, after the locks
 * are released): only the forking thread exists, so every other live record
 * belongs to a thread that is not here. */
static void records_after_fork_child(void)
{
    tcache *doomed = NULL;
    tcache *self = tc_self;
    engine_lock(&registry_lock);
    for (tcache *t = records_all; t; t = t->next_all)
        if (t->state == REC_LIVE && t != self) record_doom_locked(t, &doomed);
    engine_unlock(&registry_lock);
    records_retire(doomed);
}

/* Caches of the calling thread for alloc_global_check. */
static bool cache_check(unsigned cls)
{
    tcache *t = tc_self;
    if (!t) return true;
    bin *b = &t->bins[cls];
    uint32_t m = 0;
    bool ok = true;
    for (void *p = b->head; p && ok; p = link_get(p), m++) ok = is_freed_block(p, cls);
    return ok && m == b->count && m <= cache_cap(cls);
}

/* Registry invariants: live count agrees, free records are empty. Takes registry_lock. */
static bool registry_check(void)
{
    size_t live = 0, steps = 0;
    bool ok = true;
    engine_lock(&registry_lock);
    for (tcache *t = records_all; t && ok; t = t->next_all) {
        if (++steps > ((size_t)1 << 24)) ok = false; /* a cycle */
        if (t->state == REC_LIVE) live++;
    }
    for (tcache *t = records_free; t && ok; t = t->next_free) {
        ok = t->state == REC_FREE;
        for (unsigned cls = 0; cls < NCLASS && ok; cls++) ok = !t->bins[cls].head && !t->bins[cls].count;
    }
    ok = ok && live == records_live;
    engine_unlock(&registry_lock);
    return ok;
}

/* --- the cache operations --------------------------------------------------------- */

static ALLOC_NOINLINE void *class_alloc_slow(unsigned cls)
{
    if (tc_state == TC_NEW) thread_setup();
    void *list = NULL;
    tcache *t = tc_self;
    if (!t) {
        /* No cache (being set up, or the thread is exiting): one block. */
        return central_take(cls, 1, &list) ? list : NULL;
    }
    bin *b = &t->bins[cls];
    uint32_t cap = cache_cap(cls);
    /* Half a cache, but at most about 32 KiB at once: carving writes a tag
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
    tcache *t = tc_self;
    if (ALLOC_LIKELY(t != NULL)) {
        bin *b = &t->bins[cls];
        void *p = b->head;
        if (ALLOC_LIKELY(p != NULL)) {
            b->head = link_get(p);
            b->count--;
            return p;
        }
    }
    return class_alloc_slow(cls);
}

static ALLOC_NOINLINE void class_free_slow(void *user, unsigned cls)
{
    if (tc_state == TC_NEW) thread_setup();
    tcache *t = tc_self;
    if (!t || cache_cap(cls) == 0) { /* no cache, or a class too big to cache */
        link_set(user, NULL);
        central_give(cls, user, user, 1);
        return;
    }
    bin *b = &t->bins[cls];
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
    tcache *t = tc_self;
    if (ALLOC_LIKELY(t != NULL)) {
        bin *b = &t->bins[cls];
        if (ALLOC_LIKELY(b->count < cache_cap(cls))) {
            link_set(user, b->head);
            b->head = user;
            b->count++;
            return;
        }
    }
    class_free_slow(user, cls);
}
