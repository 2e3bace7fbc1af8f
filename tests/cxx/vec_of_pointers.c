/*
 * vec_of_pointers.c: ALLOC_VEC_DEFINE over a pointer type, in C.
 *
 * The macro once pasted `const T *`, which for T = `int *` is `const int **`:
 * an `int **` (the vector's own items) does not convert to it, so appending
 * warned (-Wincompatible-pointer-types) and GCC 14 refuses it outright.
 * tests/cxx/check.cmake compiles this file with that warning as an error.
 */
#include "alloc/containers.h"

ALLOC_VEC_DEFINE(ptr_vec, int *)
ALLOC_VEC_DEFINE(str_vec, const char *)

int vec_of_pointers(allocator a);

int vec_of_pointers(allocator a)
{
    int x = 1;
    int *one[1] = {&x};
    ptr_vec v;
    ptr_vec_init(&v, a);
    int err = ptr_vec_append(&v, one, 1);
    if (!err) err = ptr_vec_append(&v, v.items, v.len); /* from itself */
    ptr_vec_deinit(&v);

    const char *words[2] = {"a", "b"};
    str_vec s;
    str_vec_init(&s, a);
    if (!err) err = str_vec_append(&s, words, 2);
    str_vec_deinit(&s);
    return err;
}
