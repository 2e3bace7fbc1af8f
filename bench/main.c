/*
 * alloc-bench: every workload against any set of contenders, one child
 * process per (contender, workload), results as JSON, a Markdown table and
 * gnuplot plots.
 *
 *   alloc-bench [--contenders LIST] [--workloads LIST] [--reps N] [--scale F]
 *               [--seed N] [--out DIR] [--callgrind] [--smoke] [--no-plots]
 *               [--timeout S] [--budget S] [--list]
 *
 * LIST is a comma list of names, or "all". Contenders a build lacks (a malloc
 * library not installed, a strategy not compiled in) are not in the table and
 * are reported as absent when asked for by name.
 *
 * Why one process per pair: jemalloc, mimalloc and tcmalloc replace malloc by
 * symbol interposition, which takes a process of its own (LD_PRELOAD); running
 * every pair that way also gives each a clean heap, so one contender's caches
 * cannot flatter or hurt the next one's RSS.
 *
 * --callgrind runs each pair once under `valgrind --tool=callgrind` with
 * collection switched on only around the measured sections (client requests
 * in bench_measure_begin/end) and reports instructions per operation: the
 * figure that repeats on a noisy machine.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "report.h"

extern char **environ;

/* --- the child: one contender, one workload, N samples ----------------------------- */

static bench_need need_of(int w, const bench_params *p)
{
    bench_need n = {0};
    n.align = 8;
    switch (w) {
    case WL_PAIRED:
        n = (bench_need){32, 32, 1, 32 * p->paired_n, 32, 8, false};
        break;
    case WL_LIFO:
        n = (bench_need){256, 256 * 256, 256, 256 * p->lifo_blocks, 0, 8, false};
        break;
    case WL_BATCH_FIFO:
    case WL_BATCH_RANDOM:
    case WL_BATCH_FREEALL:
        n = (bench_need){256, 256 * p->batch_n, p->batch_n, 256 * p->batch_n, 0, 8, false};
        break;
    case WL_CHURN_4K:
    case WL_LATENCY:
        n = (bench_need){4096, 4096 * p->churn_live, p->churn_live,
                         4096 * (p->churn_live + (w == WL_LATENCY ? p->latency_ops : p->churn_ops)), 0, 8, false};
        break;
    case WL_CHURN_100K:
        n = (bench_need){4096, 4096 * p->churn100k_live, p->churn100k_live,
                         4096 * (p->churn100k_live + p->churn100k_ops) * (1 + WL_LAT_PASSES), 0, 8, false};
        break;
    case WL_CHURN_64K:
        n = (bench_need){65536, 65536 * p->churn64_live, p->churn64_live, 65536 * (p->churn64_live + p->churn_ops),
                         0, 8, false};
        break;
    case WL_REALLOC_DOUBLE:
    case WL_REALLOC_STEP:
        n = (bench_need){p->realloc_max, p->realloc_max, 1, 2 * p->realloc_max, 0, 8, false};
        break;
    case WL_PRODCONS:
        n = (bench_need){64, 64 * 1025, 1025, 64 * p->prodcons_n, 64, 8, true};
        break;
    case WL_LARGE:
        n = (bench_need){p->large_max, p->large_max * p->large_live, p->large_live, p->large_max * p->large_n, 0, 16,
                         false};
        break;
    case WL_REALLOC_MANY:
        n = (bench_need){p->rmany_max, p->rmany_max * p->rmany_n, p->rmany_n,
                         p->rmany_n * (p->rmany_max / 64) * (p->rmany_max / 2), 0, 8, false};
        break;
    case WL_PHASE:
        n = (bench_need){(size_t)256 << 10, p->phase_bytes, p->phase_bytes / 64,
                         2 * p->phase_bytes + p->phase_big_n * ((size_t)256 << 10), 0, 8, false};
        break;
    case WL_DRIFT:
        n = (bench_need){49152, p->drift_live + 49152, p->drift_live / 16 + 1, p->drift_ops * 49152, 0, 8, false};
        break;
    }
    return n;
}

