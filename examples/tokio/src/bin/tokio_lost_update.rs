//! Two tokio tasks on the multi-thread runtime deposit 10 each: each reads
//! the balance under one `tokio::sync::Mutex` guard and writes it under
//! another, so a deposit is lost when the other task's write falls between.
//! The runtime's workers are std threads, which the tool explores.
use std::sync::Arc;
use tokio::sync::Mutex;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let balance = Arc::new(Mutex::new(100u32));
    let deposit = |amount: u32| {
        let b = Arc::clone(&balance);
        tokio::spawn(async move {
            let read = *b.lock().await;
            *b.lock().await = read + amount;
        })
    };
    let (a, b) = (deposit(10), deposit(10));
    a.await.unwrap();
    b.await.unwrap();
    let total = *balance.lock().await;
    assert_eq!(total, 120, "a deposit was lost: balance {total}");
}
