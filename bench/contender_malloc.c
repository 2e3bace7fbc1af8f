/*
 * contender_malloc.c: the C library's malloc and the three mallocs we compare
 * against (jemalloc, mimalloc, tcmalloc), and alloc's own malloc adapter
 * (src/global, its LD_PRELOAD library) when the build has it.
 *
 * All four share one impl that calls malloc/free/realloc directly (no handle,
 * no indirect call): the mallocs are measured as a C program uses them. Which
 * malloc answers depends on the process: glibc in the plain process, the
 * others by LD_PRELOAD of their shared library (BENCH_*_SO, found by CMake).
 * The child checks for a symbol only that library exports (mallctl,
 * mi_malloc, tc_malloc) so a preload that did not take is an error, not a
 * mislabelled glibc result.
 */
#define _GNU_SOURCE 1
#include <stdlib.h>

#include "bench.h"
#include "workloads.h"

static void *m_alloc(void *st, size_t len, size_t align)
{
    (void)st;
    if (align <= _Alignof(max_align_t)) return malloc(len);
    void *p = NULL;
    return posix_memalign(&p, align, len) == 0 ? p : NULL;
}

static void m_free(void *st, void *p, size_t len, size_t align)
{
    (void)st, (void)len, (void)align;
    free(p);
}

static void *m_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    (void)st, (void)len, (void)align;
    return realloc(p, new_len);
}

static bool m_reset(void *st)
{
    (void)st;
    return false;
}

static const bench_ops malloc_ops = {m_alloc, m_free, m_realloc, m_reset};
BENCH_IMPL(bench_impl_malloc, "malloc", &malloc_ops)

static int m_create(const bench_need *need, void **state, const char **why)
{
    (void)need, (void)why;
    *state = NULL;
    return 0;
}

static void m_destroy(void *state) { (void)state; }

#define MALLOC_ROW(ident, cname, desc, so, sym)                                         \
    BENCH_CONTENDER(ident, {                                                           \
        .name = cname,                                                                 \
        .family = "malloc",                                                            \
        .what = desc,                                                                  \
        .preload = so,                                                                 \
        .symbol = sym,                                                                 \
        .flags = BENCH_THREAD_SAFE | BENCH_MALLOC,                                     \
        .workloads = WL_ALL,                                                           \
        .impl = &bench_impl_malloc,                                                    \
        .create = m_create,                                                            \
        .destroy = m_destroy,                                                          \
    })

MALLOC_ROW(glibc_row, "glibc", "the C library's malloc (ptmalloc2), called directly", NULL, NULL)
#if defined(BENCH_JEMALLOC_SO)
MALLOC_ROW(jemalloc_row, "jemalloc", "jemalloc, preloaded, called directly", BENCH_JEMALLOC_SO, "mallctl")
#endif
#if defined(BENCH_MIMALLOC_SO)
MALLOC_ROW(mimalloc_row, "mimalloc", "mimalloc, preloaded, called directly", BENCH_MIMALLOC_SO, "mi_malloc")
#endif
#if defined(BENCH_ALLOC_PRELOAD_SO)
MALLOC_ROW(alloc_malloc_row, "alloc-malloc",
           "alloc's own malloc (liballoc_preload.so, default strategy: size classes + thread cache), preloaded",
           BENCH_ALLOC_PRELOAD_SO, "alloc_global_malloc")
#endif
#if defined(BENCH_TCMALLOC_SO)
MALLOC_ROW(tcmalloc_row, "tcmalloc", "tcmalloc (gperftools, minimal), preloaded, called directly",
           BENCH_TCMALLOC_SO, "tc_malloc")
#endif
