/*
 * Multi-thread stress test of alloc_pool_mt: several threads allocate objects,
 * stamp them, pass them to each other through shared mailboxes, check every
 * object they receive and free it (objects are freed by other threads than
 * the ones that allocated them). Then every count must add up and the
 * invariant checker must pass.
 *
 * A plain program (its own main, exit status 0 = pass) rather than a Criterion
 * suite, because Criterion cannot start under ThreadSanitizer: this test is
 * the one the TSan job runs (scripts/ci.d/40-tsan.sh).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/pool.h"

static int failures;

#define EXPECT(cond, ...)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            failures++;                                                    \
        }                                                                  \
    } while (0)

enum { THREADS = 4, OPS = 40000, MAILBOXES = 64, OBJ = 48 };

typedef struct stress {
    alloc_pool_mt *pool;
    allocator a;
    _Atomic(unsigned char *) mailbox[MAILBOXES];
    atomic_int bad;
    atomic_long received_from_others;
    atomic_int ready;
} stress;

/* Object layout: byte 0 = writer, bytes 1..7 = sequence, then a pattern of both. */
static void stamp(unsigned char *o, unsigned tid, uint64_t seq)
{
    o[0] = (unsigned char)tid;
    for (int i = 1; i < 8; i++) o[i] = (unsigned char)(seq >> (8 * (i - 1)));
    for (int i = 8; i < OBJ; i++) o[i] = (unsigned char)(tid * 59u + seq * 13u + (unsigned)i);
}

static int intact(const unsigned char *o)
{
    unsigned tid = o[0];
    uint64_t seq = 0;
    for (int i = 1; i < 8; i++) seq |= (uint64_t)o[i] << (8 * (i - 1));
    if (tid >= THREADS) return 0;
    for (int i = 8; i < OBJ; i++)
        if (o[i] != (unsigned char)(tid * 59u + seq * 13u + (unsigned)i)) return 0;
    return 1;
}

typedef struct worker {
    stress *s;
    unsigned tid;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    stress *s = w->s;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (w->tid + 1);
    unsigned char *local[32];
    int nlocal = 0;
    /* start together, so that the threads really overlap */
    atomic_fetch_add(&s->ready, 1);
    while (atomic_load(&s->ready) < THREADS) sched_yield();
    for (uint64_t seq = 0; seq < OPS; seq++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        if (seq % 64 == 0) sched_yield(); /* interleave even on few cores */
        /* half through the inline-free API, half through the handle */
        unsigned char *o = (rng & 1) ? alloc_pool_mt_get(s->pool) : alloc_bytes(s->a, OBJ, 8);
        if (!o) {
            atomic_fetch_add(&s->bad, 1);
            continue;
        }
        stamp(o, w->tid, seq);
        if ((rng >> 8) % 4 == 0 && nlocal < 32) {
            local[nlocal++] = o; /* keep some for a while */
        } else {
            unsigned char *got = atomic_exchange(&s->mailbox[(rng >> 16) % MAILBOXES], o);
            if (got) {
                if (!intact(got)) atomic_fetch_add(&s->bad, 1);
                if (got[0] != w->tid) atomic_fetch_add(&s->received_from_others, 1);
                if (rng & 2)
                    alloc_pool_mt_put(s->pool, got);
                else
                    alloc_free(s->a, got, OBJ, 8);
            }
        }
        if (nlocal == 32 || (nlocal && (rng >> 24) % 8 == 0)) {
            unsigned char *l = local[--nlocal];
            if (!intact(l) || l[0] != w->tid) atomic_fetch_add(&s->bad, 1);
            alloc_pool_mt_put(s->pool, l);
        }
    }
    while (nlocal) {
        unsigned char *l = local[--nlocal];
        if (!intact(l)) atomic_fetch_add(&s->bad, 1);
        alloc_pool_mt_put(s->pool, l);
    }
    return NULL;
}

