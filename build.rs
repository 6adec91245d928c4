//! Cargo rebuilds a crate when an embedded migration file changes (the macro
//! includes each file with `include_str!`), but it cannot see a file that is
//! added to a folder. Watching the folders themselves makes it see one. An
//! application needs only the `println!` line for its own folder.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The folders of this repository's examples and tests; they are not
    // shipped in the package, and a watched path that does not exist would
    // make cargo rerun this script on every build.
    for folder in [
        "migrations",
        "examples/chat/migrations",
        "examples/existing_db/migrations",
        "examples/postgres/migrations",
        "tests/migrations",
    ] {
        if std::path::Path::new(folder).exists() {
            println!("cargo:rerun-if-changed={folder}");
        }
    }
}
