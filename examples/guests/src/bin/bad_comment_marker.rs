//! A comment marker that gates nothing: the instrumenter must refuse it,
//! naming the file and line.
fn main() {
    println!("hello");
}
// interlace: nowhere