/* One line per sample, read back by parse_sample. */
static void print_sample(const char *kind, const bench_sample *s)
{
    printf("%s %.17g %llu %.17g %.17g %.17g %.17g %.17g %.17g %.17g %llu %.17g %.17g %.17g %.17g %.17g %.17g\n", kind,
           s->ns, (unsigned long long)s->ops, s->rss_peak, s->live_peak, s->lat[0], s->lat[1], s->lat[2], s->lat[3],
           s->timer_ns, (unsigned long long)s->checksum, s->rss_phase[0], s->rss_phase[1], s->rss_phase[2],
           s->rss_end, s->progress, s->goal);
}

static bool parse_sample(const char *line, bench_sample *s)
{
    unsigned long long ops = 0, sum = 0;
    if (sscanf(line, "%lf %llu %lf %lf %lf %lf %lf %lf %lf %llu %lf %lf %lf %lf %lf %lf", &s->ns, &ops, &s->rss_peak,
               &s->live_peak, &s->lat[0], &s->lat[1], &s->lat[2], &s->lat[3], &s->timer_ns, &sum, &s->rss_phase[0],
               &s->rss_phase[1], &s->rss_phase[2], &s->rss_end, &s->progress, &s->goal) != 16)
        return false;
    s->ops = ops;
    s->checksum = sum;
    return true;
}

/* The version string of the malloc that answers in this process. */
static void print_malloc_version(void)
{
    /* dlsym gives an object pointer; POSIX guarantees it converts to a
     * function pointer, ISO C does not, so copy the bits. */
    void *f;
    if ((f = dlsym(RTLD_DEFAULT, "mallctl"))) {
        int (*mallctl)(const char *, void *, size_t *, void *, size_t);
        memcpy(&mallctl, &f, sizeof f);
        const char *v = NULL;
        size_t sz = sizeof v;
        if (mallctl("version", &v, &sz, NULL, 0) == 0 && v) printf("version jemalloc %s\n", v);
    } else if ((f = dlsym(RTLD_DEFAULT, "mi_version"))) {
        int (*mi_version)(void);
        memcpy(&mi_version, &f, sizeof f);
        int v = mi_version();
        printf("version mimalloc %d.%d.%d\n", v / 100, (v / 10) % 10, v % 10);
    } else if ((f = dlsym(RTLD_DEFAULT, "tc_version"))) {
        int major = 0, minor = 0;
        const char *patch = NULL;
        const char *(*tc_version)(int *, int *, const char **);
        memcpy(&tc_version, &f, sizeof f);
        const char *s = tc_version(&major, &minor, &patch);
        printf("version %s\n", s ? s : "tcmalloc");
    } else if ((f = dlsym(RTLD_DEFAULT, "alloc_global_strategy_name"))) {
        const char *(*name)(void);
        memcpy(&name, &f, sizeof f);
        printf("version alloc global adapter, strategy %s\n", name());
    } else {
        printf("version glibc %s\n", gnu_get_libc_version());
    }
}

