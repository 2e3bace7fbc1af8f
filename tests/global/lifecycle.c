/*
 * lifecycle.c MODE [alloc]: thread lifecycles, signals and fork orders that
 * real processes produce, run over whatever malloc the process has (glibc,
 * alloc's preload library, alloc's malloc linked in, or the engine's own
 * names under a sanitizer with ALLOC_STRESS_ENGINE).
 *
 * With "alloc" as second argument the program also asks alloc itself
 * (alloc_global_check, alloc_global_stats, alloc_global_trim_threads, looked
 * up at run time so the same binary runs over glibc) and fails if the adapter
 * is not there or its invariants or bounds do not hold. A hang is the failure
 * these modes look for: ctest runs each with a timeout.
 *
 * Modes:
 *   ctor-thread    a shared library's constructor starts a thread that
 *                  mallocs, frees and exits before alloc's constructor can
 *                  run (ELF init order); then 200 threads one after another,
 *                  64 blocks of 16 B..32 KiB each
 *   key-destructor threads whose first malloc is in a pthread key destructor
 *                  of glibc's last round, so no later round runs alloc's
 *                  exit hook; thousands of them must not leak their caches
 *   detached       thousands of detached threads, some freeing blocks that
 *                  the main thread allocated and the other way round
 *   short-lived    thousands of short-lived joinable threads, a few at a time;
 *                  reserved memory must stay bounded
 *   signal-fork    single-threaded: malloc/free in a loop while another
 *                  process sends SIGUSR1; the handler forks, the child _exits
 *   signal-fork-nested  the same while the loop itself forks, so signals also
 *                  arrive inside fork()
 *   fork-threads   threads fill their caches and keep allocating; the main
 *                  thread forks; each child allocates and checks the heap
 *   fork-exiting-threads  300 forks while threads that allocate are created
 *                  and exit: a fork inside a thread's exit flush must not give
 *                  the child one block twice
 *   atfork-malloc  fork handlers that malloc, registered before the adapter's
 *                  (lifecycle_lib.c): they run while its prepare holds every
 *                  lock, and must not deadlock; 100 forks with threads busy
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/stats.h"

#ifdef ALLOC_STRESS_ENGINE
#include "alloc/global.h"
#define malloc alloc_global_malloc
#define free alloc_global_free
#define realloc alloc_global_realloc
#endif

/* From lifecycle_lib.c: how many blocks its constructor's thread handled. */
extern int lifecycle_lib_thread_blocks(void);

static bool want_alloc;
static int failures;

#define FAIL(...)                                                \
    do {                                                         \
        fprintf(stderr, "lifecycle: " __VA_ARGS__);              \
        fputc('\n', stderr);                                     \
        failures++;                                              \
    } while (0)

/* --- alloc's own functions, if the process has them --------------------------------- */

typedef bool (*check_fn)(void);
typedef void (*stats_fn)(alloc_stats *);
typedef size_t (*trim_fn)(void);
static check_fn alloc_check;
static stats_fn alloc_stats_get;
static trim_fn alloc_trim_threads;

