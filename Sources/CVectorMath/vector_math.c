// AVX2 + FMA versions of the portable Swift kernels vectorExp, vectorTanh and vectorSigmoid in
// Sources/Autodiff/Kernels.swift: the same range reduction, polynomials, clamps and selects, so the
// same handling of ±∞, NaN, overflow, subnormal results and −0. The fused multiply-adds round once
// where the Swift code rounds twice, so results may differ from the portable path in the last bit.
//
// Only the functions below carry the AVX2/FMA target attribute; the rest of the package keeps the
// x86-64 baseline, and Autodiff calls these only after cvm_avx2_fma_supported() said yes.

#include "CVectorMath.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#define CVM_KERNEL static inline __attribute__((always_inline, target("avx2,fma")))

int cvm_avx2_fma_supported(void) {
    __builtin_cpu_init(); // idempotent; needed if called before the runtime's own initializer ran
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// MARK: - Float, 8 lanes

// Note on clamps: vmaxps/vminps return their second operand when either is NaN, so the input goes
// second and a NaN passes through to the arithmetic, which propagates it.

/// eˣ: x = k·ln2 + r with k = round(x·log2 e) (by the 1.5·2²³ magic number, which also gives k's
/// bits) and |r| ≤ ln2/2 (Cody–Waite split of ln2); eʳ by its degree-7 Taylor polynomial; 2ᵏ as
/// 2^⌊k/2⌋·2^(k−⌊k/2⌋) so that results near overflow and in the subnormal range are formed right.
/// Inputs are clamped to [−104, 89], whose ends underflow to 0 and overflow to +∞.
CVM_KERNEL __m256 exp_f32x8(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f); // 1.5·2²³
    const __m256 xc = _mm256_min_ps(_mm256_set1_ps(89.0f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    const __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504f), magic);
    const __m256 kf = _mm256_sub_ps(t, magic);
    const __m256i k = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic));
    __m256 r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(0.693359375f), xc); // exact: 9-bit high part
    r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256i k1 = _mm256_srai_epi32(k, 1);
    const __m256i k2 = _mm256_sub_epi32(k, k1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/// tanh x: for |x| < 0.5 the odd Taylor series to x¹⁵; above, 1 − 2/(e^{2|x|} + 1) with the sign
/// of x (e^{2|x|} = +∞ gives exactly 1). Both are computed and one selected, without branches.
CVM_KERNEL __m256 tanh_f32x8(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 a = _mm256_andnot_ps(sign, v);
    const __m256 z = _mm256_mul_ps(v, v);
    __m256 p = _mm256_set1_ps(-1.4558343870513182e-3f); // −929569/638512875
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(21844.0f / 6081075));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-1382.0f / 155925));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(62.0f / 2835));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-17.0f / 315));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.0f / 15));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-1.0f / 3));
    __m256 small = _mm256_fmadd_ps(v, _mm256_mul_ps(z, p), v);
    // z == 0 (±0 or tiny x): x itself, which keeps the sign of zero.
    small = _mm256_blendv_ps(small, v, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_EQ_OQ));
    const __m256 e = exp_f32x8(_mm256_add_ps(a, a));
    const __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    const __m256 withSign = _mm256_xor_ps(large, _mm256_and_ps(v, sign));
    return _mm256_blendv_ps(withSign, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.5f), _CMP_LT_OQ));
}

/// 1/(1 + e^−x): with e = e^−|x| (never overflows) and r = 1/(1 + e), r for x ≥ 0 and e·r below,
/// so tiny results for very negative x are formed down to the subnormals.
CVM_KERNEL __m256 sigmoid_f32x8(__m256 v) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp_f32x8(_mm256_or_ps(v, _mm256_set1_ps(-0.0f))); // −|x|, NaN kept
    const __m256 r = _mm256_div_ps(one, _mm256_add_ps(one, e));
    return _mm256_blendv_ps(r, _mm256_mul_ps(e, r), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
}

// MARK: - Double, 4 lanes

/// eˣ as exp_f32x8 with the 1.5·2⁵² magic number, ln2 split into a high part with 32 trailing
/// zero bits (so k·high is exact) and a low part, and a degree-13 Taylor polynomial. Inputs are
/// clamped to [−746, 710].
CVM_KERNEL __m256d exp_f64x4(__m256d x) {
    const __m256d magic = _mm256_set1_pd(6755399441055744.0); // 1.5·2⁵²
    const __m256d xc = _mm256_min_pd(_mm256_set1_pd(710.0), _mm256_max_pd(_mm256_set1_pd(-746.0), x));
    const __m256d t = _mm256_fmadd_pd(xc, _mm256_set1_pd(1.4426950408889634), magic);
    const __m256d kf = _mm256_sub_pd(t, magic);
    const __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(magic));
    __m256d r = _mm256_fnmadd_pd(kf, _mm256_set1_pd(0.6931471803691238), xc);
    r = _mm256_fnmadd_pd(kf, _mm256_set1_pd(1.9082149292705877e-10), r);
    __m256d p = _mm256_set1_pd(1.0 / 6227020800);
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 479001600));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 39916800));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    // ⌊k/2⌋ by a logical shift of the non-negative k + 2048 (k ≥ −1076): AVX2 has no 64-bit
    // arithmetic shift.
    const __m256i k1 = _mm256_sub_epi64(_mm256_srli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(2048)), 1),
                                        _mm256_set1_epi64x(1024));
    const __m256i k2 = _mm256_sub_epi64(k, k1);
    const __m256i bias = _mm256_set1_epi64x(1023);
    const __m256d s1 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k1, bias), 52));
    const __m256d s2 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k2, bias), 52));
    return _mm256_mul_pd(_mm256_mul_pd(p, s1), s2);
}