static int run_child(const char *cname, const char *wname, int reps, const bench_params *params, double budget_s,
                     bool check_each)
{
    bench_params pw = *params;
    const bench_params *p = &pw;
    const bench_contender *c = bench_contender_find(cname);
    int w = report_workload_index(wname);
    if (!c || w < 0) {
        printf("status fail unknown contender or workload\n");
        return 2;
    }
    if (c->preload && !dlsym(RTLD_DEFAULT, c->symbol)) {
        printf("status fail %s did not load (LD_PRELOAD of %s)\n", c->name, c->preload);
        return 2;
    }
    if (!c->preload && (c->flags & BENCH_MALLOC)) {
        static const char *const others[] = {"mallctl", "mi_malloc", "tc_malloc", "alloc_global_malloc"};
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
            if (dlsym(RTLD_DEFAULT, others[i])) {
                printf("status fail another malloc is preloaded (%s)\n", others[i]);
                return 2;
            }
    }
    if (c->flags & BENCH_MALLOC) print_malloc_version();
    if (budget_s <= 0) budget_s = bench_workloads[w].budget_s;
    if (bench_workloads[w].budget_s <= 0) budget_s = 0; /* the workload checks no budget */
    pw.budget_ns = budget_s * 1e9 * (bench_under_valgrind() ? BENCH_VALGRIND_SLOWDOWN : 1.0);
    bench_need need = need_of(w, p);
    bench_rss_set_base();
    void *st = NULL;
    const char *why = "cannot meet the workload's needs";
    if (c->create(&need, &st, &why) != 0) {
        printf("status skip %s\n", why);
        return 0;
    }
    for (int r = 0; r < reps; r++) {
        bench_sample s = {0};
        if (r > 0) c->impl->reset(st); /* untimed; frees-all where the workload left blocks behind */
        int rc = c->impl->run[w](st, p, &s);
        bool ok = !check_each || !c->check || c->check(st);
        if (rc == -ETIMEDOUT) {
            /* Not a gap in the report: what it reached goes in the table and the plot. */
            c->destroy(st);
            print_sample("over", &s);
            printf("status over the budget of %.3g s (wall) per sample; stopped after %llu operations\n",
                   p->budget_ns / 1e9, (unsigned long long)s.ops);
            return 0;
        }
        if (rc != 0) {
            c->destroy(st);
            printf("status fail workload returned %s\n", rc == -ENOMEM ? "out of memory"
                                                          : rc == -EFAULT ? "a block lost its contents"
                                                                          : strerror(-rc));
            return 1;
        }
        if (!ok) {
            c->destroy(st);
            printf("status fail invariant check failed after the sample\n");
            return 1;
        }
        print_sample("sample", &s);
        fflush(stdout);
    }
    c->destroy(st);
    printf("status ok\n");
    return 0;
}

/* Instruction counts of small sizes only would hide the large bands (a
 * malloc's cut-over to mmap, a strategy's large path), where quadratic
 * realloc growth and per-block mappings show: under callgrind the realloc
 * workloads grow past 4 MiB and the large blocks are several MiB, whatever
 * the scale. */
static void callgrind_sizes(bench_params *p)
{
    if (p->realloc_max < ((size_t)8 << 20)) p->realloc_max = (size_t)8 << 20;
    if (p->realloc_step_max < ((size_t)6 << 20)) p->realloc_step_max = (size_t)6 << 20;
    p->realloc_rounds = 1;
    if (p->large_min < ((size_t)2 << 20)) p->large_min = (size_t)2 << 20;
    if (p->large_max < ((size_t)8 << 20)) p->large_max = (size_t)8 << 20;
}

/* --- the driver -------------------------------------------------------------------- */

typedef struct options {
    char contenders[1024];
    char workloads[1024];
    int reps;
    double scale;
    uint64_t seed;
    char out[PATH_MAX];
    bool callgrind, smoke, plots, list, plan;
    int timeout;
    double budget; /* seconds; > 0 replaces every workload's budget */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alloc-bench [options]\n"
            "  --contenders LIST  comma list of contenders, or all (default: all)\n"
            "  --workloads LIST   comma list of workloads, or all (default: all)\n"
            "  --reps N           samples per pair; the report uses the median (default 5)\n"
            "  --scale F          sizes relative to the issue's (default 1; 0.01 is quick)\n"
            "  --seed N           random seed (default 42)\n"
            "  --out DIR          where results.json, results.md and plots/ go (default bench/results)\n"
            "  --callgrind        instructions per operation under valgrind --tool=callgrind\n"
            "                     (one sample per pair; default scale 0.002); writes callgrind.json/.md\n"
            "  --smoke            every workload for every contender at a tiny size, invariant\n"
            "                     checks after each sample, no plots; exit status 1 on any failure\n"
            "  --no-plots         skip gnuplot\n"
            "  --timeout S        wall seconds before a pair is abandoned (default 300)\n"
            "  --budget S         wall seconds per sample for every workload that has a budget\n"
            "                     (default: each its own, see the report's workload table); a\n"
            "                     sample past it stops and is reported with what it reached\n"
            "  --clock cpu|wall   measured sections timed by the thread's CPU time (default) or wall\n"
            "                     time; prodcons always uses wall time\n"
            "  --list             list contenders and workloads and exit\n"
            "  --plan             print the pairs the other options select (\"contender workload\",\n"
            "                     one a line) and exit\n");
}

static bool in_list(const char *list, const char *name)
{
    if (strcmp(list, "all") == 0) return true;
    size_t n = strlen(name);
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && strncmp(s, name, n) == 0) return true;
        if (!e) break;
        s = e + 1;
    }
    return false;
}

