/*
 * probe.c: the malloc family's edge cases, one line of output per case.
 *
 * The same program runs over glibc's malloc, over the adapter in-process
 * (built with ALLOC_PROBE_INPROC, which links the malloc names into the
 * executable; `install` as argument makes the page allocator an installed
 * handle first) and under LD_PRELOAD. compare.sh requires identical output.
 * Lines print facts (NULL or not, errno, alignment, contents intact), never
 * addresses or usable sizes, which legitimately differ between allocators.
 *
 * `foreign` and `double` as argument free a pointer that is not a live block
 * and must end in SIGABRT under every allocator. `double-large` frees a 1 MiB
 * block twice, `double-aligned A N` an aligned_alloc(A, N) block twice,
 * `uaf-usable` and `uaf-realloc` pass a freed block to
 * malloc_usable_size and realloc: the adapter must name each condition.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef ALLOC_PROBE_INPROC
#include "alloc/global.h"
#include "alloc/page.h"
#endif

/* The huge and overflowing requests below are the point of this program. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

static int aligned(const void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 31u);
}

static int intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 31u)) return 0;
    return 1;
}

static const char *err(int e)
{
    switch (e) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

/* Keeps the compiler from reasoning about malloc's result. */
static void *volatile sink;

static void case_malloc(void)
{
    void *a = malloc(0), *b = malloc(0);
    printf("malloc(0): nonnull=%d unique=%d aligned16=%d\n", a && b, a != b, aligned(a, 16) && aligned(b, 16));
    free(a);
    free(b);
    int ok = 1;
    for (size_t n = 1; n <= 70000; n = n * 3 / 2 + 1) {
        unsigned char *p = malloc(n);
        ok &= p != NULL && aligned(p, 16) && malloc_usable_size(p) >= n;
        fill(p, n, (unsigned)n);
        ok &= intact(p, n, (unsigned)n);
        free(p);
    }
    printf("malloc(1..70000): all nonnull, 16-aligned, usable>=n, writable=%d\n", ok);
    size_t sizes[] = {(size_t)PTRDIFF_MAX + 1, SIZE_MAX, SIZE_MAX - 4096, (size_t)PTRDIFF_MAX};
    const char *names[] = {"PTRDIFF_MAX+1", "SIZE_MAX", "SIZE_MAX-4096", "PTRDIFF_MAX"};
    for (int i = 0; i < 4; i++) {
        errno = 0;
        void *p = malloc(sizes[i]);
        printf("malloc(%s): null=%d errno=%s\n", names[i], p == NULL, err(errno));
        free(p);
    }
    unsigned char *big = malloc(10 << 20);
    fill(big, 10 << 20, 7);
    printf("malloc(10 MiB): nonnull=%d aligned16=%d intact=%d\n", big != NULL, aligned(big, 16),
           intact(big, 10 << 20, 7));
    free(big);
}

static void case_calloc(void)
{
    errno = 0;
    void *p = calloc(SIZE_MAX / 2, 3);
    printf("calloc(overflow): null=%d errno=%s\n", p == NULL, err(errno));
    errno = 0;
    p = calloc((size_t)1 << 32, (size_t)1 << 32);
    printf("calloc(2^32, 2^32): null=%d errno=%s\n", p == NULL, err(errno));
    void *a = calloc(0, 0), *b = calloc(0, 16);
    printf("calloc(0, x): nonnull=%d unique=%d\n", a && b, a != b);
    free(a);
    free(b);
    int zero = 1;
    for (size_t n = 8; n <= 600000; n = n * 2 + 24) {
        unsigned char *d = malloc(n);
        memset(d, 0xEE, n);
        free(d);
        unsigned char *z = calloc(n, 1);
        for (size_t i = 0; i < n; i++) zero &= z[i] == 0;
        free(z);
    }
    printf("calloc after dirty free: zeroed=%d\n", zero);
}

