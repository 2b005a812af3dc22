//! Single-threaded: prints its arguments, an environment variable, a HashMap's
//! iteration order (seeded by random_get) and what the virtual clock says,
//! for determinism and differential tests.
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    println!("GREETING={}", std::env::var("GREETING").unwrap_or_default());
    let m: HashMap<u32, u32> = (0..8).map(|i| (i, i * i)).collect();
    let keys: Vec<_> = m.keys().collect();
    println!("hash order: {keys:?}");
    let sum: u64 = (1..=1000u64).map(|x| x * x % 7).sum();
    println!("sum: {sum}");
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(10));
    println!("slept at least 10ms: {}", start.elapsed() >= Duration::from_millis(10));
    println!("unix time: {}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs());
    eprintln!("to stderr");
}
