/* philox.h — the job's random numbers on the host: Philox4x32-10 and the
 * standard-normal noise of kernels/noise.cl (the same code, compiled for the
 * host), bit-identical to the device kernel (kernels/ops_noise.h).
 *
 * Counter layout (documented in full in kernels/noise.cl): key = seed;
 * counter = (image index, slot, element block, stream).  Slot 0 is x_T,
 * slot 1 + i the noise of sampling step i (highest t first); the stage of
 * a two-stage job in the slot's top 8 bits (ADM_NOISE_SLOT_STAGE).
 */
#ifndef ADM_PHILOX_H
#define ADM_PHILOX_H
#include <stddef.h>
#include <stdint.h>

#define ADM_NOISE_SLOT_XT 0
#define ADM_NOISE_SLOT_STEP(i) ((uint32_t)(i) + 1u)
/* Stage s of a chained job (0: one-stage jobs and a two-stage job's first
 * stage, whose bits are those of every earlier release; 1: the upsampler)
 * in the top 8 bits of the slot word c1: the stages draw disjoint counters
 * under one key, so a stage-2 image is reproducible alone from
 * (seed, index).  Slots themselves stay below 2^24. */
#define ADM_NOISE_SLOT_STAGE(stage, slot) (((uint32_t)(stage) << 24) | (uint32_t)(slot))

/* Philox4x32-10 of counter ctr under key. */
void adm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* The transform alone: two normals from two Philox words (for tests). */
void adm_noise_box_muller(uint32_t wu, uint32_t wa, float z[2]);

/* out[0..n) = the first n standard normals of image `index` at `slot`. */
void adm_noise_fill(uint64_t seed, uint32_t index, uint32_t slot, float *out, size_t n);

/* The random class in [0, num_classes) of image `index` (when a job names
 * none): floor(w * num_classes / 2^32), w = Philox((index, 0, 0, 1), seed)[0]. */
int adm_noise_class(uint64_t seed, uint32_t index, int num_classes);

#endif
