//! Two threads take two mutexes in opposite orders: if each gets its first
//! lock before the other's second, both wait forever.
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1) = (Arc::clone(&a), Arc::clone(&b));
    let t1 = thread::spawn(move || {
        let mut x = a1.lock().unwrap();
        let mut y = b1.lock().unwrap();
        *x += 1;
        *y += 1;
    });
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let t2 = thread::spawn(move || {
        let mut y = b2.lock().unwrap();
        let mut x = a2.lock().unwrap();
        *x += 1;
        *y += 1;
    });
    t1.join().unwrap();
    t2.join().unwrap();
    println!("a = {}, b = {}", a.lock().unwrap(), b.lock().unwrap());
}