static void case_realloc(void)
{
    unsigned char *p = realloc(NULL, 100);
    printf("realloc(NULL, 100): nonnull=%d aligned16=%d\n", p != NULL, aligned(p, 16));
    fill(p, 100, 3);
    int ok = 1;
    size_t n = 100;
    for (size_t m = 150; m <= (size_t)3 << 20; m = m * 2 + 7) {
        p = realloc(p, m);
        ok &= p != NULL && intact(p, n, 3) && aligned(p, 16);
        fill(p, m, 3);
        n = m;
    }
    printf("realloc growing to 3 MiB: contents kept=%d\n", ok);
    for (size_t m = n / 3; m >= 10; m /= 3) {
        p = realloc(p, m);
        ok &= p != NULL && intact(p, m, 3);
        n = m;
    }
    printf("realloc shrinking: contents kept=%d\n", ok);
    errno = 0;
    unsigned char *q = realloc(p, SIZE_MAX - 64);
    printf("realloc(p, huge): null=%d errno=%s p intact=%d\n", q == NULL, err(errno), intact(p, n, 3));
    errno = 0;
    q = realloc(p, (size_t)PTRDIFF_MAX + 1);
    printf("realloc(p, PTRDIFF_MAX+1): null=%d errno=%s p intact=%d\n", q == NULL, err(errno), intact(p, n, 3));
    errno = 0;
    q = reallocarray(p, SIZE_MAX / 4, 8);
    printf("reallocarray(overflow): null=%d errno=%s p intact=%d\n", q == NULL, err(errno), intact(p, n, 3));
    q = reallocarray(p, 10, 20);
    printf("reallocarray(p, 10, 20): nonnull=%d intact=%d\n", q != NULL, intact(q, n < 200 ? n : 200, 3));
    p = q;
    q = realloc(p, 0);
    printf("realloc(p, 0): null=%d\n", q == NULL);
    q = realloc(NULL, 0);
    printf("realloc(NULL, 0): nonnull=%d\n", q != NULL);
    free(q);
}

static void case_memalign(void)
{
    size_t bad[] = {0, 1, 3, 4, 12, 24, 48, (size_t)1 << 63 | 8};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *out = (void *)0x1234;
        int r = posix_memalign(&out, bad[i], 16);
        printf("posix_memalign(align %zu): r=%s out untouched=%d\n", bad[i], err(r), out == (void *)0x1234);
    }
    int ok = 1;
    for (size_t a = sizeof(void *); a <= (size_t)4 << 20; a *= 2) {
        for (size_t n = 0; n <= 5000; n = n * 4 + 1) {
            void *out = NULL;
            int r = posix_memalign(&out, a, n);
            ok &= r == 0 && out != NULL && aligned(out, a);
            if (out) memset(out, 1, n);
            free(out);
        }
    }
    printf("posix_memalign(8 .. 4 MiB): all aligned=%d\n", ok);
    void *out = (void *)0x1234;
    errno = 0;
    int r = posix_memalign(&out, 64, SIZE_MAX - 100);
    int e = errno;
    printf("posix_memalign(64, huge): r=%s out untouched=%d errno=%s\n", err(r), out == (void *)0x1234, err(e));
    void *z1 = NULL, *z2 = NULL;
    posix_memalign(&z1, 256, 0);
    posix_memalign(&z2, 256, 0);
    printf("posix_memalign(256, 0): nonnull=%d unique=%d aligned=%d\n", z1 && z2, z1 != z2, aligned(z1, 256));
    free(z1);
    free(z2);

    size_t as[] = {0, 1, 8, 16, 32, 48, 64, 100, 4096, 65536, (size_t)1 << 21};
    for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
        size_t want = as[i] < 16 ? 16 : as[i];
        size_t pow = 16;
        while (pow < want) pow *= 2;
        void *m = memalign(as[i], 100);
        void *a = aligned_alloc(as[i], 200);
        printf("memalign/aligned_alloc(%zu): nonnull=%d,%d aligned(next pow2)=%d,%d\n", as[i], m != NULL,
               a != NULL, m && aligned(m, pow), a && aligned(a, pow));
        free(m);
        free(a);
    }
    errno = 0;
    void *m = memalign(SIZE_MAX / 2 + 2, 16);
    printf("memalign(SIZE_MAX/2+2): null=%d errno=%s\n", m == NULL, err(errno));
    errno = 0;
    m = memalign(64, SIZE_MAX - 10);
    printf("memalign(64, huge): null=%d errno=%s\n", m == NULL, err(errno));
    long page = sysconf(_SC_PAGESIZE);
    void *v = valloc(1), *pv = pvalloc(1);
    printf("valloc(1): page aligned=%d; pvalloc(1): page aligned=%d usable>=page=%d\n", aligned(v, (size_t)page),
           aligned(pv, (size_t)page), malloc_usable_size(pv) >= (size_t)page);
    free(v);
    free(pv);
    errno = 0;
    pv = pvalloc(SIZE_MAX - 10);
    printf("pvalloc(huge): null=%d errno=%s\n", pv == NULL, err(errno));
}

