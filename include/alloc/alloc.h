/*
 * alloc.h: the allocator handle, its vtable, and the front-door helpers.
 *
 * Library code takes an `allocator` by value and never learns which strategy is
 * behind it. The contract follows Zig's std.mem.Allocator (0.14 and later):
 *
 *   - `len` and `align` given to resize, remap and free must equal those of the
 *     live allocation (from its most recent successful alloc, resize or remap).
 *   - `len > 0` and `new_len > 0` on every vtable call; `align` is a power of
 *     two no larger than the strategy documents.
 *   - resize never moves; remap may move; free of memory the allocator did not
 *     hand out, twice, or with the wrong len/align is undefined in release
 *     builds and detected (message naming the call site, then abort) by the
 *     debug wrapper and by debug builds of each strategy.
 *   - `ret_addr` names the code that asked, or is 0: the call site itself
 *     for the short front-door macros below (ALLOC_CALL_SITE), the caller's
 *     return address for out-of-line functions that forward a request.
 *     Debug and tracking wrappers print it (alloc_describe_addr in diag.h)
 *     and keep the raw value for tools such as addr2line.
 *
 * Zero-length requests and size overflow never reach the vtable: the helpers
 * below deal with them. A zero-length allocation yields a non-NULL sentinel
 * whose address is the alignment itself (never dereferenceable, suitably
 * aligned); the free, resize, remap and realloc helpers recognise len == 0 and
 * never pass the sentinel on. Size overflow (n * size, or a length beyond
 * PTRDIFF_MAX) yields NULL without a vtable call.
 *
 * Errors, one convention for the whole library: a call that hands out memory
 * returns NULL when it cannot (and never aborts); every other fallible call
 * returns 0 on success or a negative errno value (-EINVAL for a bad argument
 * or configuration, -ENOMEM when memory runs out, ...), so `if (err < 0)`
 * catches every failure. The only positive codes are those POSIX fixes for
 * the malloc family (posix_memalign in global.h), which also sets errno.
 *
 * Thread safety: the helpers add none; a handle is as thread-safe as its
 * strategy documents.
 */
#ifndef ALLOC_ALLOC_H
#define ALLOC_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Attributes shared by every public header.
 * ------------------------------------------------------------------------- */
#if defined(__GNUC__) || defined(__clang__)
#define ALLOC_INLINE static inline __attribute__((always_inline))
#define ALLOC_MALLOC_ATTR __attribute__((malloc))
#define ALLOC_NODISCARD __attribute__((warn_unused_result))
#define ALLOC_LIKELY(x) __builtin_expect(!!(x), 1)
#define ALLOC_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* The return address of the function that contains it: what an out-of-line
 * library function passes on as its caller's site. */
#define ALLOC_RET_ADDR() ((uintptr_t)__builtin_return_address(0))
#if defined(__has_attribute)
#if __has_attribute(noinline)
#define ALLOC_NOINLINE __attribute__((noinline))
#endif
#endif
#else
#define ALLOC_INLINE static inline
#define ALLOC_MALLOC_ATTR
#define ALLOC_NODISCARD
#define ALLOC_LIKELY(x) (x)
#define ALLOC_UNLIKELY(x) (x)
#define ALLOC_RET_ADDR() ((uintptr_t)0)
#endif
#ifndef ALLOC_NOINLINE
#define ALLOC_NOINLINE
#endif

/*
 * ALLOC_CALL_SITE(): the address of the code that expands it, i.e. of the
 * call site in the function that uses a front-door macro (alloc_bytes,
 * alloc_free, ...). Diagnostics name that function: "main+0x2a", not main's
 * caller (__builtin_return_address(0) in a macro is the return address of the
 * function the macro sits in: for a call in main, somewhere in the C
 * library's start-up code). One instruction on x86_64 and aarch64 (the value
 * points just past it, inside the function, like a return address does);
 * elsewhere a call to a small never-inlined function that returns its own
 * return address. 0 with compilers that have neither. GCC and Clang only use
 * it through __extension__, so -Wpedantic stays quiet.
 */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
/* A statement expression rather than an inline function: the instruction
 * then belongs to the user's source line in the debug information, so
 * file:line in reports is the call's own line, not a line of this header. */
#define ALLOC_CALL_SITE()                                                                                    \
    (__extension__({                                                                                         \
        uintptr_t alloc_site_pc_;                                                                            \
        __asm__ volatile("lea 0(%%rip), %0" : "=r"(alloc_site_pc_));                                         \
        alloc_site_pc_;                                                                                      \
    }))
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
#define ALLOC_CALL_SITE()                                                                                    \
    (__extension__({                                                                                         \
        uintptr_t alloc_site_pc_;                                                                            \
        __asm__ volatile("adr %0, 1f\n1:" : "=r"(alloc_site_pc_));                                           \
        alloc_site_pc_;                                                                                      \
    }))
