/*
 * all_headers.cpp: every public header, and every macro in them, as C++.
 *
 * The headers are C11, but C++ programs include them too, and C++ spells
 * _Alignof, _Alignas, _Noreturn and _Atomic differently (or, before C++23, not
 * at all). tests/cxx/check.cmake compiles this file with every C++ standard
 * from C++11 on, with g++ and clang++, warnings as errors: a C-only spelling
 * in a header or a macro fails it. The functions below instantiate each macro
 * once; ctest also builds this file as the program cxx_all_headers (the
 * build's C++ compiler and default standard) and runs it against the library,
 * so the expansions are not only parsed but linked and executed.
 */
#include "alloc/alloc.h"
#include "alloc/arena.h"
#include "alloc/atomic.h"
#include "alloc/bump.h"
#include "alloc/c_allocator.h"
#include "alloc/containers.h"
#include "alloc/debug.h"
#include "alloc/diag.h"
#include "alloc/failing.h"
#include "alloc/fit.h"
#include "alloc/freelist.h"
#include "alloc/freestanding.h"
#include "alloc/global.h"
#include "alloc/locked.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/pool.h"
#include "alloc/slab.h"
#include "alloc/stack.h"
#include "alloc/stats.h"
#include "alloc/trace.h"

#include <cstdio>

struct point {
    double x, y;
};

ALLOC_VEC_DEFINE(int_vec, int)
ALLOC_VEC_DEFINE(ptr_vec, int *) /* a vector of pointers: the pasted const must land right */

static int typed_forms(allocator a)
{
    point *p = alloc_create(a, point);
    if (!p) return 1;
    p->x = 1.5;
    alloc_destroy(a, point, p);
    point *ps = alloc_create_array(a, point, 8);
    if (!ps) return 2;
    ps[7].y = 2.0;
    alloc_destroy_array(a, point, ps, 8);
    return 0;
}

static int byte_forms(allocator a)
{
    char *s = alloc_strdup(a, "c++");
    if (!s) return 1;
    alloc_free_str(a, s);
    void *b = alloc_bytes(a, 100, 16);
    if (!b) return 2;
    void *r = alloc_realloc(a, b, 100, 16, 300);
    if (!r) return 3;
    (void)alloc_resize(a, r, 300, 16, 200);
    alloc_free(a, r, alloc_resize(a, r, 300, 16, 300) ? 300 : 300, 16);
    int *arr = static_cast<int *>(alloc_array(a, 4, sizeof(int), alignof(int)));
    if (!arr) return 4;
    alloc_free_array(a, arr, 4, sizeof(int), alignof(int));
    void *d = alloc_dup(a, "abc", 3);
    if (!d) return 5;
    alloc_free(a, d, 3, alloc_dup_align(3));
    return 0;
}

static int vectors(allocator a)
{
    int_vec v;
    int_vec_init(&v, a);
    for (int i = 0; i < 100; i++)
        if (int_vec_push(&v, i) != 0) return 1;
    int sum = 0;
    for (size_t i = 0; i < v.len; i++) sum += v.items[i];
    int_vec_deinit(&v);
    if (sum != 4950) return 2;

    int x = 1, y = 2;
    int *pair[2] = {&x, &y};
    ptr_vec pv;
    ptr_vec_init(&pv, a);
    if (ptr_vec_append(&pv, pair, 2) != 0) return 3;
    if (ptr_vec_append(&pv, pv.items, 2) != 0) return 4; /* from itself */
    int got = *pv.items[3];
    ptr_vec_deinit(&pv);
    return got == 2 ? 0 : 5;
}

static int fast_paths()
{
    static unsigned char buf[4096];
    alloc_bump b;
    if (alloc_bump_init(&b, buf, sizeof buf) != 0) return 1;
    if (!alloc_bump_alloc_fast(&b, 64, 16)) return 2;
    alloc_pool pool;
    alloc_pool_config cfg = {};
    cfg.obj_size = 32;
    if (alloc_pool_init(&pool, &cfg) != 0) return 3;
    void *o = alloc_pool_get(&pool);
    if (!o) return 4;
    alloc_pool_put(&pool, o);
    alloc_pool_deinit(&pool);
    return 0;
}

int main()
{
    allocator a = alloc_page_allocator();
    int rc = typed_forms(a);
    if (!rc) rc = 10 + byte_forms(a);
    if (rc == 10) rc = 20 + vectors(a);
    if (rc == 20) rc = 30 + fast_paths();
    if (rc != 30) {
        std::fprintf(stderr, "all_headers: step %d failed\n", rc);
        return 1;
    }
    std::printf("all_headers: C++%ld ok\n", static_cast<long>(__cplusplus));
    return 0;
}