/* Names in list that are not known contenders/workloads: reported, not fatal. */
static void warn_unknown(const char *list, bool contenders)
{
    if (strcmp(list, "all") == 0) return;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bool known = contenders ? bench_contender_find(t) != NULL : report_workload_index(t) >= 0;
        if (!known)
            fprintf(stderr, "alloc-bench: %s '%s' is not in this build; skipped\n",
                    contenders ? "contender" : "workload", t);
    }
}

static bool self_exe(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) return false;
    buf[n] = '\0';
    return true;
}

/* Runs one child; fills res from its output. */
static void run_pair(const options *o, const char *exe, const bench_contender *c, int w, report_result *res)
{
    char reps[16], scale[32], seed[32], timeout[16];
    int nreps = o->callgrind ? 1 : o->reps;
    if (bench_workloads[w].max_reps > 0 && nreps > bench_workloads[w].max_reps) nreps = bench_workloads[w].max_reps;
    snprintf(reps, sizeof reps, "%d", nreps);
    snprintf(scale, sizeof scale, "%.17g", o->scale);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(timeout, sizeof timeout, "%d", o->timeout);
    char budget[32];
    snprintf(budget, sizeof budget, "%.17g", o->budget);
    char cgout[PATH_MAX + 64] = "";
    const char *argv[32];
    int a = 0;
    char cgfile_arg[PATH_MAX + 96];
    if (o->callgrind) {
        snprintf(cgout, sizeof cgout, "%s/callgrind/%s.%s.out", o->out, c->name, bench_workloads[w].name);
        snprintf(cgfile_arg, sizeof cgfile_arg, "--callgrind-out-file=%s", cgout);
        argv[a++] = "valgrind";
        argv[a++] = "--tool=callgrind";
        argv[a++] = "--collect-atstart=no";
        argv[a++] = "--quiet";
        argv[a++] = cgfile_arg;
    }
    argv[a++] = exe;
    argv[a++] = "--child";
    argv[a++] = c->name;
    argv[a++] = bench_workloads[w].name;
    argv[a++] = "--reps";
    argv[a++] = reps;
    argv[a++] = "--scale";
    argv[a++] = scale;
    argv[a++] = "--seed";
    argv[a++] = seed;
    argv[a++] = "--timeout";
    argv[a++] = timeout;
    argv[a++] = "--budget";
    argv[a++] = budget;
    if (o->smoke) argv[a++] = "--check";
    if (o->callgrind) argv[a++] = "--large-bands";
    if (!bench_cpu_clock) {
        argv[a++] = "--clock";
        argv[a++] = "wall";
    }
    argv[a] = NULL;

    /* Environment: ours, with LD_PRELOAD set for preloaded mallocs and removed otherwise. */
    size_t envc = 0;
    while (environ[envc]) envc++;
    char **envp = calloc(envc + 2, sizeof *envp);
    char preload[PATH_MAX + 16];
    size_t e = 0;
    for (size_t i = 0; i < envc; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0) envp[e++] = environ[i];
    if (c->preload) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", c->preload);
        envp[e++] = preload;
    }
    envp[e] = NULL;

    int pipefd[2];
    if (pipe(pipefd) != 0) {
        res->status = REPORT_FAIL;
        snprintf(res->reason, sizeof res->reason, "pipe: %s", strerror(errno));
        free(envp);
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    free(envp);
    if (rc != 0) {
        close(pipefd[0]);
        res->status = REPORT_FAIL;
        snprintf(res->reason, sizeof res->reason, "cannot start %s: %s", argv[0], strerror(rc));
        return;
    }
    FILE *in = fdopen(pipefd[0], "r");
    char line[1024];
    res->status = REPORT_FAIL;
    snprintf(res->reason, sizeof res->reason, "child ended without a status");
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "sample ", 7) == 0 && res->nsamples < REPORT_MAX_SAMPLES) {
            if (parse_sample(line + 7, &res->samples[res->nsamples])) res->nsamples++;
        } else if (strncmp(line, "over ", 5) == 0) {
            res->has_over = parse_sample(line + 5, &res->over);
        } else if (strncmp(line, "version ", 8) == 0) {
            snprintf(res->version, sizeof res->version, "%.120s", line + 8);
        } else if (strncmp(line, "status ", 7) == 0) {
            const char *st = line + 7;
            const char *why = strchr(st, ' ');
            if (strncmp(st, "ok", 2) == 0)
                res->status = REPORT_OK;
            else if (strncmp(st, "skip", 4) == 0)
                res->status = REPORT_SKIP;
            else if (strncmp(st, "over", 4) == 0)
                res->status = res->has_over ? REPORT_OVER : REPORT_FAIL;
            else
                res->status = REPORT_FAIL;
            snprintf(res->reason, sizeof res->reason, "%.250s", why ? why + 1 : "");
        }
    }
    if (in) fclose(in);
    int wstatus = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    wait4(pid, &wstatus, 0, &ru);
    res->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                       (double)ru.ru_stime.tv_usec / 1e6;
    if (WIFSIGNALED(wstatus)) {
        res->status = REPORT_FAIL;
        snprintf(res->reason, sizeof res->reason, "%s (signal %d)",
                 WTERMSIG(wstatus) == SIGALRM ? "timed out" : "crashed", WTERMSIG(wstatus));
    } else if (res->status == REPORT_OK && res->nsamples == 0) {
        res->status = REPORT_FAIL;
        snprintf(res->reason, sizeof res->reason, "no samples");
    }
    if (o->callgrind && res->status == REPORT_OK) {
        res->instructions = report_callgrind_total(cgout);
        if (res->instructions <= 0) {
            res->status = REPORT_FAIL;
            snprintf(res->reason, sizeof res->reason, "no callgrind totals in %.200s", cgout);
        }
    }
}

