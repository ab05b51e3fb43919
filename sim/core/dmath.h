/* Deterministic elementary functions.
 *
 * libm's exp, log and pow may differ in the last bit between C libraries and
 * versions, and a single bit decides whether two messages swap order. These
 * use only +, -, *, / and sqrt, which IEEE 754 rounds exactly, so the same
 * inputs give the same bits on every machine (with -ffp-contract=off). They
 * are accurate to a few ulps, plenty for drawing latencies. */
#ifndef SIM_DMATH_H
#define SIM_DMATH_H

double dmath_exp(double x);   /* x in [-700, 700]; clamps outside */
double dmath_log(double x);   /* x > 0; returns -inf for 0, NaN for x < 0 */
double dmath_pow(double x, double y); /* x > 0 */

#endif
