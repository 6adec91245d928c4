//! `cfg(pg)`: a PostgreSQL driver is built (feature `postgres` or
//! `tokio-postgres`), so the backend they share is.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg)");
    println!("cargo::rerun-if-changed=build.rs");
    let features = ["CARGO_FEATURE_POSTGRES", "CARGO_FEATURE_TOKIO_POSTGRES"];
    if features.iter().any(|f| std::env::var_os(f).is_some()) {
        println!("cargo::rustc-cfg=pg");
    }
}
