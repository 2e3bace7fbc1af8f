/*
 * osfail.c MODE [alloc]: valid frees while the operating system refuses to
 * unmap, at the process's limit of mappings (vm.max_map_count, 65,530 by
 * default). Unmapping part of a mapping, or a mapping merged with its
 * neighbours, needs a new kernel mapping entry, so at the limit munmap fails
 * with ENOMEM. A free must still return, keep errno, and leave the heap
 * consistent; glibc's does. Run under the preload library (any strategy), or
 * over glibc as the reference.
 *
 * Modes:
 *   large   a 64 MiB block (a mapping of its own) freed at the limit
 *   page    ALLOC_STRATEGY=page: 200,000 blocks of 64 B (as many as the
 *           system gives), then every other one freed, at the limit
 *   churn   malloc and free of assorted sizes at the limit: NULL with ENOMEM
 *           is allowed, anything else is not; afterwards, with the limit
 *           lifted, everything works again
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;
#define FAIL(...)                                                \
    do {                                                         \
        fprintf(stderr, "osfail: " __VA_ARGS__);                 \
        fputc('\n', stderr);                                     \
        failures++;                                              \
    } while (0)

/* Single pages of alternating protection, so no two merge: each is a mapping. */
static void **fillers;
static size_t nfillers;

static void fill_mappings(void)
{
    size_t cap = 1u << 20;
    fillers = mmap(NULL, cap * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fillers == MAP_FAILED) {
        FAIL("no room for the filler table");
        exit(2);
    }
    long page = sysconf(_SC_PAGESIZE);
    while (nfillers < cap) {
        int prot = nfillers % 2 ? PROT_READ : PROT_NONE;
        void *p = mmap(NULL, (size_t)page, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        fillers[nfillers++] = p;
    }
}

static void release_mappings(void)
{
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < nfillers; i++) munmap(fillers[i], (size_t)page);
    nfillers = 0;
}

static void check_heap(const char *when)
{
    bool (*check)(void) = (bool (*)(void))(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_global_check");
    if (check && !check()) FAIL("alloc_global_check failed %s", when);
}

static void free_keeping_errno(void *p, const char *what)
{
    errno = 1234;
    free(p);
    if (errno != 1234) FAIL("free of %s changed errno to %d", what, errno);
}

static void mode_large(void)
{
    size_t len = (size_t)64 << 20;
    char *p = malloc(len);
    if (!p) {
        FAIL("malloc(64 MiB) failed");
        return;
    }
    memset(p, 1, 4096);
    char *q = malloc(len);
    fill_mappings();
    free_keeping_errno(p, "a 64 MiB block at the mapping limit");
    free_keeping_errno(q, "a second 64 MiB block at the mapping limit");
    release_mappings();
    check_heap("after large frees at the limit");
    /* Memory still works, and is given back or reused. */
    for (int i = 0; i < 8; i++) {
        char *r = malloc(len);
        if (!r) {
            FAIL("malloc(64 MiB) failed after the limit was lifted");
            break;
        }
        memset(r, 2, len);
        free(r);
    }
}

static void mode_page(void)
{
    enum { N = 200000 };
    void **blocks = calloc(N, sizeof *blocks);
    size_t n = 0;
    for (; n < N; n++) {
        errno = 0;
        blocks[n] = malloc(64);
        if (!blocks[n]) {
            if (errno != ENOMEM) FAIL("malloc(64) failed with errno %d, not ENOMEM", errno);
            break;
        }
        memset(blocks[n], 3, 64);
    }
    fill_mappings(); /* whatever room is left */
    for (size_t i = 0; i < n; i += 2) free_keeping_errno(blocks[i], "every other 64 B block");
    release_mappings();
    for (size_t i = 1; i < n; i += 2) free(blocks[i]);
    free(blocks);
    check_heap("after page-strategy frees at the limit");
    void *again = malloc(64);
    if (!again) FAIL("malloc(64) failed after everything was freed");
    free(again);
}

static void mode_churn(void)
{
    void *keep[64] = {0};
    fill_mappings();
    unsigned seed = 7;
    size_t nulls = 0;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (size_t)16 << ((seed >> 8) % 23); /* 16 B .. 64 MiB */
        unsigned slot = (seed >> 20) % 64;
        free_keeping_errno(keep[slot], "a block at the limit");
        errno = 0;
        keep[slot] = malloc(len);
        if (!keep[slot]) {
            if (errno != ENOMEM) FAIL("malloc(%zu) at the limit: errno %d, not ENOMEM", len, errno);
            nulls++;
        } else {
            memset(keep[slot], 4, len < 4096 ? len : 4096);
        }
    }
    release_mappings();
    for (int i = 0; i < 64; i++) free(keep[i]);
    check_heap("after churn at the limit");
    for (int i = 0; i < 64; i++) {
        size_t len = (size_t)16 << (i % 23);
        void *p = malloc(len);
        if (!p) FAIL("malloc(%zu) failed after the limit was lifted", len);
        free(p);
    }
    printf("osfail churn: %zu requests refused at the limit\n", nulls);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: osfail large|page|churn\n");
        return 2;
    }
    if (strcmp(argv[1], "large") == 0)
        mode_large();
    else if (strcmp(argv[1], "page") == 0)
        mode_page();
    else if (strcmp(argv[1], "churn") == 0)
        mode_churn();
    else {
        fprintf(stderr, "osfail: unknown mode %s\n", argv[1]);
        return 2;
    }
    if (failures) return 1;
    printf("osfail %s: ok\n", argv[1]);
    return 0;
}
