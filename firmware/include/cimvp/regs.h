/*
 * cimvp register map — the single source of truth for the firmware and the C++ models.
 *
 * Every block answers at a bus address given by the scenario's memory map. The firmware
 * finds blocks through the system-control block's discovery table (like a ROM table on a
 * real SoC); only the system-control block itself sits at a fixed address.
 *
 * All registers are 32 bits wide and 32-bit aligned. Access kinds: RW, RO (writes are a
 * bus error), WO (reads are a bus error), W1C (write 1 to clear).
 *
 * C11, freestanding: included by firmware (bare-metal) and by the C++ models.
 */
#ifndef CIMVP_REGS_H
#define CIMVP_REGS_H

#include <stdint.h>

/* Boot convention: system control is the one block at a fixed address. */
#define CIMVP_SYSCTL_BASE 0x00000000u

/* ---------------------------------------------------------------------------------------
 * Block types. Every block's register 0x000 is its ID: (type << 16) | version.
 * ------------------------------------------------------------------------------------- */
#define CIMVP_BLOCK_SYSCTL  0x5359u /* 'SY' */
#define CIMVP_BLOCK_IRQ     0x4952u /* 'IR' */
#define CIMVP_BLOCK_SRAM    0x5352u /* 'SR' (memory: no ID register) */
#define CIMVP_BLOCK_HOSTMEM 0x484Du /* 'HM' (memory: dataset images; no ID register) */
#define CIMVP_BLOCK_TILE    0x5449u /* 'TI' */
#define CIMVP_BLOCK_PROGCTL 0x5043u /* 'PC' */
#define CIMVP_BLOCK_DMA     0x444Du /* 'DM' */
#define CIMVP_BLOCK_DPU     0x4450u /* 'DP' */
#define CIMVP_BLOCK_PMU     0x504Du /* 'PM' */

#define CIMVP_ID(type, version) ((uint32_t)(((uint32_t)(type) << 16) | ((uint32_t)(version) & 0xFFFFu)))
#define CIMVP_ID_TYPE(id) ((uint32_t)(id) >> 16)

/* Common to every register block. */
#define REG_ID 0x000u

/* ---------------------------------------------------------------------------------------
 * System control (sysctl)
 * ------------------------------------------------------------------------------------- */
#define SYSCTL_VERSION_VALUE 1u
#define SYSCTL_ID         0x000u /* RO  CIMVP_ID(CIMVP_BLOCK_SYSCTL, 1) */
#define SYSCTL_PLATFORM   0x004u /* RO  platform version: (major<<16)|(minor<<8)|patch */
#define SYSCTL_CONSOLE    0x008u /* WO  one byte of firmware console output (bits 7:0) */
#define SYSCTL_EXIT       0x00Cu /* WO  firmware exit code; ends the simulation cleanly */
#define SYSCTL_SCRATCH    0x010u /* RW  reset 0; free for firmware (selftest pattern) */
#define SYSCTL_SEED       0x014u /* RO  low 32 bits of the scenario seed */
#define SYSCTL_NBLOCKS    0x020u /* RO  number of entries in the discovery table */
#define SYSCTL_BLOCK_SEL  0x024u /* RW  reset 0; selects a discovery-table entry */
#define SYSCTL_BLOCK_TYPE 0x028u /* RO  (type << 16) | instance of the selected entry */
#define SYSCTL_BLOCK_BASE 0x02Cu /* RO  bus base address of the selected entry */
#define SYSCTL_BLOCK_SIZE 0x030u /* RO  size in bytes of the selected entry */
#define SYSCTL_BLOCK_IRQ  0x034u /* RO  IRQ line of the selected entry, SYSCTL_NO_IRQ if none */
#define SYSCTL_PHASE_ARG  0x040u /* RW  reset 0; argument recorded with the next phase begin */
#define SYSCTL_PHASE_BEGIN 0x044u /* WO phase id (FW_PHASE_*): starts a firmware phase */
#define SYSCTL_PHASE_END  0x048u /* WO  phase id: ends the innermost open phase with that id */
#define SYSCTL_TIME_LO    0x050u /* RO  simulated time in ns, low word (latched on read of LO) */
#define SYSCTL_TIME_HI    0x054u /* RO  high word of the value latched by the last TIME_LO read */
#define SYSCTL_APP_ARG0   0x060u /* RO  run argument 0 from the scenario (e.g. image count) */
#define SYSCTL_APP_ARG1   0x064u /* RO  run argument 1 from the scenario */

