/* qsort that accepts an empty array given as NULL (the C library's does
 * not: passing NULL is undefined even when the count is 0). */
#ifndef SIM_SORT_H
#define SIM_SORT_H

#include <stdlib.h>

static inline void sim_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

#endif
