/*
 * scratch_savepoints: temporary memory released in LIFO slices.
 *
 * A bump allocator over one buffer serves as scratch space. A function that
 * needs temporaries takes a savepoint (alloc_bump_save), allocates freely --
 * here through containers, which only see an `allocator` -- and rolls back
 * to the savepoint when it is done: everything allocated after the mark is
 * released in O(1), however many allocations there were, and nothing has to
 * be freed one by one. Nested savepoints give nested lifetimes (a frame per
 * call level), like a second stack.
 *
 * The arena offers the same savepoints over chunks that grow, for scratch
 * space whose size is not known in advance: a rollback also gives back the
 * chunks taken after the savepoint (keeping one as a spare).
 */
#include <alloc/alloc.h>
#include <alloc/arena.h>
#include <alloc/bump.h>
#include <alloc/containers.h>
#include <stdio.h>
#include <string.h>

ALLOC_VEC_DEFINE(u32_vec, uint32_t)

/* Sum of the decimal digits of every number below n, computed with
 * needlessly many temporaries, all on the scratch allocator. */
static int digit_sum(alloc_bump *scratch, uint32_t n, uint64_t *out)
{
    alloc_bump_mark mark = alloc_bump_save(scratch);
    allocator a = alloc_bump_allocator(scratch);
    u32_vec digits;
    u32_vec_init(&digits, a);
    alloc_str text;
    alloc_str_init(&text, a);
    int err = 0;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n && !err; i++) {
        alloc_str_clear(&text);
        err = alloc_str_appendf(&text, "%u", i);
        for (size_t k = 0; k < text.len && !err; k++) err = u32_vec_push(&digits, (uint32_t)(text.data[k] - '0'));
    }
    for (size_t k = 0; k < digits.len; k++) sum += digits.items[k];
    *out = sum;
    /* No deinit of digits or text: the rollback releases them with everything else. */
    alloc_bump_rollback(scratch, mark);
    return err;
}

int main(void)
{
    static _Alignas(16) unsigned char buffer[1 << 20];
    alloc_bump scratch;
    if (alloc_bump_init(&scratch, buffer, sizeof buffer) != 0) return 1;

    /* A long-lived object allocated before the frames stays valid throughout. */
    allocator a = alloc_bump_allocator(&scratch);
    char *title = alloc_strdup(a, "digit sums");
    if (!title) return 1;
    size_t base_used = alloc_bump_used(&scratch);

    uint64_t expected[] = {45, 900, 13500}; /* below 10, 100, 1000 */
    uint32_t limits[] = {10, 100, 1000};
    for (int i = 0; i < 3; i++) {
        uint64_t sum;
        if (digit_sum(&scratch, limits[i], &sum) != 0) return 1;
        printf("%s below %4u: %6llu (scratch in use after the frame: %zu bytes)\n", title, limits[i],
               (unsigned long long)sum, alloc_bump_used(&scratch));
        if (sum != expected[i] || alloc_bump_used(&scratch) != base_used) return 1;
        if (!alloc_bump_check(&scratch)) return 1;
    }

    /* Nested frames: the inner rollback keeps the outer frame's allocations. */
    alloc_bump_mark outer = alloc_bump_save(&scratch);
    char *kept = alloc_strdup(a, "outer frame");
    alloc_bump_mark inner = alloc_bump_save(&scratch);
    char *gone = alloc_strdup(a, "inner frame");
    if (!kept || !gone) return 1;
    alloc_bump_rollback(&scratch, inner);
    printf("after the inner rollback: \"%s\" still valid\n", kept);
    alloc_bump_rollback(&scratch, outer);

    alloc_stats s;
    alloc_bump_stats(&scratch, &s);
    printf("%llu allocations served, peak %zu bytes, %zu bytes in use at the end\n",
           (unsigned long long)s.alloc_count, s.peak_bytes_in_use, s.bytes_in_use);
    int ok = alloc_bump_check(&scratch) && strcmp(title, "digit sums") == 0;
    alloc_bump_deinit(&scratch);
    if (!ok) return 1;

    /* The same frame over an arena: 1 MiB of temporaries from 16 KiB chunks. */
    alloc_arena arena;
    if (alloc_arena_init(&arena, NULL) != 0) return 1;
    allocator aa = alloc_arena_allocator(&arena);
    alloc_arena_mark frame = alloc_arena_save(&arena);
    for (int i = 0; i < 256; i++)
        if (!alloc_bytes(aa, 4096, 16)) return 1;
    alloc_arena_info info;
    alloc_arena_get_info(&arena, &info);
    printf("arena frame: %zu chunks, %zu bytes held\n", info.chunks, info.bytes_reserved);
    if (alloc_arena_rollback(&arena, frame) != 0) return 1;
    alloc_arena_get_info(&arena, &info);
    printf("after rollback: %zu chunk(s) + %zu spare, %zu bytes held\n", info.chunks, info.spare_chunks,
           info.bytes_reserved);
    ok = alloc_arena_check(&arena) && info.bytes_reserved < ((size_t)1 << 20);
    alloc_arena_deinit(&arena);
    return ok ? 0 : 1;
}
