/*
 * introspect.c [alloc]: malloc_trim, mallinfo2 and malloc_stats as glibc
 * defines them, checked over whatever malloc the process has (glibc itself,
 * or alloc's preload library), and with "alloc" the page heap's decay: free
 * resident memory goes back after the purge delay without any call.
 *
 * What glibc's semantics promise and this checks:
 *   - mallinfo2().uordblks grows by at least n after malloc(n) and falls back
 *     after free; a block that is a mapping of its own counts in hblkhd only;
 *   - malloc_trim(0) after freeing 64 MiB of small blocks returns 1 and the
 *     resident set shrinks by at least 32 MiB;
 *   - malloc_stats writes "system bytes" and "in use bytes" lines to stderr;
 *   - mallopt answers 1, but 0 for M_MXFAST beyond 80 * sizeof(size_t) / 4;
 *   - malloc_info returns EINVAL for options other than 0 and writes nothing;
 *     with 0 it writes one <malloc version="1"> document that counts a live
 *     1 MiB block somewhere in its sizes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "introspect: " __VA_ARGS__);              \
            fputc('\n', stderr);                                      \
            failures++;                                               \
        }                                                             \
    } while (0)

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

enum { SMALL = 1024, COUNT = 64 * 1024 }; /* 64 MiB of 1 KiB blocks */
static void *blocks[COUNT];
/* Where a block escapes to: an optimising compiler removes a malloc whose
 * block goes nowhere, with its free. */
static void *volatile sink;

/* A 1 MiB block in and out: one operation of the page heap. */
static void heap_touch(void)
{
    void *p = malloc((size_t)1 << 20);
    sink = p;
    free(p);
}

static void fill(void)
{
    for (int i = 0; i < COUNT; i++) {
        blocks[i] = malloc(SMALL);
        if (blocks[i]) memset(blocks[i], 0x5A, SMALL);
    }
}