#define SYSCTL_NO_IRQ 0xFFFFFFFFu

/* Firmware phases (SYSCTL_PHASE_BEGIN/END). Names for traces live in the platform. */
#define FW_PHASE_BOOT      1u
#define FW_PHASE_SELFTEST  2u
#define FW_PHASE_PROGRAM   3u
#define FW_PHASE_CALIBRATE 4u
#define FW_PHASE_INFER     5u
#define FW_PHASE_LAYER     6u
#define FW_PHASE_IMAGE     7u
#define FW_PHASE_MAX       7u

/* ---------------------------------------------------------------------------------------
 * Interrupt controller (irq): 32 input lines. PENDING shows a line while its level is high
 * and also latches rising edges until acknowledged. Blocks of one kind may share a line
 * (tiles do): after a wake-up the firmware reads each block's status and clears it there.
 * The CPU's interrupt input is OR(PENDING & ENABLE).
 * ------------------------------------------------------------------------------------- */
#define IRQ_VERSION_VALUE 1u
#define IRQ_ID      0x000u /* RO  CIMVP_ID(CIMVP_BLOCK_IRQ, 1) */
#define IRQ_NLINES  0x004u /* RO  number of input lines (<= 32) */
#define IRQ_PENDING 0x008u /* RO  line levels | latched rising edges | software-set bits */
#define IRQ_ENABLE  0x00Cu /* RW  reset 0 */
#define IRQ_ACK     0x010u /* WO  clears latched PENDING bits (a high level stays pending) */
#define IRQ_RAW     0x014u /* RO  present level of each input line */
#define IRQ_SWSET   0x018u /* WO  sets PENDING bits (software-triggered interrupt) */


/* ---------------------------------------------------------------------------------------
 * Crossbar tile (tile): one R x C memristor array, its DAC/drivers, column mux, ADC bank
 * and shift-and-add. The tile fetches input codes from bus memory and writes results back
 * through its own initiator port; IRQ on batch completion.
 *
 * Inputs: NVEC vectors of K uint8 input codes (input_bits wide), vector v at
 *         IN_ADDR + v * IN_STRIDE.
 * Outputs: NVEC vectors of N float32 shift-and-add results in units of the integer dot
 *         product (weight code x input code), vector v at OUT_ADDR + v * OUT_STRIDE; with
 *         TILE_FLAG_ACCUMULATE they are added to what is there (partial sums of layers
 *         larger than one array).
 * ------------------------------------------------------------------------------------- */
#define TILE_VERSION_VALUE 1u
#define TILE_ID         0x000u /* RO */
#define TILE_CTRL       0x004u /* WO  TILE_CTRL_* bits */
#define TILE_STATUS     0x008u /* RO  TILE_STATUS_* bits, error code in 15:8 */
#define TILE_ROWS       0x00Cu /* RO  physical rows R */
#define TILE_COLS       0x010u /* RO  physical columns C */
#define TILE_K          0x018u /* RW  rows in use (inputs per vector) */
#define TILE_N          0x01Cu /* RW  logical outputs per vector */
#define TILE_IN_ADDR    0x020u /* RW  bus address of the first input vector */
#define TILE_IN_STRIDE  0x024u /* RW  bytes between input vectors */
#define TILE_OUT_ADDR   0x028u /* RW  bus address of the first output vector */
#define TILE_OUT_STRIDE 0x02Cu /* RW  bytes between output vectors */
#define TILE_NVEC       0x030u /* RW  vectors in the batch */
#define TILE_FLAGS      0x034u /* RW  TILE_FLAG_* */
#define TILE_INPUT_BITS 0x038u /* RO  input code width */
#define TILE_MAPPED_N   0x03Cu /* RO  logical columns of the programmed weight block */
#define TILE_CYCLES_LO  0x040u /* RO  simulated busy time in ns, low word */
#define TILE_CYCLES_HI  0x044u /* RO */
#define TILE_CONV_LO    0x048u /* RO  ADC conversions, low word */
#define TILE_CONV_HI    0x04Cu /* RO */
#define TILE_VECTORS    0x050u /* RO  vectors processed since counters were cleared */
#define TILE_BATCHES    0x054u /* RO  batches completed */

