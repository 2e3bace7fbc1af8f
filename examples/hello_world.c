/*
 * hello_world: the global adapter in-process.
 *
 * Linking alloc::global_malloc puts malloc, free, calloc, realloc & co. in
 * the executable itself, so every malloc of the process -- this file's, the
 * C library's (printf's buffers, strdup) -- goes through alloc's adapter.
 * The program allocates through plain malloc, prints the adapter's stats,
 * then installs a free-list heap as the process's malloc from that point on
 * and does it again. Blocks allocated before the switch stay valid and are
 * freed to where they came from.
 */
#define _POSIX_C_SOURCE 200809L
#include <alloc/alloc.h>
#include <alloc/freelist.h>
#include <alloc/global.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_stats(const char *when)
{
    alloc_stats s;
    alloc_global_stats(&s);
    printf("[%s] strategy %-9s  %llu allocations, %llu frees, %zu bytes in use, %zu reserved\n", when,
           alloc_global_strategy_name(), (unsigned long long)s.alloc_count, (unsigned long long)s.free_count,
           s.bytes_in_use, s.bytes_reserved);
}

static int churn(void)
{
    char *words[100];
    for (int i = 0; i < 100; i++) {
        words[i] = malloc(32);
        if (!words[i]) return 1;
        snprintf(words[i], 32, "hello, world #%d", i);
    }
    int ok = strcmp(words[42], "hello, world #42") == 0;
    for (int i = 0; i < 100; i++) free(words[i]);
    return ok ? 0 : 1;
}

int main(void)
{
    char *early = strdup("allocated before the switch");
    if (!early || churn() != 0) return 1;
    print_stats("default");

    alloc_freelist heap;
    if (alloc_freelist_init(&heap, NULL) != 0) return 1;
    /* flags 0: the heap is not thread-safe, so the adapter serialises calls to it. */
    if (alloc_global_install(alloc_freelist_allocator(&heap), 0) != 0) return 1;
    if (churn() != 0) return 1;
    print_stats("freelist");
    alloc_stats hs;
    alloc_freelist_stats(&heap, &hs);
    printf("the free-list heap served %llu of them\n", (unsigned long long)hs.alloc_count);

    printf("%s: still valid\n", early);
    free(early); /* back to the default strategy, which it came from */
    if (!alloc_global_check() || hs.alloc_count < 100) return 1;
    /* The heap stays: blocks the C library allocated through it may still be live. */
    return 0;
}
