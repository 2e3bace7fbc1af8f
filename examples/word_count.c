/*
 * word_count: a library function that takes an allocator handle, run over
 * three different strategies.
 *
 * word_report() counts the words of a text with the containers (a map from
 * word to count, a vector of entries to sort, a string builder for the
 * report). It never names a strategy: the caller decides where its memory
 * comes from. main() runs it over
 *   - the page allocator (every buffer its own mapping; growth by mremap),
 *   - a TLSF free-list heap (general purpose, reuses freed blocks),
 *   - a bump allocator over a buffer on the stack (no free at all until the
 *     end: the fastest, and everything goes away at once),
 * checks that the three reports agree, and prints what each strategy saw.
 */
#include <alloc/alloc.h>
#include <alloc/bump.h>
#include <alloc/containers.h>
#include <alloc/freelist.h>
#include <alloc/page.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct word_entry {
    const char *word;
    size_t len;
    uint64_t count;
} word_entry;

ALLOC_VEC_DEFINE(entry_vec, word_entry)

static int by_count_then_word(const void *pa, const void *pb)
{
    const word_entry *a = pa, *b = pb;
    if (a->count != b->count) return a->count < b->count ? 1 : -1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->word, b->word, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/*
 * The library function. Appends the `top` most frequent words of text (case
 * folded) to report, one "word count" per line. Returns 0, or a negative
 * errno value (-ENOMEM) if the allocator ran out; report then holds what it
 * held before or a partial report, and nothing leaks.
 */
static int word_report(allocator a, const char *text, size_t top, alloc_str *report)
{
    alloc_map counts;
    alloc_map_init(&counts, a);
    alloc_str word;
    alloc_str_init(&word, a);
    entry_vec entries;
    entry_vec_init(&entries, a);
    int err = 0;

    for (const char *p = text;; p++) {
        if (isalpha((unsigned char)*p) || *p == '\'') {
            if ((err = alloc_str_push(&word, (char)tolower((unsigned char)*p))) != 0) goto out;
            continue;
        }
        if (word.len) {
            uint64_t *count = alloc_map_upsert(&counts, word.data, word.len, NULL, &err);
            if (!count) goto out;
            ++*count;
            alloc_str_clear(&word);
        }
        if (!*p) break;
    }

    if ((err = entry_vec_reserve(&entries, counts.len)) != 0) goto out;
    size_t pos = 0;
    for (const alloc_map_slot *s; (s = alloc_map_next(&counts, &pos)) != NULL;)
        entry_vec_push(&entries, (word_entry){s->key, s->key_len, s->value}); /* room reserved */
    qsort(entries.items, entries.len, sizeof(word_entry), by_count_then_word);
    for (size_t i = 0; i < entries.len && i < top; i++) {
        const word_entry *e = &entries.items[i];
        err = alloc_str_appendf(report, "%.*s %llu\n", (int)e->len, e->word, (unsigned long long)e->count);
        if (err) goto out;
    }
out:
    /* Give back in reverse order of first allocation: the nearest to LIFO, which
     * lets a bump allocator reclaim what it can. */
    entry_vec_deinit(&entries);
    alloc_str_deinit(&word);
    alloc_map_deinit(&counts);
    return err;
}

static const char text[] =
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
    "incredulity, it was the season of Light, it was the season of Darkness, it was "
    "the spring of hope, it was the winter of despair, we had everything before us, "
    "we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way.";

static void print_stats(const char *name, const alloc_stats *s)
{
    printf("%-10s allocs %4llu  frees %4llu  resizes %3llu  remaps %3llu  peak in use %6zu B  peak reserved %7zu B\n",
           name, (unsigned long long)s->alloc_count, (unsigned long long)s->free_count,
           (unsigned long long)s->resize_count, (unsigned long long)s->remap_count, s->peak_bytes_in_use,
           s->peak_bytes_reserved);
}

int main(void)
{
    /* 1. The page allocator. Its stats are process-wide, so take a difference. */
    alloc_str page_report;
    alloc_str_init(&page_report, alloc_page_allocator());
    alloc_stats before, after;
    alloc_page_stats(&before);
    if (word_report(alloc_page_allocator(), text, 5, &page_report) != 0) return 1;
    alloc_page_stats(&after);
    after.alloc_count -= before.alloc_count;
    after.free_count -= before.free_count;
    after.resize_count -= before.resize_count;
    after.remap_count -= before.remap_count;

    /* 2. A TLSF free-list heap that grows from the page allocator. */
    alloc_freelist heap;
    if (alloc_freelist_init(&heap, NULL) != 0) return 1;
    alloc_str heap_report;
    alloc_str_init(&heap_report, alloc_freelist_allocator(&heap));
    if (word_report(alloc_freelist_allocator(&heap), text, 5, &heap_report) != 0) return 1;
    if (!alloc_freelist_check(&heap)) return 1;

    /* 3. A bump allocator over 16 KiB of stack. */
    _Alignas(16) unsigned char buf[16 << 10];
    alloc_bump bump;
    if (alloc_bump_init(&bump, buf, sizeof buf) != 0) return 1;
    alloc_str bump_report;
    alloc_str_init(&bump_report, alloc_bump_allocator(&bump));
    if (word_report(alloc_bump_allocator(&bump), text, 5, &bump_report) != 0) return 1;
    if (!alloc_bump_check(&bump)) return 1;

    fputs(alloc_str_cstr(&page_report), stdout);
    int same = strcmp(alloc_str_cstr(&page_report), alloc_str_cstr(&heap_report)) == 0 &&
               strcmp(alloc_str_cstr(&page_report), alloc_str_cstr(&bump_report)) == 0;
    printf("three strategies, %s reports\n", same ? "identical" : "DIFFERENT");
    /* "the" 11 times; "it", "of" and "was" 10 times each (ties sorted by word). */
    int ok = same && strncmp(alloc_str_cstr(&page_report), "the 11\nit 10\nof 10\nwas 10\n", 26) == 0;

    print_stats("page", &after); /* counts of this run; peaks are process-wide */
    alloc_stats s;
    alloc_freelist_stats(&heap, &s);
    print_stats("freelist", &s);
    alloc_bump_stats(&bump, &s);
    print_stats("bump", &s);

    alloc_str_deinit(&bump_report);
    alloc_bump_deinit(&bump);
    alloc_str_deinit(&heap_report);
    alloc_freelist_deinit(&heap);
    alloc_str_deinit(&page_report);
    return ok ? 0 : 1;
}
