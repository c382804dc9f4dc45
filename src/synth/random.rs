//! Sampling helpers over one patient's ChaCha stream: uniform, normal, log-normal, weighted
//! choice. Plain functions so that every draw is visible at its call site.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A uniform draw in [0, 1).
#[inline]
pub fn unit(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

/// True with probability `p`.
#[inline]
pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    unit(rng) < p
}

/// A uniform integer in `lo..=hi`.
#[inline]
pub fn between(rng: &mut ChaCha8Rng, lo: i32, hi: i32) -> i32 {
    rng.random_range(lo..=hi)
}

/// A standard normal draw (Box-Muller; one of the pair).
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - unit(rng); // (0, 1]: ln is finite
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal draw with the given median and log-scale sigma.
pub fn log_normal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// An exponential draw with the given mean.
pub fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * (1.0 - unit(rng)).ln()
}

/// The index of a weighted choice; weights need not sum to anything in particular.
pub fn weighted<T>(rng: &mut ChaCha8Rng, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
    let total: u32 = items.iter().map(&weight).sum();
    if total == 0 {
        return 0;
    }
    let mut x = rng.random_range(0..total);
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len() - 1
}

/// A value from `(value, weight)` pairs.
pub fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    items[weighted(rng, items, |(_, w)| *w)].0
}

/// Rounds to `digits` decimals (labs report fixed precision).
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}
