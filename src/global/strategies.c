/*
 * strategies.c: the setup of each library strategy the adapter can select
 * (strategies.def lists them). Each setup initialises the strategy's static
 * state and fills in its source; none of the strategies' init functions
 * allocates (they take memory from the page allocator on their first alloc),
 * so a setup is safe inside malloc. A strategy left out of the build has no
 * setup (NULL), and its name is not offered.
 */

#if ALLOC_GLOBAL_HAVE_FREELIST
#include "alloc/freelist.h"
static alloc_freelist freelist_heap;

static bool setup_FREELIST(source *s)
{
    /* Regions of 8 MiB, up to 32 MiB of empty ones kept: blocks of a few
     * MiB are reused rather than mapped and unmapped every time. */
    alloc_freelist_config cfg = {0};
    cfg.region_size = (size_t)8 << 20;
    cfg.retain_bytes = (size_t)32 << 20;
    if (alloc_freelist_init(&freelist_heap, &cfg) != 0) return false;
    s->a = alloc_freelist_allocator(&freelist_heap);
    s->locked = true;
    return true;
}
#else
#define setup_FREELIST NULL
#endif

#if ALLOC_GLOBAL_HAVE_POOLS
#include "alloc/slab.h"
static alloc_slab slab_state;

static bool setup_POOLS(source *s)
{
    if (alloc_slab_init(&slab_state, NULL) != 0) return false;
    s->a = alloc_slab_allocator(&slab_state);
    s->locked = true;
    return true;
}
#else
#define setup_POOLS NULL
#endif

#if ALLOC_GLOBAL_HAVE_ARENA
#include "alloc/arena.h"
static alloc_arena arena_state;

static bool setup_ARENA(source *s)
{
    alloc_arena_options opts = {0};
    opts.first_chunk = (size_t)1 << 20;
    if (alloc_arena_init(&arena_state, &opts) != 0) return false;
    s->a = alloc_arena_allocator(&arena_state);
    s->locked = true;
    return true;
}
#else
#define setup_ARENA NULL
#endif

#if ALLOC_GLOBAL_HAVE_BUMP
#include "alloc/bump.h"
static alloc_bump bump_state;
#define BUMP_RESERVATION ((size_t)4 << 30)

static bool setup_BUMP(source *s)
{
    /* One reservation; pages become real only when touched. */
    void *buf = NULL;
    if (alloc_os_map(BUMP_RESERVATION, alloc_os_page_size(), &buf) != 0) return false;
    if (alloc_bump_init(&bump_state, buf, BUMP_RESERVATION) != 0) {
        (void)alloc_os_unmap(buf, BUMP_RESERVATION);
        return false;
    }
    s->a = alloc_bump_allocator_threadsafe(&bump_state);
    s->locked = false;
    return true;
}
#else
#define setup_BUMP NULL
#endif

static bool (*const strategy_setup[SRC_FIRST_INSTALLED])(source *) = {
#define ALLOC_GLOBAL_STRATEGY(id, nm, folder) [SRC_##id] = setup_##id,
#include "strategies.def"
#undef ALLOC_GLOBAL_STRATEGY
};
