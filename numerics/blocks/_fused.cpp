// Fused loss and gradient of R independent dense residual stacks, one run at a time.
//
// The mathematics, the layout and the conventions are those of numerics/blocks/fused.py (which compiles
// and loads this file); every quantity is checked there against autograd (tests/test_fused.py).
//
// Per run r (row-vector convention, h: N×d, weights as stored by the public layout (R, L, out, in)):
//   mlp     z = h W₁ᵀ,  a = σ(z),  F = a W₂ᵀ          linear  F = h Wᵀ
//   H = h + αF (scaled) | h + F (residual) | F (plain)
//   loss = (1/2N) Σ_n ‖H_L − y‖²,  g_L = (H_L − y)/N
// Backward, layer by layer with g = ∂loss/∂H:
//   ∂α = Σ g⊙F;  g_F = αg or g;  ∂W₂ = g_Fᵀ a;  g_a = g_F W₂;  g_z = g_a⊙σ'(z);  ∂W₁ = g_zᵀ h;
//   ∂h = g + g_z W₁ (shortcut) or g_z W₁                   (linear: ∂W = g_Fᵀ h, ∂h = g + g_F W)
// Memory: a run's activations (h and a; z too for GELU, whose σ' needs it; tanh and ReLU go back from a) are kept
// for one segment of S layers and recomputed from the segment's input in the backward pass (activation
// checkpointing; S = L keeps everything, no recomputation).
// Every product is C = A·B (+ C₀) with B's rows contiguous, computed by `gemm` below with a register tile
// of a few rows and a compile-time number of columns, so that the compiler keeps the tile in registers; the
// tile is sized for the machine's vector registers (HFX_VBYTES wide, HFX_NREG of them: AVX-512 32 × 64 bytes,
// AVX2 16 × 32 bytes, else 16 bytes).  A tile sized for AVX-512 on an AVX2 CPU spills its accumulators to
// the stack: 5-7x slower (measured on a Zen 3 EPYC, benchmarks/results/README.md).  The forward pass needs
// the weights transposed (W₁ᵀ, W₂ᵀ: register blocks of HFX_VBYTES per row with AVX-512 or AVX).
// A plain (S)GD step pending from the previous call (θ ← θ − (ηG + cθ)) is taken on a run's weights just
// before its forward pass, while they are in cache (`Pending`); blocks of full-batch steps (`dense_gd_steps`) take
// each layer's step inside the product that forms its gradient, which is never stored (`Epi`).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

#ifndef HFX_NO_MVEC  // glibc's vector maths (libmvec): tanh, erf and exp vectorised in the loops below
#pragma omp declare simd notinbranch
extern "C" float tanhf(float);
#pragma omp declare simd notinbranch
extern "C" double tanh(double);
#pragma omp declare simd notinbranch
extern "C" float erff(float);
#pragma omp declare simd notinbranch
extern "C" double erf(double);
#pragma omp declare simd notinbranch
extern "C" float expf(float);
#pragma omp declare simd notinbranch
extern "C" double exp(double);
#endif

typedef int64_t i64;
// The vector registers the tiles are sized for: their width in bytes and their number.
#if defined(__AVX512F__)
#define HFX_VBYTES 64
#define HFX_NREG 32
#elif defined(__AVX__)
#define HFX_VBYTES 32
#define HFX_NREG 16
#elif defined(__aarch64__)
#define HFX_VBYTES 16
#define HFX_NREG 32
#else
#define HFX_VBYTES 16
#define HFX_NREG 16
#endif

#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
// float32 tanh on AVX2, eight at a time: glibc's AVX2 tanhf (libmvec) took 19-25 % of a training step on a Zen 3
// CPU (616-691 ns per 512 values against 161 ns for its AVX-512 form); this one takes about two thirds of that
// time and its error is below 1 ulp for every float (0.953 ulp at worst, checked against a float64 tanh over all
// 2^31 non-negative floats by benchmarks/tanh_accuracy.py; libmvec's is 1.03).  With AVX-512 the engine keeps
// libmvec (not measured here: no AVX-512 CPU).
//   tanh |x| = E/(E + 2),  E = e^{2|x|} − 1 = 2^k(1 + q) − 1 = 2^k·q + (2^k − 1),
//   2|x| = k·ln2 + r,  k = ⌊2|x|/ln2⌋ (0 ≤ r < ln2, up to −3e-4 where the floor rounds up),
//   q = e^r − 1 = r + c,  c = r²·P(r),  P: a degree-5 fit to (e^r − 1 − r)/r² on [0, ln2] (q to 2^-28).
// Both terms of E are ≥ 0 (no cancellation), and for |x| < ln2/2 (k = 0) E = q exactly: accurate near 0.
// Three roundings would cost up to 2 ulp; each is measured exactly and corrected once at the end:
//   q = fl(r + c), eq = r + c − q (Fast2Sum);  d = fl(E + 2), eps = E + 2 − d (Fast2Sum of the larger and the
//   smaller);  th = fl(E/d), rho = E − th·d (one FMA).  With E* = E + 2^k·eq and d* = d + eps + 2^k·eq,
//   E*/d* = th + (rho + 2^k·eq·(1 − th) − th·eps)/d* to first order; 1/d to 12 bits (rcp) is enough for a term
//   below 2 ulp.  |x| is clamped to 10 (tanh 10 rounds to 1, and 2^k stays normal); NaN stays NaN (min returns
//   its second operand), ±0 and subnormals come back unchanged, the sign is copied back.
#define HFX_TANH_AVX2 1
static inline __m256 tanh8(__m256 x) {
    const auto c8 = [](float v) { return _mm256_set1_ps(v); };
    const __m256 sign = _mm256_and_ps(c8(-0.0f), x);
    const __m256 ax = _mm256_min_ps(c8(10.0f), _mm256_xor_ps(x, sign));
    const __m256 magic = c8(12583039.0f);  // 1.5·2^23 + 127: t holds k + 127 in its low mantissa bits
    const __m256 t = _mm256_add_ps(_mm256_fmadd_ps(ax, c8(2.88539008177792681f), c8(-0.4995f)), magic);
    const __m256 k = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(k, c8(0.693359375f), _mm256_add_ps(ax, ax));  // ln2 in two parts (Cody-Waite)
    r = _mm256_fnmadd_ps(k, c8(-2.12194440e-4f), r);
    const __m256 r2 = _mm256_mul_ps(r, r);
    const __m256 p01 = _mm256_fmadd_ps(c8(0.166667431f), r, c8(0.49999997f));
    const __m256 p23 = _mm256_fmadd_ps(c8(0.00836480874568224f), r, c8(0.041659366339445114f));
    const __m256 p45 = _mm256_fmadd_ps(c8(0.00026784627698361874f), r, c8(0.0013212495250627398f));
    const __m256 c = _mm256_mul_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(p45, r2, p23), r2, p01), r2);
    const __m256 q = _mm256_add_ps(r, c);
    const __m256 eq = _mm256_sub_ps(c, _mm256_sub_ps(q, r));
    const __m256 s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));  // 2^k
    const __m256 e = _mm256_fmadd_ps(s, q, _mm256_sub_ps(s, c8(1.0f)));
    const __m256 d = _mm256_add_ps(e, c8(2.0f));
    const __m256 th = _mm256_div_ps(e, d);
    const __m256 eps = _mm256_sub_ps(_mm256_min_ps(e, c8(2.0f)), _mm256_sub_ps(d, _mm256_max_ps(e, c8(2.0f))));
    const __m256 rho = _mm256_fnmadd_ps(th, d, e);
    const __m256 num = _mm256_fmadd_ps(_mm256_mul_ps(s, eq), _mm256_sub_ps(c8(1.0f), th), _mm256_fnmadd_ps(th, eps, rho));
    return _mm256_or_ps(_mm256_fmadd_ps(num, _mm256_rcp_ps(d), th), sign);
}
#endif

