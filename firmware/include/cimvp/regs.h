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

/* Reset values that hold on every platform (the selftest checks them right after boot).
 * SEED, NBLOCKS, APP_ARG0/1 and the BLOCK_* window depend on the scenario; TIME_* counts. */
#define SYSCTL_PLATFORM_RESET  0x00000100u /* platform version 0.1.0 */
#define SYSCTL_SCRATCH_RESET   0u
#define SYSCTL_BLOCK_SEL_RESET 0u
#define SYSCTL_PHASE_ARG_RESET 0u

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

/* Reset values (all blocks are idle at boot, so no line is high or pending). */
#define IRQ_NLINES_RESET  32u
#define IRQ_PENDING_RESET 0u
#define IRQ_ENABLE_RESET  0u
#define IRQ_RAW_RESET     0u


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
#define TILE_MAX_NVEC   0x058u /* RO  largest NVEC a batch may have (larger: TILE_ERR_RANGE) */
#define TILE_ERR_VECTOR 0x05Cu /* RO  first vector not computed when a batch stopped with an error
                                *     (vectors before it were computed and written) */

#define TILE_CTRL_START          (1u << 0)
#define TILE_CTRL_CLEAR_COUNTERS (1u << 1)
#define TILE_CTRL_CLEAR_STATUS   (1u << 2)
#define TILE_STATUS_BUSY  (1u << 0)
#define TILE_STATUS_DONE  (1u << 1)
#define TILE_STATUS_ERROR (1u << 2)
#define TILE_STATUS_OVERRUN (1u << 3) /* a START came while BUSY and was ignored; the running
                                       * batch goes on (sticky with ERROR until CLEAR_STATUS) */
#define TILE_STATUS_ERRCODE(s) (((s) >> 8) & 0xFFu)
#define TILE_FLAG_ACCUMULATE (1u << 0)

#define TILE_ERR_NONE        0u
#define TILE_ERR_NVEC_ZERO   1u /* NVEC is 0 */
#define TILE_ERR_INPUT_BUS   2u /* input fetch got a bus error (buffer outside memory) */
#define TILE_ERR_OUTPUT_BUS  3u /* output write got a bus error */
#define TILE_ERR_SHAPE       4u /* K != K of the programmed block, N > MAPPED_N, K or N zero */
#define TILE_ERR_BUSY        5u /* START while busy (STATUS also has OVERRUN; BUSY stays) */
#define TILE_ERR_NOT_PROGRAMMED 6u /* no weights programmed */
#define TILE_ERR_INPUT_CODE  7u /* an input byte exceeds 2^INPUT_BITS - 1 (see TILE_ERR_VECTOR) */
#define TILE_ERR_RANGE       8u /* NVEC > MAX_NVEC, or a buffer runs past the 32-bit bus */

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
#define ADC_CAP_CTRL     0x102Cu /* RW  bit0: capture enable; bit1 (W, self-clearing): reset CAP_COUNT to 0 */
#define ADC_CAP_CTRL_ENABLE 0x1u
#define ADC_CAP_CTRL_RESET  0x2u /* next samples land at CAP_ADDR again (re-calibration); CAP_SEEN keeps counting */
#define ADC_CAP_CTRL_PER_SET 0x4u /* split the capture by threshold set: set k's samples at CAP_ADDR + 4 k CAP_MAX,
                                    * up to CAP_MAX each, decimated per set (CAP_SET_COUNT / CAP_SET_SEEN) */
