/*
 * test_record.c: the recorder, the tracing wrapper and the trace reader
 * (alloc/record.h).
 *
 * Round trips: what a wrapped allocator is asked is what the reader gives
 * back (same operations, same sizes, same peak of live bytes), from one
 * thread and from several with blocks freed by another thread than the one
 * that allocated them. Process events: a thread's events are in the file when
 * it exits without any call; a fork child records to its own file, and what
 * it recorded before _exit is there. Bad input: every truncation of a valid
 * trace, a wrong version, a wrong magic and random corruption give an error
 * naming an offset inside the file, never a crash (the ASan job runs this).
 */
#define _GNU_SOURCE 1 /* readlink */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/c_allocator.h"
#include "alloc/locked.h"
#include "alloc/record.h"

static void temp_path(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "%s/alloc-test-record-%s-%d.trace", getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir, tag,
             (int)getpid());
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void parse_file(const char *path, alloc_trace *t)
{
    size_t len;
    unsigned char *data = read_file(path, &len);
    alloc_trace_error err;
    int e = alloc_trace_parse(t, data, len, alloc_c_allocator(), &err);
    cr_assert_eq(e, 0, "parse %s: offset %llu: %s", path, (unsigned long long)err.offset, err.message);
    free(data);
}

/* Peak of live bytes over the parsed events. */
static uint64_t peak_live(const alloc_trace *t)
{
    uint64_t live = 0, peak = 0;
    for (size_t i = 0; i < t->count; i++) {
        const alloc_trace_event *e = &t->events[i];
        switch (e->op) {
        case ALLOC_TRACE_MALLOC:
        case ALLOC_TRACE_CALLOC:
        case ALLOC_TRACE_ALIGNED:
            live += e->size;
            break;
        case ALLOC_TRACE_FREE:
            live -= e->size;
            break;
        case ALLOC_TRACE_REALLOC:
        case ALLOC_TRACE_RESIZE:
            live = live - e->old_size + e->size;
            break;
        default:
            break;
        }
        if (live > peak) peak = live;
    }
    return peak;
}

Test(record, wrapper_round_trip_keeps_operations_sizes_and_peak)
{
    char path[256];
    temp_path(path, sizeof path, "roundtrip");
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, path, "roundtrip", ALLOC_RECORD_HANDLE), 0);
    alloc_record_wrapper w;
    allocator a = alloc_record_wrap(&w, alloc_c_allocator(), rec);

    enum { SLOTS = 64, STEPS = 20000 };
    void *p[SLOTS] = {0};
    size_t len[SLOTS] = {0}, align[SLOTS] = {0};
    uint64_t ops = 0, live = 0, peak = 0, news = 0;
    unsigned x = 12345;
    for (int s = 0; s < STEPS; s++) {
        x = x * 1103515245u + 12345u;
        size_t i = (x >> 8) % SLOTS;
        if (!p[i]) {
            len[i] = 1 + (x >> 16) % 3000;
            align[i] = (size_t)1 << ((x >> 4) % 7); /* 1 .. 64 */
            p[i] = alloc_bytes(a, len[i], align[i]);
            cr_assert(p[i]);
            live += len[i];
            news++;
        } else if ((x >> 28) % 4 == 0) {
            size_t nl = 1 + (x >> 12) % 5000;
            void *q = alloc_realloc(a, p[i], len[i], align[i], nl);
            cr_assert(q);
            /* alloc_realloc is remap (one event) or alloc + free (two). */
            live = live - len[i] + nl;
            p[i] = q;
            len[i] = nl;
        } else {
            alloc_free(a, p[i], len[i], align[i]);
            p[i] = NULL;
            live -= len[i];
        }
        if (live > peak) peak = live;
    }
    for (size_t i = 0; i < SLOTS; i++)
        if (p[i]) alloc_free(a, p[i], len[i], align[i]);
    cr_assert_eq(alloc_recorder_close(rec), 0);

    alloc_trace t;
    parse_file(path, &t);
    unlink(path);
    cr_assert(t.complete);
    cr_assert_eq(t.source, ALLOC_RECORD_HANDLE);
    cr_assert_str_eq(t.program, "roundtrip");
    cr_assert_eq(t.threads, 1);
    /* Each alloc, free and remap of the wrapper is one event; a realloc the
     * c allocator cannot remap became alloc + free, counted here from the trace. */
    uint64_t allocs = 0, frees = 0, reallocs = 0;
    for (size_t i = 0; i < t.count; i++) {
        uint8_t op = t.events[i].op;
        allocs += op <= ALLOC_TRACE_ALIGNED;
        frees += op == ALLOC_TRACE_FREE;
        reallocs += op == ALLOC_TRACE_REALLOC || op == ALLOC_TRACE_RESIZE;
        cr_assert(op != ALLOC_TRACE_FREE_UNKNOWN && op != ALLOC_TRACE_FAIL);
        if (i) cr_assert_gt(t.events[i].seq, t.events[i - 1].seq);
    }
    cr_assert_eq(allocs, frees, "every block freed once");
    cr_assert_geq(allocs, news);
    ops = allocs + frees + reallocs;
    cr_assert_eq(t.count, ops);
    cr_assert_eq(t.blocks, allocs);
    /* The trace's peak can only exceed the caller's by the copy window of an
     * alloc + copy + free realloc (both blocks live at once). */
    uint64_t tpeak = peak_live(&t);
    cr_assert_geq(tpeak, peak);
    cr_assert_leq(tpeak, peak + 5000);
    cr_assert_lt((double)t.payload_bytes / (double)t.count, 4.0, "%.2f bytes per event",
                 (double)t.payload_bytes / (double)t.count);
    alloc_trace_free(&t);
}

