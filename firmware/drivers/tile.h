/* Crossbar tile driver: configure a batch, start it, wait for its interrupt. */
#ifndef CIMVP_DRIVER_TILE_H
#define CIMVP_DRIVER_TILE_H

#include <stdint.h>

typedef struct {
    uint32_t base;
    uint32_t irq;
    uint32_t index;
    uint32_t rows, cols, input_bits;
    uint32_t max_nvec;   /* largest batch the tile accepts (TILE_MAX_NVEC) */
} tile_t;

/* Finds tile `index` through the discovery table; 0 on success, -1 if absent. */
int tile_open(uint32_t index, tile_t *t);

typedef struct {
    uint32_t k, n;                 /* rows in use, logical outputs */
    uint32_t in_addr, in_stride;   /* uint8 input codes, bytes between vectors */
    uint32_t out_addr, out_stride; /* float32 results, bytes between vectors */
    uint32_t nvec;
    uint32_t accumulate;           /* add into the outputs (partial sums) */
} tile_batch_t;

/* Opens tiles 0..n-1 in one walk over the discovery table; -1 when all are there, else the
 * index of the first missing tile. */
int tile_open_all(tile_t *tiles, uint32_t n);

/* Programs the batch registers and starts the tile (returns at once). The tile must not be
 * busy: a START while busy is ignored and latched as TILE_ERR_BUSY + STATUS.OVERRUN. */
void tile_start(const tile_t *t, const tile_batch_t *b);
/* Waits for the tile's interrupt; returns its error code (TILE_ERR_*), 0 on success. After a
 * batch that stopped on an error, tile_error_vector() is the first vector not computed. */
uint32_t tile_wait(const tile_t *t);
/* Waits for n started tiles that may share one interrupt line (they do by default): each
 * finished tile's status is read into errors[i] (TILE_ERR_*) and cleared, which drops its
 * share of the line. Returns the number of tiles that reported an error. Any n. */
#define TILE_WAIT_PENDING 0xFFFFFFFFu /* errors[i] while tile i runs (never a TILE_ERR_*) */
uint32_t tile_wait_all(const tile_t *const *tiles, uint32_t n, uint32_t *errors);
/* tile_start + tile_wait. */
uint32_t tile_run(const tile_t *t, const tile_batch_t *b);

uint64_t tile_busy_ns(const tile_t *t);
uint32_t tile_error_vector(const tile_t *t);
uint64_t tile_conversions(const tile_t *t);

#endif