#define ADC_CAP_COUNT    0x1030u /* RO  samples written (all sets) */
#define ADC_CAP_SEEN     0x1034u /* RO  samples seen (before decimation), low word */
#define ADC_CONV_LO      0x1040u /* RO  conversions, low word */
#define ADC_CONV_HI      0x1044u /* RO */
#define ADC_GAPS         0x1048u /* RO  Q-cell conversions that fell in a gap */
#define ADC_OVERLAPS     0x104Cu /* RO  Q-cell conversions with two windows matching */
#define ADC_SR_DISAGREE  0x1050u /* RO  super-resolution conversions where the pair disagreed (all sets) */
#define ADC_GMIN         0x1054u /* RO  float32: Q-cell memristor conductance at the range's low end (uS) */
#define ADC_GMAX         0x1058u /* RO  float32: conductance at the range's high end (uS); edges map linearly */
#define ADC_SR_COPIES    0x105Cu /* RO  ADCs per super-resolution group (1 when SR is off) */
#define ADC_EDGE_SIGMA   0x1060u /* RO  float32: expected Q-cell edge error sigma of the direct path, as a fraction of
                                  *     the range (device characterisation; the scenario's chip.adc.variation_frac) */
/* Threshold sets (docs/adc.md "Threshold sets"): the bank's ADCs split into groups of SET_COLS
 * physical columns (a multiple of ADC_SHARE, so every ADC belongs to one set), each with its
 * own RANGE / THRESH / LEVEL windows and converters. SET_SEL addresses one set: RANGE_LO/HI,
 * THRESH, LEVEL, EDGE, APPLY and the CAP_SET_* counters act on the selected set; Q-cell device
 * d of set k is progctl cell k * 2^(bits+1) + d. */
#define ADC_SET_COLS     0x1064u /* RW  physical columns per threshold set; 0 (reset): one set for the bank. A
                                  *     write re-partitions the bank (every set starts as a copy of set 0's windows,
                                  *     applied); a value that is not a multiple of ADC_SHARE or exceeds the array's
                                  *     columns is ignored (the register keeps its value; read ADC_NSETS back) */
#define ADC_NSETS        0x1068u /* RO  threshold sets: ceil(columns / SET_COLS), 1 when SET_COLS = 0 */
#define ADC_SET_SEL      0x106Cu /* RW  selected threshold set (< NSETS; other values are ignored) */
#define ADC_EDGE_COPY    0x1070u /* RW  which ADC of a super-resolution group ADC_EDGE reads (< SR_COPIES; reset 0) */
#define ADC_CAP_SET_COUNT 0x1074u /* RO  per-set capture (CAP_CTRL_PER_SET): samples written for the selected set */
#define ADC_CAP_SET_SEEN 0x1078u /* RO  samples of the selected set seen (before decimation), low word */
#define ADC_SR_ZERO_CODE 0x107Cu /* RW  SR decoder: the code that wins every disagreement it takes part in (the
                                  *     zero-pinned window); ADC_SR_ZERO_NONE (reset): plain boundary rule. Per set,
                                  *     latched by APPLY */
#define ADC_SR_ZERO_NONE 0xFFFFFFFFu
#define ADC_UNIFORM_SHAPE 0x1080u /* RW  SAR/flash transfer (ADC_SHAPE_*), reset from chip.adc.uniform_shape; takes
                                   *     effect at APPLY (other values: APPLY is rejected with a warning) */
#define ADC_SHAPE_MID_TREAD 0u /* signed converter: A = max(|lo|, |hi|), levels k A/2^(b-1), 0 is a level */
#define ADC_SHAPE_MIN_MAX   1u /* 2^b levels evenly from RANGE_LO to RANGE_HI (0 generally not a level) */
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
 * COUNT may not exceed the destination's cells (PROG_ERR_COUNT_RANGE). The whole table is
 * checked before any cell is written: a bad entry (outside the array, target outside
 * [g_min, g_max]) sets ERROR with BAD_INDEX and programs nothing.
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
#define PROG_STATUS_OVERRUN (1u << 4) /* a START came while BUSY and was ignored; the running
                                       * job goes on (sticky with ERROR until CLEAR_STATUS) */