static void describe_machine(report_run *run)
{
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    if (f) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    v += 1 + strspn(v + 1, " \t");
                    v[strcspn(v, "\n")] = '\0';
                    snprintf(model, sizeof model, "%s", v);
                }
                break;
            }
        fclose(f);
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024 * 1024);
    struct utsname u;
    uname(&u);
    char thp[128] = "?";
    f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (fgets(thp, sizeof thp, f)) thp[strcspn(thp, "\n")] = '\0';
        fclose(f);
    }
    /* Other work on the machine skews every wall-clock figure: say how busy it was. */
    char load[64] = "?";
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f)) load[strcspn(load, " ")] = '\0';
        fclose(f);
    }
    snprintf(run->machine, sizeof run->machine,
             "%s, %ld logical CPUs, %.1f GiB RAM; Linux %s (%s); transparent huge pages: %s; glibc %s; "
             "compiler %s; load average (1 min) at the start: %s; built %s",
             model, cpus, mem, u.release, u.machine, thp, gnu_get_libc_version(), __VERSION__, load,
#if defined(NDEBUG)
             "release (NDEBUG, CMake Release flags)"
#else
             "without NDEBUG (not a release build: numbers are not representative)"
#endif
    );
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
    options o = {.reps = 5, .scale = -1, .seed = 42, .plots = true, .timeout = 300};
    snprintf(o.contenders, sizeof o.contenders, "all");
    snprintf(o.workloads, sizeof o.workloads, "all");
    snprintf(o.out, sizeof o.out, "bench/results");
    const char *child_c = NULL, *child_w = NULL;
    bool check_each = false, large_bands = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL()                                                          \
    do {                                                                    \
        if (!val) {                                                         \
            fprintf(stderr, "alloc-bench: %s needs a value\n", arg);        \
            return 2;                                                       \
        }                                                                   \
        i++;                                                                \
    } while (0)
        if (strcmp(arg, "--contenders") == 0) {
            NEED_VAL();
            snprintf(o.contenders, sizeof o.contenders, "%s", val);
        } else if (strcmp(arg, "--workloads") == 0) {
            NEED_VAL();
            snprintf(o.workloads, sizeof o.workloads, "%s", val);
        } else if (strcmp(arg, "--reps") == 0) {
            NEED_VAL();
            o.reps = atoi(val);
        } else if (strcmp(arg, "--scale") == 0) {
            NEED_VAL();
            o.scale = strtod(val, NULL);
        } else if (strcmp(arg, "--seed") == 0) {
            NEED_VAL();
            o.seed = strtoull(val, NULL, 0);
        } else if (strcmp(arg, "--out") == 0) {
            NEED_VAL();
            snprintf(o.out, sizeof o.out, "%s", val);
        } else if (strcmp(arg, "--timeout") == 0) {
            NEED_VAL();
            o.timeout = atoi(val);
        } else if (strcmp(arg, "--budget") == 0) {
            NEED_VAL();
            o.budget = strtod(val, NULL);
            if (!(o.budget >= 0)) {
                fprintf(stderr, "alloc-bench: --budget must be >= 0\n");
                return 2;
            }
        } else if (strcmp(arg, "--clock") == 0) {
            NEED_VAL();
            if (strcmp(val, "cpu") != 0 && strcmp(val, "wall") != 0) {
                fprintf(stderr, "alloc-bench: --clock is cpu or wall\n");
                return 2;
            }
            bench_cpu_clock = strcmp(val, "cpu") == 0;
        } else if (strcmp(arg, "--callgrind") == 0) {
            o.callgrind = true;
        } else if (strcmp(arg, "--smoke") == 0) {
            o.smoke = true;
        } else if (strcmp(arg, "--no-plots") == 0) {
            o.plots = false;
        } else if (strcmp(arg, "--list") == 0) {
            o.list = true;
        } else if (strcmp(arg, "--plan") == 0) {
            o.plan = true;
        } else if (strcmp(arg, "--check") == 0) {
            check_each = true;
        } else if (strcmp(arg, "--large-bands") == 0) {
            large_bands = true;
        } else if (strcmp(arg, "--child") == 0) {
            if (i + 2 >= argc) return 2;
            child_c = argv[++i];
            child_w = argv[++i];
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "alloc-bench: unknown option %s\n", arg);
            usage(stderr);
            return 2;
        }
