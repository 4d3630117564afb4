// C interface to OpenBLAS (CBLAS) and LAPACKE.
// Complex types are plain structs so Swift can import every LAPACKE prototype.
#ifndef METAFOLIO_COPENBLAS_SHIM_H
#define METAFOLIO_COPENBLAS_SHIM_H

#define LAPACK_COMPLEX_STRUCTURE 1
#include <cblas.h>
#include <lapacke.h>

#endif
