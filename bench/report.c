/*
 * report.c: medians, ratios, the targets, and the files of a run.
 */
#define _GNU_SOURCE 1
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int report_workload_index(const char *name)
{
    for (int w = 0; w < WL_COUNT; w++)
        if (strcmp(bench_workloads[w].name, name) == 0) return w;
    return -1;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof v[0], compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void report_summarise(report_result *r)
{
    if (r->status != REPORT_OK || r->nsamples == 0) return;
    double v[REPORT_MAX_SAMPLES] = {0};
    int n = r->nsamples;
    for (int i = 0; i < n; i++) v[i] = r->samples[i].ops ? r->samples[i].ns / (double)r->samples[i].ops : 0;
    r->median_ns = median(v, n);
    r->min_ns = v[0];
    r->max_ns = v[n - 1];
    for (int i = 0; i < n; i++) v[i] = r->samples[i].rss_peak;
    r->rss_peak = median(v, n);
    for (int i = 0; i < n; i++) v[i] = r->samples[i].live_peak;
    r->live = median(v, n);
    for (int i = 0; i < n; i++)
        v[i] = r->samples[i].live_peak > 0 ? r->samples[i].rss_peak / r->samples[i].live_peak : 0;
    r->rss_per_live = median(v, n);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < n; i++) v[i] = r->samples[i].lat[k];
        r->lat[k] = median(v, n);
    }
    r->lat[3] = 0;
    for (int i = 0; i < n; i++)
        if (r->samples[i].lat[3] > r->lat[3]) r->lat[3] = r->samples[i].lat[3];
    for (int i = 0; i < n; i++) v[i] = r->samples[i].timer_ns;
    r->timer_ns = median(v, n);
    if (r->instructions > 0 && r->samples[0].ops) r->instr_per_op = r->instructions / (double)r->samples[0].ops;
}

/* The figure compared across contenders: ns/op, or instructions/op under callgrind. */
static double metric(const report_run *run, const report_result *r)
{
    if (!r || r->status != REPORT_OK) return 0;
    return run->callgrind ? r->instr_per_op : r->median_ns;
}

static const report_result *find(const report_run *run, const char *contender, int w)
{
    for (size_t i = 0; i < run->count; i++)
        if (run->results[i].workload == w && strcmp(run->results[i].contender->name, contender) == 0)
            return &run->results[i];
    return NULL;
}

void report_ratios(report_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        report_result *r = &run->results[i];
        double m = metric(run, r);
        if (m <= 0) continue;
        double je = metric(run, find(run, "jemalloc", r->workload));
        double gl = metric(run, find(run, "glibc", r->workload));
        r->vs_jemalloc = je > 0 ? je / m : 0;
        r->vs_glibc = gl > 0 ? gl / m : 0;
    }
}

double report_callgrind_total(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[512];
    double total = 0;
    while (fgets(line, sizeof line, f)) {
        /* "totals:" is written after the events; "summary:" by older versions. */
        if (strncmp(line, "totals:", 7) == 0 || strncmp(line, "summary:", 8) == 0) {
            total = strtod(strchr(line, ':') + 1, NULL);
        }
    }
    fclose(f);
    return total;
}

/* --- the targets ------------------------------------------------------------ */

typedef struct target {
    const char *contender;
    int workload;
    const char *baseline; /* "jemalloc" or "glibc"; NULL for the memory target */
    double min_speedup;   /* baseline time / contender time at least this */
    double max_rss;       /* or: RSS / live at most this */
    const char *text;
} target;

