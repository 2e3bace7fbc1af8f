/**
 * @file containers.h
 * @brief Containers over the allocator handle: a typed dynamic array, a string
 * builder and a string-keyed hash map.
 *
 * They exist to show that "pass a handle into a library API" works: each
 * container is given an `allocator` when it is initialised and never learns
 * which strategy is behind it. An arena, a pool, a free list, the page
 * allocator or a failing wrapper all serve.
 *
 * Common contract:
 *   - Initialisation never allocates; the first growth does.
 *   - Out of memory is an error code, never an abort: every operation that may
 *     allocate returns 0 or a negative errno value (-ENOMEM when the allocator
 *     returned NULL, -EOVERFLOW when a size computation would overflow or pass
 *     ALLOC_MAX_LEN, -ERANGE for an index out of range). A failed operation
 *     changes nothing: the container holds exactly what it held before.
 *   - Growth first asks the allocator to grow the buffer in place (`resize`),
 *     then to move it without copying (`remap`, e.g. mremap for the page
 *     allocator), and only then allocates, copies the live elements (not the
 *     spare capacity) and frees. Capacity grows by half plus a few elements,
 *     so a run of n pushes costs O(n) amortised; when the larger step fails,
 *     exactly the needed capacity is tried before giving up (so a container
 *     can fill a fixed buffer to the last byte).
 *   - Every allocation is made with the element type's alignment and freed
 *     with exactly the length and alignment it was made with, as alloc.h
 *     requires; strategies that only free in LIFO order (bump, stack) work as
 *     long as the container's buffer is the most recent allocation when it
 *     grows (otherwise growth moves it and the old buffer is freed out of
 *     order; bump tolerates that by leaking, stack reports it).
 *   - Not thread-safe: one container, one thread at a time (the allocator's
 *     own thread-safety does not change that).
 *   - Memory from the containers is not zeroed unless a function says so.
 *
 * Cost: a vector or string push is amortised O(1) (a store and a length
 * update when there is room; growth doubles the capacity); a map lookup or
 * upsert is expected O(1) plus hashing and comparing the key (O(key length)).
 * Measured figures live in docs/benchmarks.md.
 */
#ifndef ALLOC_CONTAINERS_H
#define ALLOC_CONTAINERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The error codes the containers return (negated). They equal the Linux
 * errno values of the same name; the library checks that against <errno.h>
 * when it is built, so `err == -ENOMEM` works too. */
/** @brief Returned (negated) when the allocator returned NULL. Equals ENOMEM on Linux. */
#define ALLOC_ENOMEM 12
/** @brief Returned (negated) for an index out of range. Equals ERANGE on Linux. */
#define ALLOC_ERANGE 34
/** @brief Returned (negated) when a size computation overflows. Equals EOVERFLOW on Linux. */
#define ALLOC_EOVERFLOW 75
/** @brief Returned (negated) for an invalid format string. Equals EINVAL on Linux. */
#define ALLOC_EINVAL 22

/* ===========================================================================
 * Dynamic array
 * ======================================================================== */

/**
 * @brief The untyped core of every vector: a buffer of `cap` elements of which
 * the first `len` are live, allocated from `a`.
 *
 * Use the typed wrappers made by ALLOC_VEC_DEFINE; the raw functions take the
 * element size and alignment on every call and are what those wrappers call.
 * Invariants: len <= cap; data == NULL iff cap == 0; the buffer is
 * cap * elem_size bytes (never 0) with alignment elem_align.
 */
typedef struct alloc_vec_raw {
    void *data;  /**< the elements; NULL while cap == 0 */
    size_t len;  /**< live elements */
    size_t cap;  /**< elements the buffer holds */
    allocator a; /**< where the buffer comes from */
} alloc_vec_raw;

/**
 * @brief Ensures room for `additional` more elements beyond len.
 * @return 0 (cap >= len + additional afterwards); -EOVERFLOW if the byte size
 *         overflows or passes ALLOC_MAX_LEN; -ENOMEM if the allocator fails.
 *         On error nothing changed.
 * Precondition: elem_size > 0, elem_align a power of two, both the same on
 * every call for this vector. O(len) when the buffer moves by copying, else
 * O(1) plus the allocator's cost.
 */
ALLOC_API int alloc_vec_raw_reserve(alloc_vec_raw *v, size_t elem_size, size_t elem_align, size_t additional,
                                    uintptr_t ret_addr);

/**
 * @brief Ensures cap >= len + additional, growing to exactly that and no more.
 * @return as alloc_vec_raw_reserve.
 */
