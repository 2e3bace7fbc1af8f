/*
 * global.c: the global adapter's engine (the malloc family over any
 * allocator), built as one translation unit from its parts.
 *
 * The parts, in the order they build on each other:
 *   engine.h    types, constants, the block header, counters, glossary
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
 * The shape of a request: malloc(n) asks the calling thread's cache for a
 * block of n's size class (tcache.c) and flips the block's freed header back
 * to live (entry.c); a miss refills the cache from the class's central list
 * or a new span (classes.c). A request too big for the classes, or any
 * request while another strategy is selected or a handle installed, is a
 * direct block from a source (sources.c). free(p) verifies p's header, then
 * pushes a class block onto the cache or hands a direct block to its source.
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
