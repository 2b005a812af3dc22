//! Single-threaded: prints its arguments, an environment variable and a
//! HashMap's iteration order (seeded by random_get), for differential tests.
use std::collections::HashMap;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    println!("GREETING={}", std::env::var("GREETING").unwrap_or_default());
    let m: HashMap<u32, u32> = (0..8).map(|i| (i, i * i)).collect();
    let keys: Vec<_> = m.keys().collect();
    println!("hash order: {keys:?}");
    let sum: u64 = (1..=1000u64).map(|x| x * x % 7).sum();
    println!("sum: {sum}");
    eprintln!("to stderr");
}