static void case_free(void)
{
    free(NULL);
    printf("free(NULL): returns\n");
    void *p = malloc(50), *q = malloc(1 << 20);
    errno = 4321;
    free(p);
    int kept1 = errno == 4321;
    free(q);
    printf("free preserves errno: small=%d large=%d\n", kept1, errno == 4321);
    printf("malloc_usable_size(NULL)=%zu\n", malloc_usable_size(NULL));
}

static void case_libc(void)
{
    char *s = strdup("the quick brown fox");
    char *t = strndup("jumps over", 5);
    char *u = NULL;
    int n = asprintf(&u, "%s|%s|%d", s, t, 42);
    printf("libc allocations: %s (%d)\n", u, n);
    free(s);
    free(t);
    free(u);
    FILE *f = tmpfile();
    fprintf(f, "line one\nline two\n");
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    int lines = 0;
    while (getline(&line, &cap, f) > 0) lines++;
    free(line);
    fclose(f);
    printf("getline over tmpfile: %d lines\n", lines);
}

/* A workload with many live blocks of mixed sizes, freed in scrambled order. */
static void case_churn(void)
{
    enum { N = 5000 };
    static unsigned char *ptr[N];
    static size_t len[N];
    unsigned x = 12345;
    int ok = 1;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            x = x * 1103515245u + 12345u;
            size_t n = (x >> 8) % (i % 100 == 0 ? 300000 : 700);
            ptr[i] = malloc(n);
            len[i] = n;
            fill(ptr[i], n, (unsigned)i);
        }
        for (int i = 0; i < N; i++) {
            int j = (int)((unsigned)(i * 7919) % N);
            ok &= intact(ptr[j], len[j], (unsigned)j);
            free(ptr[j]);
        }
    }
    printf("churn of %d blocks x 4 rounds: contents intact=%d\n", N, ok);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef ALLOC_PROBE_INPROC
    if (argc > 1 && strcmp(argv[1], "install") == 0) {
        /* The page allocator as an installed handle (not flagged thread-safe,
         * so the adapter's lock path is used too). */
        if (alloc_global_install(alloc_page_allocator(), 0) != 0) return 2;
    }
#endif
    if (argc > 1 && strcmp(argv[1], "foreign") == 0) {
        static char not_heap[64] __attribute__((aligned(16)));
        sink = not_heap + 32;
        free(sink);
        printf("foreign free returned\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "double") == 0) {
        void *a = malloc(40);
        sink = a;
        free(a);
        free(sink);
        printf("double free returned\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "double-large") == 0) {
        void *a = malloc(1 << 20);
        sink = a;
        free(a);
        free(sink);
        printf("double free returned\n");
        return 1;
    }
    if (argc > 3 && strcmp(argv[1], "double-aligned") == 0) {
        /* aligned_alloc(ALIGN, SIZE) freed twice. */
        void *a = aligned_alloc((size_t)atol(argv[2]), (size_t)atol(argv[3]));
        sink = a;
        free(a);
        free(sink);
        printf("double free returned\n");
        return 1;
    }
    if (argc > 1 && strncmp(argv[1], "uaf-", 4) == 0) {
        void *a = malloc(40);
        void *b = malloc(1 << 20);
        sink = a;
        free(a);
        free(b);
        if (strcmp(argv[1], "uaf-usable") == 0) printf("usable %zu\n", malloc_usable_size(sink));
        if (strcmp(argv[1], "uaf-realloc") == 0) printf("realloc %p\n", realloc(sink, 100));
        if (strcmp(argv[1], "uaf-realloc-large") == 0) printf("realloc %p\n", realloc(b, 100));
        return 1;
    }
    case_malloc();
    case_calloc();
    case_realloc();
    case_memalign();
    case_free();
    case_libc();
    case_churn();
    return 0;
}