#define PROG_STATUS_ERRCODE(s) (((s) >> 8) & 0xFFu)
#define PROG_ERR_NONE      0u
#define PROG_ERR_COUNT_ZERO 1u
#define PROG_ERR_TABLE_BUS 2u /* table/result/failure buffer outside memory */
#define PROG_ERR_DEST      3u /* no such tile / kind */
#define PROG_ERR_ENTRY     4u /* an entry addresses no cell or a target outside [g_min, g_max] */
#define PROG_ERR_BUSY      5u /* START while busy (STATUS also has OVERRUN; BUSY stays) */
#define PROG_ERR_PARAM     6u /* TOL not a finite float > 0, MAX_PULSES 0 or > PROG_MAX_PULSES_LIMIT,
                               * or SCHEME not a PROG_SCHEME_* value; nothing programmed */
#define PROG_ERR_COUNT_RANGE 7u /* COUNT exceeds the destination's cells; nothing programmed */
#define PROG_MAX_PULSES_LIMIT 1000000u

#define PROG_DEST_ARRAY   0u /* the tile's crossbar array */
#define PROG_DEST_ADC     1u /* the Q-cells of the tile's ADC bank (first ADC of an SR pair) */
#define PROG_DEST_ADC_SR  2u /* the second ADC of each super-resolution pair */
#define PROG_DEST_VALUE(tile, kind) (((uint32_t)(kind) << 16) | ((uint32_t)(tile) & 0xFFFFu))

#define PROG_SCHEME_FIXED 0u
#define PROG_SCHEME_ISPP  1u

/* ---------------------------------------------------------------------------------------
 * Power management unit (pmu): energy and time counters per power component
 * (docs/energy.md). Write PMU_CTRL_SNAPSHOT to latch every component at once (the access
 * time), then select components with PMU_SEL and read their latched counters. Counters
 * count from the last PMU_CTRL_RESET (or from time 0). Energy is in fJ, time in ps,
 * 64-bit values as LO/HI word pairs of one latched value (read in any order).
 * ------------------------------------------------------------------------------------- */
#define PMU_VERSION_VALUE 2u /* 2: per-component busy time (PMU_C_BUSY_*) */
#define PMU_ID          0x000u /* RO  CIMVP_ID(CIMVP_BLOCK_PMU, 1) */
#define PMU_NCOMP       0x004u /* RO  number of power components */
#define PMU_CTRL        0x008u /* WO  PMU_CTRL_* bits */
#define PMU_SEL         0x00Cu /* RW  reset 0; component index for the PMU_C_* window */
#define PMU_C_HASH      0x010u /* RO  FNV-1a 32-bit hash of the selected component's name */
#define PMU_C_NAME0     0x014u /* RO  name bytes 0..3 (little-endian, NUL-padded); NAME1..3 follow */
#define PMU_C_NAME1     0x018u
#define PMU_C_NAME2     0x01Cu
#define PMU_C_NAME3     0x020u
#define PMU_C_ENERGY_LO 0x024u /* RO  latched energy (dynamic + static) of the selected component, fJ */
#define PMU_C_ENERGY_HI 0x028u
#define PMU_C_STATIC_LO 0x02Cu /* RO  its static (leakage) part, fJ */
#define PMU_C_STATIC_HI 0x030u
#define PMU_TOTAL_LO    0x034u /* RO  latched energy of all components, fJ */
#define PMU_TOTAL_HI    0x038u
#define PMU_TIME_LO     0x03Cu /* RO  latched time since the last reset, ps */
#define PMU_TIME_HI     0x040u
#define PMU_CYCLES_LO   0x044u /* RO  the same interval in host-CPU cycles */
#define PMU_CYCLES_HI   0x048u
#define PMU_NOW_LO      0x04Cu /* RO  snapshot instant, absolute simulated time in ps */
#define PMU_NOW_HI      0x050u
#define PMU_SNAPSHOTS   0x054u /* RO  snapshots taken since boot (wraps) */
#define PMU_C_BUSY_LO   0x058u /* RO  latched busy time of the selected component, ps (0: it reports none) */
#define PMU_C_BUSY_HI   0x05Cu

#define PMU_CTRL_SNAPSHOT (1u << 0) /* latch all counters at the access time */
#define PMU_CTRL_RESET    (1u << 1) /* zero all counters at the access time (applied before SNAPSHOT) */

