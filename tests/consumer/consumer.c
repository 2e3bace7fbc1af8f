/* A program outside the alloc tree: it must build against an installed alloc
 * (CMake package or pkg-config) or a vendored copy (add_subdirectory), and
 * runs the containers over the page allocator to prove the link is complete. */
#include <alloc/alloc.h>
#include <alloc/containers.h>
#include <alloc/page.h>
#include <stdio.h>
#include <string.h>

ALLOC_VEC_DEFINE(int_vec, int)

int main(void)
{
    allocator a = alloc_page_allocator();
    int_vec v;
    int_vec_init(&v, a);
    for (int i = 0; i < 1000; i++)
        if (int_vec_push(&v, i) != 0) return 1;
    long sum = 0;
    for (size_t i = 0; i < v.len; i++) sum += v.items[i];
    int_vec_deinit(&v);

    alloc_str s;
    alloc_str_init(&s, a);
    if (alloc_str_appendf(&s, "sum=%ld", sum) != 0) return 1;
    int ok = strcmp(alloc_str_cstr(&s), "sum=499500") == 0;
    puts(alloc_str_cstr(&s));
    alloc_str_deinit(&s);
    return ok && alloc_page_check() ? 0 : 1;
}
