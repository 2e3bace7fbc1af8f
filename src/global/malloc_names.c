/*
 * malloc_names.c: the C library's allocation names over the global adapter.
 *
 * This file includes the engine (global.c) so that malloc and free inline
 * their fast paths instead of calling across translation units. It is
 * compiled into the LD_PRELOAD library and into the in-process object library
 * (CMake alloc::global_malloc); the engine alone (alloc::global) defines only
 * alloc_global_* names.
 *
 * Each function passes its own return address down, so misuse reports name
 * the caller of free rather than free itself. The glibc-internal __libc_*
 * names are defined too, for programs and libraries that call them directly.
 * Built with -fno-builtin-malloc and friends: the compiler must not turn the
 * memset in calloc, or any pattern here, back into a call to ourselves.
 */
#include "global.c"

#define ALLOC_EXPORT __attribute__((visibility("default")))

ALLOC_EXPORT void *malloc(size_t size);
ALLOC_EXPORT void free(void *p);
ALLOC_EXPORT void *calloc(size_t n, size_t size);
ALLOC_EXPORT void *realloc(void *p, size_t size);
ALLOC_EXPORT void *reallocarray(void *p, size_t n, size_t size);
ALLOC_EXPORT int posix_memalign(void **out, size_t align, size_t size);
ALLOC_EXPORT void *aligned_alloc(size_t align, size_t size);
ALLOC_EXPORT void *memalign(size_t align, size_t size);
ALLOC_EXPORT void *valloc(size_t size);
ALLOC_EXPORT void *pvalloc(size_t size);
ALLOC_EXPORT size_t malloc_usable_size(void *p);
ALLOC_EXPORT void free_sized(void *p, size_t size);
ALLOC_EXPORT void free_aligned_sized(void *p, size_t align, size_t size);
ALLOC_EXPORT void *__libc_malloc(size_t size);
ALLOC_EXPORT void __libc_free(void *p);
ALLOC_EXPORT void *__libc_calloc(size_t n, size_t size);
ALLOC_EXPORT void *__libc_realloc(void *p, size_t size);
ALLOC_EXPORT void *__libc_memalign(size_t align, size_t size);
ALLOC_EXPORT void *__libc_valloc(size_t size);
ALLOC_EXPORT void *__libc_pvalloc(size_t size);

void *malloc(size_t size) { return alloc_impl(size, HDR, false, ALLOC_RET_ADDR()); }
void free(void *p) { free_impl(p, "free", ALLOC_RET_ADDR()); }
void *calloc(size_t n, size_t size) { return alloc_global_calloc_at(n, size, ALLOC_RET_ADDR()); }
void *realloc(void *p, size_t size) { return realloc_impl(p, size, ALLOC_RET_ADDR()); }
void *reallocarray(void *p, size_t n, size_t size)
{
    return alloc_global_reallocarray_at(p, n, size, ALLOC_RET_ADDR());
}
int posix_memalign(void **out, size_t align, size_t size)
{
    return alloc_global_posix_memalign_at(out, align, size, ALLOC_RET_ADDR());
}
void *aligned_alloc(size_t align, size_t size) { return memalign_impl(align, size, ALLOC_RET_ADDR()); }
void *memalign(size_t align, size_t size) { return memalign_impl(align, size, ALLOC_RET_ADDR()); }
void *valloc(size_t size) { return alloc_global_valloc_at(size, ALLOC_RET_ADDR()); }
void *pvalloc(size_t size) { return alloc_global_pvalloc_at(size, ALLOC_RET_ADDR()); }
size_t malloc_usable_size(void *p) { return alloc_global_usable_size_at(p, ALLOC_RET_ADDR()); }
void free_sized(void *p, size_t size) { alloc_global_free_sized_at(p, 0, size, ALLOC_RET_ADDR()); }
void free_aligned_sized(void *p, size_t align, size_t size)
{
    alloc_global_free_sized_at(p, align, size, ALLOC_RET_ADDR());
}

void *__libc_malloc(size_t size) { return alloc_impl(size, HDR, false, ALLOC_RET_ADDR()); }
void __libc_free(void *p) { free_impl(p, "free", ALLOC_RET_ADDR()); }
void *__libc_calloc(size_t n, size_t size) { return alloc_global_calloc_at(n, size, ALLOC_RET_ADDR()); }
void *__libc_realloc(void *p, size_t size) { return realloc_impl(p, size, ALLOC_RET_ADDR()); }
void *__libc_memalign(size_t align, size_t size) { return memalign_impl(align, size, ALLOC_RET_ADDR()); }
void *__libc_valloc(size_t size) { return alloc_global_valloc_at(size, ALLOC_RET_ADDR()); }
void *__libc_pvalloc(size_t size) { return alloc_global_pvalloc_at(size, ALLOC_RET_ADDR()); }
