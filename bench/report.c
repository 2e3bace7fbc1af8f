/*
 * report.c: medians, ratios, the targets, and the files of a run.
 *
 * A run is a table of (contender, workload) results; this file turns it into
 * results.json (every sample, for tools), results.md (for a reader) and one
 * gnuplot script that draws every chart. The Markdown is ordered by the
 * question a reader comes with: first "which one for which pattern" (the
 * fastest of alloc's contenders, the leanest, and the fastest other malloc,
 * all read off this run's figures), then the full tables of time, speedup,
 * memory per live byte and memory given back, then the project's targets,
 * then how the run was made. Every figure carries its unit (ns to s, B to
 * GiB), chosen per value so that no cell needs seven digits.
 *
 * Three kinds of pair are never a silent gap: a skipped pair (the contender's
 * contract cannot serve the workload) says why; a failed one says how; and
 * one that ran past its workload's time budget shows the time it used and
 * how far it got, with a bound in place of its speedup, in the tables and the
 * plots alike. Ratios are always against baselines of the same run, so a
 * busy machine moves both sides of each ratio.
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
        for (int i = 0; i < n; i++) v[i] = r->samples[i].rss_phase[k];
        r->rss_phase[k] = median(v, n);
    }
    for (int i = 0; i < n; i++) v[i] = r->samples[i].rss_end;
    r->rss_end = median(v, n);
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

static const char *status_name(report_status s);

/* Workloads that time single operations. */
static bool has_latency(int w) { return w == WL_LATENCY || w == WL_CHURN_100K; }

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

/* --- formatting ------------------------------------------------------------------------ */

/* A time in the unit that keeps three significant digits readable: 16.4 ns,
 * 3.21 us, 1.05 ms, 2.10 s. */
static void fmt_time(char *buf, size_t cap, double ns)
{
    static const struct {
        double div;
        const char *unit;
    } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}};
    size_t k = 0;
    while (k + 1 < sizeof units / sizeof units[0] && ns < units[k].div) k++;
    double v = ns / units[k].div;
    snprintf(buf, cap, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[k].unit);
}

/* A count (instructions): 373, 12.4 k, 3.10 M. */
static void fmt_count(char *buf, size_t cap, double v)
{
    const char *suffix = "";
    if (v >= 1e6) {
        v /= 1e6;
        suffix = " M";
    } else if (v >= 1e4) {
        v /= 1e3;
        suffix = " k";
    }
    snprintf(buf, cap, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, suffix);
}

static void fmt_bytes(char *buf, size_t cap, double b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t k = 0;
    double v = b < 0 ? -b : b;
    while (k + 1 < sizeof units / sizeof units[0] && v >= 1024) {
        v /= 1024;
        k++;
    }
    if (b < 0) v = -v;
    snprintf(buf, cap, (v >= 100 || v <= -100 || k == 0) ? "%.0f %s" : (v >= 10 || v <= -10) ? "%.1f %s" : "%.2f %s", v,
             units[k]);
}

/* "reached 8 MiB of 16", "reached 4.1 M of 10 M operations". */
static void fmt_progress(char *buf, size_t cap, const report_result *r)
{
    const bench_sample *s = &r->over;
    if (strcmp(bench_workloads[r->workload].progress_unit, "bytes") == 0) {
        double div = s->goal >= (double)(1u << 30) ? (double)(1u << 30) : s->goal >= (1 << 20) ? (1 << 20) : 1024;
        const char *unit = div == (double)(1u << 30) ? "GiB" : div == (1 << 20) ? "MiB" : "KiB";
        snprintf(buf, cap, "reached %.3g %s of %.3g", s->progress / div, unit, s->goal / div);
    } else {
        snprintf(buf, cap, "reached %.3g M of %.3g M operations", s->progress / 1e6, s->goal / 1e6);
    }
}

/* An over-budget pair: "> 2.10 s (reached 8 MiB of 16)". The time is the CPU
 * time its measured section used before the budget stopped it: a lower bound
 * on what a whole sample takes. */
static void fmt_over(char *buf, size_t cap, const report_result *r)
{
    char t[32], prog[96];
    fmt_time(t, sizeof t, r->over.ns);
    fmt_progress(prog, sizeof prog, r);
    snprintf(buf, cap, "> %s (%s)", t, prog);
}

/* --- the targets ------------------------------------------------------------------------ */

typedef enum {
    T_SPEEDUP,      /* baseline time / contender time >= limit */
    T_RSS_PER_LIVE, /* peak RSS / peak live bytes <= limit */
    T_PEAK_VS,      /* peak RSS / baseline's peak RSS <= limit */
    T_END_VS,       /* RSS after all is freed / baseline's <= limit */
    T_TAIL,         /* slowest single operation / median operation <= limit */
} target_kind;

typedef struct target {
    const char *contender;
    int workload;
    target_kind kind;
    const char *baseline; /* "jemalloc" or "glibc"; NULL for T_RSS_PER_LIVE */
    double limit;
    const char *text;
} target;

/* Issue numbers are the project's: the strategies' targets first, then the
 * malloc adapter's (issue 18), all against baselines of the same run. */
