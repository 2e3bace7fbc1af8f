/*
 * harness.c: runs the portable suite (harness.h). Usage:
 *     portable_tests [-l] [-j JOBS] [-t SECONDS] [-L MAX_LEN] [SUBSTRING...]
 * -l lists the case names; -j runs that many cases at once (default: the
 * number of CPUs); -t is the time after which a case counts as hung (default
 * 300 s); -L caps the lengths the conformance cases ask for (and live bytes
 * at 64 times that): under an emulator the same checks then run over less
 * memory. -x leaves out the cases whose name contains SUBSTRING (repeatable;
 * for a known, reported failure), listing each as SKIP and counting them.
 * SUBSTRINGs select the cases whose name contains any of them. Every case runs in its own child process; the parent prints one
 * PASS/FAIL line per case as it ends and the closing count, and exits
 * non-zero if anything failed or nothing ran.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suite.h"

static const char *current_case = "?";
/* A case that takes longer than this counts as hung (-t). */
static unsigned case_seconds = 300;

void pt_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: %s: check failed: %s: %s\n", file, line, current_case, cond, msg);
    fflush(stderr);
    _exit(1);
}

static bool selected(const char *name, int argc, char **argv, int first)
{
    if (first >= argc) return true;
    for (int i = first; i < argc; i++)
        if (strstr(name, argv[i])) return true;
    return false;
}

typedef struct job {
    char name[160];
    const pt_case *c;
    const void *param;
    pid_t pid;
    double started;
} job;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Starts one case in a child process. */
static pid_t start_case(job *j)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        current_case = j->name;
        /* Death cases are expected: no core files (qemu-user writes its own). */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(case_seconds);
        j->c->fn(j->param);
        fflush(stdout);
        _exit(0);
    }
    return pid;
}

/* true iff the child's end is what the case expects. */
static bool judge(const job *j, int status)
{
    int want = j->c->expect_signal;
    if (want == 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
        if (WIFSIGNALED(status))
            fprintf(stderr, "%s: killed by signal %d (%s)\n", j->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
        return false;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == want) return true;
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: expected signal %d, got signal %d\n", j->name, want, WTERMSIG(status));
    else
        fprintf(stderr, "%s: expected signal %d, exited with %d\n", j->name, want, WEXITSTATUS(status));
    return false;
}

/* Cases excluded with -x: reported as skipped, never silently dropped. */
#define MAX_EXCLUDES 16
static const char *excludes[MAX_EXCLUDES];
static size_t exclude_count;

static bool excluded(const char *name)
{
    for (size_t i = 0; i < exclude_count; i++)
        if (strstr(name, excludes[i])) return true;
    return false;
}

static job *jobs;
static size_t job_count, job_cap;

static void add_job(const char *name, const pt_case *c, const void *param)
{
    if (job_count == job_cap) {
        job_cap = job_cap ? 2 * job_cap : 256;
        jobs = realloc(jobs, job_cap * sizeof *jobs);
        if (!jobs) {
            perror("realloc");
            exit(2);
        }
    }
    job *j = &jobs[job_count++];
    snprintf(j->name, sizeof j->name, "%s", name);
    j->c = c;
    j->param = param;
    j->pid = 0;
}

int main(int argc, char **argv)
{
    int first = 1;
    bool list = false;
    long parallel = sysconf(_SC_NPROCESSORS_ONLN);
    while (first < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "-l") == 0) {
            list = true;
            first++;
        } else if (strcmp(argv[first], "-j") == 0 && first + 1 < argc) {
            parallel = strtol(argv[first + 1], NULL, 10);
            first += 2;
        } else if (strcmp(argv[first], "-t") == 0 && first + 1 < argc) {
            case_seconds = (unsigned)strtoul(argv[first + 1], NULL, 10);
            first += 2;
        } else if (strcmp(argv[first], "-x") == 0 && first + 1 < argc && exclude_count < MAX_EXCLUDES) {
            excludes[exclude_count++] = argv[first + 1];
            first += 2;
        } else if (strcmp(argv[first], "-L") == 0 && first + 1 < argc) {
            conformance_len_cap = (size_t)strtoull(argv[first + 1], NULL, 10);
            first += 2;
        } else {
            fprintf(stderr, "usage: %s [-l] [-j JOBS] [-t SECONDS] [-L MAX_LEN] [-x SUBSTRING]... [SUBSTRING...]\n",
                    argv[0]);
            return 2;
        }
    }
    if (parallel < 1) parallel = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);

    char name[256];
    for (size_t i = 0; i < pt_os_case_count; i++) {
        snprintf(name, sizeof name, "os/%s", pt_os_cases[i].name);
        if (selected(name, argc, argv, first)) add_job(name, &pt_os_cases[i], NULL);
    }
    for (size_t r = 0; r < pt_row_count(); r++)
        for (size_t i = 0; i < pt_conformance_case_count; i++) {
            snprintf(name, sizeof name, "conformance/%s/%s", pt_conformance_cases[i].name, pt_row_name(r));
            if (selected(name, argc, argv, first)) add_job(name, &pt_conformance_cases[i], pt_row(r));
        }
    if (list) {
        for (size_t i = 0; i < job_count; i++) puts(jobs[i].name);
        return 0;
    }

    /* Keep up to `parallel` children running; report each as it ends. */
    unsigned passed = 0, failed = 0, skipped = 0;
    size_t next = 0, running = 0;
    while (next < job_count || running > 0) {
        while (next < job_count && running < (size_t)parallel) {
            if (excluded(jobs[next].name)) {
                printf("SKIP %s (excluded with -x)\n", jobs[next].name);
                skipped++;
                next++;
                continue;
            }
            jobs[next].started = now_seconds();
            jobs[next].pid = start_case(&jobs[next]);
            if (jobs[next].pid < 0) {
                printf("FAIL %s (could not start)\n", jobs[next].name);
                failed++;
            } else {
                running++;
            }
            next++;
        }
        if (running == 0) continue;
        int status = 0;
        pid_t pid = wait(&status);
        if (pid < 0) continue;
        for (size_t i = 0; i < next; i++) {
            if (jobs[i].pid != pid) continue;
            bool ok = judge(&jobs[i], status);
            printf("%s %s (%.1f s)\n", ok ? "PASS" : "FAIL", jobs[i].name, now_seconds() - jobs[i].started);
            ok ? passed++ : failed++;
            jobs[i].pid = 0;
            running--;
            break;
        }
    }
    free(jobs);
    if (skipped)
        printf("portable: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
    else
        printf("portable: %u passed, %u failed\n", passed, failed);
    if (passed + failed == 0) {
        fprintf(stderr, "portable: no case matched\n");
        return 1;
    }
    return failed ? 1 : 0;
}