#define TILE_CTRL_START          (1u << 0)
#define TILE_CTRL_CLEAR_COUNTERS (1u << 1)
#define TILE_CTRL_CLEAR_STATUS   (1u << 2)
#define TILE_STATUS_BUSY  (1u << 0)
#define TILE_STATUS_DONE  (1u << 1)
#define TILE_STATUS_ERROR (1u << 2)
#define TILE_STATUS_ERRCODE(s) (((s) >> 8) & 0xFFu)
#define TILE_FLAG_ACCUMULATE (1u << 0)

#define TILE_ERR_NONE        0u
#define TILE_ERR_NVEC_ZERO   1u /* NVEC is 0 */
#define TILE_ERR_INPUT_BUS   2u /* input fetch got a bus error (buffer outside memory) */
#define TILE_ERR_OUTPUT_BUS  3u /* output write got a bus error */
#define TILE_ERR_SHAPE       4u /* K > rows, N > mapped columns, K or N zero */
#define TILE_ERR_BUSY        5u /* START while busy */
#define TILE_ERR_NOT_PROGRAMMED 6u /* no weights programmed */

/* ADC bank of the tile: a register window inside the tile's address range. */
#define TILE_ADC_BASE    0x1000u
#define ADC_MODE         0x1000u /* RW  ADC_MODE_* */
#define ADC_BITS         0x1004u /* RW  2..8 */
#define ADC_RANGE_LO     0x1008u /* RW  float32 bits: uniform SAR/flash range low */
#define ADC_RANGE_HI     0x100Cu /* RW  float32 bits: uniform SAR/flash range high */
#define ADC_APPLY        0x1010u /* WO  1: load THRESH/LEVEL windows into the converters (direct path) */
#define ADC_NADCS        0x1014u /* RO  ADCs in the bank (columns / adc_share) */
#define ADC_SHARE        0x1018u /* RO  columns multiplexed per ADC */
#define ADC_CAP_ADDR     0x1020u /* RW  bus address of the capture buffer (float32 samples) */
#define ADC_CAP_MAX      0x1024u /* RW  capacity in samples */
#define ADC_CAP_DECIM    0x1028u /* RW  keep one sample in DECIM (>= 1) */
#define ADC_CAP_CTRL     0x102Cu /* RW  bit0: capture enable */
#define ADC_CAP_COUNT    0x1030u /* RO  samples written */
#define ADC_CAP_SEEN     0x1034u /* RO  samples seen (before decimation), low word */
#define ADC_CONV_LO      0x1040u /* RO  conversions, low word */
#define ADC_CONV_HI      0x1044u /* RO */
#define ADC_GAPS         0x1048u /* RO  Q-cell conversions that fell in a gap */
#define ADC_OVERLAPS     0x104Cu /* RO  Q-cell conversions with two windows matching */
#define ADC_SR_DISAGREE  0x1050u /* RO  super-resolution conversions where the pair disagreed */
#define ADC_LEVEL(i)     (0x1400u + 4u * (uint32_t)(i)) /* RW float32, i < 256: output level of code i */
#define ADC_THRESH(i)    (0x1800u + 4u * (uint32_t)(i)) /* RW float32, i < 255: nominal threshold i */
#define ADC_EDGE(i)      (0x1C00u + 4u * (uint32_t)(i)) /* RO float32, i < 512: achieved window edges (lo,hi per Q-cell) */

#define ADC_MODE_IDEAL   0u
#define ADC_MODE_SAR     1u
#define ADC_MODE_FLASH   2u
#define ADC_MODE_QCELL   3u
#define ADC_MODE_QCELL_SR 4u

#define TILE_SIZE 0x4000u /* bytes of bus address space a tile occupies */

