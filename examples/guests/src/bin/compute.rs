//! Single-threaded and memory-heavy (sorting, hashing): the benchmark's
//! measure of what instrumenting every shared-memory access costs.
use std::collections::HashMap;

fn main() {
    let mut x: u64 = 12345;
    let mut v: Vec<u64> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 1_000_000
        })
        .collect();
    v.sort_unstable();
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for &e in &v {
        *counts.entry(e % 1000).or_default() += 1;
    }
    let checksum: u64 = v.iter().enumerate().map(|(i, &e)| e.wrapping_mul(i as u64)).fold(0, u64::wrapping_add);
    println!("checksum {checksum}, buckets {}", counts.len());
}
