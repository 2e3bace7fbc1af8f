/*
 * containers_internal.h: the growth routine shared by the vector, the string
 * builder and the map's table (one place that knows the resize -> remap ->
 * alloc+copy+free ladder and the overflow checks).
 */
#ifndef ALLOC_CONTAINERS_INTERNAL_H
#define ALLOC_CONTAINERS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/containers.h"
#include "../core/internal.h"

/*
 * Makes the buffer *data of *cap elements (elem_size bytes each, alignment
 * elem_align, `live` of them holding data) hold at least `need` elements.
 * With exact, exactly `need`; otherwise a geometric step, falling back to
 * exactly `need` when the step cannot be had. Returns 0, -ALLOC_EOVERFLOW or
 * -ALLOC_ENOMEM; on error *data and *cap are unchanged.
 * Precondition: need > *cap, live <= *cap, elem_size > 0.
 */
ALLOC_HIDDEN int alloc_containers_grow(allocator a, void **data, size_t *cap, size_t live, size_t need,
                                       size_t elem_size, size_t elem_align, bool exact, uintptr_t ret_addr);

/*
 * Changes the buffer to exactly new_cap elements (new_cap > 0, new_cap >= live):
 * resize in place, else remap, else alloc + copy `live` elements + free.
 * Returns 0 or -ALLOC_ENOMEM (nothing changed).
 */
ALLOC_HIDDEN int alloc_containers_set_cap(allocator a, void **data, size_t *cap, size_t live, size_t new_cap,
                                          size_t elem_size, size_t elem_align, uintptr_t ret_addr);

#endif /* ALLOC_CONTAINERS_INTERNAL_H */
