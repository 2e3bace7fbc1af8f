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
 *
 * Recording (alloc/record.h, ALLOC_TRACE=path): each name tests one flag,
 * alloc_record_on, and only when it is set calls the recorder: after the call
 * for what allocates (the address is known then), before it for free (after
 * it the address may already be another thread's). The recorder never calls
 * malloc, so it cannot recurse into these names.
 */
#include "global.c"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>

#include "alloc/record.h"
#include "../os/host.h"

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
ALLOC_EXPORT int mallopt(int param, int value);
ALLOC_EXPORT int malloc_info(int options, FILE *fp);

/* The recording hooks: the unrecorded path is the flag test alone (a relaxed
 * load: a call racing with the start or stop may go either way). */
#define RECORDING() ALLOC_UNLIKELY(ALLOC_ATOMIC_LOAD_RELAXED(&alloc_record_on))
#define REC_NEW(p, size, align, kind)                                                  \
    do {                                                                               \
        if (RECORDING()) alloc_record_global_alloc(p, size, align, kind);              \
    } while (0)
#define REC_FREE(p)                                                                    \
    do {                                                                               \
        if (RECORDING()) alloc_record_global_free(p);                                  \
    } while (0)

static inline void *recorded_realloc(void *p, size_t size, void *q)
{
    /* realloc(NULL, n) is malloc; realloc(p, 0) freed p (recorded before). */
    if (!p)
        alloc_record_global_alloc(q, size, 0, ALLOC_RECORD_KIND_MALLOC);
    else if (size != 0)
        alloc_record_global_realloc(p, q, size);
    return q;
}
#define REC_REALLOC(p, size, call)                                                     \
    (RECORDING()                                                                    \
         ? ((p) && (size) == 0 ? (alloc_record_global_free(p), (call))                \
                               : recorded_realloc((p), (size), (call)))                \
         : (call))

static inline size_t mul_or_max(size_t n, size_t size)
{
    size_t total;
    return __builtin_mul_overflow(n, size, &total) ? SIZE_MAX : total;
}

static inline void *rec_aligned(void *q, size_t align, size_t size)
{
    REC_NEW(q, size, align, ALLOC_RECORD_KIND_ALIGNED);
    return q;
}

/* malloc and free past their fast paths (out of line: the fast paths need no
 * stack frame, and these are calls in tail position). */
static ALLOC_NOINLINE void *malloc_named(size_t size, uintptr_t ret_addr)
{
    void *q = alloc_impl(size, HDR, false, ret_addr);
    REC_NEW(q, size, 0, ALLOC_RECORD_KIND_MALLOC);
    return q;
}

static ALLOC_NOINLINE void free_named(void *p, uintptr_t ret_addr)
{
    REC_FREE(p);
    free_impl(p, "free", ret_addr);
}

void *malloc(size_t size)
{
    if (!RECORDING()) {
        void *q = malloc_fast(size);
        if (ALLOC_LIKELY(q != NULL)) return q;
    }
    return malloc_named(size, ALLOC_RET_ADDR());
}
void free(void *p)
{
    if (!RECORDING() && ALLOC_LIKELY(free_fast(p))) return;
    free_named(p, ALLOC_RET_ADDR());
}
void *calloc(size_t n, size_t size)
{
    void *q = alloc_global_calloc_at(n, size, ALLOC_RET_ADDR());
    REC_NEW(q, mul_or_max(n, size), 0, ALLOC_RECORD_KIND_CALLOC);
    return q;
}
void *realloc(void *p, size_t size) { return REC_REALLOC(p, size, realloc_impl(p, size, ALLOC_RET_ADDR())); }
void *reallocarray(void *p, size_t n, size_t size)
{
    return REC_REALLOC(p, mul_or_max(n, size), alloc_global_reallocarray_at(p, n, size, ALLOC_RET_ADDR()));
}
int posix_memalign(void **out, size_t align, size_t size)
{
    int e = alloc_global_posix_memalign_at(out, align, size, ALLOC_RET_ADDR());
    if (RECORDING()) rec_aligned(e == 0 ? *out : NULL, align, size);
    return e;
}
void *aligned_alloc(size_t align, size_t size)
{
    return rec_aligned(memalign_impl(align, size, ALLOC_RET_ADDR()), align, size);
}
void *memalign(size_t align, size_t size)
{
    return rec_aligned(memalign_impl(align, size, ALLOC_RET_ADDR()), align, size);
}
void *valloc(size_t size) { return rec_aligned(alloc_global_valloc_at(size, ALLOC_RET_ADDR()), 4096, size); }
void *pvalloc(size_t size) { return rec_aligned(alloc_global_pvalloc_at(size, ALLOC_RET_ADDR()), 4096, size); }
size_t malloc_usable_size(void *p) { return alloc_global_usable_size_at(p, ALLOC_RET_ADDR()); }
void free_sized(void *p, size_t size)
{
    REC_FREE(p);
    alloc_global_free_sized_at(p, 0, size, ALLOC_RET_ADDR());
}
void free_aligned_sized(void *p, size_t align, size_t size)
{
    REC_FREE(p);
    alloc_global_free_sized_at(p, align, size, ALLOC_RET_ADDR());
}

void *__libc_malloc(size_t size)
{
    if (!RECORDING()) {
        void *q = malloc_fast(size);
        if (ALLOC_LIKELY(q != NULL)) return q;
    }
    return malloc_named(size, ALLOC_RET_ADDR());
}
void __libc_free(void *p)
{
    if (!RECORDING() && ALLOC_LIKELY(free_fast(p))) return;
    free_named(p, ALLOC_RET_ADDR());
}
void *__libc_calloc(size_t n, size_t size)
{
    void *q = alloc_global_calloc_at(n, size, ALLOC_RET_ADDR());
    REC_NEW(q, mul_or_max(n, size), 0, ALLOC_RECORD_KIND_CALLOC);
    return q;
}
void *__libc_realloc(void *p, size_t size) { return REC_REALLOC(p, size, realloc_impl(p, size, ALLOC_RET_ADDR())); }
void *__libc_memalign(size_t align, size_t size)
{
    return rec_aligned(memalign_impl(align, size, ALLOC_RET_ADDR()), align, size);
}
void *__libc_valloc(size_t size) { return rec_aligned(alloc_global_valloc_at(size, ALLOC_RET_ADDR()), 4096, size); }
void *__libc_pvalloc(size_t size) { return rec_aligned(alloc_global_pvalloc_at(size, ALLOC_RET_ADDR()), 4096, size); }

/* ALLOC_TRACE=path: record this process's malloc calls from here on
 * (alloc_record_global_start says what is and is not caught). Runs before
 * main, after the dynamic loader's and earlier libraries' own calls. */
__attribute__((constructor)) static void record_from_env(void)
{
    const char *path = alloc_host_getenv("ALLOC_TRACE");
    if (path && path[0]) {
        int e = alloc_record_global_start(path);
        if (e != 0) {
            static const char msg[] = "alloc: ALLOC_TRACE: cannot start recording (file not writable?)\n";
            alloc_os_write_stderr(msg, sizeof msg - 1);
        }
    }
}

/* glibc's introspection over alloc's heap. malloc_trim returns 1 if memory
 * went back to the system, else 0 (pad is accepted and ignored: nothing here
 * is kept at a heap top). mallinfo2's fields, glibc's names:
 *   arena     bytes mapped for the page heap     ordblks  free spans
 *   hblks     blocks that are mappings of their own, hblkhd their bytes
 *   uordblks  bytes in use outside hblkhd       fordblks arena less uordblks (free, cached and overhead)
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
    /* glibc counts mmapped chunks in hblkhd only; tools add the two. */
    m.uordblks = h.in_use - h.mapped_block_in_use;
    m.fordblks = h.heap_mapped > m.uordblks ? h.heap_mapped - m.uordblks : 0;
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
                            "Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                            "Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                            "max mmap regions = %10zu\nmax mmap bytes   = %10zu\n",
                            h.heap_mapped, h.in_use - h.mapped_block_in_use, h.heap_mapped + h.mapped_block_bytes, h.in_use,
                            h.mapped_blocks, h.mapped_block_bytes);
    alloc_os_write_stderr(buf, n < sizeof buf ? n : sizeof buf - 1);
}