/* ---------------------------------------------------------------------------------------
 * Programming controller (progctl): write-verify of crossbar cells and Q-cell memristors.
 * A target table in bus memory holds COUNT entries of 8 bytes:
 *   uint32 cell   — array: (row << 16) | column; ADC: Q-cell memristor index (2 per cell:
 *                   2k = lower edge M1, 2k+1 = upper edge M2)
 *   float32 target in uS
 * The whole table is checked before any cell is written: a bad entry (outside the array,
 * target outside [g_min, g_max]) sets ERROR with BAD_INDEX and programs nothing.
 * ------------------------------------------------------------------------------------- */
#define PROG_VERSION_VALUE 1u
#define PROG_ID          0x000u /* RO */
#define PROG_CTRL        0x004u /* WO  PROG_CTRL_* */
#define PROG_STATUS      0x008u /* RO  PROG_STATUS_* bits, error code in 15:8 */
#define PROG_TABLE_ADDR  0x00Cu /* RW  bus address of the target table */
#define PROG_COUNT       0x010u /* RW  entries */
#define PROG_DEST        0x014u /* RW  [15:0] tile index, [19:16] PROG_DEST_* kind */
#define PROG_TOL         0x018u /* RW  float32 tolerance in uS (reset: tech default) */
#define PROG_MAX_PULSES  0x01Cu /* RW  pulses per cell before giving up */
#define PROG_SCHEME      0x020u /* RW  PROG_SCHEME_* */
#define PROG_RESULT_ADDR 0x024u /* RW  if non-zero: achieved conductance (float32 uS) per entry is written here */
#define PROG_FAIL_ADDR   0x028u /* RW  if non-zero: failed entry indices (uint32) are written here */
#define PROG_FAIL_MAX    0x02Cu /* RW  capacity of the failure list */
#define PROG_DONE_ENTRIES 0x030u /* RO entries programmed so far */
#define PROG_FAILURES    0x034u /* RO  entries that did not converge (or stuck cells) */
#define PROG_BAD_INDEX   0x038u /* RO  first invalid entry when the error is PROG_ERR_ENTRY */
#define PROG_PULSES_LO   0x040u /* RO  pulses applied, low word */
#define PROG_PULSES_HI   0x044u /* RO */
#define PROG_VERIFY_LO   0x048u /* RO  verify reads, low word */
#define PROG_VERIFY_HI   0x04Cu /* RO */
#define PROG_BUSY_NS_LO  0x050u /* RO  simulated programming time in ns, low word */
#define PROG_BUSY_NS_HI  0x054u /* RO */

#define PROG_CTRL_START          (1u << 0)
#define PROG_CTRL_CLEAR_STATUS   (1u << 1)
#define PROG_CTRL_CLEAR_COUNTERS (1u << 2)
#define PROG_STATUS_BUSY  (1u << 0)
#define PROG_STATUS_DONE  (1u << 1)
#define PROG_STATUS_ERROR (1u << 2)
#define PROG_STATUS_FAILURES (1u << 3) /* done, but some cells did not converge */
#define PROG_STATUS_ERRCODE(s) (((s) >> 8) & 0xFFu)
#define PROG_ERR_NONE      0u
#define PROG_ERR_COUNT_ZERO 1u
#define PROG_ERR_TABLE_BUS 2u /* table/result/failure buffer outside memory */
#define PROG_ERR_DEST      3u /* no such tile / kind */
#define PROG_ERR_ENTRY     4u /* an entry addresses no cell or a target outside [g_min, g_max] */
#define PROG_ERR_BUSY      5u

#define PROG_DEST_ARRAY   0u /* the tile's crossbar array */
#define PROG_DEST_ADC     1u /* the Q-cells of the tile's ADC bank (first ADC of an SR pair) */
#define PROG_DEST_ADC_SR  2u /* the second ADC of each super-resolution pair */
#define PROG_DEST_VALUE(tile, kind) (((uint32_t)(kind) << 16) | ((uint32_t)(tile) & 0xFFFFu))

#define PROG_SCHEME_FIXED 0u
#define PROG_SCHEME_ISPP  1u

#endif /* CIMVP_REGS_H */
