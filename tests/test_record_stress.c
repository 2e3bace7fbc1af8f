/*
 * test_record_stress.c: the recorder under concurrent use, for ThreadSanitizer.
 * Waves of threads record through one tracing wrapper over the C library's
 * malloc, handing blocks to each other through a shared ring (so frees come
 * from other threads than the allocations), and exit while others still
 * record (so slots are given back at thread exit and taken again). Checked
 * afterwards by reading the trace: every event is there, every block was
 * allocated before it was freed and freed once.
 *
 * A plain program (exit status 0 = pass): Criterion cannot start under
 * ThreadSanitizer, whose CI job runs the tests named *_stress.
 */
#define _GNU_SOURCE 1 /* P_tmpdir */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/c_allocator.h"
#include "alloc/record.h"

enum { WAVES = 6, THREADS = 4, PER = 3000, RING = 64 };

static allocator traced;
static _Atomic(void *) ring[RING];
static atomic_long events;

static void *worker(void *arg)
{
    unsigned x = (unsigned)(size_t)arg * 2654435761u + 7;
    for (int i = 0; i < PER; i++) {
        x = x * 1103515245u + 12345u;
        unsigned char *p = alloc_bytes(traced, 64, 16);
        if (!p) abort();
        memset(p, 1, 64);
        atomic_fetch_add(&events, 1);
        /* Swap it into the ring; free what was there (often another thread's). */
        unsigned char *old = atomic_exchange(&ring[x % RING], p);
        if (old) {
            alloc_free(traced, old, 64, 16);
            atomic_fetch_add(&events, 1);
        }
    }
    return NULL;
}

int main(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/alloc-record-stress-%d.trace", getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir,
             (int)getpid());
    alloc_recorder *rec;
    if (alloc_recorder_open(&rec, path, "stress", ALLOC_RECORD_HANDLE) != 0) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    alloc_record_wrapper w;
    traced = alloc_record_wrap(&w, alloc_c_allocator(), rec);
    pthread_t th[WAVES][THREADS];
    for (size_t wave = 0; wave < WAVES; wave++) {
        for (size_t i = 0; i < THREADS; i++) pthread_create(&th[wave][i], NULL, worker, (void *)(wave * THREADS + i));
        /* Overlapping waves: the previous one exits while this one records. */
        if (wave > 0)
            for (size_t i = 0; i < THREADS; i++) pthread_join(th[wave - 1][i], NULL);
    }
    for (size_t i = 0; i < THREADS; i++) pthread_join(th[WAVES - 1][i], NULL);
    for (int k = 0; k < RING; k++) {
        void *p = atomic_exchange(&ring[k], NULL);
        if (p) {
            alloc_free(traced, p, 64, 16);
            atomic_fetch_add(&events, 1);
        }
    }
    if (alloc_recorder_close(rec) != 0) {
        fprintf(stderr, "recorder reported an error\n");
        return 1;
    }

    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(len);
    if (fread(data, 1, len, f) != len) return 1;
    fclose(f);
    unlink(path);
    alloc_trace t;
    alloc_trace_error err;
    if (alloc_trace_parse(&t, data, len, alloc_c_allocator(), &err) != 0) {
        fprintf(stderr, "trace refused at offset %llu: %s\n", (unsigned long long)err.offset, err.message);
        return 1;
    }
    int failures = 0;
    if ((long)t.count != atomic_load(&events)) {
        fprintf(stderr, "%zu events read, %ld made\n", t.count, atomic_load(&events));
        failures++;
    }
    /* + 1: the main thread frees what is left in the ring. */
    if (t.blocks != (size_t)WAVES * THREADS * PER || t.threads != WAVES * THREADS + 1 || !t.complete || t.dropped) {
        fprintf(stderr, "blocks %zu threads %u complete %d dropped %llu\n", t.blocks, t.threads, t.complete,
                (unsigned long long)t.dropped);
        failures++;
    }
    size_t frees = 0, cross = 0;
    uint32_t *owner = calloc(t.blocks, sizeof *owner);
    for (size_t i = 0; i < t.count; i++) {
        const alloc_trace_event *e = &t.events[i];
        if (e->op == ALLOC_TRACE_ALIGNED) {
            owner[e->block] = e->thread + 1;
        } else if (e->op == ALLOC_TRACE_FREE) {
            if (!owner[e->block]) failures++;
            frees++;
            cross += owner[e->block] != e->thread + 1;
        } else {
            failures++;
        }
    }
    if (frees != t.blocks || cross == 0) {
        fprintf(stderr, "%zu frees of %zu blocks, %zu cross-thread\n", frees, t.blocks, cross);
        failures++;
    }
    size_t count = t.count;
    free(owner);
    alloc_trace_free(&t);
    free(data);
    if (failures) return 1;
    printf("record stress: %zu events from %d threads, %zu cross-thread frees\n", count, WAVES * THREADS, cross);
    return 0;
}
