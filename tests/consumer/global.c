/* Consumer of the installed global adapter: malloc itself is alloc's here. */
#include <alloc/global.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    alloc_stats before, after;
    alloc_global_stats(&before);
    void *p = malloc(100);
    alloc_global_stats(&after);
    printf("malloc served by alloc's %s strategy\n", alloc_global_strategy_name());
    int ok = p != NULL && after.alloc_count > before.alloc_count && alloc_global_usable_size(p) >= 100;
    free(p);
    return ok ? 0 : 1;
}