static void find_alloc(void)
{
#ifdef ALLOC_STRESS_ENGINE
    alloc_check = alloc_global_check;
    alloc_stats_get = alloc_global_stats;
    alloc_trim_threads = alloc_global_trim_threads;
#else
    alloc_check = (check_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_global_check");
    alloc_stats_get = (stats_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_global_stats");
    alloc_trim_threads = (trim_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_global_trim_threads");
#endif
    if (want_alloc && !(alloc_check && alloc_stats_get && alloc_trim_threads))
        FAIL("alloc's functions are not in this process (run under the preload library)");
}

static void check_heap(const char *when)
{
    if (alloc_check && !alloc_check()) FAIL("alloc_global_check failed %s", when);
}

static size_t reserved_now(void)
{
    if (!alloc_stats_get) return 0;
    alloc_stats s;
    alloc_stats_get(&s);
    return s.bytes_reserved;
}

/* --- a little work for a thread ------------------------------------------------------ */

static unsigned next_rand(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

/* Allocates n blocks of 16 B .. max, writes them, checks and frees them. */
static void churn(unsigned seed, int n, size_t max)
{
    void *blocks[128];
    size_t lens[128];
    if (n > 128) n = 128;
    for (int i = 0; i < n; i++) {
        lens[i] = 16 + next_rand(&seed) % (max - 15);
        blocks[i] = malloc(lens[i]);
        if (!blocks[i]) {
            FAIL("malloc(%zu) failed: %s", lens[i], strerror(errno));
            n = i;
            break;
        }
        memset(blocks[i], (int)(i & 0xFF), lens[i]);
    }
    for (int i = 0; i < n; i++) {
        unsigned char *p = blocks[i];
        if (p[0] != (unsigned char)i || p[lens[i] - 1] != (unsigned char)i) FAIL("block %d changed", i);
        free(p);
    }
}

static void *churn_thread(void *arg)
{
    churn((unsigned)(uintptr_t)arg, 64, 32 << 10);
    return NULL;
}

static void run_joined(int n, int at_once, void *(*fn)(void *))
{
    pthread_t t[16];
    for (int done = 0; done < n; done += at_once) {
        int k = n - done < at_once ? n - done : at_once;
        for (int i = 0; i < k; i++)
            if (pthread_create(&t[i], NULL, fn, (void *)(uintptr_t)(done + i + 1)) != 0) {
                FAIL("pthread_create failed");
                return;
            }
        for (int i = 0; i < k; i++) pthread_join(t[i], NULL);
    }
}

/* Reserved bytes may grow by at most `bound` over a run of many threads: each
 * dead thread's cache and record must come back. */
static void check_bounded(size_t before, size_t bound, const char *what)
{
    if (!alloc_stats_get) return;
    if (alloc_trim_threads) alloc_trim_threads();
    size_t after = reserved_now();
    if (after > before + bound)
        FAIL("%s: reserved grew from %zu to %zu bytes (bound %zu): dead threads' caches are lost", what,
             before, after, bound);
}

/* --- modes ------------------------------------------------------------------------- */

static void mode_ctor_thread(void)
{
    if (lifecycle_lib_thread_blocks() <= 0) FAIL("the library constructor's thread did not run");
    run_joined(200, 1, churn_thread);
    check_heap("after 200 threads");
}

static pthread_key_t last_round_key;

/* Runs in each destructor round; on the last one (the value was set again in
 * every earlier round), the thread's first malloc. */
static void last_round_destructor(void *value)
{
    uintptr_t round = (uintptr_t)value;
    if (round < PTHREAD_DESTRUCTOR_ITERATIONS) {
        pthread_setspecific(last_round_key, (void *)(round + 1));
        return;
    }
    churn((unsigned)round * 7919u, 48, 4096);
    /* Keep a few blocks in this thread's cache on purpose. */
    for (int i = 0; i < 8; i++) free(malloc(64 + (size_t)i * 16));
}

static void *key_thread(void *arg)
{
    (void)arg;
    /* No malloc here: the first one is in the last destructor round. */
    pthread_setspecific(last_round_key, (void *)(uintptr_t)1);
    return NULL;
}

static void mode_key_destructor(void)
{
    if (pthread_key_create(&last_round_key, last_round_destructor) != 0) {
        FAIL("pthread_key_create");
        return;
    }
    run_joined(8, 1, key_thread); /* warm up: records and spans exist */
    size_t before = reserved_now();
    run_joined(3000, 4, key_thread);
    check_bounded(before, (size_t)32 << 20, "3000 threads with their first malloc in the last key destructor");
    check_heap("after the key-destructor threads");
}

static atomic_int detached_left;
static void *volatile handoff[64];

static void *detached_thread(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    churn(seed, 16, 8192);
    /* Free a block the main thread allocated, and leave one for it. */
    void *mine = malloc(100 + seed % 500);
    void *theirs = __atomic_exchange_n(&handoff[seed % 64], mine, __ATOMIC_ACQ_REL);
    free(theirs);
    atomic_fetch_sub(&detached_left, 1);
    return NULL;
}

static void mode_detached(void)
{
    for (int i = 0; i < 64; i++) handoff[i] = malloc(32 + (size_t)i);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t before = reserved_now();
    const int n = 3000;
    for (int i = 0; i < n; i++) {
        while (atomic_load(&detached_left) >= 8) sched_yield();
        atomic_fetch_add(&detached_left, 1);
        pthread_t t;
        if (pthread_create(&t, &attr, detached_thread, (void *)(uintptr_t)(i + 1)) != 0) {
            atomic_fetch_sub(&detached_left, 1);
            FAIL("pthread_create failed");
            break;
        }
    }
    while (atomic_load(&detached_left) > 0) sched_yield();
    /* Detached threads may still be in their exit path: give them a moment. */
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (int i = 0; i < 64; i++) free(handoff[i]);
    check_bounded(before, (size_t)32 << 20, "3000 detached threads");
    check_heap("after the detached threads");
}

static void mode_short_lived(void)
{
    run_joined(8, 1, churn_thread);
    size_t before = reserved_now();
    run_joined(5000, 8, churn_thread);
    check_bounded(before, (size_t)32 << 20, "5000 short-lived threads");
    check_heap("after the short-lived threads");
}

/* --- fork from a signal handler ------------------------------------------------------ */

static volatile sig_atomic_t handler_forks, handler_failures;

static void fork_handler(int sig)
{
    (void)sig;
    int saved = errno;
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) {
        handler_failures++;
    } else {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) handler_failures++;
        handler_forks++;
    }
    errno = saved;
}

static void mode_signal_fork(bool nested)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fork_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid_t sender = fork();
    if (sender == 0) {
        /* The sender: a signal every 200 us until the parent is gone. */
        struct timespec gap = {0, 200 * 1000};
        while (kill(parent, SIGUSR1) == 0) nanosleep(&gap, NULL);
        _exit(0);
    }
    if (sender < 0) {
        FAIL("fork of the sender failed");
        return;
    }
    unsigned seed = 1;
    void *keep[32] = {0};
    time_t start = time(NULL);
    long rounds = 0;
    while (handler_forks < 300 && time(NULL) - start < 20) {
        size_t len = 1 + next_rand(&seed) % (next_rand(&seed) % 8 == 0 ? (2u << 20) : 2048u);
        unsigned slot = next_rand(&seed) % 32;
        free(keep[slot]);
        keep[slot] = malloc(len);
        if (keep[slot]) memset(keep[slot], 1, len < 64 ? len : 64);
        if (rounds % 7 == 0) keep[slot] = realloc(keep[slot], len * 2);
        if (nested && rounds % 5000 == 0) {
            pid_t pid = fork();
            if (pid == 0) {
                free(malloc(100));
                _exit(0);
            }
            if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
                }
        }
        rounds++;
    }
    kill(sender, SIGKILL);
    while (waitpid(sender, NULL, 0) < 0 && errno == EINTR) {
    }
    signal(SIGUSR1, SIG_IGN);
    for (int i = 0; i < 32; i++) free(keep[i]);
    if (handler_failures) FAIL("%d forks from the handler failed", (int)handler_failures);
    if (handler_forks < 20) FAIL("only %d forks from the handler in 20 s", (int)handler_forks);
    check_heap("after forks from a signal handler");
}

