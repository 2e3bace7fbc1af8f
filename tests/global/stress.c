/*
 * stress.c THREADS ROUNDS [install]: threads allocating blocks that other
 * threads check and free, then forks while other threads are inside malloc.
 *
 * Each thread allocates blocks of mixed sizes (16 B .. 300 KiB, some with
 * posix_memalign, some grown with realloc), writes a pattern derived from its
 * id and a sequence number, and hands every block to the next thread through
 * a mailbox; the receiver checks the pattern and frees it. So blocks are freed
 * by threads other than their allocator, across thread caches and classes.
 * Then, with all but the main thread still churning, the main thread forks a
 * few times; each child allocates and frees, then execs /bin/true. A lost
 * lock would hang the child (the test's timeout catches that). A child whose
 * malloc returns NULL with ENOMEM fails the test, except under the adapter's
 * bump and arena strategies, whose memory only grows (only_grows).
 * Exits 0 iff every check passed. Works over any malloc (glibc, preload,
 * in-process with ALLOC_PROBE_INPROC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef ALLOC_PROBE_INPROC
#include "alloc/global.h"
#include "alloc/page.h"
#endif
#ifdef ALLOC_STRESS_ENGINE
/* The engine under its own names, for sanitizer builds (which own malloc). */
#include "alloc/global.h"
#define malloc alloc_global_malloc
#define free alloc_global_free
#define realloc alloc_global_realloc
#define posix_memalign alloc_global_posix_memalign
#endif

enum { MAILBOX = 256, MAX_THREADS = 16 };

typedef struct block {
    unsigned char *p;
    size_t len;
    unsigned seed;
} block;

typedef struct mailbox {
    pthread_mutex_t lock;
    block items[MAILBOX];
    int head, count;
} mailbox;

static mailbox boxes[MAX_THREADS];
static int nthreads, rounds;
static atomic_int failures;
static atomic_bool churn_stop;
static atomic_int workers_done;

static int try_put(mailbox *m, block b)
{
    pthread_mutex_lock(&m->lock);
    int ok = m->count < MAILBOX;
    if (ok) {
        m->items[(m->head + m->count) % MAILBOX] = b;
        m->count++;
    }
    pthread_mutex_unlock(&m->lock);
    return ok;
}

static int take(mailbox *m, block *out)
{
    pthread_mutex_lock(&m->lock);
    int got = 0;
    if (m->count) {
        *out = m->items[m->head];
        m->head = (m->head + 1) % MAILBOX;
        m->count--;
        got = 1;
    }
    pthread_mutex_unlock(&m->lock);
    return got;
}

static void check_and_free(block b);

/* Hands b to the next thread; while its mailbox is full, empties our own (so
 * the ring of threads cannot deadlock). */
static void put(mailbox *next, mailbox *mine, block b)
{
    block in;
    while (!try_put(next, b)) {
        if (take(mine, &in))
            check_and_free(in);
        else
            sched_yield();
    }
}

static void check_and_free(block b)
{
    for (size_t i = 0; i < b.len; i++)
        if (b.p[i] != (unsigned char)(b.seed + i)) {
            atomic_fetch_add(&failures, 1);
            break;
        }
    free(b.p);
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    mailbox *mine = &boxes[id], *next = &boxes[(id + 1) % nthreads];
    unsigned x = (unsigned)id * 2654435761u + 1;
    for (int i = 0; i < rounds; i++) {
        x = x * 1103515245u + 12345u;
        size_t len = (x >> 8) % (i % 64 == 0 ? 300000 : 512);
        unsigned char *p;
        if (i % 16 == 1) {
            void *q = NULL;
            if (posix_memalign(&q, (size_t)32 << (x % 8), len) != 0) q = NULL;
            p = q;
        } else {
            p = malloc(len);
        }
        if (!p) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        if (i % 8 == 3) { /* grow through realloc, keeping the pattern */
            size_t grown = len * 2 + 10;
            for (size_t k = 0; k < len; k++) p[k] = (unsigned char)(x + k);
            unsigned char *q = realloc(p, grown);
            if (!q) {
                atomic_fetch_add(&failures, 1);
                free(p);
                continue;
            }
            for (size_t k = 0; k < len; k++)
                if (q[k] != (unsigned char)(x + k)) {
                    atomic_fetch_add(&failures, 1);
                    break;
                }
            p = q;
            len = grown;
        }
        for (size_t k = 0; k < len; k++) p[k] = (unsigned char)(x + k);
        put(next, mine, (block){p, len, x});
        block b;
        while (take(mine, &b)) check_and_free(b);
    }
    /* Keep emptying our mailbox until every worker is done putting. */
    atomic_fetch_add(&workers_done, 1);
    block b;
    while (atomic_load(&workers_done) < nthreads) {
        if (take(mine, &b))
            check_and_free(b);
        else
            sched_yield();
    }
    return NULL;
}