static void drain(void)
{
    for (int i = 0; i < COUNT; i++) free(blocks[i]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "peak") == 0) {
        /* For env_options.sh: one 100 MiB block, then nothing live. */
        char *p = malloc((size_t)100 << 20);
        if (!p) return 1;
        p[0] = 1;
        free(p);
        return 0;
    }
    int want_alloc = argc > 1 && strcmp(argv[1], "alloc") == 0;

    /* mallinfo2 follows a 1 MiB block in and out. */
    struct mallinfo2 before = mallinfo2();
    char *big = malloc((size_t)1 << 20);
    sink = big;
    memset(big, 1, (size_t)1 << 20);
    struct mallinfo2 during = mallinfo2();
    free(big);
    struct mallinfo2 after = mallinfo2();
    CHECK(during.uordblks + during.hblkhd >= before.uordblks + before.hblkhd + ((size_t)1 << 20),
          "mallinfo2 did not count a 1 MiB block (%zu -> %zu)", before.uordblks, during.uordblks);
    CHECK(after.uordblks + after.hblkhd + ((size_t)1 << 19) <= during.uordblks + during.hblkhd,
          "mallinfo2 did not see the 1 MiB block freed (%zu -> %zu)", during.uordblks, after.uordblks);
    CHECK(during.arena + during.hblkhd >= ((size_t)1 << 20), "mallinfo2: no system bytes under a 1 MiB block");

    /* A 64 MiB block is a mapping of its own in glibc and alloc: it counts in
     * hblkhd, not in uordblks (tools add the two). */
    char *huge = malloc((size_t)64 << 20);
    huge[0] = 1;
    struct mallinfo2 with_huge = mallinfo2();
    CHECK(with_huge.hblkhd >= after.hblkhd + ((size_t)64 << 20), "mallinfo2: 64 MiB block not in hblkhd");
    CHECK(with_huge.uordblks < after.uordblks + ((size_t)1 << 20),
          "mallinfo2: 64 MiB block counted in uordblks too (%zu -> %zu)", after.uordblks, with_huge.uordblks);
    free(huge);

    /* malloc_trim gives freed memory back. */
    fill();
    size_t full = rss_bytes();
    drain();
    int trimmed = malloc_trim(0);
    size_t trimmed_rss = rss_bytes();
    CHECK(trimmed == 1, "malloc_trim(0) after freeing 64 MiB returned %d", trimmed);
    CHECK(trimmed_rss + ((size_t)32 << 20) <= full, "malloc_trim(0): resident %zu -> %zu bytes", full,
          trimmed_rss);

    /* malloc_stats to standard error. */
    int fds[2];
    if (pipe(fds) == 0) {
        int saved = dup(2);
        dup2(fds[1], 2);
        malloc_stats();
        dup2(saved, 2);
        close(saved);
        close(fds[1]);
        char text[4096] = {0};
        ssize_t n = read(fds[0], text, sizeof text - 1);
        close(fds[0]);
        CHECK(n > 0 && strstr(text, "system bytes") && strstr(text, "in use bytes"),
              "malloc_stats printed no system/in use lines");
    }

    /* mallopt and malloc_info. */
    CHECK(mallopt(M_MXFAST, 4096) == 0, "mallopt(M_MXFAST, 4096) accepted a size beyond glibc's limit");
    CHECK(mallopt(M_MXFAST, 64) == 1, "mallopt(M_MXFAST, 64) refused");
    CHECK(mallopt(M_ARENA_MAX, 2) == 1, "mallopt(M_ARENA_MAX, 2) refused");
    CHECK(mallopt(M_TRIM_THRESHOLD, 128 << 10) == 1, "mallopt(M_TRIM_THRESHOLD) refused");
    FILE *xml = tmpfile();
    if (xml) {
        CHECK(malloc_info(1, xml) == EINVAL, "malloc_info(1, f) did not return EINVAL");
        CHECK(ftell(xml) == 0, "malloc_info(1, f) wrote to f");
        char *mib = malloc((size_t)1 << 20);
        sink = mib;
        memset(mib, 1, (size_t)1 << 20);
        CHECK(malloc_info(0, xml) == 0, "malloc_info(0, f) failed");
        free(mib);
        rewind(xml);
        static char doc[16384];
        size_t n = fread(doc, 1, sizeof doc - 1, xml);
        doc[n] = 0;
        fclose(xml);
        CHECK(strncmp(doc, "<malloc version=\"1\">", 20) == 0 && strstr(doc, "</malloc>"),
              "malloc_info wrote no <malloc version=\"1\"> document: %.80s", doc);
        size_t largest = 0;
        for (const char *at = doc; (at = strstr(at, "size=\"")) != NULL; at += 6) {
            size_t v = strtoull(at + 6, NULL, 10);
            if (v > largest) largest = v;
        }
        CHECK(largest >= ((size_t)1 << 20), "malloc_info: no size of 1 MiB or more with a 1 MiB block live");
    }

    if (want_alloc) {
        /* Decay: free memory goes back after the delay, with no trim call;
         * the next use of the page heap applies it. */
        typedef int (*set_decay_fn)(long, size_t);
        set_decay_fn set_decay = (set_decay_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_global_set_decay");
        CHECK(set_decay != NULL, "alloc_global_set_decay is not in this process");
        if (set_decay) {
            CHECK(set_decay(-1, 0) != 0, "a negative delay was accepted");
            set_decay(50, (size_t)1 << 30); /* by age only */
            fill();
            size_t filled = rss_bytes();
            drain();
            heap_touch(); /* flush this thread's cache through the heap */
            struct timespec pause = {0, 200 * 1000 * 1000};
            nanosleep(&pause, NULL);
            heap_touch(); /* a heap operation after the delay */
            size_t decayed = rss_bytes();
            CHECK(decayed + ((size_t)32 << 20) <= filled, "decay: resident %zu -> %zu bytes after the delay",
                  filled, decayed);
            /* mallopt(M_TRIM_THRESHOLD, 0) is a retained-bytes floor of 0:
             * with a delay of a minute, freed memory goes back at once. */
            set_decay(60 * 1000, (size_t)1 << 30);
            CHECK(mallopt(M_TRIM_THRESHOLD, 0) == 1, "mallopt(M_TRIM_THRESHOLD, 0) refused");
            fill();
            filled = rss_bytes();
            drain();
            heap_touch();
            size_t trimmed_now = rss_bytes();
            CHECK(trimmed_now + ((size_t)32 << 20) <= filled,
                  "mallopt(M_TRIM_THRESHOLD, 0): resident %zu -> %zu bytes", filled, trimmed_now);
        }
    }
    if (failures) return 1;
    printf("introspect: ok\n");
    return 0;
}