static void tanh_f32(i64 n, const float* z, float* a) {
#ifdef HFX_TANH_AVX2
    i64 i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(a + i, tanh8(_mm256_loadu_ps(z + i)));
    if (i < n) {  // the last n mod 8 values through the same function
        float buf[8] = {0};
        std::memcpy(buf, z + i, (n - i) * sizeof(float));
        _mm256_storeu_ps(buf, tanh8(_mm256_loadu_ps(buf)));
        std::memcpy(a + i, buf, (n - i) * sizeof(float));
    }
#else
#pragma omp simd
    for (i64 i = 0; i < n; ++i) a[i] = tanhf(z[i]);
#endif
}
static inline void v_tanh(i64 n, const float* z, float* a) { tanh_f32(n, z, a); }
static inline void v_tanh(i64 n, const double* z, double* a) {
#pragma omp simd
    for (i64 i = 0; i < n; ++i) a[i] = tanh(z[i]);
}

static inline float v_erf(float z) { return erff(z); }
static inline double v_erf(double z) { return erf(z); }
static inline float v_exp(float z) { return expf(z); }
static inline double v_exp(double z) { return exp(z); }

enum { ACT_RELU = 0, ACT_TANH = 1, ACT_GELU = 2 };
enum { PLAIN = 0, RESIDUAL = 1, SCALED = 2 };

// What a product does with its result C = A·B (a tile at a time, while the tile is in registers):
//   STORE  C ← A·B                      ADD    C ← C0 + A·B  (C0 may alias C)
//   DTANH  C ← (A·B) ⊙ (1 − E⊙E)        DRELU  C ← (A·B) where E > 0, else 0   (E: C's shape, the activation a;
//          the backward pass of σ written from its output, g_z = g_a ⊙ σ'(z), without a pass of its own)
//   SGD    C ← C − η·A·B;  SGD_DECAY  C ← C − (η·A·B + c·C): the (S)GD step of weights C by their gradient A·B,
//          which is never stored (the same expressions as `sgd_step`'s two loops, each on its own so that the
//          compiler contracts them alike: bit for bit the step `sgd_step` takes)
enum { EPI_STORE = 0, EPI_ADD = 1, EPI_DTANH = 2, EPI_DRELU = 3, EPI_SGD = 4, EPI_SGD_DECAY = 5 };

template <class T>
struct Epi {
    int kind;
    const T* E;  // C0 (ADD) or the activation (DTANH, DRELU); leading dimension that of C
    T rate, decay;  // SGD
};


