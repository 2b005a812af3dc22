//! `#[tokio::test(flavor = "multi_thread")]` tests, unmodified, for
//! `cargo interlace test` (with `RUSTFLAGS="--cfg tokio_unstable"`).
use std::sync::Arc;
use tokio::sync::Mutex;

/// Two tasks deposit 10 each into a balance of 100; with `one_guard` each
/// reads and writes under one guard, else under two.
async fn two_deposits(one_guard: bool) -> u32 {
    let balance = Arc::new(Mutex::new(100u32));
    let deposit = |amount: u32| {
        let b = Arc::clone(&balance);
        tokio::spawn(async move {
            if one_guard {
                *b.lock().await += amount;
            } else {
                let read = *b.lock().await;
                *b.lock().await = read + amount;
            }
        })
    };
    let (a, b) = (deposit(10), deposit(10));
    a.await.unwrap();
    b.await.unwrap();
    let total = *balance.lock().await;
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_under_two_guards() {
    assert_eq!(two_deposits(false).await, 120, "a deposit was lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_under_one_guard() {
    assert_eq!(two_deposits(true).await, 120, "a deposit was lost");
}