Test(record, exact_peak_without_realloc)
{
    char path[256];
    temp_path(path, sizeof path, "peak");
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, path, NULL, ALLOC_RECORD_HANDLE), 0);
    alloc_record_wrapper w;
    allocator a = alloc_record_wrap(&w, alloc_c_allocator(), rec);
    void *p[100];
    uint64_t live = 0, peak = 0;
    for (int i = 0; i < 100; i++) {
        p[i] = alloc_bytes(a, (size_t)(i + 1) * 8, 8);
        live += (uint64_t)(i + 1) * 8;
        if (i % 3 == 2) {
            alloc_free(a, p[i - 1], (size_t)i * 8, 8);
            live -= (uint64_t)i * 8;
            p[i - 1] = NULL;
        }
        if (live > peak) peak = live;
    }
    for (int i = 0; i < 100; i++)
        if (p[i]) alloc_free(a, p[i], (size_t)(i + 1) * 8, 8);
    cr_assert_eq(alloc_recorder_close(rec), 0);
    alloc_trace t;
    parse_file(path, &t);
    unlink(path);
    cr_assert_eq(t.count, 200);
    cr_assert_eq(peak_live(&t), peak);
    cr_assert_eq(t.events[0].op, ALLOC_TRACE_ALIGNED);
    cr_assert_eq(t.events[0].align_log2, 3);
    alloc_trace_free(&t);
}

/* --- threads ---------------------------------------------------------------- */

enum { PRODUCERS = 3, PER_PRODUCER = 4000, RING = 256 };

typedef struct handoff {
    allocator a;
    _Atomic(void *) ring[RING];
    atomic_int produced_done;
} handoff;

typedef struct producer_arg {
    handoff *h;
    int id;
} producer_arg;

