/*
 * stats.c: statistics, the invariant check, and the ALLOC_STATS report.
 *
 * Statistics live in each thread's record (plain stores by the owner, read by
 * anyone with relaxed atomics; the fast paths count per cache bin, and a
 * bin's bytes are its counts times its class size), in `retired` for records
 * whose threads ended, and in `shared_counters` for threads without a record.
 * A sum walks the registry under registry_lock: O(records x classes).
 *
 * The peak of bytes in use is raised at every stats read, every span refill
 * (a full sum) and every direct block (their own total is exact and kept
 * apart, so a 100 MiB block raises the peak by exactly its size; the classes'
 * part is the one of the last full sum).
 */

static void add_counters(alloc_stats *s, size_t *add, size_t *sub, counters *c)
{
    s->alloc_count += atomic_load_explicit(&c->allocs, memory_order_relaxed);
    s->free_count += atomic_load_explicit(&c->frees, memory_order_relaxed);
    s->failed_count += atomic_load_explicit(&c->failed, memory_order_relaxed);
    s->misuse_count += atomic_load_explicit(&c->misuse, memory_order_relaxed);
    s->resize_count += atomic_load_explicit(&c->resizes, memory_order_relaxed);
    s->remap_count += atomic_load_explicit(&c->remaps, memory_order_relaxed);
    *add += atomic_load_explicit(&c->in_use_add, memory_order_relaxed);
    *sub += atomic_load_explicit(&c->in_use_sub, memory_order_relaxed);
}

/* Sums every counter into *s; returns bytes in use (clamped at 0). */
static size_t sum_counters(alloc_stats *s)
{
    size_t add = 0, sub = 0;
    engine_lock(&registry_lock);
    for (tcache *t = records_all; t; t = t->next_all) {
        add_counters(s, &add, &sub, &t->c);
        for (unsigned cls = 0; cls < NCLASS; cls++) {
            uint64_t a = atomic_load_explicit(&t->bins[cls].allocs, memory_order_relaxed);
            uint64_t f = atomic_load_explicit(&t->bins[cls].frees, memory_order_relaxed);
            s->alloc_count += a;
            s->free_count += f;
            add += (size_t)a * class_size(cls);
            sub += (size_t)f * class_size(cls);
        }
    }
    add_counters(s, &add, &sub, &retired);
    add_counters(s, &add, &sub, &shared_counters);
    engine_unlock(&registry_lock);
    /* Frees counted before the matching alloc was read can make this dip below
     * zero for a moment under concurrency: clamp. */
    size_t in_use = add >= sub ? add - sub : 0;
    size_t direct = atomic_load_explicit(&direct_in_use, memory_order_relaxed);
    atomic_store_explicit(&class_in_use_seen, in_use >= direct ? in_use - direct : 0, memory_order_relaxed);
    return in_use;
}

static size_t sum_in_use(void)
{
    alloc_stats s = {0};
    return sum_counters(&s);
}

/* The in-use total at a rare moment (a new span), for peak_bytes_in_use. */
static void sample_peak_in_use(void) { raise_peak(&peak_in_use, sum_in_use()); }

void alloc_global_stats(alloc_stats *out)
{
    ensure_init();
    alloc_stats s = {0};
    s.bytes_in_use = sum_counters(&s);
    if (s.free_count > s.alloc_count) s.free_count = s.alloc_count;
    raise_peak(&peak_in_use, s.bytes_in_use);
    s.peak_bytes_in_use = atomic_load(&peak_in_use);
    s.bytes_reserved = atomic_load(&bytes_reserved) + atomic_load(&direct_bytes);
    raise_peak(&peak_reserved, s.bytes_reserved);
    s.peak_bytes_reserved = atomic_load(&peak_reserved);
    *out = s;
}

bool alloc_global_check(void)
{
    ensure_init();
    bool ok = registry_check() && heap_check();
    for (unsigned cls = 0; cls < NCLASS && ok; cls++) ok = central_check(cls) && cache_check(cls);
    alloc_stats s;
    alloc_global_stats(&s);
    return ok && alloc_stats_consistent(&s);
}

/* The program's name for the report, without allocating. */
extern char *program_invocation_short_name;

void alloc_global_print_stats(int fd)
{
    alloc_stats s;
    alloc_global_stats(&s);
    const char *prog = program_invocation_short_name ? program_invocation_short_name : "?";
    char buf[1024];
    size_t n = alloc_format(buf, sizeof buf,
                            "alloc[%d %s]: strategy %s: in use %zu B (peak %zu), reserved %zu B (peak %zu), "
                            "allocs %llu, frees %llu, remaps %llu, failed %llu, misuse %llu\n",
                            (int)getpid(), prog, sources[atomic_load(&active_source)].name, s.bytes_in_use,
                            s.peak_bytes_in_use, s.bytes_reserved, s.peak_bytes_reserved,
                            (unsigned long long)s.alloc_count, (unsigned long long)s.free_count,
                            (unsigned long long)s.remap_count, (unsigned long long)s.failed_count,
                            (unsigned long long)s.misuse_count);
    if (n >= sizeof buf) n = sizeof buf - 1;
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        n -= (size_t)w;
    }
}

size_t alloc_global_trim(void)
{
    ensure_init();
    cache_flush_all();
    classes_release_empty();
    return heap_trim();
}

void alloc_global_info(alloc_global_heap_info *out)
{
    ensure_init();
    alloc_stats s;
    alloc_global_stats(&s);
    size_t mapped, free_bytes, dirty, free_spans;
    heap_counts(&mapped, &free_bytes, &dirty, &free_spans);
    out->heap_mapped = mapped;
    out->heap_free = free_bytes;
    out->heap_dirty = dirty;
    out->heap_free_spans = free_spans;
    out->mapped_blocks = (size_t)atomic_load(&page_blocks);
    out->mapped_block_bytes = atomic_load(&direct_bytes);
    out->in_use = s.bytes_in_use;
    size_t mapped_in_use = atomic_load(&page_in_use);
    out->mapped_block_in_use = mapped_in_use < s.bytes_in_use ? mapped_in_use : s.bytes_in_use;
    out->purged = (size_t)atomic_load(&heap_purged_bytes);
    out->purge_failures = (size_t)atomic_load(&heap_purge_failures);
}
