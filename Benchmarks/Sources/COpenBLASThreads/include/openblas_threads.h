// Reports the thread count OpenBLAS settled on (from OPENBLAS_NUM_THREADS / OMP_NUM_THREADS
// or the core count), so the timing harness can record the count it actually ran with.
#ifndef METAFOLIO_BENCH_OPENBLAS_THREADS_H
#define METAFOLIO_BENCH_OPENBLAS_THREADS_H

/// The number of threads OpenBLAS uses for level-3 calls (`openblas_get_num_threads`).
int metafolio_bench_openblas_threads(void);

/// OpenBLAS's build description (`openblas_get_config`): version, build options and the core it chose.
const char *metafolio_bench_openblas_config(void);

#endif
