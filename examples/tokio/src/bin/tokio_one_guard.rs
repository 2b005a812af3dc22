//! Correct: the same two deposits, each reading and writing under one
//! guard.
use std::sync::Arc;
use tokio::sync::Mutex;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let balance = Arc::new(Mutex::new(100u32));
    let deposit = |amount: u32| {
        let b = Arc::clone(&balance);
        tokio::spawn(async move {
            let mut guard = b.lock().await;
            *guard += amount;
        })
    };
    let (a, b) = (deposit(10), deposit(10));
    a.await.unwrap();
    b.await.unwrap();
    let total = *balance.lock().await;
    assert_eq!(total, 120, "a deposit was lost: balance {total}");
}
