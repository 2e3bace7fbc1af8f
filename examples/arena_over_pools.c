/*
 * arena_over_pools: a per-request arena whose chunks come from size-class
 * pools.
 *
 * A server handles requests; each request allocates freely (strings, vectors,
 * a map) and everything dies when the request ends. The natural allocator is
 * an arena per request: bump allocation, no frees, one deinit at the end.
 * Where do the arena's chunks come from? Straight from the OS, every request
 * would map and unmap its chunks. Here the arena's backing allocator is the
 * slab allocator (alloc/slab.h): pools of fixed-size slots per size class,
 * carved from 256 KiB slabs. The arena's chunks (8, 16 and 32 KiB) are slab
 * classes, so ending a request pushes its chunks back on their class's free
 * list in O(1) each, and the next request pops them again without a system
 * call. Requests too big for a shared chunk get a chunk of their own, which
 * the slab allocator passes to its fallback (the page allocator) when it is
 * above its largest class.
 *
 * The program runs 200 requests of varied size and checks that after the
 * first 50, the slabs stop growing: the memory held stays flat.
 */
#include <alloc/alloc.h>
#include <alloc/arena.h>
#include <alloc/containers.h>
#include <alloc/slab.h>
#include <stdio.h>
#include <string.h>

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
    alloc_slab classes;
    if (alloc_slab_init(&classes, NULL) != 0) return 1; /* 40 classes up to 32 KiB, page fallback */
    allocator backing = alloc_slab_allocator(&classes);
    const alloc_arena_options opt = {.backing = backing,
                                     .first_chunk = 8 << 10,
                                     .growth_percent = 200,
                                     .max_chunk = 32 << 10,
                                     .large_threshold = 16 << 10};

    size_t reserved_after_warmup = 0;
    for (unsigned id = 0; id < 200; id++) {
        alloc_arena arena;
        if (alloc_arena_init(&arena, &opt) != 0) return 1;
        unsigned lines = 100 + (id * 37) % 900; /* requests of varied size */
        if (handle_request(alloc_arena_allocator(&arena), id, lines) == 0) return 1;
        if (!alloc_arena_check(&arena)) return 1;
        alloc_arena_info info;
        alloc_arena_get_info(&arena, &info);
        if (id % 50 == 0)
            printf("request %3u: %4u lines, %2zu chunk(s) + %zu large, %7zu bytes of chunks\n", id, lines,
                   info.chunks, info.large_chunks, info.bytes_reserved);
        alloc_arena_deinit(&arena); /* chunks back to their size classes: O(1) each */
        if (!alloc_slab_check(&classes)) return 1;

        alloc_stats s;
        alloc_slab_stats(&classes, &s);
        if (s.bytes_in_use != 0) return 1; /* every chunk came back */
        if (id == 49) reserved_after_warmup = s.bytes_reserved;
    }
    alloc_stats s;
    alloc_slab_stats(&classes, &s);
    printf("200 requests: %llu chunks taken from the size classes, %llu given back; "
           "the slabs hold %zu bytes (%zu after 50 requests)\n",
           (unsigned long long)s.alloc_count, (unsigned long long)s.free_count, s.bytes_reserved,
           reserved_after_warmup);
    int ok = s.bytes_reserved == reserved_after_warmup && s.alloc_count >= 200 && s.alloc_count == s.free_count;
    alloc_slab_deinit(&classes);
    return ok ? 0 : 1;
}