ALLOC_API int alloc_vec_raw_reserve_exact(alloc_vec_raw *v, size_t elem_size, size_t elem_align,
                                          size_t additional, uintptr_t ret_addr);

/**
 * @brief Makes cap == len (frees the buffer when len == 0).
 * @return 0 on success; -ENOMEM if the buffer could only shrink by moving and
 *         the allocator failed (capacity unchanged, contents intact).
 */
ALLOC_API int alloc_vec_raw_shrink_to_fit(alloc_vec_raw *v, size_t elem_size, size_t elem_align,
                                          uintptr_t ret_addr);

/**
 * @brief Frees the buffer (if any) and leaves an empty vector over the same
 * allocator. Never fails. O(allocator's free).
 */
ALLOC_API void alloc_vec_raw_deinit(alloc_vec_raw *v, size_t elem_size, size_t elem_align, uintptr_t ret_addr);

/**
 * @brief Gives the caller the buffer, shrunk to exactly len elements, and
 * leaves the vector empty.
 * @return the buffer, to be freed with alloc_free(a, p, len * elem_size,
 *         elem_align); the zero-length sentinel of alloc.h when len == 0 (freeing
 *         it with length 0 is a no-op); NULL if shrinking needed a move and the
 *         allocator failed (the vector is then unchanged).
 */
ALLOC_API void *alloc_vec_raw_to_owned(alloc_vec_raw *v, size_t elem_size, size_t elem_align, size_t *len_out,
                                       uintptr_t ret_addr);

/**
 * @brief Invariant check: len <= cap, data NULL iff cap == 0, data aligned to
 * elem_align, the vtable set. O(1). Returns true iff they hold.
 */
ALLOC_API bool alloc_vec_raw_check(const alloc_vec_raw *v, size_t elem_size, size_t elem_align);

/** @brief Storage class of the functions ALLOC_VEC_DEFINE generates: static
 * inline, and not warned about when a program uses only some of them. */
#if defined(__GNUC__) || defined(__clang__)
#define ALLOC_VEC_FN static inline __attribute__((unused))
#else
#define ALLOC_VEC_FN static inline
#endif
/* The typed view is an anonymous struct: standard C11, but an extension in
 * C++ (every C++ compiler has it); __extension__ keeps -Wpedantic quiet there. */
#if defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
#define ALLOC_VEC_EXTENSION __extension__
#else
#define ALLOC_VEC_EXTENSION
#endif

/**
 * @brief Defines a typed vector `name` of elements of type T and its functions
 * `name_<op>`.
 *
 * Example:
 * @code
 *     ALLOC_VEC_DEFINE(int_vec, int)
 *     int_vec v;
 *     int_vec_init(&v, arena_handle);
 *     if (int_vec_push(&v, 42) != 0) return -1;   // out of memory
 *     for (size_t i = 0; i < v.len; i++) use(v.items[i]);
 *     int_vec_deinit(&v);
 * @endcode
 *
 * The type is a union of the raw core and a typed view (`items`, `len`, `cap`,
 * `a`), so elements are read as `v.items[i]` with no cast. Functions (all
 * static inline; O(1) unless noted; those returning int follow the common
 * contract):
 *   - `void name_init(name *v, allocator a)`: empty vector over a.
 *   - `void name_deinit(name *v)`: frees the buffer; v stays usable (empty).
 *   - `int name_reserve(name *v, size_t additional)`, `name_reserve_exact`.
 *   - `int name_push(name *v, T x)`: appends x; amortised O(1).
 *   - `T *name_add(name *v)`: appends one uninitialised slot and returns it, or
 *     NULL (nothing changed) when growth fails.
 *   - `int name_append(name *v, T const *xs, size_t n)`: appends n elements
 *     (xs may point into v itself). Spelled `T const *`, not `const T *`: with
 *     T = `int *` the paste gives `int *const *`, which an `int **` converts
 *     to, where `const int **` would not (a vector of pointers).
 *   - `int name_insert(name *v, size_t i, T x)`: i <= len (else -ERANGE); O(len - i).
 *   - `bool name_pop(name *v, T *out)`: false when empty; out may be NULL.
 *   - `int name_remove(name *v, size_t i, T *out)`: keeps order, O(len - i);
 *     `int name_swap_remove(name *v, size_t i, T *out)`: moves the last element
 *     into i, O(1). Both -ERANGE when i >= len; out may be NULL.
 *   - `int name_resize(name *v, size_t n)`: len = n; new elements are zeroed.
 *   - `void name_clear(name *v)`: len = 0, capacity kept.
 *   - `int name_shrink_to_fit(name *v)`.
 *   - `T *name_to_owned(name *v, size_t *n)`: the buffer shrunk to *n = len
 *     elements, free with alloc_free(a, p, *n * sizeof(T), ALLOC_ALIGNOF(T)).
 *   - `bool name_check(const name *v)`: the invariant checker.
 */