static const target targets[] = {
    {"pool", WL_PAIRED, T_SPEEDUP, "jemalloc", 2.0, "pool alloc+free via handle at least 2x faster than jemalloc on paired"},
    {"bump", WL_BATCH_FREEALL, T_SPEEDUP, "jemalloc", 5.0, "bump at least 5x faster than jemalloc on batch with free-all"},
    {"arena", WL_BATCH_FREEALL, T_SPEEDUP, "jemalloc", 5.0, "arena at least 5x faster than jemalloc on batch with free-all"},
    {"stack", WL_LIFO, T_SPEEDUP, "jemalloc", 2.0, "stack at least 2x faster than jemalloc on lifo"},
    {"freelist", WL_CHURN_4K, T_SPEEDUP, "glibc", 1.0, "free list no slower than glibc on churn-4k"},
    {"freelist", WL_CHURN_64K, T_SPEEDUP, "glibc", 1.0, "free list no slower than glibc on churn-64k"},
    {"freelist", WL_CHURN_4K, T_SPEEDUP, "jemalloc", 1.0 / 1.3, "free list within 1.3x of jemalloc on churn-4k"},
    {"freelist", WL_CHURN_64K, T_SPEEDUP, "jemalloc", 1.0 / 1.3, "free list within 1.3x of jemalloc on churn-64k"},
    {"freelist", WL_CHURN_4K, T_RSS_PER_LIVE, NULL, 1.15, "free list RSS/live at most 1.15 on churn-4k"},
    {"freelist", WL_CHURN_64K, T_RSS_PER_LIVE, NULL, 1.15, "free list RSS/live at most 1.15 on churn-64k"},
    {"freelist-fixed", WL_CHURN_100K, T_RSS_PER_LIVE, NULL, 1.15, "free list (fixed heap) RSS/live at most 1.15 on churn-100k"},
    {"freelist-fixed", WL_CHURN_100K, T_TAIL, NULL, 20.0, "free list (fixed heap): slowest operation / median below 20 on churn-100k"},
    {"page", WL_REALLOC_DOUBLE, T_SPEEDUP, "jemalloc", 5.0, "page allocator realloc growth at least 5x faster than jemalloc (doubling)"},
    {"page", WL_REALLOC_STEP, T_SPEEDUP, "jemalloc", 5.0, "page allocator realloc growth at least 5x faster than jemalloc (+16 B)"},
    {"alloc-malloc", WL_PHASE, T_PEAK_VS, "glibc", 1.0, "alloc's malloc: phase peak RSS at most glibc's"},
    {"alloc-malloc", WL_PHASE, T_END_VS, "glibc", 1.5, "alloc's malloc: phase RSS after all is freed (and the decay delay) at most 1.5x glibc's"},
    {"alloc-malloc", WL_DRIFT, T_RSS_PER_LIVE, NULL, 2.0, "alloc's malloc: drift peak RSS / peak live at most 2.0"},
    {"alloc-malloc", WL_REALLOC_STEP, T_SPEEDUP, "glibc", 0.5, "alloc's malloc: realloc-step (+16 B to 16 MiB) CPU time at most 2x glibc's"},
    {"alloc-malloc", WL_REALLOC_MANY, T_SPEEDUP, "glibc", 0.5, "alloc's malloc: realloc-many CPU time at most 2x glibc's"},
    {"alloc-malloc", WL_PAIRED, T_SPEEDUP, "jemalloc", 1.0, "alloc's malloc no slower than jemalloc on paired"},
    {"alloc-malloc", WL_LIFO, T_SPEEDUP, "jemalloc", 1.0, "alloc's malloc no slower than jemalloc on lifo"},
    {"alloc-malloc", WL_BATCH_RANDOM, T_SPEEDUP, "jemalloc", 1.0, "alloc's malloc no slower than jemalloc on batch-random"},
    {"alloc-malloc", WL_CHURN_4K, T_SPEEDUP, "jemalloc", 1.0, "alloc's malloc no slower than jemalloc on churn-4k"},
    {"alloc-malloc", WL_PRODCONS, T_SPEEDUP, "glibc", 1.0, "alloc's malloc: prodcons throughput at least glibc's"},
};

/* Time of one whole sample (ns per op x ops): the figure an over-budget pair
 * can be compared on, since its time so far is a lower bound of it. */
static double sample_ns(const report_result *r)
{
    return r->nsamples > 0 && r->samples[0].ops ? r->median_ns * (double)r->samples[0].ops : 0;
}

/* Speedup of r against baseline b: exact, or an upper bound (*bound = true)
 * when r stopped at its budget. 0 when it cannot be given. */
static double speedup_of(const report_run *run, const report_result *r, const report_result *b, bool *bound)
{
    *bound = false;
    double mb = metric(run, b);
    if (mb <= 0 || !r) return 0;
    if (r->status == REPORT_OVER && !run->callgrind && r->over.ns > 0) {
        *bound = true;
        return sample_ns(b) / r->over.ns;
    }
    double mr = metric(run, r);
    return mr > 0 ? mb / mr : 0;
}

