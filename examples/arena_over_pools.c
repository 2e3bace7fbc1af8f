/*
 * arena_over_pools: a per-request arena whose chunks come from size-class
 * pools.
 *
 * A server handles requests; each request allocates freely (strings, vectors,
 * a map) and everything dies when the request ends. The natural allocator is
 * an arena per request: bump allocation, no frees, one deinit at the end.
 * Where do the arena's chunks come from? Each request would otherwise map and
 * unmap its chunks from the OS. Here the arena's backing allocator is a small
 * size-class allocator: three pools of 16 KiB, 64 KiB and 256 KiB chunks
 * (page-aligned), with anything larger going to the page allocator. The
 * arena grows its chunks x4 (16 KiB, 64 KiB, 256 KiB), so every chunk fits a
 * class exactly; ending a request puts its chunks back on the pools' free
 * lists in O(1) each, and the next request takes them again without a
 * system call.
 *
 * The program runs 200 requests and checks that after the first few, the
 * pools stop taking memory from the OS: peak reserved stays flat.
 */
#include <alloc/alloc.h>
#include <alloc/arena.h>
#include <alloc/containers.h>
#include <alloc/page.h>
#include <alloc/pool.h>
#include <stdio.h>
#include <string.h>

/* --- the size-class backing allocator ------------------------------------ */

#define CLASSES 3
#define CLASS_ALIGN 4096

typedef struct size_classes {
    alloc_pool pools[CLASSES];
    size_t sizes[CLASSES];
    allocator large; /* beyond the biggest class */
} size_classes;

/* The class serving len bytes at align, or CLASSES for the large allocator. */
static int class_of(const size_classes *sc, size_t len, size_t align)
{
    if (align > CLASS_ALIGN) return CLASSES;
    for (int i = 0; i < CLASSES; i++)
        if (len <= sc->sizes[i]) return i;
    return CLASSES;
}

static allocator class_handle(size_classes *sc, int c)
{
    return c == CLASSES ? sc->large : alloc_pool_allocator(&sc->pools[c]);
}

/* Every operation goes to the class its (len, align) selects; a resize or
 * remap is allowed only within one class, so free always finds the right
 * pool from the length it is given. */
static void *sc_alloc(void *ctx, size_t len, size_t align, uintptr_t ra)
{
    size_classes *sc = ctx;
    return alloc_bytes_at(class_handle(sc, class_of(sc, len, align)), len, align, ra);
}

static bool sc_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ra)
{
    size_classes *sc = ctx;
    int c = class_of(sc, len, align);
    if (class_of(sc, new_len, align) != c) return false;
    return alloc_resize_at(class_handle(sc, c), mem, len, align, new_len, ra);
}

static void *sc_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ra)
{
    size_classes *sc = ctx;
    int c = class_of(sc, len, align);
    if (class_of(sc, new_len, align) != c) return NULL;
    return alloc_remap_at(class_handle(sc, c), mem, len, align, new_len, ra);
}

static void sc_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ra)
{
    size_classes *sc = ctx;
    alloc_free_at(class_handle(sc, class_of(sc, len, align)), mem, len, align, ra);
}

static const alloc_vtable size_classes_vtable = {sc_alloc, sc_resize, sc_remap, sc_free};

static int size_classes_init(size_classes *sc)
{
    static const size_t sizes[CLASSES] = {16 << 10, 64 << 10, 256 << 10};
    for (int i = 0; i < CLASSES; i++) {
        sc->sizes[i] = sizes[i];
        alloc_pool_config cfg = {.obj_size = sizes[i], .obj_align = CLASS_ALIGN};
        int err = alloc_pool_init(&sc->pools[i], &cfg);
        if (err) return err;
    }
    sc->large = alloc_page_allocator();
    return 0;
}

static void size_classes_reserved(const size_classes *sc, size_t *reserved, uint64_t *allocs)
{
    *reserved = 0;
    *allocs = 0;
    for (int i = 0; i < CLASSES; i++) {
        alloc_stats s;
        alloc_pool_stats(&sc->pools[i], &s);
        *reserved += s.bytes_reserved;
        *allocs += s.alloc_count;
    }
}

/* --- the request handler: ordinary code over a handle -------------------- */

ALLOC_VEC_DEFINE(line_vec, alloc_str)

/* Builds a response of `lines` lines and returns its length, or 0 when out of
 * memory. Nothing is freed: the request's arena goes away as a whole. */
static size_t handle_request(allocator a, unsigned id, unsigned lines)
{
    line_vec out;
    line_vec_init(&out, a);
    alloc_map headers;
    alloc_map_init(&headers, a);
    size_t total = 0;
    for (unsigned i = 0; i < lines; i++) {
        alloc_str *line = line_vec_add(&out);
        if (!line) return 0;
        alloc_str_init(line, a);
        if (alloc_str_appendf(line, "request %u line %u: %0*u", id, i, (int)(i % 200), i) != 0) return 0;
        char key[32];
        snprintf(key, sizeof key, "x-line-%u", i % 64);
        uint64_t *count = alloc_map_upsert(&headers, key, strlen(key), NULL, NULL);
        if (!count) return 0;
        ++*count;
        total += line->len;
    }
    return total + headers.len;
}

int main(void)
{
    size_classes sc;
    if (size_classes_init(&sc) != 0) return 1;
    allocator backing = {&sc, &size_classes_vtable};

    size_t reserved_after_warmup = 0;
    for (unsigned id = 0; id < 200; id++) {
        alloc_arena arena;
        alloc_arena_options opt = {.backing = backing,
                                   .first_chunk = 16 << 10,
                                   .growth_percent = 400,
                                   .max_chunk = 256 << 10,
                                   .large_threshold = 64 << 10};
        if (alloc_arena_init(&arena, &opt) != 0) return 1;
        unsigned lines = 100 + (id * 37) % 900; /* requests of varied size */
        if (handle_request(alloc_arena_allocator(&arena), id, lines) == 0) return 1;
        if (!alloc_arena_check(&arena)) return 1;
        alloc_arena_info info;
        alloc_arena_get_info(&arena, &info);
        if (id % 50 == 0)
            printf("request %3u: %4u lines, %zu chunk(s) + %zu large, %7zu bytes of chunks\n", id, lines,
                   info.chunks, info.large_chunks, info.bytes_reserved);
        alloc_arena_deinit(&arena); /* chunks back to the pools: O(1) each */

        for (int i = 0; i < CLASSES; i++)
            if (!alloc_pool_check(&sc.pools[i])) return 1;
        if (id == 49) {
            uint64_t allocs;
            size_classes_reserved(&sc, &reserved_after_warmup, &allocs);
        }
    }
    size_t reserved;
    uint64_t chunk_allocs;
    size_classes_reserved(&sc, &reserved, &chunk_allocs);
    printf("200 requests took %llu chunks from the pools; the pools hold %zu bytes (%zu after 50 requests)\n",
           (unsigned long long)chunk_allocs, reserved, reserved_after_warmup);
    int ok = reserved == reserved_after_warmup && chunk_allocs >= 200;
    for (int i = 0; i < CLASSES; i++) alloc_pool_deinit(&sc.pools[i]);
    return ok ? 0 : 1;
}
