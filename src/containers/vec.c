/*
 * vec.c: the untyped core of the containers' dynamic array, and the growth
 * ladder shared by every container.
 *
 * A vector is (data, len, cap, allocator). The typed wrappers that
 * ALLOC_VEC_DEFINE generates keep the hot paths (push with room left, index,
 * pop) inline; everything that talks to the allocator is here, out of line,
 * because it is the cold path and because one copy of it is easier to get
 * right than one per element type.
 *
 * Growth. When a vector needs room it asks, in order:
 *   1. resize: grow the same block in place. Free for an arena or bump
 *      allocator when the buffer is the last allocation, for the page
 *      allocator when the following pages are free, for a free list when the
 *      next block is free.
 *   2. remap: move the block without copying bytes (mremap for pages).
 *   3. alloc a new block, copy the live elements (len, not cap) and free the
 *      old one.
 * The step is cap + cap/2 + 8 elements (amortised O(1) per push: the total
 * copied over n pushes is below 3n elements). If the allocator cannot supply
 * the step, exactly the requested capacity is tried before reporting
 * -ENOMEM, so a vector over a fixed buffer can use it to the last element.
 * Every byte count is checked against ALLOC_MAX_LEN before any call, and a
 * failure at any rung leaves the vector as it was.
 *
 * Metadata: none beyond the four fields; the buffer is exactly cap * size
 * bytes, so alloc.h's rule (free with the live length and alignment) holds by
 * construction.
 */
#include <errno.h>
#include <string.h>

#include "containers_internal.h"

_Static_assert(ALLOC_ENOMEM == ENOMEM, "ALLOC_ENOMEM must equal ENOMEM");
_Static_assert(ALLOC_ERANGE == ERANGE, "ALLOC_ERANGE must equal ERANGE");
_Static_assert(ALLOC_EOVERFLOW == EOVERFLOW, "ALLOC_EOVERFLOW must equal EOVERFLOW");
_Static_assert(ALLOC_EINVAL == EINVAL, "ALLOC_EINVAL must equal EINVAL");

/* The typed view of ALLOC_VEC_DEFINE must lie exactly over the raw core. */
ALLOC_VEC_DEFINE(alloc_layout_probe_vec, long double)
_Static_assert(offsetof(alloc_layout_probe_vec, items) == offsetof(alloc_vec_raw, data), "vec layout");
_Static_assert(offsetof(alloc_layout_probe_vec, len) == offsetof(alloc_vec_raw, len), "vec layout");
_Static_assert(offsetof(alloc_layout_probe_vec, cap) == offsetof(alloc_vec_raw, cap), "vec layout");
_Static_assert(offsetof(alloc_layout_probe_vec, a) == offsetof(alloc_vec_raw, a), "vec layout");
_Static_assert(sizeof(alloc_layout_probe_vec) == sizeof(alloc_vec_raw), "vec layout");

int alloc_containers_set_cap(allocator a, void **data, size_t *cap, size_t live, size_t new_cap, size_t elem_size,
                             size_t elem_align, uintptr_t ret_addr)
{
    ALLOC_ASSERT(new_cap > 0 && live <= new_cap && live <= *cap);
    ALLOC_ASSERT(new_cap <= ALLOC_MAX_LEN / elem_size);
    size_t new_bytes = new_cap * elem_size;
    if (*cap == 0) {
        void *p = alloc_bytes_at(a, new_bytes, elem_align, ret_addr);
        if (!p) return -ALLOC_ENOMEM;
        *data = p;
        *cap = new_cap;
        return 0;
    }
    size_t old_bytes = *cap * elem_size;
    if (alloc_resize_at(a, *data, old_bytes, elem_align, new_bytes, ret_addr)) {
        *cap = new_cap;
        return 0;
    }
    void *moved = alloc_remap_at(a, *data, old_bytes, elem_align, new_bytes, ret_addr);
    if (moved) {
        *data = moved;
        *cap = new_cap;
        return 0;
    }
    void *fresh = alloc_bytes_at(a, new_bytes, elem_align, ret_addr);
    if (!fresh) return -ALLOC_ENOMEM;
    if (live) memcpy(fresh, *data, live * elem_size);
    alloc_free_at(a, *data, old_bytes, elem_align, ret_addr);
    *data = fresh;
    *cap = new_cap;
    return 0;
}

