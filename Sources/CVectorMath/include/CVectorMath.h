// AVX2 + FMA elementwise exp, tanh and sigmoid for Autodiff's vector kernels (x86-64 only).
//
// Each function maps `n` elements of `x` to `y`; `x` and `y` may be the same buffer (every element
// is read before it is written), other overlaps are not allowed, and neither needs any alignment.
// The functions are compiled for AVX2 + FMA whatever the package's target is: call them only after
// `cvm_avx2_fma_supported()` returned 1. The algorithms are those of the portable Swift kernels in
// Sources/Autodiff/Kernels.swift (range reduction x = k·ln2 + r, Taylor polynomial for eʳ, 2ᵏ as
// two factors), evaluated with fused multiply-adds, 8 Floats or 4 Doubles at a time.

#ifndef CVECTORMATH_H
#define CVECTORMATH_H

#include <stddef.h>

#if defined(__x86_64__)

/// 1 when this CPU (and the operating system, which must save the YMM registers) supports AVX2 and
/// FMA, else 0. Cheap after the first call; the caller caches the answer.
int cvm_avx2_fma_supported(void);

/// `y[i] = e^x[i]` for `n` Floats.
void cvm_exp_f32_avx2(const float *x, float *y, ptrdiff_t n);
/// `y[i] = e^x[i]` for `n` Doubles.
void cvm_exp_f64_avx2(const double *x, double *y, ptrdiff_t n);
/// `y[i] = tanh x[i]` for `n` Floats.
void cvm_tanh_f32_avx2(const float *x, float *y, ptrdiff_t n);
/// `y[i] = tanh x[i]` for `n` Doubles.
void cvm_tanh_f64_avx2(const double *x, double *y, ptrdiff_t n);
/// `y[i] = 1/(1 + e^-x[i])` for `n` Floats.
void cvm_sigmoid_f32_avx2(const float *x, float *y, ptrdiff_t n);
/// `y[i] = 1/(1 + e^-x[i])` for `n` Doubles.
void cvm_sigmoid_f64_avx2(const double *x, double *y, ptrdiff_t n);

#endif

#endif