static void write_targets(FILE *f, const report_run *run)
{
    bool any = false;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) any |= find(run, targets[i].contender, targets[i].workload) != NULL;
    if (!any) return;
    fprintf(f, "## Targets\n\n");
    fprintf(f, "The project's own targets, checked against baselines of the same run%s. Speedup = baseline time per "
               "operation / contender time per operation; memory figures are peak resident set growth (RSS) over "
               "peak live bytes, or RSS against the baseline's. Targets whose contender or workload was not in this "
               "run are left out.\n\n",
            run->callgrind ? " (here: instructions per operation)" : "");
    fprintf(f, "| target | measured | needed | verdict |\n|---|---:|---:|---|\n");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const target *t = &targets[i];
        bool memory = t->kind != T_SPEEDUP;
        if (run->callgrind && memory) continue; /* memory targets: timing runs only */
        const report_result *r = find(run, t->contender, t->workload);
        if (!r) continue;
        const report_result *b = t->baseline ? find(run, t->baseline, t->workload) : NULL;
        char meas[96] = "", need[32] = "";
        const char *verdict = "n/a";
        if (r->status != REPORT_OK && r->status != REPORT_OVER) {
            snprintf(meas, sizeof meas, "%s", status_name(r->status));
        } else if (t->baseline && (!b || (b->status != REPORT_OK))) {
            snprintf(meas, sizeof meas, "no %s result%s", t->baseline, b && b->status == REPORT_OVER ? " (over budget)" : "");
        } else if (t->kind == T_SPEEDUP) {
            bool bound;
            double sp = speedup_of(run, r, b, &bound);
            snprintf(need, sizeof need, ">= %.2fx", t->limit);
            if (sp <= 0)
                snprintf(meas, sizeof meas, "no figure");
            else if (bound) {
                snprintf(meas, sizeof meas, "< %.2fx (over budget)", sp);
                verdict = sp < t->limit ? "MISSED" : "n/a (stopped before it could be decided)";
            } else {
                snprintf(meas, sizeof meas, "%.2fx", sp);
                verdict = sp >= t->limit ? "met" : "MISSED";
            }
        } else if (r->status == REPORT_OVER) {
            snprintf(meas, sizeof meas, "over budget");
        } else if (t->kind == T_TAIL) {
            double tail = r->lat[0] > 0 ? r->lat[3] / r->lat[0] : 0;
            snprintf(need, sizeof need, "< %.0f", t->limit);
            snprintf(meas, sizeof meas, "%.1f", tail);
            verdict = tail > 0 && tail < t->limit ? "met" : "MISSED";
        } else if (t->kind == T_RSS_PER_LIVE) {
            snprintf(need, sizeof need, "<= %.2f", t->limit);
            snprintf(meas, sizeof meas, "%.2f", r->rss_per_live);
            verdict = r->rss_per_live > 0 && r->rss_per_live <= t->limit ? "met" : "MISSED";
        } else {
            double mine = t->kind == T_PEAK_VS ? r->rss_peak : r->rss_end;
            double base = t->kind == T_PEAK_VS ? b->rss_peak : b->rss_end;
            char a[32], c[32];
            fmt_bytes(a, sizeof a, mine);
            fmt_bytes(c, sizeof c, base);
            snprintf(need, sizeof need, "<= %.2fx", t->limit);
            if (base > 0) {
                snprintf(meas, sizeof meas, "%.2fx (%s / %s)", mine / base, a, c);
                verdict = mine <= t->limit * base ? "met" : "MISSED";
            } else {
                snprintf(meas, sizeof meas, "%s (%s: %s)", a, t->baseline, c);
                verdict = mine <= 0 ? "met" : "MISSED";
            }
        }
        fprintf(f, "| %s | %s | %s | %s |\n", t->text, meas, need, verdict);
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
    return s == REPORT_OK     ? "ok"
           : s == REPORT_SKIP ? "skipped"
           : s == REPORT_FAIL ? "failed"
           : s == REPORT_OVER ? "over-budget"
                              : "pending";
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
            "\"large_live\": %zu, \"rmany_n\": %zu, \"rmany_max\": %zu, \"phase_bytes\": %zu, \"phase_big_n\": %zu, "
            "\"drift_ops\": %zu, \"drift_live\": %zu, \"decay_ns\": %g},\n",
            p->scale, (unsigned long long)p->seed, p->paired_n, p->lifo_blocks, p->batch_n, p->churn_live,
            p->churn_ops, p->latency_ops, p->realloc_max, p->realloc_rounds, p->realloc_step_max, p->prodcons_n, p->large_n, p->large_min,
            p->large_max, p->large_live, p->rmany_n, p->rmany_max, p->phase_bytes, p->phase_big_n, p->drift_ops,
            p->drift_live, p->decay_ns);
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
        if (r->status == REPORT_OVER) {
            fprintf(f, ", \"reached\": {\"ns\": ");
            json_num(f, r->over.ns);
            fprintf(f, ", \"ops\": %llu, \"progress\": ", (unsigned long long)r->over.ops);
            json_num(f, r->over.progress);
            fprintf(f, ", \"goal\": ");
            json_num(f, r->over.goal);
            fprintf(f, ", \"unit\": ");
            json_str(f, bench_workloads[r->workload].progress_unit);
            fprintf(f, "}");
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
            if (r->rss_end > 0 || r->workload == WL_PHASE) {
                fprintf(f, ", \"rss_end_bytes\": ");
                json_num(f, r->rss_end);
            }
            if (r->workload == WL_PHASE) {
                fprintf(f, ", \"rss_after_phase_bytes\": [");
                for (int k = 0; k < 3; k++) {
                    if (k) fprintf(f, ", ");
                    json_num(f, r->rss_phase[k]);
                }
                fprintf(f, "]");
            }
            if (has_latency(r->workload)) {
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
            if (has_latency(r->workload)) {
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

/* alloc's own contenders (strategies, inline paths, its malloc) against the
 * third-party mallocs and the baselines: the report's colours and the
 * "which one" table keep them apart. */
typedef enum { CAT_HANDLE, CAT_INLINE, CAT_ALLOC_MALLOC, CAT_MALLOC, CAT_BASELINE, CAT_OVER, CAT_COUNT } category;

static category category_of(const bench_contender *c)
{
    if (strcmp(c->family, "baseline") == 0) return CAT_BASELINE;
    if (strcmp(c->family, "inline") == 0) return CAT_INLINE;
    if (strcmp(c->family, "malloc") == 0) return strcmp(c->name, "alloc-malloc") == 0 ? CAT_ALLOC_MALLOC : CAT_MALLOC;
    return CAT_HANDLE;
}

static bool is_alloc(const bench_contender *c)
{
    /* "c" is glibc behind alloc's vtable: a measure of the handle, not a choice. */
    if (strcmp(c->name, "c") == 0) return false;
    category k = category_of(c);
    return k == CAT_HANDLE || k == CAT_INLINE || k == CAT_ALLOC_MALLOC;
}

static void fmt_metric(char *buf, size_t cap, const report_run *run, double v)
{
    if (run->callgrind)
        fmt_count(buf, cap, v);
    else
        fmt_time(buf, cap, v);
}

typedef enum { COL_TIME, COL_VS_JE, COL_VS_GLIBC } column_kind;

/* One cell; false when there is nothing to show (the pair was not run, or
 * has no ratio), so that a row of nothing but such cells can be left out. */
static bool matrix_cell(char *buf, size_t cap, const report_run *run, const report_result *r, column_kind kind)
{
    snprintf(buf, cap, " ");
    if (!r) return false;
    if (r->status == REPORT_SKIP) {
        snprintf(buf, cap, "skip");
        return false;
    }
    if (r->status == REPORT_FAIL) {
        snprintf(buf, cap, "FAIL");
        return true;
    }
    if (kind == COL_TIME) {
        if (r->status == REPORT_OVER)
            fmt_over(buf, cap, r);
        else
            fmt_metric(buf, cap, run, metric(run, r));
        return true;
    }
    const char *base = kind == COL_VS_JE ? "jemalloc" : "glibc";
    bool bound;
    double sp = speedup_of(run, r, find(run, base, r->workload), &bound);
    if (sp <= 0) return false;
    if (strcmp(r->contender->name, base) == 0)
        snprintf(buf, cap, "1.00"); /* the baseline itself: not a result */
    else if (bound)
        snprintf(buf, cap, "< %.2f", sp);
    else
        snprintf(buf, cap, sp >= 1 ? "**%.2f**" : "%.2f", sp);
    return true;
}

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
        char row[4096];
        size_t len = (size_t)snprintf(row, sizeof row, "| %s |", cs[c]->name);
        bool any = false;
        for (int w = 0; w < WL_COUNT; w++) {
            if (!workload_in_run(run, w)) continue;
            char buf[160];
            any |= matrix_cell(buf, sizeof buf, run, find(run, cs[c]->name, w), kind);
            if (len < sizeof row) len += (size_t)snprintf(row + len, sizeof row - len, " %s |", buf);
        }
        if (any) fprintf(f, "%s\n", row);
    }
    fprintf(f, "\n");
}

/* The fastest OK result of a workload among contenders that pass `want`. */
static const report_result *fastest(const report_run *run, int w, bool (*want)(const bench_contender *))
{
    const report_result *best = NULL;
    for (size_t i = 0; i < run->count; i++) {
        const report_result *r = &run->results[i];
        if (r->workload != w || r->status != REPORT_OK || !want(r->contender)) continue;
        if (!best || metric(run, r) < metric(run, best)) best = r;
    }
    return best;
}

static const report_result *leanest(const report_run *run, int w, bool (*want)(const bench_contender *))
{
    const report_result *best = NULL;
    for (size_t i = 0; i < run->count; i++) {
        const report_result *r = &run->results[i];
        if (r->workload != w || r->status != REPORT_OK || !want(r->contender) || r->rss_per_live <= 0) continue;
        if (!best || r->rss_per_live < best->rss_per_live) best = r;
    }
    return best;
}

static bool is_other_malloc(const bench_contender *c) { return category_of(c) == CAT_MALLOC; }

/* "pool-inline: 1.21 ns, RSS/live 1.03" */
static void fmt_choice(char *buf, size_t cap, const report_run *run, const report_result *r)
{
    if (!r) {
        snprintf(buf, cap, " ");
        return;
    }
    char t[32];
    fmt_metric(t, sizeof t, run, metric(run, r));
    if (r->rss_per_live > 0)
        snprintf(buf, cap, "%s: %s, RSS/live %.2f", r->contender->name, t, r->rss_per_live);
    else
        snprintf(buf, cap, "%s: %s", r->contender->name, t);
}

/* The report's opening: for each pattern in the run, the fastest of alloc's
 * contenders, the one that keeps least memory resident where that differs,
 * and the fastest third-party malloc for scale. Drawn from this run only. */
static void write_choice(FILE *f, const report_run *run)
{
    fprintf(f, "## Which one for which pattern\n\n");
    fprintf(f, "From this run's own figures: for each pattern, the fastest of alloc's contenders (strategies through "
               "the handle, their inline fast paths, alloc's malloc) and, where another of them keeps less memory "
               "resident, that one too; the fastest third-party malloc for comparison. %s per operation (lower is "
               "better); RSS/live = resident set growth / bytes requested (1.00 = no overhead). A strategy only "
               "appears where its contract serves the pattern: a pool needs one block size; a bump or an arena "
               "ignores single frees and wins where the whole set is dropped at the end, as in the batch "
               "workloads, not where a program runs on.\n\n",
            run->callgrind ? "Instructions" : "CPU time");
    fprintf(f, "| if your program has | workload | fastest of alloc's | leanest of alloc's | fastest other malloc |\n"
               "|---|---|---|---|---|\n");
    for (int w = 0; w < WL_COUNT; w++) {
        if (!bench_workloads[w].pattern || !workload_in_run(run, w)) continue;
        const report_result *fa = fastest(run, w, is_alloc), *la = leanest(run, w, is_alloc),
                            *fo = fastest(run, w, is_other_malloc);
        if (!fa && !fo) continue;
        char a[160], l[160], o[160];
        fmt_choice(a, sizeof a, run, fa);
        if (la && la != fa && (!fa || fa->rss_per_live <= 0 || la->rss_per_live < 0.95 * fa->rss_per_live))
            fmt_choice(l, sizeof l, run, la);
        else
            snprintf(l, sizeof l, "%s", fa && fa->rss_per_live > 0 ? "(the same)" : " ");
        fmt_choice(o, sizeof o, run, fo);
        fprintf(f, "| %s | %s | %s | %s | %s |\n", bench_workloads[w].pattern, bench_workloads[w].name, a, l, o);
    }
    fprintf(f, "\n");
}

/* Resident memory over live bytes, for the workloads that measure it. */
static void write_memory(FILE *f, const report_run *run, const bench_contender **cs, size_t nc)
{
    const int mem_w[] = {WL_BATCH_FIFO, WL_CHURN_4K, WL_CHURN_64K, WL_CHURN_100K, WL_LARGE, WL_REALLOC_MANY, WL_PHASE, WL_DRIFT};
    const size_t nw = sizeof mem_w / sizeof mem_w[0];
    bool any = false;
    for (size_t k = 0; k < nw; k++) any |= workload_in_run(run, mem_w[k]);
    if (!any) return;
    fprintf(f, "## Memory: peak resident set growth / peak live bytes requested\n\n");
    fprintf(f, "Batch: at the peak (all blocks live). Churn: after the replacements. Large: highest RSS with the "
               "live set full / largest live bytes. realloc-many: with every buffer at full size. Phase: the "
               "highest RSS at the end of a phase's allocations / one phase's bytes. Drift: highest RSS sampled "
               "every 64Ki operations / highest live bytes. Includes every byte the allocator keeps resident: "
               "headers, size-class rounding, caches, fragmentation.\n\n");
    fprintf(f, "| contender |");
    for (size_t k = 0; k < nw; k++)
        if (workload_in_run(run, mem_w[k])) fprintf(f, " %s |", bench_workloads[mem_w[k]].name);
    fprintf(f, "\n|---|");
    for (size_t k = 0; k < nw; k++)
        if (workload_in_run(run, mem_w[k])) fprintf(f, "---:|");
    fprintf(f, "\n");
    for (size_t c = 0; c < nc; c++) {
        char row[2048];
        size_t len = (size_t)snprintf(row, sizeof row, "| %s |", cs[c]->name);
        bool filled = false;
        for (size_t k = 0; k < nw; k++) {
            if (!workload_in_run(run, mem_w[k])) continue;
            const report_result *r = find(run, cs[c]->name, mem_w[k]);
            char cell[32] = " ";
            if (r && r->status == REPORT_OK && r->live > 0) {
                snprintf(cell, sizeof cell, "%.2f", r->rss_per_live);
                filled = true;
            } else if (r && r->status == REPORT_OVER) {
                snprintf(cell, sizeof cell, "over budget");
                filled = true;
            }
            if (len < sizeof row) len += (size_t)snprintf(row + len, sizeof row - len, " %s |", cell);
        }
        if (filled) fprintf(f, "%s\n", row);
    }
    fprintf(f, "\n");
}

/* Absolute footprints of the three workloads that measure memory given back. */
static void write_footprint(FILE *f, const report_run *run, const bench_contender **cs, size_t nc)
{
    bool ph = workload_in_run(run, WL_PHASE), dr = workload_in_run(run, WL_DRIFT),
         rm = workload_in_run(run, WL_REALLOC_MANY);
    if (run->callgrind || !(ph || dr || rm)) return;
    char delay[32];
    if (run->params.decay_ns >= 1e9 && fmod(run->params.decay_ns, 1e9) == 0)
        snprintf(delay, sizeof delay, "%.0f s", run->params.decay_ns / 1e9); /* "1 s", not "1.00 s" */
    else
        fmt_time(delay, sizeof delay, run->params.decay_ns);
    fprintf(f, "## Footprint: memory kept and given back\n\n");
    fprintf(f, "Resident set growth of the process (RSS, from /proc/self/statm; the harness's own tables are not "
               "counted). \"After\" figures are taken once everything is freed: right away after each phase, and "
               "after a decay delay of %s followed by one small malloc+free (so an allocator that purges on a timer "
               "or on its next call has acted). malloc_trim is not called.\n\n",
            delay);
    char a[32], b[32], c2[32], d[32], e[32];
    if (ph) {
        fprintf(f, "| phase | peak RSS | after the 64 B phase | after the 1-4 KiB phase | after the 256 KiB phase | "
                   "after %s |\n|---|---:|---:|---:|---:|---:|\n",
                delay);
        for (size_t c = 0; c < nc; c++) {
            const report_result *r = find(run, cs[c]->name, WL_PHASE);
            if (!r || (r->status != REPORT_OK && r->status != REPORT_OVER)) continue;
            if (r->status == REPORT_OVER) {
                char o[160];
                fmt_over(o, sizeof o, r);
                fprintf(f, "| %s | over budget: %s | | | | |\n", cs[c]->name, o);
                continue;
            }
            fmt_bytes(a, sizeof a, r->rss_peak);
            fmt_bytes(b, sizeof b, r->rss_phase[0]);
            fmt_bytes(c2, sizeof c2, r->rss_phase[1]);
            fmt_bytes(d, sizeof d, r->rss_phase[2]);
            fmt_bytes(e, sizeof e, r->rss_end);
            fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", cs[c]->name, a, b, c2, d, e);
        }
        fprintf(f, "\n");
    }
    if (dr || rm) {
        fprintf(f, "| contender | drift: peak RSS | drift: peak live | drift: after %s | realloc-many: peak RSS | "
                   "realloc-many: after %s |\n|---|---:|---:|---:|---:|---:|\n",
                delay, delay);
        for (size_t c = 0; c < nc; c++) {
            const report_result *x = find(run, cs[c]->name, WL_DRIFT), *y = find(run, cs[c]->name, WL_REALLOC_MANY);
            bool okx = x && x->status == REPORT_OK, oky = y && y->status == REPORT_OK;
            bool overx = x && x->status == REPORT_OVER, overy = y && y->status == REPORT_OVER;
            if (!okx && !oky && !overx && !overy) continue;
            fprintf(f, "| %s |", cs[c]->name);
            if (okx) {
                fmt_bytes(a, sizeof a, x->rss_peak);
                fmt_bytes(b, sizeof b, x->live);
                fmt_bytes(c2, sizeof c2, x->rss_end);
                fprintf(f, " %s | %s | %s |", a, b, c2);
            } else
                fprintf(f, " %s | | |", overx ? "over budget" : "");
            if (oky) {
                fmt_bytes(d, sizeof d, y->rss_peak);
                fmt_bytes(e, sizeof e, y->rss_end);
                fprintf(f, " %s | %s |\n", d, e);
            } else
                fprintf(f, " %s | |\n", overy ? "over budget" : "");
        }
        fprintf(f, "\n");
    }
}

static void write_markdown(FILE *f, const report_run *run, bool plots)
{
    const bench_contender *cs[64];
    size_t nc = run_contenders(run, cs, 64);
    const char *unit = run->callgrind ? "Instructions per operation" : "CPU time per operation";
    fprintf(f, "# alloc-bench %s\n\n", run->callgrind ? "instruction counts (callgrind)" : "results");
    fprintf(f, "- date: %s\n- machine: %s\n- command: `%s`\n- samples per pair: %d (medians reported; phase, drift "
               "and realloc-many: 1)%s\n",
            run->date, run->machine, run->command, run->reps,
            run->callgrind ? "; collection only inside the measured sections" : "");
    if (!run->callgrind)
        fprintf(f, "- clock: %s (prodcons: wall time)\n",
                run->cpu_clock ? "CPU time of the measuring thread, user + system" : "wall time");
    char rs[32], rss[32], lmin[32], lmax[32], pb[32];
    fmt_bytes(rs, sizeof rs, (double)run->params.realloc_max);
    fmt_bytes(rss, sizeof rss, (double)run->params.realloc_step_max);
    fmt_bytes(lmin, sizeof lmin, (double)run->params.large_min);
    fmt_bytes(lmax, sizeof lmax, (double)run->params.large_max);
    fmt_bytes(pb, sizeof pb, (double)run->params.phase_bytes);
    fprintf(f, "- scale: %g (paired %zu pairs, lifo %zu blocks, batch %zu blocks, churn %zu live / %zu replacements, "
               "realloc to %s (+16 B steps to %s), large %zu blocks of %s-%s, prodcons %zu blocks, realloc-many %zu "
               "buffers, phase %s per phase, drift %zu operations)\n",
            run->params.scale, run->params.paired_n, run->params.lifo_blocks, run->params.batch_n,
            run->params.churn_live, run->params.churn_ops, rs, rss, run->params.large_n, lmin, lmax,
            run->params.prodcons_n, run->params.rmany_n, pb, run->params.drift_ops);
    fprintf(f, "- wall time of the run: %.0f s; CPU time of its child processes: %.0f s (the difference is time spent "
               "waiting for a CPU, or the footprint workloads' decay delays)\n\n",
            run->seconds, run->cpu_seconds);

    write_choice(f, run);

    fprintf(f, "## %s (median; lower is better)\n\n", unit);
    fprintf(f, "A pair that ran past its workload's time budget shows the CPU time it had used when it stopped and "
               "how far it got: \"> 2.10 s (reached 8 MiB of 16)\".\n\n");
    write_matrix(f, run, cs, nc, COL_TIME);
    for (int k = 0; k < 2; k++) {
        const char *base = k == 0 ? "jemalloc" : "glibc";
        bool present = false;
        for (size_t c = 0; c < nc; c++) present |= strcmp(cs[c]->name, base) == 0;
        if (!present) continue; /* a table of nothing */
        fprintf(f, "## Speedup against %s (%s / contender; above 1, in bold, = faster than %s)\n\n", base, base, base);
        fprintf(f, "\"< x\": the pair stopped at its budget, so its speedup is below x. The baseline's own row "
                   "reads 1.00.\n\n");
        write_matrix(f, run, cs, nc, k == 0 ? COL_VS_JE : COL_VS_GLIBC);
    }

    if (!run->callgrind) {
        write_memory(f, run, cs, nc);
        write_footprint(f, run, cs, nc);
    }

    write_targets(f, run);

    for (int w = 0; w < WL_COUNT; w++) {
        if (run->callgrind || !has_latency(w) || !workload_in_run(run, w)) continue;
        fprintf(f, "## Latency of single operations on %s (allocs and frees together)\n\n", bench_workloads[w].name);
        if (w == WL_CHURN_100K)
            fprintf(f, "Each operation's time is the least over %d replays of the same sequence.\n\n", WL_LAT_PASSES);
        fprintf(f, "| contender | p50 | p99 | p99.9 | max | max / p50 | timer overhead |\n"
                   "|---|---:|---:|---:|---:|---:|---:|\n");
        for (size_t c = 0; c < nc; c++) {
            const report_result *r = find(run, cs[c]->name, w);
            if (!r || r->status != REPORT_OK) continue;
            char q[5][32];
            for (int k = 0; k < 4; k++) fmt_time(q[k], sizeof q[k], r->lat[k]);
            fmt_time(q[4], sizeof q[4], r->timer_ns);
            fprintf(f, "| %s | %s | %s | %s | %s | %.1f | %s |\n", cs[c]->name, q[0], q[1], q[2], q[3],
                    r->lat[0] > 0 ? r->lat[3] / r->lat[0] : 0.0, q[4]);
        }
        fprintf(f, "\n");
    }

    fprintf(f, "## Contenders\n\n| name | family | what | version |\n|---|---|---|---|\n");
    for (size_t c = 0; c < nc; c++) {
        const char *version = "";
        for (size_t i = 0; i < run->count; i++)
            if (run->results[i].contender == cs[c] && run->results[i].version[0]) version = run->results[i].version;
        fprintf(f, "| %s | %s | %s | %s |\n", cs[c]->name, cs[c]->family, cs[c]->what, version);
    }
    fprintf(f, "\n## Workloads\n\n| workload | one operation | shows | time budget per sample |\n|---|---|---|---|\n");
    for (int w = 0; w < WL_COUNT; w++)
        if (workload_in_run(run, w)) {
            char budget[32] = "none";
            if (bench_workloads[w].budget_s > 0) snprintf(budget, sizeof budget, "%.0f s", bench_workloads[w].budget_s);
            fprintf(f, "| %s | %s | %s | %s |\n", bench_workloads[w].name, bench_workloads[w].op,
                    bench_workloads[w].shows, budget);
        }
    fprintf(f, "\n");

    bool header = false;
    for (size_t i = 0; i < run->count; i++) {
        const report_result *r = &run->results[i];
        if (r->status == REPORT_OK) continue;
        if (!header) {
            fprintf(f, "## Skipped, failed and over-budget pairs\n\n");
            header = true;
        }
        char extra[200] = "";
        if (r->status == REPORT_OVER) {
            char o[160];
            fmt_over(o, sizeof o, r);
            snprintf(extra, sizeof extra, ": %s", o);
        }
        fprintf(f, "- %s / %s: %s (%s)%s\n", r->contender->name, bench_workloads[r->workload].name,
                status_name(r->status), r->reason, extra);
    }
    if (header) fprintf(f, "\n");

    if (plots) {
        fprintf(f, "## Plots\n\n");
        for (int w = 0; w < WL_COUNT; w++)
            if (workload_in_run(run, w))
                fprintf(f, "![%s](plots/%s.svg)\n", bench_workloads[w].name, bench_workloads[w].name);
        if (workload_in_run(run, WL_PHASE)) fprintf(f, "![footprint-phase](plots/footprint-phase.svg)\n");
        if (workload_in_run(run, WL_DRIFT) || workload_in_run(run, WL_REALLOC_MANY))
            fprintf(f, "![footprint-drift-realloc-many](plots/footprint-drift-realloc-many.svg)\n");
        if (workload_in_run(run, WL_LATENCY)) fprintf(f, "![latency-percentiles](plots/latency-percentiles.svg)\n");
        fprintf(f, "\n");
    }
}

/* --- plots ------------------------------------------------------------------------------ */

static const struct {
    unsigned rgb;
    const char *title;
} categories[CAT_COUNT] = {
    [CAT_HANDLE] = {0x1F5FA8, "alloc, through the handle"},
    [CAT_INLINE] = {0x2A9D8F, "alloc, inline fast path"},
    [CAT_ALLOC_MALLOC] = {0xE08A1E, "alloc's malloc"},
    [CAT_MALLOC] = {0x8C8C8C, "other mallocs"},
    [CAT_BASELINE] = {0xC8C8C8, "baseline (no allocator)"},
    [CAT_OVER] = {0xC0392B, "over its time budget (time so far)"},
};

/* Unit of a time axis whose largest value is hi ns. */
static void time_unit(double hi, double *div, const char **unit)
{
    if (hi >= 1e9) *div = 1e9, *unit = "s";
    else if (hi >= 1e6) *div = 1e6, *unit = "ms";
    else if (hi >= 1e3) *div = 1e3, *unit = "µs";
    else *div = 1, *unit = "ns";
}

/* Explicit ticks for a log time axis: 1, 10, 100 per decade with units
 * ("1 ns", "10 µs", "1 ms") instead of gnuplot's 1x10^6. */
static void log_time_tics(FILE *gp, const char *axis, double lo, double hi)
{
    fprintf(gp, "set %stics (", axis);
    bool first = true;
    for (double d = pow(10, floor(log10(lo))); d <= hi * 1.0001; d *= 10) {
        if (d < lo * 0.9999) continue;
        char t[32];
        fmt_time(t, sizeof t, d);
        /* "1.00 µs" -> "1 µs" */
        char *dot = strstr(t, ".00");
        if (dot) memmove(dot, dot + 3, strlen(dot + 3) + 1);
        char *dot1 = strstr(t, ".0 ");
        if (dot1) memmove(dot1, dot1 + 2, strlen(dot1 + 2) + 1);
        fprintf(gp, "%s\"%s\" %g", first ? "" : ", ", t, d);
        first = false;
    }
    fprintf(gp, ")\n");
}

/* Ticks of a log byte axis: 1, 10, 100 of each binary unit. */
static void log_bytes_tics(FILE *gp, const char *axis, double lo, double hi)
{
    fprintf(gp, "set %stics (", axis);
    bool first = true;
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++)
        for (int m = 1; m <= 100; m *= 10) {
            double v = (double)m * pow(1024, u);
            if (v < lo || v > hi) continue;
            fprintf(gp, "%s\"%d %s\" %g", first ? "" : ", ", m, units[u], v);
            first = false;
        }
    fprintf(gp, ")\n");
}