static void *churn(void *arg)
{
    (void)arg;
    unsigned x = 99;
    while (!atomic_load(&churn_stop)) {
        x = x * 1103515245u + 12345u;
        void *p = malloc((x >> 8) % (x & 1 ? 400000 : 300));
        free(p);
    }
    return NULL;
}

/* Children that got NULL with ENOMEM: a documented outcome for strategies
 * whose memory only grows (see only_grows), a failure for any other. */
static int children_out_of_memory;

static int fork_while_busy(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, churn, NULL);
    int bad = 0;
    for (int k = 0; k < 20; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 1000; i++) {
                char *p = malloc((size_t)(i % 50) * 100 + 1);
                if (!p) _exit(errno == ENOMEM ? 5 : 3);
                p[0] = 1;
                free(p);
            }
            void *big = malloc(1 << 20);
            if (!big) _exit(errno == ENOMEM ? 5 : 3);
            free(big);
            /* Then exec, as a shell's child does. Exiting instead would run
             * a leak checker's exit-time check (memcheck's, LSan's) in a
             * process whose other threads vanished at the fork: a block one of
             * them had just been handed, held only in its registers, is
             * unreachable here and would be called lost under any malloc. */
            execl("/bin/true", "true", (char *)NULL);
            _exit(4);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
            bad++;
        else if (WEXITSTATUS(st) == 5)
            children_out_of_memory++;
        else if (WEXITSTATUS(st) != 0)
            bad++;
    }
    atomic_store(&churn_stop, true);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    return bad;
}

/* The adapter's bump and arena strategies reuse only the newest block
 * (docs/global.md: for batch programs, "their memory only grows"): churning
 * threads that free out of order exhaust them, and a child forked late then
 * gets NULL with ENOMEM, as documented. */
static bool only_grows(void)
{
    const char *s = getenv("ALLOC_STRATEGY");
    return s && (strcmp(s, "bump") == 0 || strcmp(s, "arena") == 0);
}

int main(int argc, char **argv)
{
    nthreads = argc > 1 ? atoi(argv[1]) : 4;
    rounds = argc > 2 ? atoi(argv[2]) : 20000;
    if (nthreads < 1 || nthreads > MAX_THREADS) return 2;
#ifdef ALLOC_PROBE_INPROC
    if (argc > 3 && strcmp(argv[3], "install") == 0 && alloc_global_install(alloc_page_allocator(), 0) != 0)
        return 2;
#endif
    pthread_t t[MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        pthread_mutex_init(&boxes[i].lock, NULL);
    }
    for (int i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
    block b;
    for (int i = 0; i < nthreads; i++)
        while (take(&boxes[i], &b)) check_and_free(b);
    int forks_bad = fork_while_busy();
    printf("stress: %d threads x %d rounds, %d content failures; fork while busy: %d bad children, "
           "%d out of memory\n",
           nthreads, rounds, atomic_load(&failures), forks_bad, children_out_of_memory);
    if (children_out_of_memory && !only_grows()) forks_bad += children_out_of_memory;
    return atomic_load(&failures) == 0 && forks_bad == 0 ? 0 : 1;
}