static void *producer(void *arg)
{
    producer_arg *pa = arg;
    handoff *h = pa->h;
    unsigned x = (unsigned)pa->id * 7919u + 1;
    for (int i = 0; i < PER_PRODUCER; i++) {
        x = x * 1103515245u + 12345u;
        size_t len = 16 + (x >> 16) % 200;
        unsigned char *p = alloc_bytes(h->a, len, 16);
        cr_assert(p);
        p[0] = (unsigned char)len; /* the consumer frees with this length */
        p[1] = (unsigned char)(len >> 8);
        if (x & 1) {
            /* Some blocks die on their own thread. */
            alloc_free(h->a, p, len, 16);
            continue;
        }
        for (unsigned k = x;; k++) {
            void *expect = NULL;
            if (atomic_compare_exchange_strong(&h->ring[k % RING], &expect, p)) break;
        }
    }
    atomic_fetch_add(&h->produced_done, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    handoff *h = arg;
    for (;;) {
        bool any = false;
        for (int k = 0; k < RING; k++) {
            unsigned char *p = atomic_exchange(&h->ring[k], NULL);
            if (!p) continue;
            any = true;
            size_t len = (size_t)p[0] | (size_t)p[1] << 8;
            alloc_free(h->a, p, len, 16);
        }
        if (!any && atomic_load(&h->produced_done) == PRODUCERS) {
            bool empty = true;
            for (int k = 0; k < RING; k++) empty = empty && !atomic_load(&h->ring[k]);
            if (empty) return NULL;
        }
    }
}

Test(record, threads_with_cross_thread_frees_round_trip)
{
    char path[256];
    temp_path(path, sizeof path, "threads");
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, path, NULL, ALLOC_RECORD_HANDLE), 0);
    alloc_record_wrapper w;
    static handoff h;
    h.a = alloc_record_wrap(&w, alloc_c_allocator(), rec);
    pthread_t pt[PRODUCERS], ct;
    producer_arg args[PRODUCERS];
    cr_assert_eq(pthread_create(&ct, NULL, consumer, &h), 0);
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_arg){&h, i};
        cr_assert_eq(pthread_create(&pt[i], NULL, producer, &args[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++) pthread_join(pt[i], NULL);
    pthread_join(ct, NULL);
    cr_assert_eq(alloc_recorder_close(rec), 0);

    alloc_trace t;
    parse_file(path, &t);
    unlink(path);
    cr_assert_eq(t.count, 2u * PRODUCERS * PER_PRODUCER);
    cr_assert_eq(t.blocks, (size_t)PRODUCERS * PER_PRODUCER);
    cr_assert_eq(t.threads, PRODUCERS + 1);
    /* Every block is allocated before it is freed, and freed once (the
     * reader rejects a second free), and cross-thread frees are there. */
    uint32_t *alloc_thread = calloc(t.blocks, sizeof *alloc_thread);
    bool *freed = calloc(t.blocks, 1);
    size_t cross = 0;
    for (size_t i = 0; i < t.count; i++) {
        const alloc_trace_event *e = &t.events[i];
        cr_assert_lt(e->block, t.blocks);
        if (e->op == ALLOC_TRACE_ALIGNED) {
            alloc_thread[e->block] = e->thread + 1;
        } else {
            cr_assert_eq(e->op, ALLOC_TRACE_FREE);
            cr_assert_neq(alloc_thread[e->block], 0, "free before allocation at event %zu", i);
            cr_assert(!freed[e->block]);
            freed[e->block] = true;
            cross += alloc_thread[e->block] != e->thread + 1;
        }
    }
    cr_assert_gt(cross, 0);
    free(alloc_thread);
    free(freed);
    alloc_trace_free(&t);
}

typedef struct exit_arg {
    alloc_recorder *rec;
    int n;
} exit_arg;

static void *record_and_exit(void *arg)
{
    exit_arg *ea = arg;
    static int dummy[1000];
    for (int i = 0; i < ea->n; i++) {
        alloc_record_alloc(ea->rec, &dummy[i], 8, 0, ALLOC_RECORD_KIND_MALLOC);
        alloc_record_free(ea->rec, &dummy[i]);
    }
    return NULL; /* no call: the thread-exit hook seals the chunk */
}

Test(record, thread_exit_leaves_every_event_in_the_file)
{
    char path[256];
    temp_path(path, sizeof path, "thread-exit");
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, path, NULL, ALLOC_RECORD_MALLOC), 0);
    /* More threads than the recorder's slots would hold if exit did not give them back. */
    for (int round = 0; round < 1030; round++) {
        exit_arg ea = {rec, 3};
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, record_and_exit, &ea), 0);
        pthread_join(th, NULL);
    }
    /* Read while the recorder is still open: nothing was flushed by close. */
    alloc_trace t;
    parse_file(path, &t);
    cr_assert(!t.complete);
    cr_assert_eq(t.count, 1030u * 6u);
    cr_assert_eq(t.threads, 1030u);
    cr_assert_eq(t.blocks, 1030u * 3u);
    alloc_trace_free(&t);
    cr_assert_eq(alloc_recorder_close(rec), 0);
    parse_file(path, &t);
    unlink(path);
    cr_assert(t.complete);
    cr_assert_eq(t.dropped, 0);
    alloc_trace_free(&t);
}