#elif defined(__GNUC__) || defined(__clang__)
/* Not inline (GCC refuses noinline on an inline function); unused keeps a
 * translation unit that never calls it quiet. */
static __attribute__((noinline, unused)) uintptr_t alloc_call_site_pc(void)
{
    /* A side effect, so the optimiser cannot deem the function const and
     * merge two calls (two sites) into one. */
    __asm__ volatile("");
    return (uintptr_t)__builtin_return_address(0);
}
#define ALLOC_CALL_SITE() alloc_call_site_pc()
#else
#define ALLOC_CALL_SITE() ((uintptr_t)0)
#endif

/* C11 keywords that C++ spells differently, so that every public header, and
 * every macro in them, compiles as C++11 and later as well as C11. The C++
 * spellings give the same layout (alignas, alignof) or the same promise
 * (noreturn); tests/cxx compiles each header as C++ with each standard. */
#ifdef __cplusplus
#define ALLOC_ALIGNOF(T) alignof(T)
#define ALLOC_ALIGNAS(n) alignas(n)
#else
#define ALLOC_ALIGNOF(T) _Alignof(T)
#define ALLOC_ALIGNAS(n) _Alignas(n)
#endif
#if defined(__GNUC__) || defined(__clang__)
#define ALLOC_NORETURN __attribute__((noreturn))
#elif defined(__cplusplus)
#define ALLOC_NORETURN [[noreturn]]
#else
#define ALLOC_NORETURN _Noreturn
#endif

/* Symbols of the library proper (hidden visibility builds export only these). */
#if defined(_WIN32)
#define ALLOC_API
#elif defined(__GNUC__) || defined(__clang__)
#define ALLOC_API __attribute__((visibility("default")))
#else
#define ALLOC_API
#endif

/* ---------------------------------------------------------------------------
 * The interface (fixed by the design; every strategy and wrapper implements it).
 * ------------------------------------------------------------------------- */
typedef struct alloc_vtable {
    /* Returns len bytes aligned to align, or NULL. len > 0; align is a power of two. */
    void *(*alloc)(void *ctx, size_t len, size_t align, uintptr_t ret_addr);
    /* Grows or shrinks mem in place. Never moves. true = done, mem now has new_len bytes. */
    bool (*resize)(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr);
    /* Like resize but may move (e.g. mremap). NULL = "would just be alloc+copy+free; caller does it". */
    void *(*remap)(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr);
    /* Gives mem back. */
    void (*free)(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr);
} alloc_vtable;

/* The handle library code takes by value: a strategy's state and its operations. */
typedef struct allocator {
    void *ctx;                  /* the strategy's state; may be NULL for stateless ones */
    const alloc_vtable *vtable; /* the strategy's four operations */
} allocator;

/* Shared stubs for strategies that cannot do an operation. */
/* alloc_no_resize: always false (the block cannot change size in place). */
ALLOC_API bool alloc_no_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len,
                               uintptr_t ret_addr);
/* alloc_no_remap: always NULL (the caller falls back to alloc + copy + free). */
ALLOC_API void *alloc_no_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len,
                               uintptr_t ret_addr);
/* alloc_no_free: does nothing (memory comes back only by a reset or deinit). */
ALLOC_API void alloc_no_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr);

/*
 * A block walker, the one signature of every strategy's _walk (free list,
 * debug wrapper, stack, arena, pool): called once per block with its
 * address, its length in bytes (what the strategy knows of it: the length
 * asked, or the usable bytes where the strategy keeps no other; each _walk
 * says which) and whether it is handed out (used) or free. Return true to go
 * on, false to stop the walk. The walker must not allocate from or free to
 * the allocator being walked. Each strategy's _check is a walk with an
 * integrity callback (as TLSF's tlsf_check_pool is).
 */
typedef bool (*alloc_walker)(void *block, size_t len, bool used, void *user);

/* The largest length any helper passes to a vtable: objects larger than
 * PTRDIFF_MAX break pointer subtraction, so no allocator hands them out. */
#define ALLOC_MAX_LEN ((size_t)PTRDIFF_MAX)

/* true iff x is a non-zero power of two. */
ALLOC_INLINE bool alloc_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* Rounds x up to a multiple of align (a power of two). Precondition: no overflow,
 * which callers guarantee by checking x <= SIZE_MAX - (align - 1) first. */
ALLOC_INLINE size_t alloc_align_up(size_t x, size_t align) { return (x + align - 1) & ~(align - 1); }

/* true iff p is a multiple of align (a power of two). */
ALLOC_INLINE bool alloc_is_aligned(const void *p, size_t align)
{
    return ((uintptr_t)p & (align - 1)) == 0;
}

