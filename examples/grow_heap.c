/*
 * grow_heap: the page provider underneath, and a free-list heap that grows
 * region by region from it and shrinks back.
 *
 * Part 1 talks to the page provider directly (alloc/os.h): map with a large
 * alignment, grow the mapping in place or by moving page-table entries
 * (mremap: no bytes copied), tell the kernel the pages are unused (purge),
 * unmap. Every call returns 0 or a negative errno value.
 *
 * Part 2 gives a TLSF heap small regions (64 KiB) so it has to grow: each
 * time no free block fits, it takes one more region from its backing
 * allocator (the page allocator). Freeing everything leaves empty regions,
 * which the heap keeps up to retain_bytes and alloc_freelist_trim gives back.
 */
#include <alloc/alloc.h>
#include <alloc/freelist.h>
#include <alloc/os.h>
#include <alloc/page.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "grow_heap: %s failed (line %d)\n", #cond, __LINE__); \
            return 1;                                                      \
        }                                                                  \
    } while (0)

static int page_provider(void)
{
    size_t page = alloc_os_page_size();
    printf("page provider: back end %s, page size %zu\n", alloc_os_backend_name(), page);

    void *p = NULL;
    CHECK(alloc_os_map((size_t)1 << 20, (size_t)2 << 20, &p) == 0); /* 1 MiB aligned to 2 MiB */
    CHECK(((uintptr_t)p & (((size_t)2 << 20) - 1)) == 0);
    memset(p, 0x5a, (size_t)1 << 20);

    void *q = NULL;
    CHECK(alloc_os_remap(p, (size_t)1 << 20, (size_t)8 << 20, true, &q) == 0); /* grow to 8 MiB */
    CHECK(((unsigned char *)q)[12345] == 0x5a);                                /* contents kept */
    printf("  mapped 1 MiB at %p (2 MiB aligned), grew to 8 MiB at %p %s\n", p, q,
           p == q ? "in place" : "by moving page tables, no copy");

    CHECK(alloc_os_purge(q, (size_t)8 << 20, false) == 0);
    CHECK(((unsigned char *)q)[12345] == 0); /* DONTNEED: next read sees zeros */
    CHECK(alloc_os_unmap(q, (size_t)8 << 20) == 0);
    CHECK(alloc_os_map(0, 0, &p) == -22); /* -EINVAL: len 0; p untouched */
    return 0;
}

static int growing_heap(void)
{
    alloc_freelist heap;
    alloc_freelist_config cfg = {.region_size = (size_t)64 << 10, .retain_bytes = (size_t)64 << 10};
    CHECK(alloc_freelist_init(&heap, &cfg) == 0);
    allocator a = alloc_freelist_allocator(&heap);

    enum { N = 400 };
    static void *blocks[N];
    static size_t lens[N];
    size_t regions = 0;
    alloc_freelist_info info;
    for (size_t i = 0; i < N; i++) {
        lens[i] = 64 + (i * 37) % 2000;
        blocks[i] = alloc_bytes(a, lens[i], 16);
        CHECK(blocks[i] != NULL);
        alloc_freelist_heap_info(&heap, &info);
        if (info.region_count != regions) {
            regions = info.region_count;
            printf("  after %3zu blocks: %zu region(s), %7zu bytes reserved, %7zu in use\n", i + 1, regions,
                   info.base.bytes_reserved, info.base.bytes_in_use);
        }
        CHECK(alloc_freelist_check(&heap));
    }
    CHECK(regions > 3); /* 64 KiB regions cannot hold ~400 KiB of blocks */

    for (size_t i = 0; i < N; i++) {
        alloc_free(a, blocks[i], lens[i], 16);
        CHECK(alloc_freelist_check(&heap));
    }
    alloc_freelist_heap_info(&heap, &info);
    printf("  all freed: %zu region(s) kept (retain_bytes), %zu bytes reserved\n", info.region_count,
           info.base.bytes_reserved);
    size_t given_back = alloc_freelist_trim(&heap);
    alloc_freelist_heap_info(&heap, &info);
    printf("  trim gave back %zu bytes; %zu bytes reserved now\n", given_back, info.base.bytes_reserved);
    CHECK(info.base.bytes_reserved == 0 && info.base.bytes_in_use == 0);
    CHECK(alloc_freelist_check(&heap));
    alloc_freelist_deinit(&heap);
    return 0;
}

int main(void)
{
    if (page_provider() != 0) return 1;
    puts("free-list heap over 64 KiB regions:");
    return growing_heap();
}