/* --- fork ---------------------------------------------------------------------- */

Test(record, fork_child_records_to_its_own_file_and_keeps_it_after__exit)
{
    char path[256], child_path[300];
    temp_path(path, sizeof path, "fork");
    cr_assert_eq(alloc_record_global_start(path), 0);
    cr_assert(alloc_record_on);
    cr_assert_eq(alloc_record_global_start(path), -EALREADY);
    static int blocks[64];
    for (int i = 0; i < 10; i++) alloc_record_global_alloc(&blocks[i], 100, 0, ALLOC_RECORD_KIND_MALLOC);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* The child: frees two inherited blocks, allocates three, and leaves by
         * _exit, which runs no handler: only what is in the file counts. */
        alloc_record_global_free(&blocks[0]);
        alloc_record_global_free(&blocks[1]);
        for (int i = 20; i < 23; i++) alloc_record_global_alloc(&blocks[i], 7, 0, ALLOC_RECORD_KIND_MALLOC);
        alloc_record_global_realloc(&blocks[20], &blocks[30], 70);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 10; i < 12; i++) alloc_record_global_alloc(&blocks[i], 5, 0, ALLOC_RECORD_KIND_MALLOC);
    alloc_record_global_stop();
    cr_assert(!alloc_record_on);

    alloc_trace t;
    parse_file(path, &t);
    unlink(path);
    cr_assert(t.complete);
    cr_assert_eq(t.count, 12, "the parent's file holds the parent's events only");
    alloc_trace_free(&t);

    snprintf(child_path, sizeof child_path, "%s.%d", path, (int)pid);
    parse_file(child_path, &t);
    unlink(child_path);
    cr_assert(!t.complete, "_exit wrote no end record");
    cr_assert_eq(t.pid, pid);
    cr_assert_eq(t.count, 6, "two frees, three allocations and a realloc");
    /* The inherited blocks are known to the child's table: their frees refer
     * back to events of the parent's file, which the reader reports as frees
     * of blocks from before this file. */
    cr_assert_eq(t.events[0].op, ALLOC_TRACE_FREE_UNKNOWN);
    cr_assert_eq(t.events[1].op, ALLOC_TRACE_FREE_UNKNOWN);
    cr_assert_eq(t.events[2].op, ALLOC_TRACE_MALLOC);
    cr_assert_eq(t.events[2].size, 7);
    cr_assert_eq(t.events[5].op, ALLOC_TRACE_REALLOC);
    cr_assert_eq(t.events[5].old_size, 7);
    cr_assert_eq(t.events[5].size, 70);
    cr_assert_eq(t.events[5].block, t.events[2].block);
    alloc_trace_free(&t);
}