/* The sentinel returned for zero-length requests: the alignment's own address. */
ALLOC_INLINE void *alloc_zero_len_ptr(size_t align) { return (void *)(uintptr_t)align; }

/* ---------------------------------------------------------------------------
 * Front-door helpers. The `_at` forms take an explicit ret_addr (for wrappers
 * that forward a caller's address); the short forms pass their own caller's.
 * ------------------------------------------------------------------------- */

/*
 * alloc_bytes_at: len bytes aligned to align.
 * Returns NULL iff align is not a power of two, len > ALLOC_MAX_LEN, or the
 * allocator fails. len == 0 returns the zero-length sentinel without a vtable
 * call. Memory is not zeroed. O(strategy's alloc).
 */
ALLOC_INLINE ALLOC_NODISCARD void *alloc_bytes_at(allocator a, size_t len, size_t align,
                                                  uintptr_t ret_addr)
{
    if (ALLOC_UNLIKELY(!alloc_is_pow2(align))) return NULL;
    if (ALLOC_UNLIKELY(len == 0)) return alloc_zero_len_ptr(align);
    if (ALLOC_UNLIKELY(len > ALLOC_MAX_LEN)) return NULL;
    return a.vtable->alloc(a.ctx, len, align, ret_addr);
}

/* alloc_free_at: gives back mem (len and align as allocated). len == 0 is a no-op. */
ALLOC_INLINE void alloc_free_at(allocator a, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    if (ALLOC_UNLIKELY(len == 0)) return;
    a.vtable->free(a.ctx, mem, len, align, ret_addr);
}

/*
 * alloc_resize_at: changes the size of mem in place; never moves.
 * Returns true iff mem now holds new_len bytes (contents up to the smaller
 * length kept). Returns false, changing nothing, when it cannot: the caller
 * still owns mem with len bytes. Zero lengths on either side: only the trivial
 * 0 -> 0 succeeds.
 */
ALLOC_INLINE bool alloc_resize_at(allocator a, void *mem, size_t len, size_t align, size_t new_len,
                                  uintptr_t ret_addr)
{
    if (len == 0 || new_len == 0) return len == new_len;
    if (new_len > ALLOC_MAX_LEN) return false;
    if (new_len == len) return true;
    return a.vtable->resize(a.ctx, mem, len, align, new_len, ret_addr);
}

/*
 * alloc_remap_at: like resize but the block may move.
 * Returns the (possibly new) address, or NULL when the allocator could only do
 * it by alloc + copy + free: mem is then untouched and still owned. Zero
 * lengths on either side return NULL (use realloc for those).
 */
ALLOC_INLINE void *alloc_remap_at(allocator a, void *mem, size_t len, size_t align, size_t new_len,
                                  uintptr_t ret_addr)
{
    if (len == 0 || new_len == 0 || new_len > ALLOC_MAX_LEN) return NULL;
    if (new_len == len) return mem;
    return a.vtable->remap(a.ctx, mem, len, align, new_len, ret_addr);
}

/*
 * alloc_realloc_at: the block with new_len bytes, contents kept up to the
 * smaller length. Tries remap first (which includes in-place resize for most
 * strategies), then alloc + copy + free.
 * On failure returns NULL and mem stays valid with len bytes.
 * new_len == 0 frees mem and returns the zero-length sentinel; len == 0 is a
 * plain allocation.
 */
ALLOC_INLINE ALLOC_NODISCARD void *alloc_realloc_at(allocator a, void *mem, size_t len, size_t align,
                                                    size_t new_len, uintptr_t ret_addr)
{
    if (!alloc_is_pow2(align)) return NULL;
    if (new_len == 0) {
        alloc_free_at(a, mem, len, align, ret_addr);
        return alloc_zero_len_ptr(align);
    }
    if (len == 0) return alloc_bytes_at(a, new_len, align, ret_addr);
    if (new_len > ALLOC_MAX_LEN) return NULL;
    if (new_len == len) return mem;
    void *moved = a.vtable->remap(a.ctx, mem, len, align, new_len, ret_addr);
    if (moved) return moved;
    void *fresh = a.vtable->alloc(a.ctx, new_len, align, ret_addr);
    if (!fresh) return NULL;
    memcpy(fresh, mem, len < new_len ? len : new_len);
    a.vtable->free(a.ctx, mem, len, align, ret_addr);
    return fresh;
}

/* n * size, or false on overflow. */
ALLOC_INLINE bool alloc_mul_overflows(size_t n, size_t size, size_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_mul_overflow(n, size, out);
#else
    if (size != 0 && n > SIZE_MAX / size) return true;
    *out = n * size;
    return false;
#endif
}

/*
 * alloc_array_at: n objects of size bytes each, aligned to align.
 * Returns NULL if n * size overflows (no vtable call) or as alloc_bytes_at.
 * Memory is not zeroed.
 */
