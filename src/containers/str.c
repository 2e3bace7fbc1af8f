/*
 * str.c: the string builder.
 *
 * A byte vector (alignment 1) that keeps one spare byte for a NUL terminator,
 * so alloc_str_cstr is O(1) and the buffer can be handed to C string
 * functions at any time. Growth is the shared ladder of vec.c (resize in
 * place, remap, then alloc + copy of len + 1 bytes + free), with the same
 * geometric step and the same exact-size fallback.
 *
 * Bounds: append is O(n) in the appended bytes, amortised; the buffer is
 * cap bytes with no header. Formatting goes through the C library's
 * vsnprintf into the spare capacity first, and only on overflow reserves the
 * exact size and formats again (two passes only when the text does not fit).
 */
#include <stdio.h>

#include "containers_internal.h"

void alloc_str_init(alloc_str *s, allocator a)
{
    s->data = NULL;
    s->len = 0;
    s->cap = 0;
    s->a = a;
}

void alloc_str_deinit(alloc_str *s)
{
    if (s->cap) alloc_free_at(s->a, s->data, s->cap, 1, ALLOC_RET_ADDR());
    s->data = NULL;
    s->len = 0;
    s->cap = 0;
}

/* Room for `additional` bytes plus the terminator. */
static int reserve(alloc_str *s, size_t additional, uintptr_t ret_addr)
{
    size_t need;
    if (__builtin_add_overflow(s->len, additional, &need) || __builtin_add_overflow(need, 1, &need))
        return -ALLOC_EOVERFLOW;
    if (need <= s->cap) return 0;
    bool fresh = s->cap == 0;
    void *data = s->data;
    int err = alloc_containers_grow(s->a, &data, &s->cap, fresh ? 0 : s->len + 1, need, 1, 1, false, ret_addr);
    if (err) return err;
    s->data = data;
    if (fresh) s->data[0] = '\0';
    return 0;
}

int alloc_str_reserve(alloc_str *s, size_t additional) { return reserve(s, additional, ALLOC_RET_ADDR()); }

int alloc_str_append(alloc_str *s, const void *p, size_t n)
{
    if (n == 0) return 0;
    /* p may point into our own buffer, which growth may move. */
    const char *src = p;
    bool inside = s->data && (uintptr_t)src >= (uintptr_t)s->data && (uintptr_t)src < (uintptr_t)(s->data + s->cap);
    size_t off = inside ? (size_t)(src - s->data) : 0;
    int err = reserve(s, n, ALLOC_RET_ADDR());
    if (err) return err;
    if (inside) src = s->data + off;
    memmove(s->data + s->len, src, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

int alloc_str_append_cstr(alloc_str *s, const char *z) { return alloc_str_append(s, z, strlen(z)); }

int alloc_str_vappendf(alloc_str *s, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    size_t room = s->cap ? s->cap - s->len : 0;
    int n = vsnprintf(room ? s->data + s->len : NULL, room, fmt, ap);
    if (n < 0) {
        va_end(again);
        if (room) s->data[s->len] = '\0';
        return -ALLOC_EINVAL;
    }
    if ((size_t)n < room) {
        va_end(again);
        s->len += (size_t)n;
        return 0;
    }
    /* Did not fit: the partial output is overwritten below or cut off here. */
    if (room) s->data[s->len] = '\0';
    int err = reserve(s, (size_t)n, ALLOC_RET_ADDR());
    if (err) {
        va_end(again);
        return err;
    }
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, again);
    va_end(again);
    s->len += (size_t)n;
    return 0;
}

int alloc_str_appendf(alloc_str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = alloc_str_vappendf(s, fmt, ap);
    va_end(ap);
    return err;
}

void alloc_str_truncate(alloc_str *s, size_t n)
{
    if (n >= s->len) return;
    s->len = n;
    s->data[n] = '\0';
}

void alloc_str_clear(alloc_str *s) { alloc_str_truncate(s, 0); }

const char *alloc_str_cstr(const alloc_str *s) { return s->cap ? s->data : ""; }

char *alloc_str_to_owned(alloc_str *s, size_t *len_out)
{
    uintptr_t ret_addr = ALLOC_RET_ADDR();
    if (s->cap == 0) {
        char *p = alloc_bytes_at(s->a, 1, 1, ret_addr);
        if (!p) return NULL;
        p[0] = '\0';
        if (len_out) *len_out = 0;
        return p;
    }
    if (s->cap != s->len + 1) {
        void *data = s->data;
        if (alloc_containers_set_cap(s->a, &data, &s->cap, s->len + 1, s->len + 1, 1, 1, ret_addr) != 0)
            return NULL;
        s->data = data;
    }
    char *p = s->data;
    if (len_out) *len_out = s->len;
    s->data = NULL;
    s->len = 0;
    s->cap = 0;
    return p;
}

bool alloc_str_check(const alloc_str *s)
{
    if (!s || !s->a.vtable) return false;
    if ((s->data == NULL) != (s->cap == 0)) return false;
    if (s->cap == 0) return s->len == 0;
    if (s->len >= s->cap || s->cap > ALLOC_MAX_LEN) return false;
    return s->data[s->len] == '\0';
}