/* mallopt as glibc 2.36 answers it: 1 for every parameter, 0 for M_MXFAST
 * beyond glibc's limit (80 * sizeof(size_t) / 4) or negative. What it does
 * here: M_TRIM_THRESHOLD sets the page heap's retained-bytes floor (the
 * ALLOC_RETAIN_BYTES option; a negative value, a huge unsigned one in glibc,
 * keeps everything until malloc_trim or the decay delay). The others tune
 * parts of glibc's heap this heap does not have (fastbins, arenas, the
 * mmap threshold: blocks up to 32 MiB are page heap spans, purged after the
 * decay delay; M_PERTURB's fill: debug builds fill freed blocks) and are
 * accepted without effect. */
int mallopt(int param, int value)
{
    ensure_init();
    switch (param) {
    case M_MXFAST:
        return value >= 0 && (size_t)value <= 80 * sizeof(size_t) / 4;
    case M_TRIM_THRESHOLD:
        atomic_store(&opt_retain_bytes, (size_t)(long)value);
        return 1;
    default:
        return 1;
    }
}

/* malloc_info in glibc's XML shape: one heap (the page heap), with "rest"
 * for the blocks in use, "mmap" for blocks that are mappings of their own,
 * and the system bytes mapped. options must be 0 (else EINVAL is returned,
 * as glibc does, without writing). */
int malloc_info(int options, FILE *fp)
{
    if (options != 0) return EINVAL;
    alloc_global_heap_info h;
    alloc_global_info(&h);
    alloc_stats st;
    alloc_global_stats(&st);
    size_t heap_in_use = h.in_use - h.mapped_block_in_use;
    size_t live = st.alloc_count >= st.free_count ? (size_t)(st.alloc_count - st.free_count) : 0;
    size_t heap_live = live >= h.mapped_blocks ? live - h.mapped_blocks : 0;
    size_t system = h.heap_mapped + h.mapped_block_bytes;
    fprintf(fp,
            "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n</sizes>\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
            "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n"
            "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n</heap>\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
            "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n"
            "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n"
            "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n</malloc>\n",
            heap_live, heap_in_use, h.heap_mapped, st.peak_bytes_reserved, h.heap_mapped, h.heap_mapped, heap_live,
            heap_in_use, h.mapped_blocks, h.mapped_block_bytes, system, st.peak_bytes_reserved, system, system);
    return 0;
}
