/*
 * init.c: lazy initialisation, options from the environment, the process
 * constructor and destructor, and fork.
 *
 * Initialisation is lazy and allocation-free: the first call reads the secret
 * (getauxval), walks `environ` by hand for ALLOC_STRATEGY and ALLOC_STATS, and
 * publishes a ready flag. A constructor then creates the thread exit key (if
 * no thread did first) and registers the fork handlers (pthread_atfork may
 * allocate in glibc, which is fine there: the constructor runs outside malloc,
 * and a nested call simply finds the adapter ready).
 *
 * Fork. In a multi-threaded process, prepare takes every lock of the adapter
 * (install, sources, classes, page heap, registry, in that order), so that no
 * other thread is half-way through a list when the child's copy is made;
 * parent and child release them, and the child retires the caches of the
 * threads it does not have. In a single-threaded process (glibc's
 * __libc_single_threaded) the handlers take no lock, as glibc's own malloc
 * does: the only thread is the forking one, so nothing can be half-way
 * through anything except a malloc this very thread was interrupted in by a
 * signal handler that forks, which is allowed (fork is async-signal-safe) and
 * would deadlock on a lock its own interrupted frame holds. The child then
 * finishes that interrupted call when the handler returns, as the parent
 * does. Each prepare pushes whether it locked onto a per-thread bit stack and
 * parent/child pop it, so a fork from a handler that interrupted fork itself
 * nests correctly.
 */
#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define ALLOC_HAVE_SINGLE_THREADED 1
#endif
#endif

extern char **environ;

enum { INIT_NONE = 0, INIT_RUNNING, INIT_DONE };
static _Atomic int init_state;
static ALLOC_GLOBAL_TLS bool in_init; /* this thread runs init_slow */
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
    char line[384];
    size_t n = alloc_format(line, sizeof line, fmt, arg);
    alloc_os_write_stderr(line, n < sizeof line ? n : sizeof line - 1);
}

static bool same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b) return false;
    }
    return *a == *b;
}

/* A yes/no option: 1, yes, true, on / 0, no, false, off, empty (any case).
 * Anything else is reported and counts as no. */
static bool parse_flag(const char *name, const char *value)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"", "0", "no", "false", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (same_word(value, yes[i])) return true;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (same_word(value, no[i])) return false;
    char line[160];
    alloc_format(line, sizeof line, "alloc: %s=%%s is not a yes/no value (1, yes, true, on or 0, no, false, off); "
                 "taking it as no\n", name);
    warn(line, value);
    return false;
}

/* A non-negative decimal number with an optional K, M or G (binary) suffix;
 * false for anything else. */
static bool parse_size(const char *v, size_t *out)
{
    size_t n = 0;
    if (!*v) return false;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (SIZE_MAX - 9) / 10) return false;
        n = n * 10 + (size_t)(*v - '0');
    }
    unsigned shift = 0;
    if (*v == 'K' || *v == 'k') shift = 10, v++;
    else if (*v == 'M' || *v == 'm') shift = 20, v++;
    else if (*v == 'G' || *v == 'g') shift = 30, v++;
    if (*v || (shift && n > (SIZE_MAX >> shift))) return false;
    *out = n << shift;
    return true;
}

static void read_purge_options(void)
{
    const char *delay = env_lookup("ALLOC_PURGE_DELAY_MS");
    const char *retain = env_lookup("ALLOC_RETAIN_BYTES");
    size_t d = (size_t)(atomic_load(&opt_decay_ns) / 1000000), r = atomic_load(&opt_retain_bytes);
    if (delay && !(parse_size(delay, &d) && d <= 3600u * 1000u)) {
        warn("alloc: ALLOC_PURGE_DELAY_MS=%s is not a number of milliseconds (0..3600000); keeping 100\n", delay);
        d = 100;
    }
    if (retain && !parse_size(retain, &r)) {
        warn("alloc: ALLOC_RETAIN_BYTES=%s is not a size (bytes, or with K, M, G); keeping 64M\n", retain);
        r = (size_t)64 << 20;
    }
    alloc_global_set_decay((long)d, r);
}

static void read_environment(void)
{
    read_purge_options();
    saw_environ = environ != NULL;
    const char *stats = env_lookup("ALLOC_STATS");
    print_stats_at_exit = stats && parse_flag("ALLOC_STATS", stats);
    const char *strategy = env_lookup("ALLOC_STRATEGY");
    if (strategy && strategy[0] && select_by_name(strategy) != 0) {
        char names[160], fmt[256];
        list_strategies(names, sizeof names);
        alloc_format(fmt, sizeof fmt, "alloc: ALLOC_STRATEGY=%%s is not available here (choices: %s); "
                     "using the default\n", names);
        warn(fmt, strategy);
    }
}