Test(record, a_program_that_reuses_the_trace_descriptor_keeps_its_file_intact)
{
    char path[256], victim[300];
    temp_path(path, sizeof path, "closed");
    snprintf(victim, sizeof victim, "%s.victim", path);
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, path, NULL, ALLOC_RECORD_MALLOC), 0);
    /* Find the recorder's descriptor, close it the way a daemon closes every
     * descriptor, and put another file under its number. */
    int found = -1;
    for (int fd = 3; fd < 1024 && found < 0; fd++) {
        char link[64], target[512];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        if (strcmp(target, path) == 0) found = fd;
    }
    cr_assert_geq(found, 100, "the trace's descriptor is kept out of the small numbers");
    close(found);
    int other = open(victim, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(other, 0);
    cr_assert_eq(write(other, "hello", 5), 5);
    cr_assert_eq(dup2(other, found), found);
    close(other);
    /* Enough events for several chunks: each new chunk grows the file. */
    static char mem[64];
    for (int i = 0; i < 100000; i++) {
        alloc_record_alloc(rec, &mem[i % 64], 1000 + (size_t)i, 0, ALLOC_RECORD_KIND_MALLOC);
        alloc_record_free(rec, &mem[i % 64]);
    }
    cr_assert_eq(alloc_recorder_close(rec), 0);
    struct stat st;
    cr_assert_eq(fstat(found, &st), 0, "the program's descriptor stays open");
    cr_assert_eq(st.st_size, 5, "the program's file was not grown");
    close(found);
    unlink(victim);
    alloc_trace t;
    parse_file(path, &t);
    unlink(path);
    cr_assert(t.complete);
    cr_assert_eq(t.count, 200000);
    alloc_trace_free(&t);
}

/* --- bad input ---------------------------------------------------------------------- */

static unsigned char *valid_trace(size_t *len)
{
    char path[256];
    temp_path(path, sizeof path, "valid");
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, path, "valid", ALLOC_RECORD_MALLOC), 0);
    static char mem[4096];
    for (int i = 0; i < 200; i++) {
        alloc_record_alloc(rec, &mem[i], (size_t)i * 37, i % 5 == 0 ? 64 : 0,
                           i % 5 == 0 ? ALLOC_RECORD_KIND_ALIGNED : ALLOC_RECORD_KIND_MALLOC);
        if (i % 3 == 0) alloc_record_realloc(rec, &mem[i], &mem[i + 1000], (size_t)i * 50);
        if (i % 2 == 0) alloc_record_free(rec, i % 3 == 0 ? &mem[i + 1000] : &mem[i]);
    }
    alloc_record_alloc(rec, NULL, 1u << 30, 0, ALLOC_RECORD_KIND_MALLOC);
    alloc_record_free(rec, &mem[4000]); /* never allocated */
    cr_assert_eq(alloc_recorder_close(rec), 0);
    unsigned char *data = read_file(path, len);
    unlink(path);
    return data;
}

Test(record, reader_checks_valid_trace_contents)
{
    size_t len;
    unsigned char *data = valid_trace(&len);
    alloc_trace t;
    alloc_trace_error err;
    cr_assert_eq(alloc_trace_parse(&t, data, len, alloc_c_allocator(), &err), 0, "%s", err.message);
    size_t fails = 0, unknown = 0, aligned = 0;
    for (size_t i = 0; i < t.count; i++) {
        fails += t.events[i].op == ALLOC_TRACE_FAIL;
        unknown += t.events[i].op == ALLOC_TRACE_FREE_UNKNOWN;
        aligned += t.events[i].op == ALLOC_TRACE_ALIGNED && t.events[i].align_log2 == 6;
    }
    cr_assert_eq(fails, 1);
    cr_assert_eq(unknown, 1);
    cr_assert_eq(aligned, 40); /* i % 5 == 0, the size-0 request at i == 0 included */
    cr_assert_eq(t.count, 200 + 67 + 100 + 2);
    alloc_trace_free(&t);
    free(data);
}

