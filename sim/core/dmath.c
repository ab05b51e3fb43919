/* Deterministic exp, log and pow.
 *
 * Only +, -, *, /, sqrt and the exact helpers frexp and ldexp are used, so
 * the result depends on the inputs alone, never on the C library. The build
 * passes -ffp-contract=off so the compiler cannot fuse a multiply and an add
 * (which would change the rounding on machines with FMA).
 *
 * pow carries log(x) in two doubles (a "double-double") so that y * log(x)
 * stays accurate to ~1e-18 relative even when it is several hundred: a plain
 * double there would cost up to ~1e-13 relative error in the result. */
#include "dmath.h"

#include <math.h>

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^21 (the low 21 bits of
 * its significand are zero) and LN2_HI + LN2_LO is ln 2 to about 2^-85. */
static const double LN2_HI = 0x1.62e42fee00000p-1;
static const double LN2_LO = 0x1.a39ef35793c76p-33;
static const double INV_LN2 = 0x1.71547652b82fep+0;

/* Inputs of exp beyond these give inf or 0 whatever the low part says. */
static const double EXP_OVERFLOW = 710.0;
static const double EXP_UNDERFLOW = -746.0;

/* ---- exact two-term arithmetic ---- */

/* s + err == a + b exactly, for any a and b (Knuth's TwoSum). */
static double two_sum(double a, double b, double *err)
{
    double s = a + b;
    double bb = s - a;
    *err = (a - (s - bb)) + (b - bb);
    return s;
}

/* Split a into hi + lo with 26 significant bits each (Veltkamp). */
static void split(double a, double *hi, double *lo)
{
    double c = 134217729.0 * a; /* 2^27 + 1 */
    *hi = c - (c - a);
    *lo = a - *hi;
}

/* p + err == a * b exactly, barring overflow (Dekker's TwoProduct). */
static double two_prod(double a, double b, double *err)
{
    double p = a * b;
    double ah, al, bh, bl;
    split(a, &ah, &al);
    split(b, &bh, &bl);
    *err = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    return p;
}

/* ---- exp ---- */

/* exp(xh + xl) where |xl| is at most a few ulps of xh.
 *
 * Reduction: xh + xl = k ln2 + r with |r| <= ln2/2, so the result is
 * 2^k * e^r. xh - k*LN2_HI is exact (k*LN2_HI is exact and close to xh), so
 * r is known to better than an ulp; its rounding error rl is folded back in
 * as e^(r + rl) ~ e^r (1 + rl). e^r - 1 is a Taylor polynomial to r^14/14!,
 * whose truncation error (< 2e-19 for |r| <= 0.35) is far below an ulp. */
static double exp_dd(double xh, double xl)
{
    if (xh != xh)
        return xh;
    if (xh > EXP_OVERFLOW)
        return HUGE_VAL;
    if (xh < EXP_UNDERFLOW)
        return 0.0;

    double k = floor(xh * INV_LN2 + 0.5);
    double r_hi = xh - k * LN2_HI;
    double r_tail = xl - k * LN2_LO;
    double r = r_hi + r_tail;
    double r_lo = (r_hi - r) + r_tail;

    double p = 1.0 / 87178291200.0;             /* 1/14! */
    p = 1.0 / 6227020800.0 + r * p;             /* 1/13! */
    p = 1.0 / 479001600.0 + r * p;              /* 1/12! */
    p = 1.0 / 39916800.0 + r * p;               /* 1/11! */
    p = 1.0 / 3628800.0 + r * p;                /* 1/10! */
    p = 1.0 / 362880.0 + r * p;
    p = 1.0 / 40320.0 + r * p;
    p = 1.0 / 5040.0 + r * p;
    p = 1.0 / 720.0 + r * p;
    p = 1.0 / 120.0 + r * p;
    p = 1.0 / 24.0 + r * p;
    p = 1.0 / 6.0 + r * p;
    p = 0.5 + r * p;
    p = r + (r * r) * p;                        /* e^r - 1 */

    double expm1 = p + r_lo * (1.0 + p);
    return ldexp(1.0 + expm1, (int)k);
}

