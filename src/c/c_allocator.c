/*
 * c_allocator.c: the C library's malloc behind the vtable. Small alignments go
 * to malloc/realloc, which already guarantee alignof(max_align_t); larger ones
 * to posix_memalign, whose blocks realloc would not keep aligned, so remap
 * declines for them.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* malloc_usable_size */
#endif
#include <stdlib.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#define HAVE_MALLOC_USABLE_SIZE 1
#endif

#include "../core/internal.h"
#include "alloc/c_allocator.h"

#define MALLOC_ALIGN _Alignof(max_align_t)

static void *c_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)ret_addr;
    if (align <= MALLOC_ALIGN) return malloc(len);
    void *p = NULL;
    return posix_memalign(&p, align, len) == 0 ? p : NULL;
}

static bool c_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align, (void)ret_addr;
#if defined(HAVE_MALLOC_USABLE_SIZE)
    return new_len <= malloc_usable_size(mem);
#else
    (void)mem;
    return new_len <= len;
#endif
}

static void *c_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    if (c_resize(ctx, mem, len, align, new_len, ret_addr)) return mem;
    if (align > MALLOC_ALIGN) return NULL;
    return realloc(mem, new_len);
}

static void c_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align, (void)ret_addr;
    free(mem);
}

static const alloc_vtable c_vtable = {c_alloc, c_resize, c_remap, c_free};

allocator alloc_c_allocator(void) { return (allocator){NULL, &c_vtable}; }
