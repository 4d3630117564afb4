/*
 * Direct OpenBLAS / LAPACKE timings for the MetaFolio comparison (Benchmarks/compare/linalg.py).
 *
 * Times the same kernels as the Swift `LinalgTimings` target, on the same inputs (SplitMix64
 * streams, see Benchmarks/Sources/BenchmarkSupport/Inputs.swift), with the same rule: warm up for
 * at least 3 calls and 0.05 s (the first call is not counted in the warm-up mean), then
 * reps = clamp(budget / warm-up mean, min-reps, max-reps), each call timed separately with
 * CLOCK_MONOTONIC, median reported. A checksum of the last call's output, computed after the
 * timing, lets the driver check that every implementation computed the same result.
 * Prints one JSON object.
 *
 * What "direct" means per kernel (the cheapest plain-C way to get the same result):
 *   gemm n      cblas_dgemm(RowMajor, NoTrans, NoTrans) into a preallocated C.
 *   cholesky n  memcpy of the input into a work buffer, then LAPACKE_dpotrf(ColMajor, 'U') on it
 *               (a symmetric matrix's column-major upper triangle is its row-major lower one, so
 *               no LAPACKE transpose happens). No finite check, no zeroing of the other triangle.
 *   eigh n      memcpy, then LAPACKE_dsyevd(ColMajor, 'V', 'U') into preallocated eigenvalues;
 *               eigenvectors are left column-major in the work buffer (not transposed).
 *   cov TxN     the same BLAS calls as MetaFolio's Matrix.covariance, into preallocated buffers:
 *               column means by cblas_dgemv(RowMajor, Trans) against a vector of ones, a centered
 *               copy, cblas_dsyrk(RowMajor, Upper, Trans, alpha = 1/(T-1)), then the lower triangle
 *               mirrored. No finite check, no allocation.
 *
 * Build: gcc -O2 linalg_direct.c $(pkg-config --cflags --libs openblas lapacke) -o bin/linalg_direct
 * Usage: linalg_direct [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <lapacke.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

static double budget = 1.0;
static int min_reps = 15, max_reps = 5000;
static const char *only = NULL;
static int printed = 0;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) { fprintf(stderr, "linalg_direct: out of memory\n"); exit(1); }
    return p;
}

/* SplitMix64 draw i (0-based) of the stream seeded with `seed`, mapped to [-1, 1). */
static void fill_uniform(double *x, size_t count, uint64_t seed) {
    uint64_t state = seed;
    for (size_t i = 0; i < count; i++) {
        state += 0x9E3779B97F4A7C15ull;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        x[i] = (double)(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    }
}

/* X^T X / n + I for X uniform with seed 3, as BenchmarkSupport's Matrix.benchmarkSPD(order:). */
static double *make_spd(int n) {
    double *x = xmalloc(sizeof(double) * n * n), *s = xmalloc(sizeof(double) * n * n);
    fill_uniform(x, (size_t)n * n, 3);
    memset(s, 0, sizeof(double) * n * n);
    for (int i = 0; i < n; i++) s[i * n + i] = 1.0;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0 / n, x, n, x, n, 1.0, s, n);
    free(x);
    return s;
}