/// tanh x as tanh_f32x8, with the odd Taylor series to x³⁵ below |x| = 0.5.
CVM_KERNEL __m256d tanh_f64x4(__m256d v) {
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d a = _mm256_andnot_pd(sign, v);
    const __m256d z = _mm256_mul_pd(v, v);
    __m256d p = _mm256_set1_pd(-1.74066189635716480e-07);
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(4.29491107827380574e-07));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-1.05972683201046543e-06));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(2.61477115129075465e-06));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-6.45168921565543065e-06));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(1.59189050693289637e-05));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-3.92783238833168327e-05));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(9.69153795692945095e-05));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-2.39129114243552478e-04));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(5.90027440945585947e-04));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-1.45583438705131833e-03));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(3.59212803657248114e-03));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-8.86323552990219733e-03));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(2.18694885361552030e-02));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-5.39682539682539708e-02));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(1.33333333333333331e-01));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-3.33333333333333315e-01));
    __m256d small = _mm256_fmadd_pd(v, _mm256_mul_pd(z, p), v);
    small = _mm256_blendv_pd(small, v, _mm256_cmp_pd(z, _mm256_setzero_pd(), _CMP_EQ_OQ));
    const __m256d e = exp_f64x4(_mm256_add_pd(a, a));
    const __m256d large = _mm256_sub_pd(one, _mm256_div_pd(_mm256_set1_pd(2.0), _mm256_add_pd(e, one)));
    const __m256d withSign = _mm256_xor_pd(large, _mm256_and_pd(v, sign));
    return _mm256_blendv_pd(withSign, small, _mm256_cmp_pd(a, _mm256_set1_pd(0.5), _CMP_LT_OQ));
}

/// 1/(1 + e^−x) as sigmoid_f32x8.
CVM_KERNEL __m256d sigmoid_f64x4(__m256d v) {
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d e = exp_f64x4(_mm256_or_pd(v, _mm256_set1_pd(-0.0)));
    const __m256d r = _mm256_div_pd(one, _mm256_add_pd(one, e));
    return _mm256_blendv_pd(r, _mm256_mul_pd(e, r), _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_LT_OQ));
}

// MARK: - Loops

// Whole vectors with unaligned loads and stores, then the last n % lanes elements through a masked
// load (masked-off lanes read as 0 and never fault) and a masked store (which writes nothing else).

/// Lanes 0 ..< remaining set, for 0 < remaining < 8.
CVM_KERNEL __m256i tail_mask_f32(ptrdiff_t remaining) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)remaining), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Lanes 0 ..< remaining set, for 0 < remaining < 4.
CVM_KERNEL __m256i tail_mask_f64(ptrdiff_t remaining) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(remaining), _mm256_setr_epi64x(0, 1, 2, 3));
}

#define CVM_FLOAT_LOOP(name, kernel)                                                        \
    __attribute__((target("avx2,fma"))) void name(const float *x, float *y, ptrdiff_t n) { \
        ptrdiff_t i = 0;                                                                    \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, kernel(_mm256_loadu_ps(x + i))); \
        if (i < n) {                                                                        \
            const __m256i mask = tail_mask_f32(n - i);                                      \
            _mm256_maskstore_ps(y + i, mask, kernel(_mm256_maskload_ps(x + i, mask)));      \
        }                                                                                   \
    }

#define CVM_DOUBLE_LOOP(name, kernel)                                                          \
    __attribute__((target("avx2,fma"))) void name(const double *x, double *y, ptrdiff_t n) {  \
        ptrdiff_t i = 0;                                                                       \
        for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, kernel(_mm256_loadu_pd(x + i)));    \
        if (i < n) {                                                                           \
            const __m256i mask = tail_mask_f64(n - i);                                         \
            _mm256_maskstore_pd(y + i, mask, kernel(_mm256_maskload_pd(x + i, mask)));         \
        }                                                                                      \
    }

CVM_FLOAT_LOOP(cvm_exp_f32_avx2, exp_f32x8)
CVM_FLOAT_LOOP(cvm_tanh_f32_avx2, tanh_f32x8)
CVM_FLOAT_LOOP(cvm_sigmoid_f32_avx2, sigmoid_f32x8)
CVM_DOUBLE_LOOP(cvm_exp_f64_avx2, exp_f64x4)
CVM_DOUBLE_LOOP(cvm_tanh_f64_avx2, tanh_f64x4)
CVM_DOUBLE_LOOP(cvm_sigmoid_f64_avx2, sigmoid_f64x4)

#endif