/* --- fork while threads allocate ------------------------------------------------------- */

static atomic_bool stop_threads;

static void *busy_thread(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop_threads)) churn(seed++, 32, 4096);
    return NULL;
}

static void mode_fork_threads(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, busy_thread, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* Only this thread exists here: the others' caches must come back. */
            churn(99, 64, 32 << 10);
            if (alloc_trim_threads) alloc_trim_threads();
            if (alloc_check && !alloc_check()) _exit(3);
            _exit(failures ? 2 : 0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            FAIL("fork child %d failed (status %d)", i, status);
    }
    atomic_store(&stop_threads, true);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    check_heap("after forks with threads");
}

/* --- fork handlers that allocate ---------------------------------------------------------- */

/* lifecycle_lib.c registered fork handlers that malloc and free before the
 * adapter registered its own; threads keep allocating while the main thread
 * forks. Every fork must complete (a hang fails through ctest's timeout),
 * every handler must have run, and each child must find a sound heap. */
int lifecycle_lib_atfork_calls(void);

static void mode_atfork_malloc(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, busy_thread, (void *)(uintptr_t)(i + 1));
    int forks = 0;
    for (int i = 0; i < 100; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            churn(7, 64, 32 << 10);
            if (lifecycle_lib_atfork_calls() < 2) _exit(4); /* prepare and child ran */
            if (alloc_check && !alloc_check()) _exit(3);
            _exit(failures ? 2 : 0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            FAIL("fork child %d failed (status %d)", i, status);
        else
            forks++;
    }
    atomic_store(&stop_threads, true);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    if (lifecycle_lib_atfork_calls() < 2 * forks) FAIL("the library's fork handlers ran %d times for %d forks",
                                                       lifecycle_lib_atfork_calls(), forks);
    check_heap("after forks whose handlers allocate");
}

