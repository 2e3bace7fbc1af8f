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

#include <limits.h>
#include <malloc.h>

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
ALLOC_EXPORT int malloc_trim(size_t pad);
ALLOC_EXPORT struct mallinfo2 mallinfo2(void);
ALLOC_EXPORT struct mallinfo mallinfo(void);
ALLOC_EXPORT void malloc_stats(void);

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

/* glibc's introspection over alloc's heap. malloc_trim returns 1 if memory
 * went back to the system, else 0 (pad is accepted and ignored: nothing here
 * is kept at a heap top). mallinfo2's fields, glibc's names:
 *   arena     bytes mapped for the page heap     ordblks  free spans
 *   hblks     blocks that are mappings of their own, hblkhd their bytes
 *   uordblks  bytes in use                       fordblks arena less in use (at least the free spans)
 *   keepcost  free resident bytes malloc_trim would give back
 *   smblks, usmblks, fsmblks  0 (no fastbins; glibc reports usmblks 0 too)
 * mallinfo is the same with int fields, clamped (glibc's old interface).
 * malloc_stats prints glibc's lines to standard error. */
int malloc_trim(size_t pad)
{
    (void)pad;
    return alloc_global_trim() > 0;
}

struct mallinfo2 mallinfo2(void)
{
    alloc_global_heap_info h;
    alloc_global_info(&h);
    struct mallinfo2 m;
    memset(&m, 0, sizeof m);
    m.arena = h.heap_mapped;
    m.ordblks = h.heap_free_spans;
    m.hblks = h.mapped_blocks;
    m.hblkhd = h.mapped_block_bytes;
    size_t heap_in_use = h.heap_mapped - h.heap_free;
    m.uordblks = h.in_use;
    m.fordblks = h.heap_mapped > heap_in_use ? h.heap_mapped - heap_in_use : h.heap_free;
    m.keepcost = h.heap_dirty;
    return m;
}

static int clamp_int(size_t v) { return v > (size_t)INT_MAX ? INT_MAX : (int)v; }

struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo m;
    memset(&m, 0, sizeof m);
    m.arena = clamp_int(m2.arena);
    m.ordblks = clamp_int(m2.ordblks);
    m.hblks = clamp_int(m2.hblks);
    m.hblkhd = clamp_int(m2.hblkhd);
    m.uordblks = clamp_int(m2.uordblks);
    m.fordblks = clamp_int(m2.fordblks);
    m.keepcost = clamp_int(m2.keepcost);
    return m;
}

void malloc_stats(void)
{
    alloc_global_heap_info h;
    alloc_global_info(&h);
    char buf[512];
    size_t n = alloc_format(buf, sizeof buf,
                            "Arena 0:\nsystem bytes     = %zu\nin use bytes     = %zu\n"
                            "Total (incl. mmap):\nsystem bytes     = %zu\nin use bytes     = %zu\n"
                            "max mmap regions = %zu\nmax mmap bytes   = %zu\n",
                            h.heap_mapped, h.in_use, h.heap_mapped + h.mapped_block_bytes, h.in_use,
                            h.mapped_blocks, h.mapped_block_bytes);
    alloc_os_write_stderr(buf, n < sizeof buf ? n : sizeof buf - 1);
}