// C[i:i+RT, c0:c0+NC] from A[i:i+RT, :]·B[:, c0:c0+NC], A[i, k] = A[i·sar + k·sac], and the tile's epilogue EPI.
// RT·NC accumulators: enough independent FMA chains to hide the FMA latency.  Where NC is a whole number of vector
// registers the accumulators are GCC vector values, so that they live in registers from the first load to the last
// store (an array of scalars goes through the stack around the k loop, which costs as much as the loop itself when
// K is 16).  The epilogue is a template parameter (−1: chosen at run time, for the narrow edges), and K ≥ 1 is
// promised to the compiler: with a run-time epilogue, or a K that might be 0, GCC kept copies of the accumulators
// on the stack around the loop (the tiles took 14 % longer at width 16, benchmarks/results/README.md).
template <class T, int NC, int RT, int EPI>
__attribute__((always_inline)) static inline void gemm_tile(i64 i, i64 K, const T* A, i64 sar, i64 sac, const T* B,
                                                            i64 ldb, T* C, i64 ldc, const Epi<T>& ep) {
    constexpr int W = HFX_VBYTES / sizeof(T);
    if (K < 1) __builtin_unreachable();  // every product has K ≥ 1 (d, m, N ≥ 1)
    const int kind = EPI >= 0 ? EPI : ep.kind;  // EPI = −1: the epilogue chosen at run time (the narrow edges)
    const T* a0 = A + i * sar;
    if constexpr (NC % W == 0) {
        typedef T V __attribute__((vector_size(HFX_VBYTES)));
        constexpr int NV = NC / W;
        V acc[RT][NV];
#pragma GCC unroll 16
        for (int r = 0; r < RT; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) {
                if (kind == EPI_ADD) __builtin_memcpy(&acc[r][v], ep.E + (i + r) * ldc + v * W, sizeof(V));
                else acc[r][v] = V{};
            }
#pragma GCC unroll 2
        for (i64 k = 0; k < K; ++k) {
            V b[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) __builtin_memcpy(&b[v], B + k * ldb + v * W, sizeof(V));
#pragma GCC unroll 16
            for (int r = 0; r < RT; ++r) {
                const T a = a0[r * sar + k * sac];
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
            }
        }
        // each epilogue its own loop (not one loop of branches: the compiler might then share η·G between the two
        // steps and contract neither into an FMA, which would break the step's equality with sgd_step's)
        const auto ld = [](const T* p) {
            V x;
            __builtin_memcpy(&x, p, sizeof(V));
            return x;
        };
        const auto each = [&](auto f) {
#pragma GCC unroll 16
            for (int r = 0; r < RT; ++r)
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) {
                    const i64 at = (i + r) * ldc + v * W;
                    const V out = f(acc[r][v], at);
                    __builtin_memcpy(C + at, &out, sizeof(V));
                }
        };
        switch (kind) {
            case EPI_DTANH: each([&](V g, i64 at) { const V a = ld(ep.E + at); return g * (T(1) - a * a); }); break;
            case EPI_DRELU: each([&](V g, i64 at) { return ld(ep.E + at) > T(0) ? g : V{}; }); break;
            case EPI_SGD: each([&](V g, i64 at) { return ld(C + at) - ep.rate * g; }); break;
            case EPI_SGD_DECAY:
                each([&](V g, i64 at) { const V w = ld(C + at); return w - (ep.rate * g + ep.decay * w); });
                break;
            default: each([](V g, i64) { return g; });
        }
    } else {
        T acc[RT][NC];
        for (int r = 0; r < RT; ++r)
            for (int c = 0; c < NC; ++c) acc[r][c] = kind == EPI_ADD ? ep.E[(i + r) * ldc + c] : T(0);
        for (i64 k = 0; k < K; ++k) {
            const T* b = B + k * ldb;
            for (int r = 0; r < RT; ++r) {
                const T a = a0[r * sar + k * sac];
#pragma omp simd
                for (int c = 0; c < NC; ++c) acc[r][c] += a * b[c];
            }
        }
        const auto each = [&](auto f) {
            for (int r = 0; r < RT; ++r)
                for (int c = 0; c < NC; ++c) {
                    const i64 at = (i + r) * ldc + c;
                    C[at] = f(acc[r][c], at);
                }
        };
        switch (kind) {
            case EPI_DTANH: each([&](T g, i64 at) { const T a = ep.E[at]; return g * (T(1) - a * a); }); break;
            case EPI_DRELU: each([&](T g, i64 at) { return ep.E[at] > T(0) ? g : T(0); }); break;
            case EPI_SGD: each([&](T g, i64 at) { return C[at] - ep.rate * g; }); break;
            case EPI_SGD_DECAY:
                each([&](T g, i64 at) { const T w = C[at]; return w - (ep.rate * g + ep.decay * w); });
                break;
            default: each([](T g, i64) { return g; });
        }
    }
}

// Every row of C[:, c0:c0+NC] in tiles of RT rows (then 4, 2, 1).  With 16 registers and two vectors a row the
// tile has 6 rows; 32 rows as 6·5 + 2 left a 2-row tile whose 4 FMA chains wait on the FMA latency (half speed),
// so a remainder of 2 takes 4 + 4 instead of 6 + 2.
template <class T, int NC, int EPI>
static void gemm_cols_k(i64 rows, i64 K, const T* A, i64 sar, i64 sac, const T* B, i64 ldb, T* C, i64 ldc,
                        const Epi<T>& ep) {
    constexpr int W = HFX_VBYTES / sizeof(T);
    // rows per tile: RT·NV accumulators + NV loads of B + 1 broadcast of A within the registers (NV = NC/W)
    constexpr int RT = HFX_NREG >= 32 ? (NC >= 2 * W ? 4 : 8) : (NC >= 4 * W ? 2 : NC >= 2 * W ? 6 : 8);
    i64 full = rows / RT * RT, i = 0;
    if (RT == 6 && rows % RT == 2 && full >= RT) full -= RT;
    for (; i < full; i += RT) gemm_tile<T, NC, RT, EPI>(i, K, A, sar, sac, B, ldb, C, ldc, ep);
    for (; i + 4 <= rows; i += 4) gemm_tile<T, NC, 4, EPI>(i, K, A, sar, sac, B, ldb, C, ldc, ep);
    for (; i + 2 <= rows; i += 2) gemm_tile<T, NC, 2, EPI>(i, K, A, sar, sac, B, ldb, C, ldc, ep);
    for (; i < rows; ++i) gemm_tile<T, NC, 1, EPI>(i, K, A, sar, sac, B, ldb, C, ldc, ep);
}

template <class T, int NC>  // (not inlined into gemm: its edges made gemm's own frame and prologue costly)
__attribute__((noinline)) static void gemm_cols(i64 rows, i64 K, const T* A, i64 sar, i64 sac, const T* B, i64 ldb,
                                                T* C, i64 ldc, const Epi<T>& ep) {
    constexpr int W = HFX_VBYTES / sizeof(T);
    if constexpr (NC != (HFX_NREG >= 32 ? 4 * W : 2 * W)) {  // an edge: one instantiation for every epilogue
        gemm_cols_k<T, NC, -1>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
    } else {
        switch (ep.kind) {
            case EPI_ADD: return gemm_cols_k<T, NC, EPI_ADD>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
            case EPI_DTANH: return gemm_cols_k<T, NC, EPI_DTANH>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
            case EPI_DRELU: return gemm_cols_k<T, NC, EPI_DRELU>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
            case EPI_SGD: return gemm_cols_k<T, NC, EPI_SGD>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
            case EPI_SGD_DECAY: return gemm_cols_k<T, NC, EPI_SGD_DECAY>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
            default: return gemm_cols_k<T, NC, EPI_STORE>(rows, K, A, sar, sac, B, ldb, C, ldc, ep);
        }
    }
}

