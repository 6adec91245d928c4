// Cargo rebuilds a crate when an embedded migration file changes (the macro
// includes each one with `include_str!`), but it cannot see a file that is
// added to a folder. This line makes it look at the folders themselves.
fn main() {
    println!("cargo:rerun-if-changed=examples/chat/migrations");
    println!("cargo:rerun-if-changed=tests/migrations");
}