int alloc_containers_grow(allocator a, void **data, size_t *cap, size_t live, size_t need, size_t elem_size,
                          size_t elem_align, bool exact, uintptr_t ret_addr)
{
    size_t max_elems = ALLOC_MAX_LEN / elem_size;
    if (need > max_elems) return -ALLOC_EOVERFLOW;
    if (!exact) {
        /* cap + cap/2 + 8 cannot overflow size_t: cap <= max_elems <= SIZE_MAX/2. */
        size_t step = *cap + *cap / 2 + 8;
        if (step > max_elems) step = max_elems;
        if (step > need && alloc_containers_set_cap(a, data, cap, live, step, elem_size, elem_align, ret_addr) == 0)
            return 0;
    }
    return alloc_containers_set_cap(a, data, cap, live, need, elem_size, elem_align, ret_addr);
}

static int reserve(alloc_vec_raw *v, size_t elem_size, size_t elem_align, size_t additional, bool exact,
                   uintptr_t ret_addr)
{
    if (v->cap - v->len >= additional) return 0;
    size_t need;
    if (__builtin_add_overflow(v->len, additional, &need)) return -ALLOC_EOVERFLOW;
    return alloc_containers_grow(v->a, &v->data, &v->cap, v->len, need, elem_size, elem_align, exact, ret_addr);
}

int alloc_vec_raw_reserve(alloc_vec_raw *v, size_t elem_size, size_t elem_align, size_t additional,
                          uintptr_t ret_addr)
{
    return reserve(v, elem_size, elem_align, additional, false, ret_addr);
}

int alloc_vec_raw_reserve_exact(alloc_vec_raw *v, size_t elem_size, size_t elem_align, size_t additional,
                                uintptr_t ret_addr)
{
    return reserve(v, elem_size, elem_align, additional, true, ret_addr);
}

void alloc_vec_raw_deinit(alloc_vec_raw *v, size_t elem_size, size_t elem_align, uintptr_t ret_addr)
{
    if (v->cap) alloc_free_at(v->a, v->data, v->cap * elem_size, elem_align, ret_addr);
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
}

int alloc_vec_raw_shrink_to_fit(alloc_vec_raw *v, size_t elem_size, size_t elem_align, uintptr_t ret_addr)
{
    if (v->cap == v->len) return 0;
    if (v->len == 0) {
        alloc_vec_raw_deinit(v, elem_size, elem_align, ret_addr);
        return 0;
    }
    return alloc_containers_set_cap(v->a, &v->data, &v->cap, v->len, v->len, elem_size, elem_align, ret_addr);
}

void *alloc_vec_raw_to_owned(alloc_vec_raw *v, size_t elem_size, size_t elem_align, size_t *len_out,
                             uintptr_t ret_addr)
{
    if (alloc_vec_raw_shrink_to_fit(v, elem_size, elem_align, ret_addr) != 0) return NULL;
    void *p = v->len ? v->data : alloc_zero_len_ptr(elem_align);
    if (len_out) *len_out = v->len;
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
    return p;
}

bool alloc_vec_raw_check(const alloc_vec_raw *v, size_t elem_size, size_t elem_align)
{
    if (!v || !v->a.vtable || elem_size == 0 || !alloc_is_pow2(elem_align)) return false;
    if (v->len > v->cap) return false;
    if ((v->data == NULL) != (v->cap == 0)) return false;
    if (v->cap > ALLOC_MAX_LEN / elem_size) return false;
    if (v->data && !alloc_is_aligned(v->data, elem_align)) return false;
    return true;
}
