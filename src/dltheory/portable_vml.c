/* The vector math functions PyTorch calls from MKL, computed by the C library one element at a time.
 *
 * PyTorch's CPU kernels for sqrt, exp, log, tanh and twelve more functions hand whole arrays to MKL's vector
 * math library (vms* for float, vmd* for double; ATen/cpu/vml.h), and torch.logit its log (vsLn, vdLn). On the
 * AMD EPYC that published the book, MKL ignored MKL_CBWR for these, and their bits differed from the same code on
 * emulated Intel and AMD CPUs. dltheory.portable preloads this library (LD_PRELOAD) into the kernels that compute
 * and replay pages: the loader then binds PyTorch's calls to these loops over the C library's functions, which
 * the portable kernel pins to one code path per function (GLIBC_TUNABLES, see portable.py). Built with -O2, no
 * fast-math and no contraction into FMA, so nothing is reassociated or fused. The signatures are MKL's LP64 ones:
 * (n, input, output[, accuracy mode]), the mode ignored. The C library has no inverse error function, so erfinv
 * starts from Giles's single-precision approximation and takes Newton steps on its erf and erfc (within 4 ulp of
 * scipy; ATen's own erfinv, used without MKL, is another approximation).
 */
#include <math.h>
#include <stdint.h>

#define PAIR(name, single, dbl)                                                \
    void vms##name(int n, const float *a, float *r, int64_t mode) {            \
        (void)mode;                                                            \
        for (int i = 0; i < n; ++i) r[i] = single(a[i]);                       \
    }                                                                          \
    void vmd##name(int n, const double *a, double *r, int64_t mode) {          \
        (void)mode;                                                            \
        for (int i = 0; i < n; ++i) r[i] = dbl(a[i]);                          \
    }

PAIR(Acos, acosf, acos)
PAIR(Asin, asinf, asin)
PAIR(Atan, atanf, atan)
PAIR(Cos, cosf, cos)
PAIR(Erf, erff, erf)
PAIR(Erfc, erfcf, erfc)
PAIR(Exp, expf, exp)
PAIR(Ln, logf, log)
PAIR(Log10, log10f, log10)
PAIR(Log2, log2f, log2)
PAIR(Sin, sinf, sin)
PAIR(Sqrt, sqrtf, sqrt)
PAIR(Tan, tanf, tan)
PAIR(Tanh, tanhf, tanh)
PAIR(Trunc, truncf, trunc)

/* Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), the single-precision branch. */
static double erfinv_start(double y) {
    double w = -log((1.0 - y) * (1.0 + y)), p;
    if (w < 5.0) {
        w -= 2.5;
        p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w; p = 1.50140941 + p * w;
    } else {
        w = sqrt(w) - 3.0;
        p = -0.000200214257;
        p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w; p = 2.83297682 + p * w;
    }
    return p * y;
}

static double erfinv_d(double y) {
    if (isnan(y) || y < -1.0 || y > 1.0) return NAN;
    double a = fabs(y), x;
    if (a == 1.0) return copysign(INFINITY, y);
    x = erfinv_start(a);
    /* Newton on erf(x) = a, through erfc(x) = 1 - a (exact for a >= 1/2) where erf(x) is too close to 1 */
    for (int k = 0; k < 50; ++k) {
        double slope = 1.1283791670955126 * exp(-x * x);  /* erf'(x) = 2/sqrt(pi) exp(-x^2) */
        double step = (a < 0.5 ? erf(x) - a : (1.0 - a) - erfc(x)) / slope;
        x -= step;
        if (fabs(step) <= 2.3e-16 * x) break;  /* within an ulp: Newton would only swap neighbours */
    }
    return copysign(x, y);
}

static float erfinv_f(float y) { return (float)erfinv_d((double)y); }

PAIR(ErfInv, erfinv_f, erfinv_d)

/* the mode-less forms, which torch.logit calls for its log */
void vsLn(int n, const float *a, float *r) { vmsLn(n, a, r, 0); }
void vdLn(int n, const double *a, double *r) { vmdLn(n, a, r, 0); }
