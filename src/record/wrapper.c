/*
 * wrapper.c: the tracing wrapper (alloc_record_wrap, alloc/record.h).
 *
 * Records each handle call of the wrapped allocator into a recorder and
 * passes it on, so that what a library does with a handle can be replayed
 * against every strategy like a program's malloc calls. The order of the two
 * steps matters as it does for malloc: a free is recorded before it reaches
 * the inner allocator (afterwards the address may already belong to another
 * thread's block), everything else after, when its result is known.
 * Cost: the recorder's, O(1) amortised per call, no allocation.
 */
#include "alloc/record.h"

static void *wrap_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_record_wrapper *w = (alloc_record_wrapper *)ctx;
    void *p = w->inner.vtable->alloc(w->inner.ctx, len, align, ret_addr);
    alloc_record_alloc(w->rec, p, len, align, ALLOC_RECORD_KIND_ALIGNED);
    return p;
}

static bool wrap_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_record_wrapper *w = (alloc_record_wrapper *)ctx;
    bool ok = w->inner.vtable->resize(w->inner.ctx, mem, len, align, new_len, ret_addr);
    if (ok) alloc_record_resize(w->rec, mem, new_len);
    return ok;
}

static void *wrap_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_record_wrapper *w = (alloc_record_wrapper *)ctx;
    void *p = w->inner.vtable->remap(w->inner.ctx, mem, len, align, new_len, ret_addr);
    if (p) alloc_record_realloc(w->rec, mem, p, new_len);
    return p;
}

static void wrap_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_record_wrapper *w = (alloc_record_wrapper *)ctx;
    alloc_record_free(w->rec, mem);
    w->inner.vtable->free(w->inner.ctx, mem, len, align, ret_addr);
}

static const alloc_vtable wrap_vtable = {wrap_alloc, wrap_resize, wrap_remap, wrap_free};

allocator alloc_record_wrap(alloc_record_wrapper *w, allocator inner, alloc_recorder *rec)
{
    w->inner = inner;
    w->rec = rec;
    return (allocator){w, &wrap_vtable};
}
