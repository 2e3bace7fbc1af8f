/*
 * global.c: the global adapter's engine (the malloc family over any
 * allocator), built as one translation unit from its parts.
 *
 * The parts, in the order they build on each other:
 *   engine.h    types, constants, the direct block header, counters, glossary
 *   pageheap.c  spans, the page map, the page heap shared by all, purging
 *   classes.c   size classes and their central lists of spans
 *   tcache.c    thread caches, their registry, thread exit and dead threads
 *   strategies.c  the setup of each strategy in strategies.def
 *   sources.c   direct blocks and the allocators they come from; selection
 *   stats.c     statistics, the invariant check, the ALLOC_STATS report
 *   init.c      lazy initialisation, environment options, fork
 *   entry.c     malloc, free, realloc, ... and the adapter as a handle
 *
 * One translation unit, so that malloc_names.c (which includes this file)
 * inlines the fast paths of malloc and free, as mimalloc's static build does
 * with its own files. Each part opens with an essay on its design.
 *
 * The shape of a request: malloc(n) pops a block of n's size class off the
 * calling thread's cache and clears its freed tag (entry.c, tcache.c); a miss
 * refills the cache from the class's central list or a new span (classes.c).
 * A request too big for the classes, or any request while another strategy
 * is selected or a handle installed, is a direct block from a source, with a
 * header (sources.c). free(p) looks p's span up in the page map: a class
 * span's block is checked against the span and its tag, then pushed onto the
 * cache; anything else must carry a valid header and goes to its source.
 */
#include "engine.h"

#include "pageheap.c"
#include "classes.c"
#include "tcache.c"
#include "strategies.c"
#include "sources.c"
#include "stats.c"
#include "init.c"
#include "entry.c"