/* ---------------------------------------------------------------------------------------
 * DMA (dma): descriptor-driven copies through its own initiator port (docs/dma.md).
 * DMA_DESC_ADDR points to a chain of 128-byte descriptors in bus memory (dma_desc_t below);
 * CTRL.START walks the chain until next == 0. Modes: COPY (3-D strided, rows contiguous),
 * FILL (3-D strided destination filled with an esize-byte pattern) and IM2COL (uint8 CHW
 * activations -> one row of K = C*kh*kw codes per output position, k = c*kh*kw + ky*kw + kx,
 * the ONNX weight order; columns k_first .. k_first+k_count-1 only, so one descriptor can
 * produce the codes of one crossbar row block). The IRQ line is high while STATUS has DONE
 * or DESC_IRQ set; CTRL.CLEAR_STATUS (or START) drops it.
 * ------------------------------------------------------------------------------------- */
#define DMA_VERSION_VALUE 1u
#define DMA_ID          0x000u /* RO  CIMVP_ID(CIMVP_BLOCK_DMA, 1) */
#define DMA_CTRL        0x004u /* WO  DMA_CTRL_* bits */
#define DMA_STATUS      0x008u /* RO  DMA_STATUS_* bits, error code in 15:8 */
#define DMA_DESC_ADDR   0x00Cu /* RW  bus address of the first descriptor */
#define DMA_CUR_DESC    0x010u /* RO  descriptor being (or last) processed; on error the failing one */
#define DMA_DESC_DONE   0x014u /* RO  descriptors completed since counters were cleared */
#define DMA_BYTES_LO    0x018u /* RO  bytes written to destinations, low word */
#define DMA_BYTES_HI    0x01Cu /* RO */
#define DMA_BUSY_NS_LO  0x020u /* RO  simulated busy time in ns, low word */
#define DMA_BUSY_NS_HI  0x024u /* RO */
#define DMA_BURSTS      0x028u /* RO  bus transactions issued (reads + writes) */

#define DMA_CTRL_START          (1u << 0)
#define DMA_CTRL_ABORT          (1u << 1) /* stop after the descriptor in flight (ERR_ABORTED) */
#define DMA_CTRL_CLEAR_STATUS   (1u << 2)
#define DMA_CTRL_CLEAR_COUNTERS (1u << 3)
#define DMA_STATUS_BUSY     (1u << 0)
#define DMA_STATUS_DONE     (1u << 1) /* chain finished (with or without error) */
#define DMA_STATUS_ERROR    (1u << 2)
#define DMA_STATUS_DESC_IRQ (1u << 3) /* a descriptor with DMA_DESC_IRQ completed */
#define DMA_STATUS_ERRCODE(s) (((s) >> 8) & 0xFFu)
#define DMA_ERR_NONE     0u
#define DMA_ERR_DESC_BUS 1u /* descriptor fetch got a bus error */
#define DMA_ERR_SRC_BUS  2u /* source read got a bus error (address outside memory) */
#define DMA_ERR_DST_BUS  3u /* destination write got a bus error */
#define DMA_ERR_BAD_DESC 4u /* zero size, bad mode/element size, inconsistent im2col geometry */
#define DMA_ERR_BUSY     5u /* START while busy */
#define DMA_ERR_ABORTED  6u /* CTRL.ABORT */

/* Descriptor control word (dma_desc_t.ctrl). */
#define DMA_DESC_MODE(c)   ((c) & 0x3u)
#define DMA_MODE_COPY      0u
#define DMA_MODE_FILL      1u
#define DMA_MODE_IM2COL    2u
#define DMA_DESC_ESIZE_SHIFT 4 /* bits 5:4: log2 of the element size (1, 2 or 4 bytes) */
#define DMA_DESC_ESIZE(log2) ((uint32_t)(log2) << DMA_DESC_ESIZE_SHIFT)
#define DMA_DESC_IRQ       (1u << 8) /* raise STATUS.DESC_IRQ (and the IRQ) when this one completes */