static alloc_pool_mt *new_pool(size_t obj_size, size_t slab_bytes)
{
    alloc_pool_mt *p = aligned_alloc(64, sizeof *p);
    if (!p || alloc_pool_mt_init(p, &(alloc_pool_config){.obj_size = obj_size, .slab_bytes = slab_bytes}) != 0) {
        fprintf(stderr, "pool init failed\n");
        exit(1);
    }
    return p;
}

static void threads_exchange_objects(size_t slab_bytes)
{
    static stress s;
    memset(&s, 0, sizeof s);
    /* small slabs make growth happen often and concurrently */
    s.pool = new_pool(OBJ, slab_bytes);
    s.a = alloc_pool_mt_allocator(s.pool);
    pthread_t th[THREADS];
    worker w[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (worker){&s, i};
        if (pthread_create(&th[i], NULL, run_worker, &w[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    for (unsigned i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    for (int m = 0; m < MAILBOXES; m++) {
        unsigned char *o = atomic_load(&s.mailbox[m]);
        if (o) {
            EXPECT(intact(o), "mailbox %d", m);
            alloc_pool_mt_put(s.pool, o);
        }
    }
    EXPECT(atomic_load(&s.bad) == 0, "%d objects corrupted or refused", atomic_load(&s.bad));
    EXPECT(atomic_load(&s.received_from_others) > 1000, "threads hardly exchanged objects (%ld)",
           atomic_load(&s.received_from_others));
    EXPECT(alloc_pool_mt_check(s.pool), "invariants after the run");
    alloc_stats st;
    alloc_pool_mt_stats(s.pool, &st);
    EXPECT(st.alloc_count == (uint64_t)THREADS * OPS, "alloc_count %llu", (unsigned long long)st.alloc_count);
    EXPECT(st.free_count == st.alloc_count, "free_count %llu", (unsigned long long)st.free_count);
    EXPECT(st.bytes_in_use == 0, "bytes_in_use %zu", st.bytes_in_use);
    EXPECT(st.peak_bytes_in_use > 0 && st.peak_bytes_in_use <= (size_t)(MAILBOXES + THREADS * 33) * OBJ,
           "peak %zu", st.peak_bytes_in_use);
    alloc_pool_mt_deinit(s.pool);
    free(s.pool);
}

/* Every thread takes 2000 objects from an empty pool at once: they all grow it. */
static void *grab_many(void *arg)
{
    alloc_pool_mt *p = arg;
    static _Thread_local void *objs[2000];
    for (int i = 0; i < 2000; i++) {
        objs[i] = alloc_pool_mt_get(p);
        if (!objs[i]) return (void *)1;
        memset(objs[i], 0x3c, 24);
    }
    for (int i = 0; i < 2000; i++) {
        for (int k = 0; k < 24; k++)
            if (((unsigned char *)objs[i])[k] != 0x3c) return (void *)2;
        alloc_pool_mt_put(p, objs[i]);
    }
    return NULL;
}

static void concurrent_growth(void)
{
    alloc_pool_mt *p = new_pool(24, 512);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, grab_many, p) != 0) exit(1);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        EXPECT(r == NULL, "thread %d: %s", i, r == (void *)1 ? "allocation failed" : "object overwritten");
    }
    EXPECT(alloc_pool_mt_check(p), "invariants after concurrent growth");
    alloc_stats s;
    alloc_pool_mt_stats(p, &s);
    EXPECT(s.bytes_in_use == 0, "bytes_in_use %zu", s.bytes_in_use);
    EXPECT(s.alloc_count == THREADS * 2000, "alloc_count %llu", (unsigned long long)s.alloc_count);
    /* growth under the lock never takes a slab while slots are free: bounded waste */
    EXPECT(s.bytes_reserved <= (size_t)THREADS * 2000 * 24 * 2 + ((size_t)256 << 10), "reserved %zu",
           s.bytes_reserved);
    alloc_pool_mt_deinit(p);
    free(p);
}

int main(void)
{
    threads_exchange_objects(1024);
    threads_exchange_objects(0);
    concurrent_growth();
    if (failures) {
        fprintf(stderr, "test_pool_mt_stress: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_pool_mt_stress: passed\n");
    return 0;
}