// C (rows×cols, leading dimension cols) ← A·B with the epilogue `ep` (default: stored); B: K×cols row-major.
template <class T>
static void gemm(i64 rows, i64 cols, i64 K, const T* A, i64 sar, i64 sac, const T* B, T* C,
                 const Epi<T>& ep = Epi<T>{EPI_STORE, nullptr, T(0), T(0)}) {
    constexpr int W = HFX_VBYTES / sizeof(T);  // one vector register of T
    constexpr int WIDE = HFX_NREG >= 32 ? 4 * W : 2 * W;
    if (cols == WIDE) return gemm_cols<T, WIDE>(rows, K, A, sar, sac, B, cols, C, cols, ep);
    i64 c = 0;
    const auto at = [&](i64 c0) {  // the epilogue's matrix shifted to column block c0
        Epi<T> e = ep;
        if (e.E) e.E += c0;
        return e;
    };
    // four registers a row (16 accumulators, each B load used 4 times) where there are 32 registers; with 16,
    // two registers by six rows use B and A as well and leave no accumulator on the stack
    for (; HFX_NREG >= 32 && c + 4 * W <= cols; c += 4 * W)
        gemm_cols<T, 4 * W>(rows, K, A, sar, sac, B + c, cols, C + c, cols, at(c));
    for (; c + 2 * W <= cols; c += 2 * W) gemm_cols<T, 2 * W>(rows, K, A, sar, sac, B + c, cols, C + c, cols, at(c));
    for (; c + W <= cols; c += W) gemm_cols<T, W>(rows, K, A, sar, sac, B + c, cols, C + c, cols, at(c));
    for (; c + 4 <= cols; c += 4) gemm_cols<T, 4>(rows, K, A, sar, sac, B + c, cols, C + c, cols, at(c));
    for (; c < cols; ++c) gemm_cols<T, 1>(rows, K, A, sar, sac, B + c, cols, C + c, cols, at(c));
}

template <class T>
static void transpose_scalar(i64 i0, i64 i1, i64 j0, i64 j1, i64 rows, i64 cols, const T* X, T* Y) {
    for (i64 i = i0; i < i1; ++i)
        for (i64 j = j0; j < j1; ++j) Y[j * rows + i] = X[i * cols + j];
}

#ifdef __AVX512F__
// One 16×16 float block (8×8 double) of Y = Xᵀ in registers: unpack pairs of rows, then pairs of pairs, then
// exchange 128-bit lanes (the standard three-stage transpose; 64 shuffles instead of 256 scalar moves).
static inline void block_transpose(const float* X, i64 ldx, float* Y, i64 ldy) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(X + i * ldx);
    for (int i = 0; i < 16; i += 2) {  // lane l of t[i]: rows i, i+1 at columns 4l, 4l+1 (lo) or 4l+2, 4l+3 (hi)
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 16; g += 4) {  // lane l of r[g + c]: rows g..g+3 at column 4l + c
        const __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]);
        const __m512d c = _mm512_castps_pd(t[g + 2]), d = _mm512_castps_pd(t[g + 3]);
        r[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; ++c) {  // column 4l + c gathers lane l of r[c], r[4+c], r[8+c], r[12+c]
        const __m512 u = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), v = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
        const __m512 w = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        const __m512 z = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
        _mm512_storeu_ps(Y + c * ldy, _mm512_shuffle_f32x4(u, w, 0x88));
        _mm512_storeu_ps(Y + (4 + c) * ldy, _mm512_shuffle_f32x4(v, z, 0x88));
        _mm512_storeu_ps(Y + (8 + c) * ldy, _mm512_shuffle_f32x4(u, w, 0xdd));
        _mm512_storeu_ps(Y + (12 + c) * ldy, _mm512_shuffle_f32x4(v, z, 0xdd));
    }
}

static inline void block_transpose(const double* X, i64 ldx, double* Y, i64 ldy) {
    __m512d r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm512_loadu_pd(X + i * ldx);
    for (int i = 0; i < 8; i += 2) {  // lane l of t[i]: rows i, i+1 at column 2l (lo) or 2l+1 (hi)
        t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    for (int g = 0; g < 8; g += 4) {  // r[g + c], c < 2: lanes (rows g, g+1 | g+2, g+3) at columns c, c+4 | 2+c, 6+c
        r[g] = _mm512_shuffle_f64x2(t[g], t[g + 2], 0x88);
        r[g + 1] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], 0x88);
        r[g + 2] = _mm512_shuffle_f64x2(t[g], t[g + 2], 0xdd);
        r[g + 3] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], 0xdd);
    }
    for (int c = 0; c < 4; ++c) {
        _mm512_storeu_pd(Y + c * ldy, _mm512_shuffle_f64x2(r[c], r[4 + c], 0x88));
        _mm512_storeu_pd(Y + (4 + c) * ldy, _mm512_shuffle_f64x2(r[c], r[4 + c], 0xdd));
    }
}
#endif


#if !defined(__AVX512F__) && defined(__AVX__)
#define HFX_BLOCK_TRANSPOSE 1
// One 8×8 float block (4×4 double) of Y = Xᵀ in registers (AVX): unpack pairs of rows, shuffle pairs of pairs,
// then exchange 128-bit lanes (24 shuffles instead of 64 scalar moves).
static inline void block_transpose(const float* X, i64 ldx, float* Y, i64 ldy) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(X + i * ldx);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 8; g += 4) {
        r[g] = _mm256_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int c = 0; c < 4; ++c) {
        _mm256_storeu_ps(Y + c * ldy, _mm256_permute2f128_ps(r[c], r[4 + c], 0x20));
        _mm256_storeu_ps(Y + (4 + c) * ldy, _mm256_permute2f128_ps(r[c], r[4 + c], 0x31));
    }
}

