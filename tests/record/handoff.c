/*
 * handoff.c: a program whose allocations make a demanding trace, for the
 * replay tests (tests/record/replay_check.sh).
 *
 *   handoff wrap TRACE    records through the tracing wrapper (alloc/record.h)
 *                         over the C library's malloc: works in every build,
 *                         sanitizers included
 *   handoff malloc        plain malloc calls, to be recorded by the preload
 *                         library (ALLOC_TRACE); also forks a child that
 *                         allocates and leaves by _exit
 *
 * Both run three producer threads that allocate blocks of 16-2,000 bytes and
 * hand about half of them to a consumer thread that frees them (cross-thread
 * frees), free the rest themselves in LIFO bursts, and grow one buffer per
 * thread by realloc. Prints the operations it made, one line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/c_allocator.h"
#include "alloc/record.h"

enum { PRODUCERS = 3, PER = 3000, RING = 128 };

static allocator handle; /* .vtable NULL: malloc */
static _Atomic(void *) ring[RING];
static atomic_int done;
static atomic_long ops;

static void *get(size_t len)
{
    atomic_fetch_add(&ops, 1);
    return handle.vtable ? alloc_bytes(handle, len, 16) : malloc(len);
}

static void put(void *p, size_t len)
{
    atomic_fetch_add(&ops, 1);
    if (handle.vtable)
        alloc_free(handle, p, len, 16);
    else
        free(p);
}

static void *grow(void *p, size_t len, size_t new_len)
{
    atomic_fetch_add(&ops, 1);
    return handle.vtable ? alloc_realloc(handle, p, len, 16, new_len) : realloc(p, new_len);
}

static void *producer(void *arg)
{
    unsigned x = (unsigned)(size_t)arg * 2654435761u + 1;
    size_t buf_len = 16;
    char *buf = get(buf_len);
    void *burst[8];
    size_t burst_len[8];
    for (int i = 0; i < PER; i++) {
        x = x * 1103515245u + 12345u;
        size_t len = 16 + (x >> 12) % 1985;
        unsigned char *p = get(len);
        if (!p) abort();
        memset(p, (int)len, len);
        p[0] = (unsigned char)len;
        p[1] = (unsigned char)(len >> 8);
        if (x & 0x10000) {
            for (unsigned k = x;; k++) {
                void *expect = NULL;
                if (atomic_compare_exchange_strong(&ring[k % RING], &expect, p)) break;
            }
        } else {
            int n = (int)(x % 8);
            for (int k = 0; k < n; k++) {
                burst_len[k] = 8 + (size_t)k * 24;
                burst[k] = get(burst_len[k]);
            }
            while (n--) put(burst[n], burst_len[n]);
            put(p, len);
        }
        if (i % 100 == 0) {
            /* Grows by half, and back to 16 bytes past 16 KiB (so the slab,
             * up to 32 KiB, can serve the whole trace). */
            size_t new_len = buf_len > 16000 ? 16 : buf_len * 3 / 2;
            char *q = grow(buf, buf_len, new_len);
            if (!q) abort();
            buf = q;
            buf_len = new_len;
        }
    }
    put(buf, buf_len);
    atomic_fetch_add(&done, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        bool any = false;
        for (int k = 0; k < RING; k++) {
            unsigned char *p = atomic_exchange(&ring[k], NULL);
            if (!p) continue;
            any = true;
            size_t len = (size_t)p[0] | (size_t)p[1] << 8;
            put(p, len);
        }
        if (!any && atomic_load(&done) == PRODUCERS) {
            bool empty = true;
            for (int k = 0; k < RING; k++) empty = empty && !atomic_load(&ring[k]);
            if (empty) return NULL;
        }
    }
}

int main(int argc, char **argv)
{
    alloc_recorder *rec = NULL;
    alloc_record_wrapper w;
    if (argc == 3 && strcmp(argv[1], "wrap") == 0) {
        int e = alloc_recorder_open(&rec, argv[2], "handoff", ALLOC_RECORD_HANDLE);
        if (e != 0) {
            fprintf(stderr, "handoff: cannot record to %s: %d\n", argv[2], e);
            return 1;
        }
        handle = alloc_record_wrap(&w, alloc_c_allocator(), rec);
    } else if (!(argc == 2 && strcmp(argv[1], "malloc") == 0)) {
        fprintf(stderr, "usage: handoff wrap TRACE | handoff malloc\n");
        return 2;
    }
    pthread_t pt[PRODUCERS], ct;
    pthread_create(&ct, NULL, consumer, NULL);
    for (size_t i = 0; i < PRODUCERS; i++) pthread_create(&pt[i], NULL, producer, (void *)i);
    for (size_t i = 0; i < PRODUCERS; i++) pthread_join(pt[i], NULL);
    pthread_join(ct, NULL);
    if (!rec) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 1000; i++) free(malloc(100 + (size_t)i));
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
    }
    printf("handoff: %ld operations\n", atomic_load(&ops));
    if (rec && alloc_recorder_close(rec) != 0) return 1;
    return 0;
}