static int wanted(const char *kernel) {
    if (!only) return 1;
    size_t length = strlen(kernel);
    for (const char *p = only; *p;) {
        const char *end = strchr(p, ',');
        size_t item = end ? (size_t)(end - p) : strlen(p);
        if (item == length && strncmp(p, kernel, length) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*kernel_fn)(void *context);
typedef double (*checksum_fn)(const void *context);

/* The shared warm-up / repetition rule; prints one JSON result line. */
static void run(const char *kernel, kernel_fn body, checksum_fn checksum, void *context) {
    body(context);
    int warm_calls = 1;
    uint64_t warm_start = now_ns();
    while (warm_calls < 3 || (now_ns() - warm_start < 50000000u && warm_calls < 200)) {
        body(context);
        warm_calls++;
    }
    double per_call = (double)(now_ns() - warm_start) / 1e9 / (warm_calls - 1);
    double wanted_reps = budget / per_call;
    int reps = wanted_reps > max_reps ? max_reps : (wanted_reps < min_reps ? min_reps : (int)wanted_reps);
    double *samples = xmalloc(sizeof(double) * reps);
    for (int i = 0; i < reps; i++) {
        uint64_t start = now_ns();
        body(context);
        samples[i] = (double)(now_ns() - start) / 1e9;
    }
    qsort(samples, reps, sizeof(double), compare_doubles);
    double median = reps % 2 ? samples[reps / 2] : 0.5 * (samples[reps / 2 - 1] + samples[reps / 2]);
    free(samples);
    printf("%s    {\"kernel\": \"%s\", \"median_s\": %.9g, \"reps\": %d, \"checksum\": %.17g}",
           printed++ ? ",\n" : "", kernel, median, reps, checksum(context));
    fflush(stdout);
}

typedef struct { int n; double *a, *b, *c; } gemm_context;

static void gemm_kernel(void *raw) {
    gemm_context *g = raw;
    int n = g->n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, g->a, n, g->b, n, 0.0, g->c, n);
}

static double gemm_checksum(const void *raw) {
    const gemm_context *g = raw;
    int n = g->n;
    double sum = 0;
    for (int i = 0; i < n * n; i++) sum += g->c[i];
    return sum;
}

typedef struct { int n; const double *spd; double *work, *values; } factor_context;

static void cholesky_kernel(void *raw) {
    factor_context *f = raw;
    int n = f->n;
    memcpy(f->work, f->spd, sizeof(double) * n * n);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', n, f->work, n);
    if (info != 0) { fprintf(stderr, "linalg_direct: dpotrf info %d\n", (int)info); exit(1); }
}

static double cholesky_checksum(const void *raw) {
    const factor_context *f = raw;
    int n = f->n;
    double trace = 0;
    for (int i = 0; i < n; i++) trace += f->work[i * n + i];
    return trace;
}

static void eigh_kernel(void *raw) {
    factor_context *f = raw;
    int n = f->n;
    memcpy(f->work, f->spd, sizeof(double) * n * n);
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', n, f->work, n, f->values);
    if (info != 0) { fprintf(stderr, "linalg_direct: dsyevd info %d\n", (int)info); exit(1); }
}

static double eigh_checksum(const void *raw) {
    const factor_context *f = raw;
    int n = f->n;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += f->values[i];
    return sum;
}

typedef struct { int rows, columns; const double *x, *ones; double *means, *centered, *cov; } cov_context;

static void cov_kernel(void *raw) {
    cov_context *c = raw;
    int t = c->rows, n = c->columns;
    cblas_dgemv(CblasRowMajor, CblasTrans, t, n, 1.0 / t, c->x, n, c->ones, 1, 0.0, c->means, 1);
    for (int i = 0; i < t; i++)
        for (int j = 0; j < n; j++) c->centered[(size_t)i * n + j] = c->x[(size_t)i * n + j] - c->means[j];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, t, 1.0 / (t - 1), c->centered, n, 0.0, c->cov, n);
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) c->cov[i * n + j] = c->cov[j * n + i];
}

static double cov_checksum(const void *raw) {
    const cov_context *c = raw;
    int n = c->columns;
    double trace = 0;
    for (int i = 0; i < n; i++) trace += c->cov[i * n + i];
    return trace;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) { fprintf(stderr, "linalg_direct: missing value after %s\n", argv[i]); return 2; }
        if (!strcmp(argv[i], "--budget")) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--min-reps")) min_reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-reps")) max_reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only")) only = argv[++i];
        else { fprintf(stderr, "linalg_direct: unknown option %s\n", argv[i]); return 2; }
    }
    printf("{\n  \"implementation\": \"c\",\n  \"openblas_threads\": %d,\n  \"openblas_config\": \"%s\",\n"
           "  \"results\": [\n", openblas_get_num_threads(), openblas_get_config());

    const int gemm_sizes[] = {64, 256, 1024};
    for (int s = 0; s < 3; s++) {
        char name[64];
        int n = gemm_sizes[s];
        snprintf(name, sizeof name, "gemm %d", n);
        if (!wanted(name)) continue;
        gemm_context g = {n, xmalloc(sizeof(double) * n * n), xmalloc(sizeof(double) * n * n),
                          xmalloc(sizeof(double) * n * n)};
        fill_uniform(g.a, (size_t)n * n, 1);
        fill_uniform(g.b, (size_t)n * n, 2);
        memset(g.c, 0, sizeof(double) * n * n);
        run(name, gemm_kernel, gemm_checksum, &g);
        free(g.a); free(g.b); free(g.c);
    }

    const int factor_sizes[] = {100, 500};
    for (int s = 0; s < 2; s++) {
        char name[64];
        int n = factor_sizes[s];
        factor_context f = {n, make_spd(n), xmalloc(sizeof(double) * n * n), xmalloc(sizeof(double) * n)};
        snprintf(name, sizeof name, "cholesky %d", n);
        if (wanted(name)) run(name, cholesky_kernel, cholesky_checksum, &f);
        snprintf(name, sizeof name, "eigh %d", n);
        if (wanted(name)) run(name, eigh_kernel, eigh_checksum, &f);
        free((void *)f.spd); free(f.work); free(f.values);
    }

    const int cov_shapes[][2] = {{8000, 20}, {2000, 500}};
    for (int s = 0; s < 2; s++) {
        char name[64];
        int t = cov_shapes[s][0], n = cov_shapes[s][1];
        snprintf(name, sizeof name, "cov %dx%d", t, n);
        if (!wanted(name)) continue;
        double *x = xmalloc(sizeof(double) * t * n), *ones = xmalloc(sizeof(double) * t);
        fill_uniform(x, (size_t)t * n, 4);
        for (int i = 0; i < t; i++) ones[i] = 1.0;
        cov_context c = {t, n, x, ones, xmalloc(sizeof(double) * n), xmalloc(sizeof(double) * t * n),
                         xmalloc(sizeof(double) * n * n)};
        run(name, cov_kernel, cov_checksum, &c);
        free(x); free(ones); free(c.means); free(c.centered); free(c.cov);
    }
    printf("\n  ]\n}\n");
    return 0;
}
