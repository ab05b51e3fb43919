/* One allocation wrapper for the whole simulator.
 *
 * Every allocation goes through here so a test can make the N-th one fail
 * and prove that the error path is clean. The x-variants never return NULL:
 * on failure they print one line and exit with SIM_EXIT_INTERNAL. */
#ifndef SIM_ALLOC_H
#define SIM_ALLOC_H

#include <stddef.h>

void *sim_malloc(size_t size);
void *sim_calloc(size_t count, size_t size);
void *sim_realloc(void *ptr, size_t size);
void sim_free(void *ptr);

void *sim_xmalloc(size_t size);
void *sim_xcalloc(size_t count, size_t size);
void *sim_xrealloc(void *ptr, size_t size);
char *sim_xstrdup(const char *s);

/* Grow an array *items of *cap elements of elem_size bytes so that it holds
 * at least need elements. Doubles the capacity; never returns on failure. */
void sim_grow(void **items, size_t *cap, size_t need, size_t elem_size);
#define SIM_GROW(items, cap, need) \
    sim_grow((void **)&(items), &(cap), (need), sizeof *(items))

/* Make allocation number n (counting from 1 after this call) and every one
 * after it fail; 0 turns injection off. For tests only. */
void sim_alloc_fail_from(long n);
/* Number of allocations made since the process started. */
long sim_alloc_count(void);
/* Number of allocations that failed so far (injected or real). A parser
 * that returns NULL for both bad input and no memory (cJSON) can compare
 * this before and after to tell which it was. */
long sim_alloc_failures(void);

#endif