static inline void block_transpose(const double* X, i64 ldx, double* Y, i64 ldy) {
    __m256d r[4], t[4];
    for (int i = 0; i < 4; ++i) r[i] = _mm256_loadu_pd(X + i * ldx);
    t[0] = _mm256_unpacklo_pd(r[0], r[1]);  // x00 x10 | x02 x12
    t[1] = _mm256_unpackhi_pd(r[0], r[1]);  // x01 x11 | x03 x13
    t[2] = _mm256_unpacklo_pd(r[2], r[3]);  // x20 x30 | x22 x32
    t[3] = _mm256_unpackhi_pd(r[2], r[3]);  // x21 x31 | x23 x33
    _mm256_storeu_pd(Y, _mm256_permute2f128_pd(t[0], t[2], 0x20));
    _mm256_storeu_pd(Y + ldy, _mm256_permute2f128_pd(t[1], t[3], 0x20));
    _mm256_storeu_pd(Y + 2 * ldy, _mm256_permute2f128_pd(t[0], t[2], 0x31));
    _mm256_storeu_pd(Y + 3 * ldy, _mm256_permute2f128_pd(t[1], t[3], 0x31));
}
#endif

template <class T>
static void transpose(i64 rows, i64 cols, const T* X, T* Y) {  // Y (cols×rows) = Xᵀ
#if defined(__AVX512F__) || defined(HFX_BLOCK_TRANSPOSE)
    constexpr i64 B = HFX_VBYTES / sizeof(T);  // block side: one register of T per row
    const i64 rb = rows - rows % B, cb = cols - cols % B;
    for (i64 i = 0; i < rb; i += B)
        for (i64 j = 0; j < cb; j += B) block_transpose(X + i * cols + j, cols, Y + j * rows + i, rows);
    transpose_scalar<T>(0, rb, cb, cols, rows, cols, X, Y);  // the right edge of the blocked rows
    transpose_scalar<T>(rb, rows, 0, cols, rows, cols, X, Y);  // the bottom rows
#else
    transpose_scalar<T>(0, rows, 0, cols, rows, cols, X, Y);
#endif
}

template <class T>
static void activate(int act, i64 n, const T* z, T* a) {
    if (act == ACT_TANH) {
        v_tanh(n, z, a);
    } else if (act == ACT_RELU) {
#pragma omp simd
        for (i64 i = 0; i < n; ++i) a[i] = (z[i] > T(0) || z[i] != z[i]) ? z[i] : T(0);  // NaN stays NaN
    } else {
        const T r2 = T(0.70710678118654752440);  // 1/√2: GELU(z) = z·Φ(z) = ½z(1 + erf(z/√2)), exact form
#pragma omp simd
        for (i64 i = 0; i < n; ++i) a[i] = T(0.5) * z[i] * (T(1) + v_erf(z[i] * r2));
    }
}

template <class T>  // g ← g ⊙ σ'(z), with σ' written from the output a where it can (as autograd does)
static void activate_backward(int act, i64 n, const T* z, const T* a, T* g) {
    if (act == ACT_TANH) {
#pragma omp simd
        for (i64 i = 0; i < n; ++i) g[i] = g[i] * (T(1) - a[i] * a[i]);
    } else if (act == ACT_RELU) {
#pragma omp simd
        for (i64 i = 0; i < n; ++i) g[i] = a[i] > T(0) ? g[i] : T(0);
    } else {  // Φ(z) + z φ(z), φ(z) = e^{−z²/2}/√(2π)
        const T r2 = T(0.70710678118654752440), beta = T(0.39894228040143267794);
#pragma omp simd
        for (i64 i = 0; i < n; ++i)
            g[i] = g[i] * (T(0.5) * (T(1) + v_erf(z[i] * r2)) + z[i] * beta * v_exp(T(-0.5) * z[i] * z[i]));
    }
}

struct Shape {
    i64 R, L, N, d, m;  // runs, layers, samples, features, hidden width (mlp)
    int mlp, variant, act;
    i64 S;  // layers per checkpoint segment
};

template <class T>
struct Slot {  // what one layer keeps for its backward pass (z: GELU only; tanh and ReLU go back from a)
    T *h, *z, *a, *F;
};

template <class T>
struct Run {
    const Shape& s;
    T *W1, *W2, *alpha;  // this run's (L, …) weights (W2 = W1 for linear), α (L) or null
    std::vector<T>& ws;
    i64 per_layer, nd, nm;
    bool keep_z;
    T *slots, *bounds, *W1t, *W2t, *g, *g2, *gF, *ga;
    T* h0 = nullptr;  // the input of the segment whose activations the slots hold (bounds + seg·N·d)