/* 32 words (128 bytes), little-endian. Strides are bytes. */
typedef struct {
    uint32_t next;        /* bus address of the next descriptor, 0 = end of chain */
    uint32_t ctrl;        /* mode | element size | flags */
    uint32_t src;         /* COPY / IM2COL: source bus address */
    uint32_t dst;         /* destination bus address */
    /* COPY / FILL: size0 elements per row (contiguous), size1 rows, size2 planes.
     * IM2COL: size0 = images (batch), size1/size2 unused (0). */
    uint32_t size0, size1, size2;
    /* COPY: bytes between rows / planes at the source; IM2COL: bytes between rows of a
     * channel / between channel planes (a dense CHW image: w and h*w). */
    uint32_t src_stride1, src_stride2;
    /* COPY / FILL: bytes between rows / planes at the destination. IM2COL: dst_stride1 =
     * bytes between output rows (>= k_count); dst_stride2 unused. */
    uint32_t dst_stride1, dst_stride2;
    uint32_t fill;        /* FILL: pattern (low esize bytes) */
    /* IM2COL geometry (ignored by COPY / FILL). */
    uint32_t c, h, w;     /* input channels, rows, columns */
    uint32_t kh, kw, stride_h, stride_w, dil_h, dil_w;
    uint32_t pad_t, pad_l, pad_b, pad_r;
    uint32_t pad_value;   /* code that padding reads as (bits 7:0) */
    uint32_t k_first;     /* first patch column produced */
    uint32_t k_count;     /* columns produced per row (0 = all K - k_first) */
    uint32_t src_stride_n; /* IM2COL: bytes between images at the source */
    uint32_t reserved[3];
} dma_desc_t;
#define DMA_DESC_BYTES 128u

/* ---------------------------------------------------------------------------------------
 * Digital post-processing unit (dpu): float32 partial sums / activations in bus memory ->
 * next layer's uint8 codes or float32 outputs (docs/dpu.md). DPU_OP_ADDR points to a chain
 * of op descriptors (dpu_op_t). Per element, in this order:
 *   y = in * in_gain;  y = y * scale[c] + bias[c];  y += res * res_gain;  y = max(y, 0);
 *   pool (max / average) over (h, w);  out = y (float32) or clamp(round(y / out_scale), 0,
 *   2^out_bits - 1) (uint8);  optional argmax over each image's whole output (CHW order,
 *   first maximum wins).
 * Every tensor is described by its address and four byte strides (image n, channel c,
 * row y, column x), so CHW, HWC (tile output: position-major, channel innermost) and
 * transposes between them are one op. Same IRQ rules as the DMA.
 * ------------------------------------------------------------------------------------- */
#define DPU_VERSION_VALUE 1u
#define DPU_ID          0x000u /* RO  CIMVP_ID(CIMVP_BLOCK_DPU, 1) */
#define DPU_CTRL        0x004u /* WO  DPU_CTRL_* bits */
#define DPU_STATUS      0x008u /* RO  DPU_STATUS_* bits, error code in 15:8 */
#define DPU_OP_ADDR     0x00Cu /* RW  bus address of the first op descriptor */
#define DPU_CUR_OP      0x010u /* RO  op being (or last) processed; on error the failing one */
#define DPU_OPS_DONE    0x014u /* RO  ops completed since counters were cleared */
#define DPU_ELEMS_LO    0x018u /* RO  input elements processed, low word */
#define DPU_ELEMS_HI    0x01Cu /* RO */
#define DPU_BUSY_NS_LO  0x020u /* RO  simulated busy time in ns, low word */
#define DPU_BUSY_NS_HI  0x024u /* RO */
#define DPU_ARGMAX      0x028u /* RO  argmax of the last image of the last op with DPU_OP_ARGMAX */
#define DPU_ARGMAX_VAL  0x02Cu /* RO  float32 bits of that maximum */
#define DPU_BURSTS      0x030u /* RO  bus transactions issued */