/* A grouped bar chart of RSS figures of one or two footprint workloads:
 * phase (peak, after each phase, after the delay) or drift + realloc-many
 * (peak and after the delay of each). Values below 64 KiB are drawn at
 * 64 KiB (a log axis has no zero); the tables give the exact figures. */
static void footprint_chart(FILE *gp, const report_run *run, const char *pdir, const char *name, const char *title,
                            int w1, int w2)
{
    if (!workload_in_run(run, w1) && !workload_in_run(run, w2)) return;
    char dat[PATH_MAX + 64];
    snprintf(dat, sizeof dat, "%s/%s.dat", pdir, name);
    FILE *d = fopen(dat, "w");
    if (!d) return;
    const bench_contender *cs[64];
    size_t nc = run_contenders(run, cs, 64);
    const double floor_b = 64 * 1024;
    double hi = 1 << 20;
    int n = 0;
    for (size_t c = 0; c < nc; c++) {
        const report_result *a = find(run, cs[c]->name, w1), *b = w2 != w1 ? find(run, cs[c]->name, w2) : NULL;
        bool oka = a && a->status == REPORT_OK, okb = b && b->status == REPORT_OK;
        if (!oka && !okb) continue;
        double v[5] = {0};
        int nv;
        if (w1 == WL_PHASE) {
            nv = 5;
            v[0] = a->rss_peak;
            for (int k = 0; k < 3; k++) v[k + 1] = a->rss_phase[k];
            v[4] = a->rss_end;
        } else {
            nv = 4;
            if (oka) v[0] = a->rss_peak, v[1] = a->rss_end;
            if (okb) v[2] = b->rss_peak, v[3] = b->rss_end;
        }
        fprintf(d, "\"%s\"", cs[c]->name);
        for (int k = 0; k < nv; k++) {
            double x = v[k] > floor_b ? v[k] : floor_b;
            if (x > hi) hi = x;
            fprintf(d, " %.6g", x);
        }
        fprintf(d, "\n");
        n++;
    }
    fclose(d);
    if (n == 0) return;
    fprintf(gp, "\n# %s\nunset logscale x\nset autoscale\nset xrange [*:*]\nset yrange [*:*] noreverse\n"
                "set logscale y\nset yrange [%g:%g]\nset key inside top right vertical opaque\nset style data histograms\n"
                "set style histogram clustered gap 1\nset xtics autofreq rotate by -30\nset grid ytics\n"
                "set title '%s'\nset ylabel 'resident set growth, log scale'\nunset xlabel\n",
            name, floor_b, hi * 8, title);
    log_bytes_tics(gp, "y", floor_b, hi * 8);
    for (int t = 0; t < 2; t++) {
        fprintf(gp, "%s\nset output '%s.%s'\n",
                t == 0 ? "set terminal svg size 820,440 font 'sans,11' background '#ffffff'"
                       : "set terminal pngcairo size 1000,520 font 'sans,11' background '#ffffff'",
                name, t == 0 ? "svg" : "png");
        if (w1 == WL_PHASE)
            fprintf(gp, "plot '%s.dat' using 2:xtic(1) title 'peak', '' using 3 title 'after 64 B phase', '' using 4 "
                        "title 'after 1-4 KiB phase', '' using 5 title 'after 256 KiB phase', '' using 6 title 'after "
                        "the delay'\n",
                    name);
        else
            fprintf(gp, "plot '%s.dat' using 2:xtic(1) title 'drift: peak', '' using 3 title 'drift: after the delay', "
                        "'' using 4 title 'realloc-many: peak', '' using 5 title 'realloc-many: after the delay'\n",
                    name);
    }
    fprintf(gp, "unset logscale y\nunset ylabel\nset ytics autofreq\nset xtics norotate\nset style data points\n");
}