static const target targets[] = {
    {"pool", WL_PAIRED, "jemalloc", 2.0, 0, "pool alloc+free via handle at least 2x faster than jemalloc on paired"},
    {"bump", WL_BATCH_FREEALL, "jemalloc", 5.0, 0, "bump at least 5x faster than jemalloc on batch with free-all"},
    {"arena", WL_BATCH_FREEALL, "jemalloc", 5.0, 0, "arena at least 5x faster than jemalloc on batch with free-all"},
    {"stack", WL_LIFO, "jemalloc", 2.0, 0, "stack at least 2x faster than jemalloc on lifo"},
    {"freelist", WL_CHURN_4K, "glibc", 1.0, 0, "free list no slower than glibc on churn-4k"},
    {"freelist", WL_CHURN_64K, "glibc", 1.0, 0, "free list no slower than glibc on churn-64k"},
    {"freelist", WL_CHURN_4K, "jemalloc", 1.0 / 1.3, 0, "free list within 1.3x of jemalloc on churn-4k"},
    {"freelist", WL_CHURN_64K, "jemalloc", 1.0 / 1.3, 0, "free list within 1.3x of jemalloc on churn-64k"},
    {"freelist", WL_CHURN_4K, NULL, 0, 1.15, "free list RSS/live at most 1.15 on churn-4k"},
    {"freelist", WL_CHURN_64K, NULL, 0, 1.15, "free list RSS/live at most 1.15 on churn-64k"},
    {"page", WL_REALLOC_DOUBLE, "jemalloc", 5.0, 0, "page allocator realloc growth at least 5x faster than jemalloc (doubling)"},
    {"page", WL_REALLOC_STEP, "jemalloc", 5.0, 0, "page allocator realloc growth at least 5x faster than jemalloc (+16 B)"},
};

static void write_targets(FILE *f, const report_run *run)
{
    fprintf(f, "## Targets of the issue\n\n");
    fprintf(f, "Speedup = baseline time per operation / contender time per operation, same run%s.\n\n",
            run->callgrind ? " (here: instructions per operation)" : "");
    fprintf(f, "| target | measured | needed | verdict |\n|---|---:|---:|---|\n");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const target *t = &targets[i];
        if (run->callgrind && !t->baseline) continue; /* memory targets: timing runs only */
        const report_result *r = find(run, t->contender, t->workload);
        if (!r || r->status != REPORT_OK) {
            fprintf(f, "| %s | not run (%s) | | n/a |\n", t->text,
                    !r ? "contender or workload not selected / not in this build" : r->reason);
            continue;
        }
        if (t->baseline) {
            const report_result *b = find(run, t->baseline, t->workload);
            double mb = metric(run, b), mr = metric(run, r);
            if (mb <= 0 || mr <= 0) {
                fprintf(f, "| %s | no %s result | | n/a |\n", t->text, t->baseline);
                continue;
            }
            double s = mb / mr;
            bool met = s >= t->min_speedup;
            fprintf(f, "| %s | %.2fx | %.2fx | %s by %.0f%% |\n", t->text, s, t->min_speedup, met ? "met" : "MISSED",
                    fabs(s / t->min_speedup - 1) * 100);
        } else {
            double v = r->rss_per_live;
            bool met = v > 0 && v <= t->max_rss;
            fprintf(f, "| %s | %.3f | <= %.2f | %s |\n", t->text, v, t->max_rss, met ? "met" : "MISSED");
        }
    }
    fprintf(f, "\n");
}