#define DPU_CTRL_START          (1u << 0)
#define DPU_CTRL_ABORT          (1u << 1)
#define DPU_CTRL_CLEAR_STATUS   (1u << 2)
#define DPU_CTRL_CLEAR_COUNTERS (1u << 3)
#define DPU_STATUS_BUSY     (1u << 0)
#define DPU_STATUS_DONE     (1u << 1)
#define DPU_STATUS_ERROR    (1u << 2)
#define DPU_STATUS_OP_IRQ   (1u << 3) /* an op with DPU_OP_IRQ completed */
#define DPU_STATUS_ERRCODE(s) (((s) >> 8) & 0xFFu)
#define DPU_ERR_NONE     0u
#define DPU_ERR_DESC_BUS 1u /* op descriptor fetch got a bus error */
#define DPU_ERR_IN_BUS   2u /* input / residual / table read got a bus error */
#define DPU_ERR_OUT_BUS  3u /* output or argmax write got a bus error */
#define DPU_ERR_BAD_OP   4u /* zero sizes, bad pooling geometry, out_bits, out_scale <= 0 ... */
#define DPU_ERR_BUSY     5u
#define DPU_ERR_ABORTED  6u

/* dpu_op_t.flags */
#define DPU_OP_IN_U8       (1u << 0) /* input elements are uint8 (else float32) */
#define DPU_OP_RES_F32     (1u << 1) /* add a float32 residual tensor */
#define DPU_OP_RES_U8      (1u << 2) /* add a uint8 residual tensor */
#define DPU_OP_RELU        (1u << 3)
#define DPU_OP_POOL_MAX    (1u << 4)
#define DPU_OP_POOL_AVG    (1u << 5)
#define DPU_OP_COUNT_PAD   (1u << 6) /* average pooling divides by taps including explicit padding */
#define DPU_OP_OUT_U8      (1u << 7) /* requantise to uint8 codes (else float32 output) */
#define DPU_OP_ROUND_EVEN  (1u << 8) /* round half to even (ONNX QuantizeLinear); else half away from zero */
#define DPU_OP_ARGMAX      (1u << 9)
#define DPU_OP_IRQ         (1u << 10)

/* 40 words (160 bytes), little-endian. Strides are bytes; float fields are IEEE float32. */
typedef struct {
    uint32_t next;        /* next op descriptor, 0 = end of chain */
    uint32_t flags;       /* DPU_OP_* */
    uint32_t n, c, h, w;  /* input: images, channels, rows, columns */
    uint32_t in_addr;
    uint32_t in_stride_n, in_stride_c, in_stride_y, in_stride_x;
    float in_gain;        /* multiplies every input element (digit weight, uint8 input scale) */
    uint32_t scale_addr;  /* c float32 per-channel scales; 0 = all 1 */
    uint32_t bias_addr;   /* c float32 per-channel biases; 0 = all 0 */
    uint32_t res_addr;    /* residual, same n, c, h, w as the input */
    uint32_t res_stride_n, res_stride_c, res_stride_y, res_stride_x;
    float res_gain;
    uint32_t pool_kh, pool_kw, pool_sh, pool_sw;
    uint32_t pool_pt, pool_pl, pool_pb, pool_pr;
    uint32_t out_h, out_w; /* output rows / columns (= h, w without pooling; with pooling the
                            * floor or ceil_mode count of windows) */
    uint32_t out_addr;
    uint32_t out_stride_n, out_stride_c, out_stride_y, out_stride_x;
    float out_scale;      /* OUT_U8: quantisation step */
    uint32_t out_bits;    /* OUT_U8: 1..8 */
    uint32_t argmax_addr; /* ARGMAX: one uint32 per image written here; 0 = register only */
    uint32_t reserved[2];
} dpu_op_t;
#define DPU_OP_BYTES 160u

#endif /* CIMVP_REGS_H */
