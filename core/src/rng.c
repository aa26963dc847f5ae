/*
 * rng.c -- the engine's one random number generator: xoshiro256** (Blackman
 * and Vigna 2018) seeded through splitmix64, so that a seed gives the same
 * stream on every machine.  Derived values are also machine-independent:
 *   uniform  (x >> 11) * 2^-53, in [0, 1)
 *   below    Lemire's multiply-and-reject, unbiased in [0, n)
 *   normal   Marsaglia's polar method (pairs; the second is kept)
 *   shuffle  Fisher-Yates from the last position down, as in Knuth 3.4.2
 *
 * xoshiro's all-zero state is a fixed point (it yields 0 forever, and the
 * rejection loops of below and normal would never end): a generator found
 * in it -- a zero-filled ms_rng never seeded -- is seeded with 0 first.
 * A NULL generator draws nothing: 0 for integers, NaN for doubles.
 */
#include <math.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void seed_state(uint64_t s[4], uint64_t seed) {
  for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

void ms_rng_seed(ms_rng *rng, uint64_t seed) {
  if (rng == NULL) return;
  seed_state(rng->s, seed);
  rng->has_spare = 0;
  rng->spare = 0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ms_rng_next(ms_rng *rng) {
  if (rng == NULL) return 0;
  uint64_t *s = rng->s;
  if ((s[0] | s[1] | s[2] | s[3]) == 0) seed_state(s, 0);
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double ms_rng_uniform(ms_rng *rng) {
  if (rng == NULL) return NAN;
  return (double)(ms_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t ms_rng_below(ms_rng *rng, uint64_t n) {
  if (rng == NULL || n == 0) return 0;
  unsigned __int128 m = (unsigned __int128)ms_rng_next(rng) * n;
  uint64_t low = (uint64_t)m;
  if (low < n) {
    uint64_t threshold = -n % n;
    while (low < threshold) {
      m = (unsigned __int128)ms_rng_next(rng) * n;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double ms_rng_normal(ms_rng *rng) {
  if (rng == NULL) return NAN;
  if (rng->has_spare) {
    rng->has_spare = 0;
    return rng->spare;
  }
  double u, v, s;
  do {
    u = 2 * ms_rng_uniform(rng) - 1;
    v = 2 * ms_rng_uniform(rng) - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double scale = sqrt(-2 * log(s) / s);
  rng->spare = v * scale;
  rng->has_spare = 1;
  return u * scale;
}

void ms_rng_shuffle(ms_rng *rng, size_t *items, size_t n) {
  if (rng == NULL || items == NULL) return;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)ms_rng_below(rng, i);
    size_t tmp = items[i - 1];
    items[i - 1] = items[j];
    items[j] = tmp;
  }
}