Test(record, every_truncation_is_an_error_inside_the_file)
{
    size_t len;
    unsigned char *data = valid_trace(&len);
    size_t errors = 0;
    size_t tried = 0;
    for (size_t cut = 0; cut < len; cut++) {
        /* Every cut in the header page and the first chunk's events, then a sample. */
        if (cut > 8192 && cut % 61 != 0 && cut + 64 < len) continue;
        tried++;
        alloc_trace t;
        alloc_trace_error err;
        int e = alloc_trace_parse(&t, data, cut, alloc_c_allocator(), &err);
        if (e == 0) {
            /* Cutting exactly at a region boundary leaves a shorter, sound trace. */
            cr_assert_eq(cut % 4096, 0, "cut at %zu parsed", cut);
            alloc_trace_free(&t);
            continue;
        }
        cr_assert_eq(e, -EINVAL, "cut at %zu: %d", cut, e);
        cr_assert_leq(err.offset, cut, "cut at %zu: error at %llu", cut, (unsigned long long)err.offset);
        cr_assert_gt(strlen(err.message), 10);
        cr_assert_null(t.events);
        errors++;
    }
    cr_assert_gt(errors, tried - 8);
    free(data);
}

Test(record, wrong_version_and_magic_are_named)
{
    size_t len;
    unsigned char *data = valid_trace(&len);
    alloc_trace t;
    alloc_trace_error err;
    data[8] = 9;
    cr_assert_eq(alloc_trace_parse(&t, data, len, alloc_c_allocator(), &err), -EPROTONOSUPPORT);
    cr_assert_eq(err.offset, 8);
    cr_assert(strstr(err.message, "version 9"), "%s", err.message);
    data[8] = 1;
    data[0] = 'X';
    cr_assert_eq(alloc_trace_parse(&t, data, len, alloc_c_allocator(), &err), -EINVAL);
    cr_assert_eq(err.offset, 0);
    cr_assert(strstr(err.message, "ALCTRACE"), "%s", err.message);
    data[0] = 'A';
    /* The first chunk's magic. */
    size_t region = (size_t)data[12] | (size_t)data[13] << 8 | (size_t)data[14] << 16;
    data[region] ^= 0xff;
    cr_assert_eq(alloc_trace_parse(&t, data, len, alloc_c_allocator(), &err), -EINVAL);
    cr_assert_eq(err.offset, region);
    cr_assert(strstr(err.message, "CHNK"), "%s", err.message);
    free(data);
}

Test(record, random_corruption_never_crashes)
{
    size_t len;
    unsigned char *data = valid_trace(&len);
    unsigned char *copy = malloc(len);
    unsigned x = 99;
    int ok = 0, bad = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            x = x * 1103515245u + 12345u;
            /* Mostly the header and the first chunk, where the bytes are. */
            size_t at = (x >> 8) % (round % 2 ? len : 8192 < len ? 8192 : len);
            copy[at] ^= (unsigned char)(1u << ((x >> 4) % 8));
        }
        alloc_trace t;
        alloc_trace_error err;
        int e = alloc_trace_parse(&t, copy, len, alloc_c_allocator(), &err);
        if (e == 0) {
            ok++;
            alloc_trace_free(&t);
        } else {
            cr_assert(e == -EINVAL || e == -EPROTONOSUPPORT || e == -ENOMEM, "%d", e);
            cr_assert_lt(err.offset, len);
            bad++;
        }
    }
    cr_assert_gt(bad, 0);
    free(copy);
    free(data);
}

Test(record, recording_is_off_unless_started)
{
    cr_assert(!alloc_record_on);
    cr_assert_null(alloc_record_global());
    alloc_recorder *rec;
    cr_assert_eq(alloc_recorder_open(&rec, NULL, NULL, ALLOC_RECORD_MALLOC), -EINVAL);
    cr_assert_eq(alloc_recorder_open(&rec, "/nonexistent-dir/x.trace", NULL, ALLOC_RECORD_MALLOC), -ENOENT);
}