    Run(const Shape& s_, T* W1_, T* W2_, T* alpha_, std::vector<T>& ws_)
        : s(s_), W1(W1_), W2(W2_), alpha(alpha_), ws(ws_) {
        nd = s.N * s.d;
        nm = s.N * s.m;
        keep_z = s.mlp && s.act == ACT_GELU;
        per_layer = nd + (s.mlp ? (keep_z ? 2 : 1) * nm : 0) + (s.variant == SCALED ? nd : 0);
        const i64 nseg = (s.L + s.S - 1) / s.S;
        const i64 need = s.S * per_layer + (nseg + 1) * nd + 2 * s.d * s.m + s.d * s.d + 3 * nd + nm;
        if ((i64)ws.size() < need) ws.resize(need);  // grows once per thread, then reused
        T* p = ws.data();
        slots = p; p += s.S * per_layer;
        bounds = p; p += (nseg + 1) * nd;
        W1t = p; p += s.mlp ? s.d * s.m : s.d * s.d;
        W2t = p; p += s.mlp ? s.d * s.m : 0;
        g = p; p += nd;
        g2 = p; p += nd;
        gF = p; p += nd;
        ga = p;
    }
    Slot<T> slot(i64 i) const {
        T* p = slots + i * per_layer;
        Slot<T> sl{i == 0 ? h0 : p, nullptr, nullptr, nullptr};
        p += nd;
        if (s.mlp) {
            sl.a = p;
            sl.z = keep_z ? p + nm : p;  // without z, z is computed into a and activated in place
            p += keep_z ? 2 * nm : nm;
        }
        if (s.variant == SCALED) sl.F = p;
        return sl;
    }
    i64 wsize1() const { return s.mlp ? s.m * s.d : s.d * s.d; }
    // layer l: input sl.h → out (N×d)
    void forward_layer(i64 l, const Slot<T>& sl, T* out) {
        const i64 N = s.N, d = s.d, m = s.m;
        const T* inner = sl.h;
        i64 inner_w = d;
        const T* Wlast;
        if (s.mlp) {
            transpose(m, d, W1 + l * m * d, W1t);      // W₁ᵀ: d×m
            gemm(N, m, d, sl.h, d, (i64)1, W1t, sl.z);  // z = h W₁ᵀ
            activate(s.act, nm, sl.z, sl.a);            // (in place where z is a)
            transpose(d, m, W2 + l * d * m, W2t);      // W₂ᵀ: m×d
            inner = sl.a;
            inner_w = m;
            Wlast = W2t;
        } else {
            transpose(d, d, W1 + l * d * d, W1t);
            Wlast = W1t;
        }
        if (s.variant == SCALED) {
            gemm(N, d, inner_w, inner, inner_w, (i64)1, Wlast, sl.F);
            const T al = alpha[l];
            for (i64 i = 0; i < nd; ++i) out[i] = sl.h[i] + al * sl.F[i];
        } else if (s.variant == RESIDUAL) {
            gemm(N, d, inner_w, inner, inner_w, (i64)1, Wlast, out, Epi<T>{EPI_ADD, sl.h, T(0), T(0)});
        } else {
            gemm(N, d, inner_w, inner, inner_w, (i64)1, Wlast, out);
        }
    }
    // layers [l0, l1) from the segment's input bounds[seg]; the last output goes to `end`
    void forward_segment(i64 seg, T* end) {
        const i64 l0 = seg * s.S, l1 = l0 + s.S < s.L ? l0 + s.S : s.L;
        h0 = bounds + seg * nd;  // the first layer's input stays where it is
        for (i64 l = l0; l < l1; ++l) {
            T* out = l + 1 < l1 ? slot(l + 1 - l0).h : end;
            forward_layer(l, slot(l - l0), out);
        }
    }
    // The forward pass and the loss; leaves g = ∂loss/∂H_L and every activation of the last segment for `backward`.
    double forward(const T* x, const T* y) {
        const i64 nseg = (s.L + s.S - 1) / s.S, N = s.N;
        std::memcpy(bounds, x, nd * sizeof(T));
        for (i64 seg = 0; seg < nseg; ++seg) forward_segment(seg, bounds + (seg + 1) * nd);
        const T* H = bounds + nseg * nd;
        double loss = 0;  // two vector loops: the scalar loop with its division took 4 % of a step at width 16
#pragma omp simd reduction(+ : loss)
        for (i64 i = 0; i < nd; ++i) {
            const T diff = H[i] - y[i];
            loss += (double)diff * (double)diff;
        }
#pragma omp simd
        for (i64 i = 0; i < nd; ++i) g[i] = (H[i] - y[i]) / T(N);  // ∂/∂H of (1/2N)Σ‖H − y‖²
        return loss * (0.5 / (double)N);
    }
    // After `forward`: with `step` null, writes this run's gradients gW1, gW2 (= gW1 for linear) and galpha; with
    // `step` = {rate η, decay c}, takes the (S)GD step θ ← θ − (ηG + cθ) on W1 and W2 instead, each layer's weights
    // right after their gradient is formed (in the product's epilogue, never stored), once nothing needs the old
    // weights any more; α's gradient is still written to galpha (the caller steps α).  Bit for bit the gradients
    // of the first form and the step `sgd_step` takes with them.
    void backward(T* gW1, T* gW2, T* galpha, const T* step) {
        const i64 nseg = (s.L + s.S - 1) / s.S, N = s.N, d = s.d, m = s.m;
        const Epi<T> upd{step && step[1] != T(0) ? EPI_SGD_DECAY : EPI_SGD, nullptr, step ? step[0] : T(0),
                         step ? step[1] : T(0)};
        T *gcur = g, *gnext = g2;
        for (i64 seg = nseg - 1; seg >= 0; --seg) {
            if (seg != nseg - 1) forward_segment(seg, bounds + (seg + 1) * nd);  // recompute its activations
            const i64 l0 = seg * s.S, l1 = l0 + s.S < s.L ? l0 + s.S : s.L;
            for (i64 l = l1 - 1; l >= l0; --l) {
                const Slot<T> sl = slot(l - l0);
                const T* gf = gcur;
                if (s.variant == SCALED) {
                    double acc = 0;
                    for (i64 i = 0; i < nd; ++i) acc += (double)gcur[i] * (double)sl.F[i];
                    galpha[l] = (T)acc;  // ∂α = Σ g⊙F
                    const T al = alpha[l];
                    for (i64 i = 0; i < nd; ++i) gF[i] = al * gcur[i];
                    gf = gF;
                }
                const T* gin = gf;  // gradient at the input side of the last product: g_z (mlp) or g_F
                T* Wfirst = W1 + l * wsize1();
                i64 gin_w = d;
                if (s.mlp) {
                    T* W2l = W2 + l * d * m;
                    // g_z = (g_F W₂) ⊙ σ'(z): tanh and ReLU in the product's epilogue, GELU after it
                    if (s.act != ACT_GELU) {
                        const Epi<T> back{s.act == ACT_TANH ? EPI_DTANH : EPI_DRELU, sl.a, T(0), T(0)};
                        gemm(N, m, d, gf, d, (i64)1, W2l, ga, back);
                    } else {
                        gemm(N, m, d, gf, d, (i64)1, W2l, ga);
                        activate_backward(s.act, nm, sl.z, sl.a, ga);
                    }
                    if (step) gemm(d, m, N, gf, (i64)1, d, sl.a, W2l, upd);  // W₂ ← W₂ − (η ∂W₂ + cW₂)
                    else gemm(d, m, N, gf, (i64)1, d, sl.a, gW2 + l * d * m);  // ∂W₂ = g_Fᵀ a
                    gin = ga;
                    gin_w = m;
                }
                if (l > 0)  // ∂h = g + g_in W₁ (shortcut) or g_in W₁, before W₁ moves
                    gemm(N, d, gin_w, gin, gin_w, (i64)1, Wfirst, gnext,
                         Epi<T>{s.variant == PLAIN ? EPI_STORE : EPI_ADD, gcur, T(0), T(0)});
                if (step) gemm(gin_w, d, N, gin, (i64)1, gin_w, sl.h, Wfirst, upd);  // W₁ ← W₁ − (η ∂W₁ + cW₁)
                else gemm(gin_w, d, N, gin, (i64)1, gin_w, sl.h, gW1 + l * wsize1());  // ∂W₁ = g_zᵀ h
                if (l == 0) break;
                T* t = gcur; gcur = gnext; gnext = t;
            }
        }
    }
    // returns the loss; with gW1 non-null also writes this run's gradients (gW2 = gW1 for linear)
    double run(const T* x, const T* y, T* gW1, T* gW2, T* galpha) {
        const double loss = forward(x, y);
        if (gW1) backward(gW1, gW2, galpha, nullptr);
        return loss;
    }
};