/* One horizontal bar chart per workload: names down the side, the value at
 * each bar's end; log scale when values span more than 30x. A pair over its
 * budget is drawn at its time per operation so far, in its own colour, with
 * what it reached written at the bar. */
static int write_plots(const report_run *run, const char *dir)
{
    char pdir[PATH_MAX], path[PATH_MAX + 64];
    snprintf(pdir, sizeof pdir, "%s/plots", dir);
    if (mkdir(pdir, 0777) != 0 && errno != EEXIST) return -1;
    snprintf(path, sizeof path, "%s/plots.gp", pdir);
    FILE *gp = fopen(path, "w");
    if (!gp) return -1;
    fprintf(gp, "# generated by alloc-bench; run: gnuplot plots.gp (in this folder)\n");
    fprintf(gp, "set encoding utf8\nset style fill solid 0.85 noborder\nset grid xtics lc rgb '#dddddd'\n"
                "set key inside top right vertical samplen 1.5 opaque\n"
                "set ytics nomirror scale 0\nset xtics nomirror\nset border 3\n");
    for (int w = 0; w < WL_COUNT; w++) {
        /* Fastest first, so the order itself reads as the ranking. */
        const report_result *rows[REPORT_MAX_RESULTS];
        double val[REPORT_MAX_RESULTS];
        size_t nrows = 0;
        for (size_t i = 0; i < run->count; i++) {
            const report_result *r = &run->results[i];
            if (r->workload != w) continue;
            double v = metric(run, r);
            if (r->status == REPORT_OVER && r->over.ops > 0 && !run->callgrind) v = r->over.ns / (double)r->over.ops;
            if (v <= 0) continue;
            rows[nrows] = r;
            val[nrows++] = v;
        }
        if (nrows == 0) continue;
        for (size_t i = 1; i < nrows; i++)
            for (size_t k = i; k > 0 && val[k] < val[k - 1]; k--) {
                const report_result *tmp = rows[k];
                rows[k] = rows[k - 1];
                rows[k - 1] = tmp;
                double tv = val[k];
                val[k] = val[k - 1];
                val[k - 1] = tv;
            }
        double lo = val[0], hi = val[nrows - 1];
        /* Room right of the bars for the labels (an over-budget one is long). */
        bool has_over = false;
        for (size_t i = 0; i < nrows; i++) has_over |= rows[i]->status == REPORT_OVER;
        bool logx = hi / lo > 30;
        double div = 1;
        const char *unit = "instructions";
        if (!run->callgrind) time_unit(logx ? 1 : hi, &div, &unit);
        if (logx && !run->callgrind) unit = "log scale";
        char dat[PATH_MAX + 64];
        snprintf(dat, sizeof dat, "%s/%s.dat", pdir, bench_workloads[w].name);
        FILE *d = fopen(dat, "w");
        if (!d) break;
        bool present[CAT_COUNT] = {false};
        for (size_t i = 0; i < nrows; i++) {
            const report_result *r = rows[i];
            category k = r->status == REPORT_OVER ? CAT_OVER : category_of(r->contender);
            present[k] = true;
            char label[320];
            if (r->status == REPORT_OVER) {
                char o[160], t[32];
                fmt_over(o, sizeof o, r);
                fmt_time(t, sizeof t, val[i]);
                snprintf(label, sizeof label, " %s; %s per op so far", o, t);
            } else {
                char t[32];
                fmt_metric(t, sizeof t, run, val[i]);
                snprintf(label, sizeof label, " %s", t);
            }
            fprintf(d, "%zu \"%s\" %.6g %d \"%s\"\n", i, r->contender->name, val[i] / div, categories[k].rgb, label);
        }
        fclose(d);
        int n = (int)nrows;
        double xmin = logx ? lo / div / 2 : 0;
        const char *name = bench_workloads[w].name;
        fprintf(gp, "\n# %s\n", name);
        fprintf(gp, "set title \"%s: %s\" noenhanced\n", name, bench_workloads[w].shows);
        if (run->callgrind)
            fprintf(gp, "set xlabel \"instructions per %s (lower is better)\" noenhanced\n", bench_workloads[w].op);
        else
            fprintf(gp, "set xlabel \"CPU time per %s%s%s%s (lower is better)\" noenhanced\n", bench_workloads[w].op,
                    w == WL_PRODCONS ? " (wall)" : "", logx ? ", log scale" : ", ", logx ? "" : unit);
        fprintf(gp, "set yrange [%d.6:-0.6]\n", n - 1);
        if (logx) {
            double xmax = hi / div * (has_over ? 3000 : 40);
            fprintf(gp, "set logscale x\nset xrange [%g:%g]\n", xmin, xmax);
            if (!run->callgrind)
                log_time_tics(gp, "x", xmin, xmax);
            else
                fprintf(gp, "set xtics autofreq\n");
        } else {
            fprintf(gp, "unset logscale x\nset xtics autofreq\nset xrange [0:%g]\n", hi / div * (has_over ? 3 : 1.6));
        }
        for (int t = 0; t < 2; t++) {
            if (t == 0)
                fprintf(gp, "set terminal svg size 820,%d font 'sans,11' background '#ffffff'\n", 170 + 26 * n);
            else
                fprintf(gp, "set terminal pngcairo size 1000,%d font 'sans,11' background '#ffffff'\n", 190 + 30 * n);
            fprintf(gp, "set output '%s.%s'\n", name, t == 0 ? "svg" : "png");
            fprintf(gp,
                    "plot '%s.dat' using ($3/2+%g/2):1:(%g):3:($1-0.35):($1+0.35):4:ytic(2) with boxxyerror lc rgb "
                    "variable notitle, '' using 3:1:5 with labels left noenhanced notitle",
                    name, xmin, xmin);
            for (int k = 0; k < CAT_COUNT; k++)
                if (present[k])
                    fprintf(gp, ", NaN with boxes lc rgb '#%06X' title \"%s\"", categories[k].rgb, categories[k].title);
            fprintf(gp, "\n");
        }
    }
    fprintf(gp, "unset xlabel\n");

    /* Memory given back: grouped bars of RSS per contender (log scale). */
    if (!run->callgrind) {
        footprint_chart(gp, run, pdir, "footprint-phase", "phase: resident memory at the peak, after each phase, after the delay",
                        WL_PHASE, WL_PHASE);
        footprint_chart(gp, run, pdir, "footprint-drift-realloc-many",
                        "drift and realloc-many: resident memory at the peak and after all is freed", WL_DRIFT,
                        WL_REALLOC_MANY);
    }

    /* Latency percentiles on one chart. */
    if (workload_in_run(run, WL_LATENCY) && !run->callgrind) {
        char dat[PATH_MAX + 64];
        snprintf(dat, sizeof dat, "%s/latency-percentiles.dat", pdir);
        FILE *d = fopen(dat, "w");
        int n = 0;
        double lat_hi = 10;
        if (d) {
            for (size_t i = 0; i < run->count; i++) {
                const report_result *r = &run->results[i];
                if (r->workload != WL_LATENCY || r->status != REPORT_OK) continue;
                fprintf(d, "\"%s\" %.6g %.6g %.6g %.6g\n", r->contender->name, r->lat[0], r->lat[1], r->lat[2],
                        r->lat[3]);
                if (r->lat[3] > lat_hi) lat_hi = r->lat[3];
                n++;
            }
            fclose(d);
        }
        if (n > 0) {
            fprintf(gp, "\n# latency percentiles\nunset logscale x\nset autoscale\nset yrange [*:*] noreverse\n"
                        "set logscale y\nset yrange [1:*]\nset key inside top left horizontal\nset style data histograms\n"
                        "set style histogram clustered gap 1\nset xtics autofreq rotate by -30\nset grid ytics\n"
                        "set title 'churn-4k: latency of single operations'\nset ylabel 'time, log scale'\n");
            log_time_tics(gp, "y", 1, lat_hi * 2);
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
