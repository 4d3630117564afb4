#include "openblas_threads.h"

// Declared here rather than through <cblas.h> so this target needs no include path; the symbols are
// resolved against the libopenblas that MetaFolio's Linalg module already links.
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

int metafolio_bench_openblas_threads(void) { return openblas_get_num_threads(); }

const char *metafolio_bench_openblas_config(void) { return openblas_get_config(); }