/* --- JSON ------------------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fprintf(f, "null");
}

static const char *status_name(report_status s)
{
    return s == REPORT_OK ? "ok" : s == REPORT_SKIP ? "skipped" : s == REPORT_FAIL ? "failed" : "pending";
}

static void write_json(FILE *f, const report_run *run)
{
    const bench_params *p = &run->params;
    fprintf(f, "{\n  \"tool\": \"alloc-bench\",\n  \"mode\": \"%s\",\n  \"clock\": \"%s\",\n  \"date\": ",
            run->callgrind ? "callgrind" : "time", run->cpu_clock ? "thread-cpu" : "wall");
    json_str(f, run->date);
    fprintf(f, ",\n  \"command\": ");
    json_str(f, run->command);
    fprintf(f, ",\n  \"machine\": ");
    json_str(f, run->machine);
    fprintf(f, ",\n  \"seconds\": %.1f,\n  \"cpu_seconds\": %.1f,\n  \"reps\": %d,\n", run->seconds, run->cpu_seconds,
            run->reps);
    fprintf(f,
            "  \"params\": {\"scale\": %g, \"seed\": %llu, \"paired_n\": %zu, \"lifo_blocks\": %zu, \"batch_n\": %zu, "
            "\"churn_live\": %zu, \"churn_ops\": %zu, \"latency_ops\": %zu, \"realloc_max\": %zu, "
            "\"realloc_rounds\": %zu, \"realloc_step_max\": %zu, \"prodcons_n\": %zu, \"large_n\": %zu, \"large_min\": %zu, \"large_max\": %zu, "
            "\"large_live\": %zu},\n",
            p->scale, (unsigned long long)p->seed, p->paired_n, p->lifo_blocks, p->batch_n, p->churn_live,
            p->churn_ops, p->latency_ops, p->realloc_max, p->realloc_rounds, p->realloc_step_max, p->prodcons_n, p->large_n, p->large_min,
            p->large_max, p->large_live);
    fprintf(f, "  \"results\": [");
    for (size_t i = 0; i < run->count; i++) {
        const report_result *r = &run->results[i];
        fprintf(f, "%s\n    {\"contender\": ", i ? "," : "");
        json_str(f, r->contender->name);
        fprintf(f, ", \"family\": ");
        json_str(f, r->contender->family);
        fprintf(f, ", \"workload\": ");
        json_str(f, bench_workloads[r->workload].name);
        fprintf(f, ", \"status\": \"%s\"", status_name(r->status));
        if (r->status != REPORT_OK) {
            fprintf(f, ", \"reason\": ");
            json_str(f, r->reason);
        }
        if (r->version[0]) {
            fprintf(f, ", \"version\": ");
            json_str(f, r->version);
        }
        if (r->status == REPORT_OK) {
            if (!run->callgrind) {
                /* (Under callgrind, wall time is valgrind's, not the allocator's.) */
                fprintf(f, ",\n     \"median_ns_per_op\": ");
                json_num(f, r->median_ns);
                fprintf(f, ", \"min_ns_per_op\": ");
                json_num(f, r->min_ns);
                fprintf(f, ", \"max_ns_per_op\": ");
                json_num(f, r->max_ns);
            } else {
                fprintf(f, ",\n     \"instructions\": ");
                json_num(f, r->instructions);
                fprintf(f, ", \"instructions_per_op\": ");
                json_num(f, r->instr_per_op);
            }
            fprintf(f, ", \"speedup_vs_jemalloc\": ");
            json_num(f, r->vs_jemalloc);
            fprintf(f, ", \"speedup_vs_glibc\": ");
            json_num(f, r->vs_glibc);
            if (r->live > 0) {
                fprintf(f, ", \"rss_peak_bytes\": ");
                json_num(f, r->rss_peak);
                fprintf(f, ", \"live_bytes\": ");
                json_num(f, r->live);
                fprintf(f, ", \"rss_per_live\": ");
                json_num(f, r->rss_per_live);
            }
            if (r->workload == WL_LATENCY) {
                fprintf(f, ", \"latency_ns\": {\"p50\": ");
                json_num(f, r->lat[0]);
                fprintf(f, ", \"p99\": ");
                json_num(f, r->lat[1]);
                fprintf(f, ", \"p99.9\": ");
                json_num(f, r->lat[2]);
                fprintf(f, ", \"max\": ");
                json_num(f, r->lat[3]);
                fprintf(f, ", \"timer\": ");
                json_num(f, r->timer_ns);
                fprintf(f, "}");
            }
        }
        fprintf(f, ",\n     \"samples\": [");
        for (int k = 0; k < r->nsamples; k++) {
            const bench_sample *s = &r->samples[k];
            fprintf(f, "%s{\"ns\": ", k ? ", " : "");
            json_num(f, s->ns);
            fprintf(f, ", \"ops\": %llu", (unsigned long long)s->ops);
            if (s->live_peak > 0) {
                fprintf(f, ", \"rss_peak\": ");
                json_num(f, s->rss_peak);
                fprintf(f, ", \"live\": ");
                json_num(f, s->live_peak);
            }
            if (r->workload == WL_LATENCY) {
                fprintf(f, ", \"lat\": [");
                for (int q = 0; q < 4; q++) {
                    if (q) fprintf(f, ", ");
                    json_num(f, s->lat[q]);
                }
                fprintf(f, "]");
            }
            fprintf(f, "}");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ]\n}\n");
}