double dmath_exp(double x)
{
    if (x != x)
        return x;
    if (x > 700.0)
        x = 700.0;
    else if (x < -700.0)
        x = -700.0;
    return exp_dd(x, 0.0);
}

/* ---- log ---- */

/* log(x) as hi + lo for finite x > 0.
 *
 * Reduction: x = 2^e * m with m in [sqrt(1/2), sqrt(2)), so
 * log x = e ln2 + log m, and log m = 2 atanh(s) with s = (m-1)/(m+1),
 * |s| <= 0.1716. s is computed as a double-double (the division's remainder
 * is recovered exactly), the leading term 2s is kept in two parts, and the
 * small tail 2(s^3/3 + s^5/5 + ...) is summed in double: it is under 1% of
 * 2s, so its rounding error is ~1e-19 relative to the result. The series is
 * cut after s^25/25, where the next term is below 1e-20 of s. */
static double log_dd(double x, double *lo)
{
    int e;
    double m = frexp(x, &e);
    if (m < 0x1.6a09e667f3bcdp-1) { /* sqrt(1/2) */
        m *= 2.0;
        e -= 1;
    }
    double f = m - 1.0; /* exact: m is within a factor 2 of 1 */

    double d_lo;
    double d_hi = two_sum(2.0, f, &d_lo); /* m + 1 == d_hi + d_lo */
    double s_hi = f / d_hi;
    double prod_lo;
    double prod_hi = two_prod(s_hi, d_hi, &prod_lo);
    double s_lo = (((f - prod_hi) - prod_lo) - s_hi * d_lo) / d_hi;

    double s2 = s_hi * s_hi;
    double q = 1.0 / 25.0;
    q = 1.0 / 23.0 + s2 * q;
    q = 1.0 / 21.0 + s2 * q;
    q = 1.0 / 19.0 + s2 * q;
    q = 1.0 / 17.0 + s2 * q;
    q = 1.0 / 15.0 + s2 * q;
    q = 1.0 / 13.0 + s2 * q;
    q = 1.0 / 11.0 + s2 * q;
    q = 1.0 / 9.0 + s2 * q;
    q = 1.0 / 7.0 + s2 * q;
    q = 1.0 / 5.0 + s2 * q;
    q = 1.0 / 3.0 + s2 * q;
    double tail = s_hi * s2 * q;

    double de = (double)e;
    double sum_lo;
    double sum_hi = two_sum(de * LN2_HI, 2.0 * s_hi, &sum_lo);
    sum_lo += de * LN2_LO + 2.0 * (s_lo + tail);
    double hi = sum_hi + sum_lo;
    *lo = sum_lo - (hi - sum_hi);
    return hi;
}

double dmath_log(double x)
{
    if (x != x)
        return x;
    if (x < 0.0)
        return NAN;
    if (x == 0.0)
        return -HUGE_VAL;
    if (x == HUGE_VAL)
        return x;
    double lo;
    return log_dd(x, &lo);
}

/* ---- pow ---- */

/* x^y = exp(y log x), with log x and the product carried in two parts.
 * x must be positive; for completeness x == 0 and x == +inf follow the C
 * pow conventions and x < 0 gives NaN. */
double dmath_pow(double x, double y)
{
    if (y == 0.0 || x == 1.0)
        return 1.0;
    if (x != x || y != y)
        return x + y;
    if (x < 0.0)
        return NAN;
    if (x == 0.0)
        return y > 0.0 ? 0.0 : HUGE_VAL;
    if (x == HUGE_VAL)
        return y > 0.0 ? HUGE_VAL : 0.0;

    double log_lo;
    double log_hi = log_dd(x, &log_lo);
    double t_hi = y * log_hi;
    /* Far outside the range of exp the low parts cannot matter (and the
     * exact product could overflow). This also covers y = +-inf. */
    if (!(t_hi > 2.0 * EXP_UNDERFLOW && t_hi < 2.0 * EXP_OVERFLOW))
        return exp_dd(t_hi, 0.0);
    double t_err;
    t_hi = two_prod(y, log_hi, &t_err);
    double t_lo = t_err + y * log_lo;
    double t = t_hi + t_lo;
    return exp_dd(t, t_lo - (t - t_hi));
}
