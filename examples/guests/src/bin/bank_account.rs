//! The bank-account race from the interlace seed: two transfers of 50 into an
//! account holding 100; both read the balance before either writes it.
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
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let account = Arc::clone(&account);
            thread::spawn(move || account.transfer(50))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let balance = account.balance.load(SeqCst);
    println!("balance = {balance}");
    assert_eq!(balance, 200, "lost update: balance is {balance} after two transfers of 50 into 100");
}
