//! The bank-account race with comment markers, exactly as in the interlace
//! seed: the markers are only comments, placed by the instrumenter through
//! the line table.
use interlace_guest_sdk::set_thread_name;
use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

struct BankAccount {
    balance: AtomicI64,
}

impl BankAccount {
    fn transfer(&self, amount: i64) {
        let current = self.balance.load(SeqCst); // interlace: read_balance
        let new_balance = current + amount;
        self.balance.store(new_balance, SeqCst); // interlace: write_balance
    }
}

fn main() {
    let account = Arc::new(BankAccount { balance: AtomicI64::new(100) });
    let threads: Vec<_> = ["thread1", "thread2"]
        .into_iter()
        .map(|name| {
            let account = Arc::clone(&account);
            thread::spawn(move || {
                set_thread_name(name);
                account.transfer(50)
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let balance = account.balance.load(SeqCst);
    println!("balance = {balance}");
    assert_eq!(balance, 200, "lost update: balance is {balance} after two transfers of 50 into 100");
}