// θ ← θ − (η·G + c·θ) over n numbers: a plain (S)GD step with weight decay c = ηλ (l2 and decoupled decay
// coincide for (S)GD), applied while the run's weights and gradients are in cache.
template <class T>
static void sgd_step(i64 n, T* w, const T* G, T rate, T decay) {
    if (decay == T(0)) {
#pragma omp simd
        for (i64 i = 0; i < n; ++i) w[i] = w[i] - rate * G[i];
    } else {
#pragma omp simd
        for (i64 i = 0; i < n; ++i) w[i] = w[i] - (rate * G[i] + decay * w[i]);
    }
}

// A step pending from the previous call: per run r, rate η_r and decay c_r, the gradients G it was computed from
// (they may be the arrays this call writes: a run is updated before its own gradients are overwritten), and
// `move` (null: every run): only runs with move[r] ≠ 0 take the step; the others keep their weights exactly.
template <class T>
struct Pending {
    const T *rate, *decay, *G1, *G2, *Ga;
    const uint8_t* move;
};

template <class T>
static int dense_loss_grad(const Shape* s, i64 r0, i64 r1, const T* x, const T* y, T* W1, T* W2, T* alpha,
                           const uint8_t* skip, T* loss, T* gW1, T* gW2, T* galpha, const Pending<T>* step) {
    static thread_local std::vector<T> ws;
    const i64 nd = s->N * s->d, w1 = s->mlp ? s->m * s->d : s->d * s->d, w2 = s->mlp ? s->d * s->m : 0;
    for (i64 r = r0; r < r1; ++r) {
        if (step && (!step->move || step->move[r])) {  // (η = 0 still steps: 0·G is NaN where G is not finite)
            const T eta = step->rate[r], c = step->decay[r];
            sgd_step(s->L * w1, W1 + r * s->L * w1, step->G1 + r * s->L * w1, eta, c);
            if (s->mlp) sgd_step(s->L * w2, W2 + r * s->L * w2, step->G2 + r * s->L * w2, eta, c);
            if (s->variant == SCALED) sgd_step(s->L, alpha + r * s->L, step->Ga + r * s->L, eta, c);
        }
        T* g1 = gW1 ? gW1 + r * s->L * w1 : nullptr;
        T* g2 = gW1 && s->mlp ? gW2 + r * s->L * w2 : g1;
        T* ga = gW1 && s->variant == SCALED ? galpha + r * s->L : nullptr;
        if (skip && skip[r]) {  // a frozen run: no work, zero gradients, NaN loss
            loss[r] = T(NAN);
            if (g1) std::memset(g1, 0, s->L * w1 * sizeof(T));
            if (g1 && s->mlp) std::memset(g2, 0, s->L * w2 * sizeof(T));
            if (ga) std::memset(ga, 0, s->L * sizeof(T));
            continue;
        }
        Run<T> run(*s, W1 + r * s->L * w1, s->mlp ? W2 + r * s->L * w2 : W1 + r * s->L * w1,
                   s->variant == SCALED ? alpha + r * s->L : nullptr, ws);
        loss[r] = (T)run.run(x + r * nd, y + r * nd, g1, g2, ga);
    }
    return 0;
}

// K steps of full-batch (S)GD, each run's steps taken one after another while its weights stay in cache (the loop
// over steps inside the loop over runs: the weights and activations of a run never leave L1/L2 between steps).
// Per run r and step k = k0 … k0+K−1, exactly what numerics/train.py's lock-step loop does with a pending step:
//   L_k = L(θ_k) (as T, then widened to double); loss[(k−k0)·R + r] = L_k while the run moves, else NaN;
//   norm2[(k−k0)·R + r] = ‖θ_k‖² (double sums) at recorded steps (k % every == 0 or k = max_steps), for every run;
//   the stop rule of numerics/monitor.py with metric = loss: at k = 0 bound_r = factor·(L_0 or 0 if not finite, + 1);
//   an active run is diverged when L_k is not finite or > bound_r, else converged when L_k < eps; either ends
//   `active` (and sets diverged_r or converged_r to k); divergence (and convergence with `freeze_converged`) ends
//   `moving`; a run that still moves and has
//   k < max_steps takes θ ← θ − (η∇L(θ_k) + cθ_k) (bit for bit sgd_step's, as the pending step; the weights'
//   gradients are never stored: each layer's step is taken in the epilogue of the product that forms it).
struct Steps {
    i64 k0, K, max_steps, every;
    double eps, factor;
    int freeze_converged;
};

