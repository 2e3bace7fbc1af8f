/*
 * report.h: results of a run and what is written from them (JSON with the raw
 * samples and the medians, a Markdown table with ratios against jemalloc and
 * glibc from the same run, the targets of the issue checked, gnuplot plots).
 */
#ifndef ALLOC_BENCH_REPORT_H
#define ALLOC_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "bench.h"

#define REPORT_MAX_SAMPLES 64
#define REPORT_MAX_RESULTS 512

/* REPORT_OVER: the pair ran past its workload's time budget; `over` holds
 * what it reached (time, operations, progress of goal). It is a result, not
 * a failure, and is shown as such in every table and plot. */
typedef enum { REPORT_PENDING, REPORT_OK, REPORT_SKIP, REPORT_FAIL, REPORT_OVER } report_status;

typedef struct report_result {
    const bench_contender *contender;
    int workload;
    report_status status;
    char reason[256];
    char version[128];
    bench_sample samples[REPORT_MAX_SAMPLES];
    int nsamples;
    bench_sample over; /* REPORT_OVER: the sample that stopped */
    bool has_over;
    /* Summaries (report_summarise). Times are per operation. */
    double median_ns, min_ns, max_ns;
    double rss_peak, live, rss_per_live; /* medians over samples; 0 where not measured */
    double rss_phase[3], rss_end;        /* medians (phase, drift, realloc-many) */
    double lat[4], timer_ns;             /* latency: medians of p50/p99/p99.9, max of max */
    double instructions, instr_per_op;   /* --callgrind */
    double cpu_seconds;                  /* user + system time of the child process */
    /* Speedups from the same run: baseline time / this time (above 1 = faster). 0 = no baseline. */
    double vs_jemalloc, vs_glibc;
} report_result;

typedef struct report_run {
    bench_params params;
    int reps;
    bool callgrind;
    bool cpu_clock; /* measured sections timed by thread CPU time (else wall) */
    char machine[1024];
    char command[1024];
    char date[64];
    double seconds;
    double cpu_seconds; /* sum over the children: the wall time of the run on an idle machine, roughly */
    size_t count;
    report_result results[REPORT_MAX_RESULTS];
} report_run;

int report_workload_index(const char *name);
void report_summarise(report_result *r);
void report_ratios(report_run *run);
/* Total instructions collected in a callgrind output file; 0 if none. */
double report_callgrind_total(const char *path);
/* Writes results.json + results.md + plots/ (or callgrind.json + callgrind.md). */
int report_write(const report_run *run, const char *dir, bool plots);

#endif /* ALLOC_BENCH_REPORT_H */