/* --- Markdown -------------------------------------------------------------------------- */

/* Contenders and workloads that appear in the run, in table order. */
static size_t run_contenders(const report_run *run, const bench_contender **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < run->count; i++) {
        const bench_contender *c = run->results[i].contender;
        bool seen = false;
        for (size_t k = 0; k < n; k++) seen |= out[k] == c;
        if (!seen && n < cap) out[n++] = c;
    }
    return n;
}

static bool workload_in_run(const report_run *run, int w)
{
    for (size_t i = 0; i < run->count; i++)
        if (run->results[i].workload == w) return true;
    return false;
}

static void fmt_value(char *buf, size_t cap, double v)
{
    if (v >= 1000)
        snprintf(buf, cap, "%.0f", v);
    else if (v >= 100)
        snprintf(buf, cap, "%.1f", v);
    else
        snprintf(buf, cap, "%.2f", v);
}

typedef enum { COL_TIME, COL_VS_JE, COL_VS_GLIBC } column_kind;

static void write_matrix(FILE *f, const report_run *run, const bench_contender **cs, size_t nc, column_kind kind)
{
    fprintf(f, "| contender |");
    for (int w = 0; w < WL_COUNT; w++)
        if (workload_in_run(run, w)) fprintf(f, " %s |", bench_workloads[w].name);
    fprintf(f, "\n|---|");
    for (int w = 0; w < WL_COUNT; w++)
        if (workload_in_run(run, w)) fprintf(f, "---:|");
    fprintf(f, "\n");
    for (size_t c = 0; c < nc; c++) {
        fprintf(f, "| %s |", cs[c]->name);
        for (int w = 0; w < WL_COUNT; w++) {
            if (!workload_in_run(run, w)) continue;
            const report_result *r = find(run, cs[c]->name, w);
            char buf[64];
            if (!r)
                snprintf(buf, sizeof buf, " ");
            else if (r->status == REPORT_SKIP)
                snprintf(buf, sizeof buf, "skip");
            else if (r->status != REPORT_OK)
                snprintf(buf, sizeof buf, "FAIL");
            else if (kind == COL_TIME)
                fmt_value(buf, sizeof buf, metric(run, r));
            else {
                double s = kind == COL_VS_JE ? r->vs_jemalloc : r->vs_glibc;
                if (s > 0)
                    snprintf(buf, sizeof buf, s >= 1 ? "**%.2f**" : "%.2f", s);
                else
                    snprintf(buf, sizeof buf, " ");
            }
            fprintf(f, " %s |", buf);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void write_markdown(FILE *f, const report_run *run, bool plots)
{
    const bench_contender *cs[64];
    size_t nc = run_contenders(run, cs, 64);
    const char *unit = run->callgrind ? "instructions per operation" : "nanoseconds per operation";
    fprintf(f, "# alloc-bench %s\n\n", run->callgrind ? "instruction counts (callgrind)" : "results");
    fprintf(f, "- date: %s\n- machine: %s\n- command: `%s`\n- samples per pair: %d (medians reported)%s\n",
            run->date, run->machine, run->command, run->reps,
            run->callgrind ? "; collection only inside the measured sections" : "");
    if (!run->callgrind)
        fprintf(f, "- clock: %s (prodcons: wall time)\n",
                run->cpu_clock ? "CPU time of the measuring thread, user + system" : "wall time");
    fprintf(f, "- scale: %g (paired %zu pairs, lifo %zu blocks, batch %zu blocks, churn %zu live / %zu replacements, "
               "realloc to %zu KiB (+16 B steps to %zu KiB), large %zu blocks of %zu-%zu KiB, prodcons %zu blocks)\n",
            run->params.scale, run->params.paired_n, run->params.lifo_blocks, run->params.batch_n,
            run->params.churn_live, run->params.churn_ops, run->params.realloc_max >> 10, run->params.realloc_step_max >> 10, run->params.large_n,
            run->params.large_min >> 10, run->params.large_max >> 10, run->params.prodcons_n);
    fprintf(f, "- wall time of the run: %.0f s; CPU time of its child processes: %.0f s (the difference is time spent "
               "waiting for a CPU)\n\n",
            run->seconds, run->cpu_seconds);

    fprintf(f, "## %s (median; lower is better)\n\n", unit);
    write_matrix(f, run, cs, nc, COL_TIME);
    fprintf(f, "## Speedup against jemalloc (jemalloc / contender; above 1, in bold, = faster than jemalloc)\n\n");
    write_matrix(f, run, cs, nc, COL_VS_JE);
    fprintf(f, "## Speedup against glibc (glibc / contender)\n\n");
    write_matrix(f, run, cs, nc, COL_VS_GLIBC);

    write_targets(f, run);

    if (!run->callgrind) {
        fprintf(f, "## Memory: resident set growth / live bytes requested\n\n");
        fprintf(f, "Batch: at the peak (all blocks live). Churn: after the replacements. Large: highest RSS with the "
                   "live set full / largest live bytes. Includes every byte the allocator keeps resident: headers, "
                   "size-class rounding, caches, fragmentation.\n\n");
        const int mem_w[] = {WL_BATCH_FIFO, WL_CHURN_4K, WL_CHURN_64K, WL_LARGE};
        fprintf(f, "| contender |");
        for (size_t k = 0; k < 4; k++)
            if (workload_in_run(run, mem_w[k])) fprintf(f, " %s |", bench_workloads[mem_w[k]].name);
        fprintf(f, "\n|---|");
        for (size_t k = 0; k < 4; k++)
            if (workload_in_run(run, mem_w[k])) fprintf(f, "---:|");
        fprintf(f, "\n");
        for (size_t c = 0; c < nc; c++) {
            fprintf(f, "| %s |", cs[c]->name);
            for (size_t k = 0; k < 4; k++) {
                if (!workload_in_run(run, mem_w[k])) continue;
                const report_result *r = find(run, cs[c]->name, mem_w[k]);
                if (r && r->status == REPORT_OK && r->live > 0)
                    fprintf(f, " %.3f |", r->rss_per_live);
                else
                    fprintf(f, "  |");
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\n");

        if (workload_in_run(run, WL_LATENCY)) {
            fprintf(f, "## Latency of single operations on churn-4k (ns, allocs and frees together)\n\n");
            fprintf(f, "| contender | p50 | p99 | p99.9 | max | timer overhead |\n|---|---:|---:|---:|---:|---:|\n");
            for (size_t c = 0; c < nc; c++) {
                const report_result *r = find(run, cs[c]->name, WL_LATENCY);
                if (!r || r->status != REPORT_OK) continue;
                fprintf(f, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", cs[c]->name, r->lat[0], r->lat[1],
                        r->lat[2], r->lat[3], r->timer_ns);
            }
            fprintf(f, "\n");
        }
    }

    fprintf(f, "## Contenders\n\n| name | family | what | version |\n|---|---|---|---|\n");
    for (size_t c = 0; c < nc; c++) {
        const char *version = "";
        for (size_t i = 0; i < run->count; i++)
            if (run->results[i].contender == cs[c] && run->results[i].version[0]) version = run->results[i].version;
        fprintf(f, "| %s | %s | %s | %s |\n", cs[c]->name, cs[c]->family, cs[c]->what, version);
    }
    fprintf(f, "\n## Workloads\n\n| workload | one operation | shows |\n|---|---|---|\n");
    for (int w = 0; w < WL_COUNT; w++)
        if (workload_in_run(run, w))
            fprintf(f, "| %s | %s | %s |\n", bench_workloads[w].name, bench_workloads[w].op, bench_workloads[w].shows);
    fprintf(f, "\n");

    bool header = false;
    for (size_t i = 0; i < run->count; i++) {
        const report_result *r = &run->results[i];
        if (r->status == REPORT_OK) continue;
        if (!header) {
            fprintf(f, "## Skipped and failed pairs\n\n");
            header = true;
        }
        fprintf(f, "- %s / %s: %s (%s)\n", r->contender->name, bench_workloads[r->workload].name,
                status_name(r->status), r->reason);
    }
    if (header) fprintf(f, "\n");

    if (plots) {
        fprintf(f, "## Plots\n\n");
        for (int w = 0; w < WL_COUNT; w++)
            if (workload_in_run(run, w))
                fprintf(f, "![%s](plots/%s.svg)\n", bench_workloads[w].name, bench_workloads[w].name);
        fprintf(f, "\n");
    }
}

/* --- plots ------------------------------------------------------------------------------ */

static int family_color(const bench_contender *c)
{
    if (strcmp(c->family, "malloc") == 0) return 0x808080;
    if (strcmp(c->family, "baseline") == 0) return 0xC0C0C0;
    if (strcmp(c->family, "inline") == 0) return 0x2A7F62;
    return 0x1F5FA8;
}

/* One horizontal bar chart per workload: names down the side, the value at
 * each bar's end; log scale when values span more than 30x. */
static int write_plots(const report_run *run, const char *dir)
{
    char pdir[PATH_MAX], path[PATH_MAX + 64];
    snprintf(pdir, sizeof pdir, "%s/plots", dir);
    if (mkdir(pdir, 0777) != 0 && errno != EEXIST) return -1;
    snprintf(path, sizeof path, "%s/plots.gp", pdir);
    FILE *gp = fopen(path, "w");
    if (!gp) return -1;
    fprintf(gp, "# generated by alloc-bench; run: gnuplot plots.gp (in this folder)\n");
    fprintf(gp, "set style fill solid 0.85 noborder\nset grid xtics lc rgb '#dddddd'\n"
                "set key below horizontal samplen 1.5\n"
                "set ytics nomirror scale 0\nset xtics nomirror\nset border 3\n");
    for (int w = 0; w < WL_COUNT; w++) {
        double lo = 1e300, hi = 0;
        int n = 0;
        char dat[PATH_MAX + 64];
        snprintf(dat, sizeof dat, "%s/%s.dat", pdir, bench_workloads[w].name);
        FILE *d = NULL;
        /* Fastest first, so the order itself reads as the ranking. */
        const report_result *rows[REPORT_MAX_RESULTS];
        size_t nrows = 0;
        for (size_t i = 0; i < run->count; i++)
            if (run->results[i].workload == w && metric(run, &run->results[i]) > 0) rows[nrows++] = &run->results[i];
        for (size_t i = 1; i < nrows; i++)
            for (size_t k = i; k > 0 && metric(run, rows[k]) < metric(run, rows[k - 1]); k--) {
                const report_result *tmp = rows[k];
                rows[k] = rows[k - 1];
                rows[k - 1] = tmp;
            }
        for (size_t i = 0; i < nrows; i++) {
            const report_result *r = rows[i];
            double m = metric(run, r);
            if (!d && !(d = fopen(dat, "w"))) break;
            fprintf(d, "%d \"%s\" %.6g %d\n", n, r->contender->name, m, family_color(r->contender));
            if (m < lo) lo = m;
            if (m > hi) hi = m;
            n++;
        }
        if (d) fclose(d);
        if (n == 0) continue;
        bool logx = hi / lo > 30;
        double xmin = logx ? lo / 2 : 0;
        const char *name = bench_workloads[w].name;
        fprintf(gp, "\n# %s\n", name);
        fprintf(gp, "set title \"%s: %s per %s (lower is better)\" noenhanced\n", name,
                run->callgrind ? "instructions" : "ns", bench_workloads[w].op);
        fprintf(gp, "set yrange [%d.6:-0.6]\n", n - 1);
        if (logx)
            fprintf(gp, "set logscale x\nset xrange [%g:%g]\n", xmin, hi * 4);
        else
            fprintf(gp, "unset logscale x\nset xrange [0:%g]\n", hi * 1.25);
        for (int t = 0; t < 2; t++) {
            if (t == 0)
                fprintf(gp, "set terminal svg size 720,%d font 'sans,11' background '#ffffff'\n", 150 + 26 * n);
            else
                fprintf(gp, "set terminal pngcairo size 900,%d font 'sans,11' background '#ffffff'\n", 170 + 30 * n);
            fprintf(gp, "set output '%s.%s'\n", name, t == 0 ? "svg" : "png");
            fprintf(gp,
                    "plot '%s.dat' using ($3/2+%g/2):1:(%g):3:($1-0.35):($1+0.35):4:ytic(2) with boxxyerror lc rgb "
                    "variable notitle, '' using 3:1:(sprintf($3 >= 1000 ? ' %%.0f' : ' %%.3g', $3)) with labels left "
                    "noenhanced notitle, "
                    "NaN with boxes lc rgb '#1F5FA8' title 'alloc, handle', NaN with boxes lc rgb '#2A7F62' "
                    "title 'alloc, inline', NaN with boxes lc rgb '#808080' title 'malloc', NaN with boxes lc rgb "
                    "'#C0C0C0' title 'baseline'\n",
                    name, xmin, xmin);
        }
    }

    /* Latency percentiles on one chart. */
    if (workload_in_run(run, WL_LATENCY) && !run->callgrind) {
        char dat[PATH_MAX + 64];
        snprintf(dat, sizeof dat, "%s/latency-percentiles.dat", pdir);
        FILE *d = fopen(dat, "w");
        int n = 0;
        if (d) {
            for (size_t i = 0; i < run->count; i++) {
                const report_result *r = &run->results[i];
                if (r->workload != WL_LATENCY || r->status != REPORT_OK) continue;
                fprintf(d, "\"%s\" %.6g %.6g %.6g %.6g\n", r->contender->name, r->lat[0], r->lat[1], r->lat[2],
                        r->lat[3]);
                n++;
            }
            fclose(d);
        }
        if (n > 0) {
            fprintf(gp, "\n# latency percentiles\nunset logscale x\nset autoscale\nset yrange [*:*] noreverse\n"
                        "set logscale y\nset yrange [1:*]\nset key inside top left horizontal\nset style data histograms\n"
                        "set style histogram clustered gap 1\nset xtics rotate by -30\nset grid ytics\n"
                        "set title 'churn-4k: latency of single operations, ns (log scale)'\n");
            for (int t = 0; t < 2; t++) {
                fprintf(gp, "%s\nset output 'latency-percentiles.%s'\n",
                        t == 0 ? "set terminal svg size 820,420 font 'sans,11' background '#ffffff'"
                               : "set terminal pngcairo size 1000,500 font 'sans,11' background '#ffffff'",
                        t == 0 ? "svg" : "png");
                fprintf(gp, "plot 'latency-percentiles.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', "
                            "'' using 4 title 'p99.9', '' using 5 title 'max'\n");
            }
        }
    }
    fclose(gp);

    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot plots.gp", pdir);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "alloc-bench: gnuplot failed or is missing (the data and plots.gp are in %s)\n", pdir);
        return -1;
    }
    return 0;
}

int report_write(const report_run *run, const char *dir, bool plots)
{
    char path[PATH_MAX + 64];
    const char *base = run->callgrind ? "callgrind" : "results";
    snprintf(path, sizeof path, "%s/%s.json", dir, base);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "alloc-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    write_json(f, run);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.md", dir, base);
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "alloc-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    bool do_plots = plots && !run->callgrind;
    write_markdown(f, run, do_plots);
    fclose(f);
    if (do_plots && write_plots(run, dir) != 0) return -1;
    return 0;
}
