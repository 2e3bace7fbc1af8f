/*
 * record_reader.c: fuzz target for the trace reader (alloc_trace_parse,
 * alloc/record.h). Any bytes must give either a trace whose events keep the
 * reader's promises (sequence strictly increasing, every block number below
 * the block count, a free's size equal to its block's size then) or an error
 * whose offset lies inside the input; never a crash or a read outside it
 * (ASan: the input is copied into an exactly sized buffer).
 *
 * With libFuzzer (ALLOC_FUZZ=ON): fuzz_record_reader [corpus...].
 * Without: fuzz_replay_record_reader [FILE...] [--random COUNT SEED] records a
 * small valid trace with the recorder itself, then feeds the reader COUNT
 * mutations of it (bit flips, byte changes, cuts, spliced ranges), identically
 * on every run; ctest runs it.
 */
#define _GNU_SOURCE 1 /* P_tmpdir */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/c_allocator.h"
#include "alloc/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "record_reader: broken promise: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    alloc_trace t;
    alloc_trace_error err;
    int e = alloc_trace_parse(&t, copy, size, alloc_c_allocator(), &err);
    if (e != 0) {
        check(e == -EINVAL || e == -EPROTONOSUPPORT || e == -ENOMEM, "error code");
        check(e == -ENOMEM || err.offset < (size ? size : 1), "error offset inside the input");
        check(e == -ENOMEM || err.message[0] != '\0', "error message");
        check(t.events == NULL && t.count == 0, "nothing owned after an error");
    } else {
        uint64_t *sizes = calloc(t.blocks ? t.blocks : 1, sizeof *sizes);
        for (size_t i = 0; i < t.count && sizes; i++) {
            const alloc_trace_event *x = &t.events[i];
            check(i == 0 || x->seq > t.events[i - 1].seq, "sequence increasing");
            check(x->thread < t.threads, "thread number");
            check(x->offset < size, "event offset");
            if (x->op == ALLOC_TRACE_FAIL || x->op == ALLOC_TRACE_FREE_UNKNOWN) {
                check(x->block == UINT32_MAX, "no block for fail / unknown free");
                continue;
            }
            check(x->block < t.blocks, "block number");
            if (x->op <= ALLOC_TRACE_ALIGNED) {
                sizes[x->block] = x->size;
            } else if (x->op == ALLOC_TRACE_FREE) {
                check(x->size == sizes[x->block], "free size");
            } else {
                check(x->old_size == sizes[x->block], "realloc old size");
                sizes[x->block] = x->size;
            }
        }
        free(sizes);
        alloc_trace_free(&t);
    }
    free(copy);
    return 0;
}

#if !defined(ALLOC_FUZZ_LIBFUZZER)

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A small trace with every kind of event, made by the recorder itself. */
static uint8_t *seed_trace(size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/alloc-fuzz-record-%d.trace", getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir,
             (int)getpid());
    alloc_recorder *rec;
    if (alloc_recorder_open(&rec, path, "seed", ALLOC_RECORD_MALLOC) != 0) return NULL;
    static char mem[2048];
    for (int i = 0; i < 300; i++) {
        alloc_record_alloc(rec, &mem[i], (size_t)i * 13, i % 7 == 0 ? 32 : 0,
                           i % 7 == 0 ? ALLOC_RECORD_KIND_ALIGNED : i % 5 == 0 ? ALLOC_RECORD_KIND_CALLOC
                                                                                : ALLOC_RECORD_KIND_MALLOC);
        if (i % 4 == 0) alloc_record_realloc(rec, &mem[i], &mem[i + 1000], (size_t)i * 40 + 1);
        if (i % 6 == 0) alloc_record_resize(rec, i % 4 == 0 ? &mem[i + 1000] : &mem[i], 5);
        if (i % 2 == 0) alloc_record_free(rec, i % 4 == 0 ? &mem[i + 1000] : &mem[i]);
    }
    alloc_record_alloc(rec, NULL, 12345, 0, ALLOC_RECORD_KIND_MALLOC);
    alloc_record_free(rec, &mem[1999]);
    alloc_recorder_close(rec);
    uint8_t *data = read_all(path, len);
    unlink(path);
    return data;
}

int main(int argc, char **argv)
{
    long count = 0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--random") == 0 && i + 2 < argc) {
            count = atol(argv[i + 1]);
            seed = strtoull(argv[i + 2], NULL, 10);
            i += 2;
            continue;
        }
        size_t len = 0;
        uint8_t *d = read_all(argv[i], &len);
        if (!d) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput(d, len);
        free(d);
    }
    if (getenv("ALLOC_FUZZ_RANDOM")) count = atol(getenv("ALLOC_FUZZ_RANDOM"));
    if (count <= 0) return 0;
    size_t len;
    uint8_t *base = seed_trace(&len);
    if (!base) {
        fprintf(stderr, "record_reader: cannot record the seed trace\n");
        return 1;
    }
    LLVMFuzzerTestOneInput(base, len);
    /* Where the bytes are: the header's fields and the first chunk's events. */
    size_t hot = len < 8192 ? len : 8192;
    uint8_t *m = malloc(len);
    unsigned long long x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (long r = 0; r < count; r++) {
        memcpy(m, base, len);
        size_t n = len;
        int edits = 1 + (int)(r % 5);
        for (int k = 0; k < edits; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (size_t)(x >> 20) % ((x & 1) ? hot : n);
            switch ((x >> 8) % 4) {
            case 0: m[at] ^= (uint8_t)(1u << ((x >> 4) % 8)); break;
            case 1: m[at] = (uint8_t)(x >> 32); break;
            case 2: n = at; break; /* cut */
            default: { /* copy a range over another */
                size_t from = (size_t)(x >> 40) % n, span = 1 + (x >> 12) % 16;
                if (from + span <= n && at + span <= n) memmove(m + at, m + from, span);
            }
            }
            if (n == 0) break;
        }
        LLVMFuzzerTestOneInput(m, n);
    }
    free(m);
    free(base);
    printf("record_reader: %ld inputs, no finding\n", count + 1);
    return 0;
}

#endif