static ALLOC_NOINLINE void init_slow(void)
{
    int expected = INIT_NONE;
    if (atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
        in_init = true;
        const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
        if (rnd) {
            uint64_t s;
            memcpy(&s, rnd + 8, sizeof s); /* the first 8 bytes are the stack protector's */
            secret ^= s;
        }
        secret ^= (uint64_t)(uintptr_t)&expected;
        classes_init();
        sources[SRC_PAGE].a = alloc_page_allocator();
        sources[SRC_PAGE].fresh_zero = true;
        sources[SRC_HEAP].a = (allocator){NULL, &heap_vtable};
        read_environment();
        atomic_store_explicit(&init_state, INIT_DONE, memory_order_release);
        in_init = false;
        return;
    }
    /* Another thread is initialising: it does not allocate, so this is short. */
    while (atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE) sched_yield();
}

static inline void ensure_init(void)
{
    if (ALLOC_UNLIKELY(atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE)) init_slow();
}

__attribute__((constructor)) static void global_constructor(void)
{
    ensure_init();
    /* Programs whose first malloc ran before the C library had set environ
     * (possible under LD_PRELOAD) get their selection now. */
    if (!saw_environ) read_environment();
    ensure_exit_key();
    pthread_atfork(alloc_global_fork_prepare, alloc_global_fork_parent, alloc_global_fork_child);
}

__attribute__((destructor)) static void global_destructor(void)
{
    if (print_stats_at_exit) alloc_global_print_stats(2);
}

/* --- fork ------------------------------------------------------------------------ */

/* Bit i: whether the i-th enclosing prepare of this thread took the locks. */
static ALLOC_GLOBAL_TLS unsigned long fork_locked_bits;

static bool process_single_threaded(void)
{
#if defined(ALLOC_HAVE_SINGLE_THREADED)
    return __libc_single_threaded != 0;
#else
    return false;
#endif
}

static void lock_everything(void)
{
    pthread_mutex_lock(&install_lock);
    for (unsigned i = 0; i < NSOURCES; i++)
        if (sources[i].locked) pthread_mutex_lock(&sources[i].lock);
    for (unsigned cls = 0; cls < NCLASS; cls++) pthread_mutex_lock(&classes[cls].lock);
    pthread_mutex_lock(&heap_lock);
    pthread_mutex_lock(&registry_lock);
}

static void unlock_everything(void)
{
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_unlock(&heap_lock);
    for (unsigned cls = NCLASS; cls-- > 0;) pthread_mutex_unlock(&classes[cls].lock);
    for (unsigned i = NSOURCES; i-- > 0;)
        if (sources[i].locked) pthread_mutex_unlock(&sources[i].lock);
    pthread_mutex_unlock(&install_lock);
}

void alloc_global_fork_prepare(void)
{
    /* Not initialised, or initialising on this very thread (a signal handler
     * interrupted init_slow): no lock has been used yet. Single-threaded: see
     * the essay. Otherwise wait for another thread's initialisation (it does
     * not block) and take everything. */
    bool lock = !in_init && !fork_holds_all && !process_single_threaded() &&
                atomic_load_explicit(&init_state, memory_order_acquire) != INIT_NONE;
    if (lock) {
        ensure_init();
        lock_everything();
        fork_holds_all = true; /* see engine_lock */
    }
    fork_locked_bits = fork_locked_bits << 1 | (lock ? 1u : 0u);
}

static bool pop_fork_locked(void)
{
    bool locked = fork_locked_bits & 1u;
    fork_locked_bits >>= 1;
    return locked;
}

void alloc_global_fork_parent(void)
{
    if (pop_fork_locked()) {
        fork_holds_all = false;
        unlock_everything();
    }
}

void alloc_global_fork_child(void)
{
    bool locked = pop_fork_locked();
    /* The child's only thread has a new kernel id. A raw system call, safe
     * in a child forked from a signal handler. */
    if (tc_self) tc_self->tid = alloc_os_thread_id();
    if (!locked) return;
    fork_holds_all = false;
    unlock_everything();
    /* Only the forking thread survives: the other threads' cached blocks go
     * back to the classes and their records are reused. */
    records_after_fork_child();
}
