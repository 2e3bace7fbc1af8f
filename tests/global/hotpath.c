/*
 * hotpath.c [N]: N malloc/free pairs of small sizes, for counting the
 * instructions of the malloc family's fast path with callgrind:
 *   valgrind --tool=callgrind --toggle-collect=run ./hotpath
 * under glibc, LD_PRELOAD=libjemalloc.so.2 and LD_PRELOAD=liballoc_preload.so
 * (valgrind's own malloc replacement is off for preloaded libraries with
 * --soname-synonyms=somalloc=nouserintercepts). Instructions per pair =
 * Ir of run() / N.
 */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void run(long n);
__attribute__((noinline)) void run(long n)
{
    for (long i = 0; i < n; i++) {
        void *p = malloc((size_t)(16 + (i & 3) * 16));
        sink = p;
        free(p);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    /* warm the caches first */
    run(1000);
    run(n);
    printf("%ld pairs\n", n);
    return 0;
}