/* --- fork while threads exit ---------------------------------------------------------- */

/* Threads that allocate and exit, one after another, from three spawners,
 * while the main thread forks: a fork lands inside a thread's exit flush now
 * and then. Each child churns and must never get one block twice. */
static void *exiting_thread(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    void *p[100];
    for (int i = 0; i < 100; i++) p[i] = malloc((i * 131 + seed) % 3000 + 1);
    for (int i = 0; i < 100; i++) free(p[i]);
    return NULL;
}

static void *spawner_thread(void *arg)
{
    (void)arg;
    for (unsigned n = 0; !atomic_load(&stop_threads); n++) {
        pthread_t t;
        if (pthread_create(&t, NULL, exiting_thread, (void *)(uintptr_t)n) != 0) break;
        pthread_join(t, NULL);
    }
    return NULL;
}

static void mode_fork_exiting_threads(void)
{
    pthread_t s[3];
    for (int i = 0; i < 3; i++) pthread_create(&s[i], NULL, spawner_thread, NULL);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *p[1000];
            for (int r = 0; r < 20; r++) {
                for (int j = 0; j < 1000; j++) {
                    p[j] = malloc((size_t)j * 7 + 1);
                    if (p[j]) memset(p[j], r, 1);
                }
                /* A block handed out twice shows as two equal pointers. */
                for (int j = 1; j < 1000; j++)
                    if (p[j] && p[j] == p[j - 1]) _exit(4);
                for (int j = 0; j < 1000; j++) free(p[j]);
            }
            if (alloc_check && !alloc_check()) _exit(3);
            _exit(0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) bad++;
    }
    atomic_store(&stop_threads, true);
    for (int i = 0; i < 3; i++) pthread_join(s[i], NULL);
    if (bad) FAIL("%d of 300 fork children failed (a block handed out twice, or a broken heap)", bad);
    check_heap("after forks racing exiting threads");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: lifecycle MODE [alloc]\n");
        return 2;
    }
    want_alloc = argc > 2 && strcmp(argv[2], "alloc") == 0;
    find_alloc();
    const char *mode = argv[1];
    if (strcmp(mode, "ctor-thread") == 0)
        mode_ctor_thread();
    else if (strcmp(mode, "key-destructor") == 0)
        mode_key_destructor();
    else if (strcmp(mode, "detached") == 0)
        mode_detached();
    else if (strcmp(mode, "short-lived") == 0)
        mode_short_lived();
    else if (strcmp(mode, "signal-fork") == 0)
        mode_signal_fork(false);
    else if (strcmp(mode, "signal-fork-nested") == 0)
        mode_signal_fork(true);
    else if (strcmp(mode, "atfork-malloc") == 0)
        mode_atfork_malloc();
    else if (strcmp(mode, "fork-threads") == 0)
        mode_fork_threads();
    else if (strcmp(mode, "fork-exiting-threads") == 0)
        mode_fork_exiting_threads();
    else {
        fprintf(stderr, "lifecycle: unknown mode %s\n", mode);
        return 2;
    }
    if (failures) return 1;
    printf("lifecycle %s: ok\n", mode);
    return 0;
}