template <class T>
static double sq_norm(i64 n, const T* w) {
    double acc = 0;
    for (i64 i = 0; i < n; ++i) acc += (double)w[i] * (double)w[i];
    return acc;
}

template <class T>
static int dense_gd_steps(const Shape* s, const Steps* st, i64 r0, i64 r1, const T* x, const T* y, T* W1, T* W2,
                          T* alpha, const T* rate, const T* decay, uint8_t* moving, uint8_t* active, double* bound,
                          i64* converged, i64* diverged, double* loss, double* norm2) {
    static thread_local std::vector<T> ws, gs;
    const i64 R = s->R, nd = s->N * s->d, w1 = s->mlp ? s->m * s->d : s->d * s->d, w2 = s->mlp ? s->d * s->m : 0;
    const i64 n1 = s->L * w1, n2 = s->L * w2, na = s->variant == SCALED ? s->L : 0;
    if ((i64)gs.size() < na) gs.resize(na);
    T* ga = na ? gs.data() : nullptr;  // α's gradient (the weights' gradients are never stored: see Run::backward)
    for (i64 r = r0; r < r1; ++r) {
        T* a = W1 + r * n1;
        T* b = s->mlp ? W2 + r * n2 : a;
        T* al = na ? alpha + r * na : nullptr;
        for (i64 k = st->k0; k < st->k0 + st->K; ++k) {
            const i64 row = (k - st->k0) * R + r;
            if (k % st->every == 0 || k == st->max_steps)
                norm2[row] = sq_norm(n1, a) + sq_norm(n2, b) + sq_norm(na, al);  // n2 = 0 for linear
            if (!moving[r]) {
                loss[row] = NAN;
                continue;
            }
            Run<T> run(*s, a, b, al, ws);
            const double Lk = (double)(T)run.forward(x + r * nd, y + r * nd);
            loss[row] = Lk;
            if (k == 0) bound[r] = st->factor * ((std::isfinite(Lk) ? Lk : 0.0) + 1.0);
            // numerics.monitor's rule: every moving run is watched for divergence, a converged one included
            if (!std::isfinite(Lk) || Lk > bound[r]) {
                diverged[r] = k;
                active[r] = moving[r] = 0;
            } else if (active[r] && Lk < st->eps) {
                converged[r] = k;
                active[r] = 0;
                if (st->freeze_converged) moving[r] = 0;
            }
            if (moving[r] && k < st->max_steps) {  // the step, taken layer by layer inside the backward pass
                const T rd[2] = {rate[r], decay[r]};
                run.backward(nullptr, nullptr, ga, rd);
                if (na) sgd_step(na, al, ga, rate[r], decay[r]);
            }
        }
    }
    return 0;
}

extern "C" {
// Runs [r0, r1) of a batch; gW1 = null: the loss only.  Arrays contiguous in the public layout.  With `rate`
// non-null, each run first takes the pending (S)GD step (see Pending) on W1, W2 and α, in place.
int hfx_dense_f32(const Shape* s, i64 r0, i64 r1, const float* x, const float* y, float* W1, float* W2,
                  float* alpha, const uint8_t* skip, float* loss, float* gW1, float* gW2, float* galpha,
                  const float* rate, const float* decay, const float* G1, const float* G2, const float* Ga,
                  const uint8_t* move) {
    const Pending<float> step{rate, decay, G1, G2, Ga, move};
    return dense_loss_grad<float>(s, r0, r1, x, y, W1, W2, alpha, skip, loss, gW1, gW2, galpha,
                                  rate ? &step : nullptr);
}
int hfx_dense_f64(const Shape* s, i64 r0, i64 r1, const double* x, const double* y, double* W1, double* W2,
                  double* alpha, const uint8_t* skip, double* loss, double* gW1, double* gW2, double* galpha,
                  const double* rate, const double* decay, const double* G1, const double* G2, const double* Ga,
                  const uint8_t* move) {
    const Pending<double> step{rate, decay, G1, G2, Ga, move};
    return dense_loss_grad<double>(s, r0, r1, x, y, W1, W2, alpha, skip, loss, gW1, gW2, galpha,
                                   rate ? &step : nullptr);
}
// K steps of full-batch (S)GD on runs [r0, r1) (see dense_gd_steps); moving, active, bound, converged, diverged:
// (R,), updated in place;
// loss, norm2: (K, R).
int hfx_dense_steps_f32(const Shape* s, const Steps* st, i64 r0, i64 r1, const float* x, const float* y, float* W1,
                        float* W2, float* alpha, const float* rate, const float* decay, uint8_t* moving,
                        uint8_t* active, double* bound, i64* converged, i64* diverged, double* loss, double* norm2) {
    return dense_gd_steps<float>(s, st, r0, r1, x, y, W1, W2, alpha, rate, decay, moving, active, bound, converged,
                                 diverged, loss, norm2);
}
int hfx_dense_steps_f64(const Shape* s, const Steps* st, i64 r0, i64 r1, const double* x, const double* y,
                        double* W1, double* W2, double* alpha, const double* rate, const double* decay,
                        uint8_t* moving, uint8_t* active, double* bound, i64* converged, i64* diverged,
                        double* loss, double* norm2) {
    return dense_gd_steps<double>(s, st, r0, r1, x, y, W1, W2, alpha, rate, decay, moving, active, bound, converged,
                                  diverged, loss, norm2);
}
int hfx_abi_version(void) { return 7; }
// The engine's float32 tanh on n values (1: the AVX2 one above, 0: the C library's), for the accuracy checks.
void hfx_tanh_f32(i64 n, const float* z, float* a) { tanh_f32(n, z, a); }
int hfx_tanh_kind(void) {
#ifdef HFX_TANH_AVX2
    return 1;
#else
    return 0;
#endif
}
int hfx_vector_bytes(void) { return HFX_VBYTES; }  // the register geometry the tiles were sized for
int hfx_vector_registers(void) { return HFX_NREG; }
}