#define ALLOC_VEC_DEFINE(name, T)                                                                     \
    typedef union name {                                                                              \
        alloc_vec_raw raw;                                                                            \
        ALLOC_VEC_EXTENSION struct {                                                                  \
            T *items;                                                                                 \
            size_t len;                                                                               \
            size_t cap;                                                                               \
            allocator a;                                                                              \
        };                                                                                            \
    } name;                                                                                           \
    ALLOC_VEC_FN void name##_init(name *v, allocator a)                                              \
    {                                                                                                 \
        v->raw.data = NULL;                                                                           \
        v->raw.len = 0;                                                                               \
        v->raw.cap = 0;                                                                               \
        v->raw.a = a;                                                                                 \
    }                                                                                                 \
    ALLOC_VEC_FN void name##_deinit(name *v)                                                         \
    {                                                                                                 \
        alloc_vec_raw_deinit(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), ALLOC_RET_ADDR());                      \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_reserve(name *v, size_t additional)                                      \
    {                                                                                                 \
        if (ALLOC_LIKELY(v->raw.cap - v->raw.len >= additional)) return 0;                            \
        return alloc_vec_raw_reserve(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), additional, ALLOC_RET_ADDR());  \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_reserve_exact(name *v, size_t additional)                                \
    {                                                                                                 \
        return alloc_vec_raw_reserve_exact(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), additional,              \
                                           ALLOC_RET_ADDR());                                         \
    }                                                                                                 \
    ALLOC_VEC_FN T *name##_add(name *v)                                                              \
    {                                                                                                 \
        if (ALLOC_UNLIKELY(v->raw.len == v->raw.cap) &&                                               \
            alloc_vec_raw_reserve(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), 1, ALLOC_RET_ADDR()) != 0)         \
            return NULL;                                                                              \
        return &v->items[v->raw.len++];                                                               \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_push(name *v, T x)                                                       \
    {                                                                                                 \
        if (ALLOC_UNLIKELY(v->raw.len == v->raw.cap)) {                                               \
            int err = alloc_vec_raw_reserve(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), 1, ALLOC_RET_ADDR());    \
            if (err) return err;                                                                      \
        }                                                                                             \
        v->items[v->raw.len++] = x;                                                                   \
        return 0;                                                                                     \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_append(name *v, T const *xs, size_t n)                                   \
    {                                                                                                 \
        if (n == 0) return 0;                                                                         \
        if (v->raw.cap - v->raw.len < n) {                                                            \
            /* xs may point into our own buffer, which growth may move */                             \
            T const *old = v->items;                                                                  \
            bool inside = old != NULL && (uintptr_t)xs >= (uintptr_t)old &&                           \
                          (uintptr_t)xs < (uintptr_t)(old + v->raw.len);                              \
            size_t off = inside ? (size_t)(xs - old) : 0;                                             \
            int err = alloc_vec_raw_reserve(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), n, ALLOC_RET_ADDR());    \
            if (err) return err;                                                                      \
            if (inside) xs = v->items + off;                                                          \
        }                                                                                             \
        memmove(v->items + v->raw.len, xs, n * sizeof(T));                                            \
        v->raw.len += n;                                                                              \
        return 0;                                                                                     \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_insert(name *v, size_t i, T x)                                           \
    {                                                                                                 \
        if (i > v->raw.len) return -ALLOC_ERANGE;                                                    \
        if (v->raw.len == v->raw.cap) {                                                               \
            int err = alloc_vec_raw_reserve(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), 1, ALLOC_RET_ADDR());    \
            if (err) return err;                                                                      \
        }                                                                                             \
        memmove(v->items + i + 1, v->items + i, (v->raw.len - i) * sizeof(T));                       \
        v->items[i] = x;                                                                              \
        v->raw.len++;                                                                                 \
        return 0;                                                                                     \
    }                                                                                                 \
    ALLOC_VEC_FN bool name##_pop(name *v, T *out)                                                    \
    {                                                                                                 \
        if (v->raw.len == 0) return false;                                                            \
        v->raw.len--;                                                                                 \
        if (out) *out = v->items[v->raw.len];                                                         \
        return true;                                                                                  \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_remove(name *v, size_t i, T *out)                                        \
    {                                                                                                 \
        if (i >= v->raw.len) return -ALLOC_ERANGE;                                                   \
        if (out) *out = v->items[i];                                                                  \
        memmove(v->items + i, v->items + i + 1, (v->raw.len - i - 1) * sizeof(T));                    \
        v->raw.len--;                                                                                 \
        return 0;                                                                                     \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_swap_remove(name *v, size_t i, T *out)                                   \
    {                                                                                                 \
        if (i >= v->raw.len) return -ALLOC_ERANGE;                                                   \
        if (out) *out = v->items[i];                                                                  \
        v->items[i] = v->items[v->raw.len - 1];                                                       \
        v->raw.len--;                                                                                 \
        return 0;                                                                                     \
    }                                                                                                 \
    ALLOC_VEC_FN int name##_resize(name *v, size_t n)                                                \
    {                                                                                                 \
        if (n > v->raw.len) {                                                                         \
            int err = name##_reserve(v, n - v->raw.len);                                              \
            if (err) return err;                                                                      \
            memset((void *)(v->items + v->raw.len), 0, (n - v->raw.len) * sizeof(T));                 \
        }                                                                                             \
        v->raw.len = n;                                                                               \
        return 0;                                                                                     \
    }                                                                                                 \
    ALLOC_VEC_FN void name##_clear(name *v) { v->raw.len = 0; }                                      \
    ALLOC_VEC_FN int name##_shrink_to_fit(name *v)                                                   \
    {                                                                                                 \
        return alloc_vec_raw_shrink_to_fit(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), ALLOC_RET_ADDR());        \
    }                                                                                                 \
    ALLOC_VEC_FN T *name##_to_owned(name *v, size_t *n)                                              \
    {                                                                                                 \
        return (T *)alloc_vec_raw_to_owned(&v->raw, sizeof(T), ALLOC_ALIGNOF(T), n, ALLOC_RET_ADDR());     \
    }                                                                                                 \
    ALLOC_VEC_FN bool name##_check(const name *v)                                                    \
    {                                                                                                 \
        return alloc_vec_raw_check(&v->raw, sizeof(T), ALLOC_ALIGNOF(T));                                  \
    }

/* ===========================================================================
 * String builder
 * ======================================================================== */

/**
 * @brief A growable byte string, always NUL-terminated once it has a buffer.
 *
 * Invariants: len < cap when cap > 0 (room for the terminator) and
 * data[len] == '\0'; data == NULL iff cap == 0. The buffer is allocated with
 * alignment 1 and cap bytes.
 */
typedef struct alloc_str {
    char *data;  /**< the bytes, NUL-terminated; NULL while cap == 0 */
    size_t len;  /**< bytes before the terminator */
    size_t cap;  /**< bytes in the buffer, terminator included */
    allocator a; /**< where the buffer comes from */
} alloc_str;

/** @brief An empty string over a. Never allocates. O(1). */
ALLOC_API void alloc_str_init(alloc_str *s, allocator a);

/** @brief Frees the buffer; s stays usable and empty. O(allocator's free). */
ALLOC_API void alloc_str_deinit(alloc_str *s);

/**
 * @brief Ensures room for `additional` more bytes (plus the terminator).
 * @return 0, -EOVERFLOW or -ENOMEM (common contract; nothing changed on error).
 */
ALLOC_API int alloc_str_reserve(alloc_str *s, size_t additional);

/** @brief Appends n bytes of p (which may point into s itself). O(n) amortised. */
ALLOC_API int alloc_str_append(alloc_str *s, const void *p, size_t n);

/** @brief Appends the NUL-terminated string z. */
ALLOC_API int alloc_str_append_cstr(alloc_str *s, const char *z);

/** @brief Appends one byte. Inline; amortised O(1) (a store and a length update when there is room). */
ALLOC_INLINE int alloc_str_push(alloc_str *s, char c)
{
    if (ALLOC_UNLIKELY(s->cap - s->len < 2)) {
        int err = alloc_str_reserve(s, 1);
        if (err) return err;
    }
    s->data[s->len++] = c;
    s->data[s->len] = '\0';
    return 0;
}

/**
 * @brief Appends printf-formatted text (C library vsnprintf).
 * @return 0, -ENOMEM, -EOVERFLOW, or -EINVAL (ALLOC_EINVAL) if the format is invalid
 *         (vsnprintf failed); nothing appended on error.
 */
ALLOC_API int alloc_str_appendf(alloc_str *s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** @brief alloc_str_appendf with a va_list. */
ALLOC_API int alloc_str_vappendf(alloc_str *s, const char *fmt, va_list ap);

/** @brief Cuts the string to n bytes (n <= len; larger n is ignored). Keeps capacity. O(1). */
ALLOC_API void alloc_str_truncate(alloc_str *s, size_t n);

/** @brief len = 0, capacity kept. O(1). */
ALLOC_API void alloc_str_clear(alloc_str *s);

/** @brief The contents as a C string: "" (a static empty string) while there is no buffer. O(1). */
ALLOC_API const char *alloc_str_cstr(const alloc_str *s);

/**
 * @brief Gives the caller the string as a heap C string of exactly len + 1
 * bytes, alignment 1, and leaves s empty.
 * @return the string, to be freed with alloc_free_str(a, p) or
 *         alloc_free(a, p, len + 1, 1); NULL if the allocator failed (s then
 *         unchanged). An empty s yields a 1-byte allocation holding "".
 */
ALLOC_API char *alloc_str_to_owned(alloc_str *s, size_t *len_out);

/** @brief Invariant check (terminator in place, len < cap, data NULL iff cap 0). O(1). */
ALLOC_API bool alloc_str_check(const alloc_str *s);

/* ===========================================================================
 * String-keyed hash map
 * ======================================================================== */

/** @brief One slot of the map's table (internal layout, visible for sizing). */
typedef struct alloc_map_slot {
    uint64_t hash;   /**< the key's hash; 0 marks an empty slot */
    char *key;       /**< the map's own copy of the key, NUL-terminated */
    size_t key_len;  /**< the key's length in bytes, terminator excluded */
    uint64_t value;  /**< the user's value */
} alloc_map_slot;

/**
 * @brief A hash map from byte-string keys to uint64_t values.
 *
 * Open addressing with linear probing over a power-of-two table, at most 3/4
 * full; deletion shifts the following run back, so there are no tombstones and
 * lookups stay short after many removals. Keys are copied into the map (each
 * its own allocation of key_len + 1 bytes, alignment 1, from the map's
 * allocator). Lookups are expected O(1) with a reasonable key distribution.
 * Overhead: 32 bytes per slot (on 64-bit) plus each key's copy.
 */
typedef struct alloc_map {
    alloc_map_slot *slots; /**< the table; NULL while cap == 0 */
    size_t len;            /**< live entries */
    size_t cap;            /**< slots in the table: 0 or a power of two >= 8 */
    allocator a;           /**< where the table and the keys come from */
} alloc_map;

/** @brief An empty map over a. Never allocates. O(1). */
ALLOC_API void alloc_map_init(alloc_map *m, allocator a);

/** @brief Frees every key and the table; m stays usable and empty. O(cap). */
ALLOC_API void alloc_map_deinit(alloc_map *m);

/**
 * @brief The value slot of key, inserting it with value 0 if absent.
 * @param m the map.
 * @param key the key's bytes (copied into the map on insert; any bytes, NUL included).
 * @param key_len the key's length in bytes (0 is a valid, empty key).
 * @param inserted set to true iff the key was added (may be NULL).
 * @param err set to 0, -ENOMEM or -EOVERFLOW (may be NULL).
 * @return the value's address, valid until the next insert or remove; NULL on
 *         error (nothing changed).
 */
ALLOC_API uint64_t *alloc_map_upsert(alloc_map *m, const void *key, size_t key_len, bool *inserted, int *err);

/** @brief Sets key to value (inserting it if absent). 0, -ENOMEM or -EOVERFLOW. */
ALLOC_API int alloc_map_put(alloc_map *m, const void *key, size_t key_len, uint64_t value);

/** @brief The value slot of key, or NULL if absent. Never allocates. */
ALLOC_API uint64_t *alloc_map_get(const alloc_map *m, const void *key, size_t key_len);

/** @brief Removes key. true iff it was present (its value copied to *out if out). Never allocates. */
ALLOC_API bool alloc_map_remove(alloc_map *m, const void *key, size_t key_len, uint64_t *out);

/**
 * @brief Iterates: starting from *pos == 0, returns the next live slot and
 * advances *pos, or NULL at the end. Order is the table's (unspecified).
 * Inserting or removing during an iteration invalidates it.
 */
ALLOC_API const alloc_map_slot *alloc_map_next(const alloc_map *m, size_t *pos);

/**
 * @brief Invariant check: count of live slots == len, load <= 3/4, each key at
 * or after its home slot with no empty slot in between, each key's hash
 * matching. O(cap).
 */
ALLOC_API bool alloc_map_check(const alloc_map *m);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_CONTAINERS_H */
