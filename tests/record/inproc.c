/*
 * inproc.c: recording the malloc family in-process (alloc_record_global_start)
 * with alloc's malloc linked into the executable (alloc::global_malloc).
 *
 * Starts recording, makes a known sequence of calls through every name the
 * hooks cover (malloc, calloc, realloc in place and moving, realloc(NULL),
 * realloc(p, 0), reallocarray, posix_memalign, aligned_alloc, memalign, a
 * failed malloc, free, free(NULL)), stops, and reads the trace back: the
 * events after the marker allocation must be exactly those calls, with their
 * sizes and alignments, each free naming the right block. Exit status 0 =
 * pass. Not under sanitizers (they own malloc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/c_allocator.h"
#include "alloc/page.h"
#include "alloc/record.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#endif

static int failures;
#define EXPECT(cond)                                                         \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

int main(int argc, char **argv)
{
    char path[256];
    snprintf(path, sizeof path, "%s/alloc-record-inproc-%d.trace", argc > 1 ? argv[1] : P_tmpdir, (int)getpid());
    unlink(path);
    if (alloc_record_global_start(path) != 0) {
        fprintf(stderr, "cannot start recording to %s\n", path);
        return 1;
    }
    EXPECT(alloc_record_on);
    void *marker = malloc(777777);     /* finds the start of our calls in the trace */
    char *a = malloc(100);             /* 1 */
    char *b = calloc(10, 30);          /* 2: 300 bytes */
    a = realloc(a, 5000);              /* 3 */
    char *c = realloc(NULL, 40);       /* 4: malloc */
    char *d = reallocarray(NULL, 8, 8);/* 5: malloc of 64 */
    void *e = NULL;
    EXPECT(posix_memalign(&e, 256, 1000) == 0); /* 6 */
    void *f = aligned_alloc(4096, 4096);        /* 7 */
    void *g = memalign(64, 10);                 /* 8 */
    errno = 0;
    void *h = malloc(SIZE_MAX / 2);             /* 9: fails */
    EXPECT(h == NULL && errno == ENOMEM);
    EXPECT(realloc(c, 0) == NULL);              /* 10: frees c */
    free(NULL);                                 /* nothing */
    free(a), free(b), free(d), free(e), free(f), free(g); /* 11..16 */
    free(marker);                               /* 17 */
    alloc_record_global_stop();
    EXPECT(!alloc_record_on);

    FILE *fp = fopen(path, "rb");
    if (!fp) return 1;
    fseek(fp, 0, SEEK_END);
    size_t len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *data = alloc_bytes(alloc_page_allocator(), len, 16);
    EXPECT(fread(data, 1, len, fp) == len);
    fclose(fp);
    unlink(path);
    alloc_trace t;
    alloc_trace_error err;
    if (alloc_trace_parse(&t, data, len, alloc_page_allocator(), &err) != 0) {
        fprintf(stderr, "trace refused at %llu: %s\n", (unsigned long long)err.offset, err.message);
        return 1;
    }
    EXPECT(t.complete && t.source == ALLOC_RECORD_MALLOC);
    size_t i = 0;
    while (i < t.count && !(t.events[i].op == ALLOC_TRACE_MALLOC && t.events[i].size == 777777)) i++;
    EXPECT(i < t.count);
    const alloc_trace_event *ev = &t.events[i];
    size_t left = t.count - i;
    /* This thread's calls are consecutive unless another thread (none here) allocated. */
    static const struct { uint8_t op; uint64_t size; uint8_t align_log2; } want[] = {
        {ALLOC_TRACE_MALLOC, 777777, 0}, {ALLOC_TRACE_MALLOC, 100, 0},  {ALLOC_TRACE_CALLOC, 300, 0},
        {ALLOC_TRACE_REALLOC, 5000, 0},  {ALLOC_TRACE_MALLOC, 40, 0},   {ALLOC_TRACE_MALLOC, 64, 0},
        {ALLOC_TRACE_ALIGNED, 1000, 8},  {ALLOC_TRACE_ALIGNED, 4096, 12}, {ALLOC_TRACE_ALIGNED, 10, 6},
        {ALLOC_TRACE_FAIL, SIZE_MAX / 2, 0}, {ALLOC_TRACE_FREE, 40, 0},  {ALLOC_TRACE_FREE, 5000, 0},
        {ALLOC_TRACE_FREE, 300, 0},      {ALLOC_TRACE_FREE, 64, 0},     {ALLOC_TRACE_FREE, 1000, 8},
        {ALLOC_TRACE_FREE, 4096, 12},    {ALLOC_TRACE_FREE, 10, 6},     {ALLOC_TRACE_FREE, 777777, 0},
    };
    size_t n = sizeof want / sizeof want[0];
    EXPECT(left == n);
    for (size_t k = 0; k < n && k < left; k++) {
        if (ev[k].op != want[k].op || ev[k].size != want[k].size || ev[k].align_log2 != want[k].align_log2) {
            fprintf(stderr, "event %zu: %s %llu 2^%u, expected %s %llu 2^%u\n", k, alloc_trace_op_name(ev[k].op),
                    (unsigned long long)ev[k].size, ev[k].align_log2, alloc_trace_op_name(want[k].op),
                    (unsigned long long)want[k].size, want[k].align_log2);
            failures++;
        }
    }
    /* The realloc kept its block, and the frees name the blocks allocated above. */
    if (left >= n) {
        EXPECT(ev[3].block == ev[1].block && ev[3].old_size == 100);
        EXPECT(ev[10].block == ev[4].block);
        EXPECT(ev[11].block == ev[1].block);
        EXPECT(ev[17].block == ev[0].block);
    }
    alloc_trace_free(&t);
    if (failures) return 1;
    printf("record inproc: %zu events checked\n", n);
    return 0;
}