#undef NEED_VAL
    }
    if (o.reps < 1 || o.reps > REPORT_MAX_SAMPLES) {
        fprintf(stderr, "alloc-bench: --reps must be 1..%d\n", REPORT_MAX_SAMPLES);
        return 2;
    }
    if (o.scale < 0) o.scale = o.smoke ? 0.0005 : o.callgrind ? 0.002 : 1.0;
    if (!(o.scale > 0 && o.scale <= 100)) {
        fprintf(stderr, "alloc-bench: --scale must be in (0, 100]\n");
        return 2;
    }
    if (o.smoke) {
        o.reps = 1;
        o.plots = false;
    }
    bench_params params;
    bench_params_init(&params, o.scale, o.seed);
    /* The driver tells a callgrind child (--large-bands): a child that merely
     * finds itself under valgrind may be memcheck running the smoke test. */
    if (o.callgrind || large_bands) callgrind_sizes(&params);

    if (child_c) {
        /* A pair that hangs (a deadlock in a thread-safe strategy) ends the
         * child, not the whole run. */
        if (o.timeout > 0) alarm((unsigned)o.timeout);
        /* And a child whose driver was interrupted does not run on alone. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        return run_child(child_c, child_w, o.reps, &params, o.budget, check_each);
    }

    if (o.list) {
        printf("contenders:\n");
        for (size_t i = 0; i < bench_contender_count(); i++) {
            const bench_contender *c = bench_contender_at(i);
            printf("  %-16s %-9s %s\n", c->name, c->family, c->what);
        }
        printf("workloads:\n");
        for (int w = 0; w < WL_COUNT; w++)
            printf("  %-15s per %-28s %s\n", bench_workloads[w].name, bench_workloads[w].op, bench_workloads[w].shows);
        return 0;
    }

    char exe[PATH_MAX];
    if (!self_exe(exe, sizeof exe)) {
        fprintf(stderr, "alloc-bench: cannot find my own executable\n");
        return 2;
    }
    warn_unknown(o.contenders, true);
    warn_unknown(o.workloads, false);
    if (!o.plan && mkdir_p(o.out) != 0) {
        fprintf(stderr, "alloc-bench: cannot create %s: %s\n", o.out, strerror(errno));
        return 2;
    }
    if (o.callgrind && !o.plan) {
        char d[PATH_MAX + 16];
        snprintf(d, sizeof d, "%s/callgrind", o.out);
        if (mkdir_p(d) != 0) return 2;
    }

    report_run *run = calloc(1, sizeof *run);
    if (!run) return 2;
    run->params = params;
    run->reps = o.callgrind ? 1 : o.reps;
    run->callgrind = o.callgrind;
    run->cpu_clock = bench_cpu_clock;
    describe_machine(run);
    {
        size_t len = 0;
        for (int i = 0; i < argc && len < sizeof run->command - 1; i++)
            len += (size_t)snprintf(run->command + len, sizeof run->command - len, "%s%s", i ? " " : "",
                                    i ? argv[i] : "alloc-bench");
        time_t now = time(NULL);
        strftime(run->date, sizeof run->date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    }

    /* The plan: selected contenders x selected workloads they join. Under
     * callgrind, the threaded and per-operation-timed workloads are left out
     * (callgrind runs threads one at a time, so spinning would be counted,
     * and per-operation timing measures nothing there), and "all" workloads
     * means those marked for the callgrind pass (bench_workload_info.callgrind):
     * the same --workloads filter serves both passes of scripts/bench.sh. */
    for (size_t i = 0; i < bench_contender_count(); i++) {
        const bench_contender *c = bench_contender_at(i);
        if (!in_list(o.contenders, c->name)) continue;
        for (int w = 0; w < WL_COUNT; w++) {
            if (!in_list(o.workloads, bench_workloads[w].name)) continue;
            if (!(c->workloads & WL_BIT(w))) continue;
            if (w == WL_PRODCONS && !(c->flags & BENCH_THREAD_SAFE)) continue;
            if (o.callgrind && (w == WL_PRODCONS || w == WL_LATENCY)) continue;
            if (o.callgrind && strcmp(o.workloads, "all") == 0 && !bench_workloads[w].callgrind) continue;
            if (run->count >= REPORT_MAX_RESULTS) break;
            report_result *r = &run->results[run->count++];
            r->contender = c;
            r->workload = w;
        }
    }
    if (o.plan) {
        for (size_t i = 0; i < run->count; i++)
            printf("%s %s\n", run->results[i].contender->name, bench_workloads[run->results[i].workload].name);
        free(run);
        return 0;
    }
    if (run->count == 0) {
        fprintf(stderr, "alloc-bench: nothing to run (see --list)\n");
        free(run);
        return 2;
    }

    double start = bench_wall_ns();
    int failures = 0;
    for (size_t i = 0; i < run->count; i++) {
        report_result *r = &run->results[i];
        fprintf(stderr, "[%3zu/%zu] %-10s %-15s ", i + 1, run->count, r->contender->name,
                bench_workloads[r->workload].name);
        fflush(stderr);
        double t0 = bench_wall_ns();
        run_pair(&o, exe, r->contender, r->workload, r);
        report_summarise(r);
        double secs = (bench_wall_ns() - t0) / 1e9;
        if (r->status == REPORT_OK) {
            if (o.callgrind)
                fprintf(stderr, "%10.1f instr/op", r->instr_per_op);
            else
                fprintf(stderr, "%10.2f ns/op", r->median_ns);
            if (r->rss_per_live > 0) fprintf(stderr, "  rss/live %.2f", r->rss_per_live);
        } else {
            fprintf(stderr, "%s: %s", r->status == REPORT_SKIP ? "skipped" : r->status == REPORT_OVER ? "over budget" : "FAILED",
                    r->reason);
            if (r->status == REPORT_FAIL) failures++;
        }
        fprintf(stderr, "  (%.1f s)\n", secs);
        run->cpu_seconds += r->cpu_seconds;
    }
    run->seconds = (bench_wall_ns() - start) / 1e9;
    report_ratios(run);

    int rc = report_write(run, o.out, o.plots);
    fprintf(stderr, "alloc-bench: %zu pairs in %.0f s (children used %.0f s of CPU), %d failed; results in %s/%s\n",
            run->count, run->seconds, run->cpu_seconds, failures, o.out, o.callgrind ? "callgrind.md" : "results.md");
    free(run);
    if (rc != 0) return 1;
    return failures ? 1 : 0;
}