ALLOC_INLINE ALLOC_NODISCARD void *alloc_array_at(allocator a, size_t n, size_t size, size_t align,
                                                  uintptr_t ret_addr)
{
    size_t total;
    if (alloc_mul_overflows(n, size, &total)) return NULL;
    return alloc_bytes_at(a, total, align, ret_addr);
}

/* alloc_free_array_at: gives back an array from alloc_array_at (same n, size, align). */
ALLOC_INLINE void alloc_free_array_at(allocator a, void *mem, size_t n, size_t size, size_t align,
                                      uintptr_t ret_addr)
{
    size_t total;
    if (alloc_mul_overflows(n, size, &total)) return; /* could not have been allocated */
    alloc_free_at(a, mem, total, align, ret_addr);
}

/* alloc_dup_at: a copy of len bytes of src (alignment 16 when len >= 16, else 1).
 * NULL on failure. Free it with alloc_free(a, p, len, alloc_dup_align(len)). */
ALLOC_INLINE size_t alloc_dup_align(size_t len) { return len >= 16 ? 16 : 1; }

/* The copy described above: len bytes at alignment alloc_dup_align(len). */
ALLOC_INLINE ALLOC_NODISCARD void *alloc_dup_at(allocator a, const void *src, size_t len,
                                                uintptr_t ret_addr)
{
    void *p = alloc_bytes_at(a, len, alloc_dup_align(len), ret_addr);
    if (p && len) memcpy(p, src, len);
    return p;
}

/* alloc_strdup_at: a NUL-terminated copy of s (strlen(s) + 1 bytes, alignment 1).
 * NULL on failure. Free it with alloc_free_str. */
ALLOC_INLINE ALLOC_NODISCARD char *alloc_strdup_at(allocator a, const char *s, uintptr_t ret_addr)
{
    size_t n = strlen(s) + 1;
    char *p = (char *)alloc_bytes_at(a, n, 1, ret_addr);
    if (p) memcpy(p, s, n);
    return p;
}

/* alloc_free_str_at: gives back a string from alloc_strdup (its length must not have changed). */
ALLOC_INLINE void alloc_free_str_at(allocator a, char *s, uintptr_t ret_addr)
{
    alloc_free_at(a, s, strlen(s) + 1, 1, ret_addr);
}

/*
 * The short forms. They are macros so that ret_addr is the site of the call
 * itself (ALLOC_CALL_SITE, an address inside the function that uses them):
 * debug reports and leak lists name that function and offset.
 */
#define alloc_bytes(a, len, align) alloc_bytes_at((a), (len), (align), ALLOC_CALL_SITE())
#define alloc_free(a, mem, len, align) alloc_free_at((a), (mem), (len), (align), ALLOC_CALL_SITE())
#define alloc_resize(a, mem, len, align, new_len) \
    alloc_resize_at((a), (mem), (len), (align), (new_len), ALLOC_CALL_SITE())
#define alloc_remap(a, mem, len, align, new_len) \
    alloc_remap_at((a), (mem), (len), (align), (new_len), ALLOC_CALL_SITE())
#define alloc_realloc(a, mem, len, align, new_len) \
    alloc_realloc_at((a), (mem), (len), (align), (new_len), ALLOC_CALL_SITE())
#define alloc_array(a, n, size, align) alloc_array_at((a), (n), (size), (align), ALLOC_CALL_SITE())
#define alloc_free_array(a, mem, n, size, align) \
    alloc_free_array_at((a), (mem), (n), (size), (align), ALLOC_CALL_SITE())
#define alloc_dup(a, src, len) alloc_dup_at((a), (src), (len), ALLOC_CALL_SITE())
#define alloc_strdup(a, s) alloc_strdup_at((a), (s), ALLOC_CALL_SITE())
#define alloc_free_str(a, s) alloc_free_str_at((a), (s), ALLOC_CALL_SITE())

/* Typed forms: one object or an array of T (alignment ALLOC_ALIGNOF(T), _Alignof in C). */
#define alloc_create(a, T) ((T *)alloc_bytes_at((a), sizeof(T), ALLOC_ALIGNOF(T), ALLOC_CALL_SITE()))
#define alloc_destroy(a, T, p) alloc_free_at((a), (p), sizeof(T), ALLOC_ALIGNOF(T), ALLOC_CALL_SITE())
#define alloc_create_array(a, T, n) \
    ((T *)alloc_array_at((a), (n), sizeof(T), ALLOC_ALIGNOF(T), ALLOC_CALL_SITE()))
#define alloc_destroy_array(a, T, p, n) \
    alloc_free_array_at((a), (p), (n), sizeof(T), ALLOC_ALIGNOF(T), ALLOC_CALL_SITE())

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_ALLOC_H */
