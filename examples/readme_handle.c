/* The README's example: a library function that allocates through whatever
 * handle it is given. Kept identical to the README so the README compiles. */
#include <alloc/alloc.h>
#include <alloc/page.h>
#include <stdio.h>
#include <string.h>

/* A library function: it allocates through whatever handle it is given. */
static char *join_words(allocator a, const char *const *words, size_t n, size_t *len_out)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(words[i]) + 1;
    char *out = alloc_array(a, len, 1, 1);
    if (!out) return NULL;               /* out of memory is an error, not an abort */
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) strcat(strcat(out, words[i]), " ");
    *len_out = len;
    return out;
}

int main(void)
{
    const char *words[] = {"one", "interface,", "any", "strategy"};
    allocator a = alloc_page_allocator();  /* or an arena, a pool, a free list... */
    size_t len;
    char *s = join_words(a, words, 4, &len);
    if (!s) return 1;
    puts(s);
    alloc_free(a, s, len, 1);            /* len and align as allocated */
    return 0;
}
