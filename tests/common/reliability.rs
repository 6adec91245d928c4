//! What the reliability suites share: how many times to try, a seeded
//! random source, and starting this test binary again as a child process.

use std::process::{Child, Command, Stdio};

/// `STRATA_RELIABILITY=full` runs the counts that CI runs and
/// RELIABILITY.md reports; without it, the quick counts of the README's
/// test command.
pub fn full() -> bool {
    std::env::var("STRATA_RELIABILITY").is_ok_and(|v| v == "full")
}

/// `quick` normally, `full` with `STRATA_RELIABILITY=full`.
pub fn count(quick: usize, full_count: usize) -> usize {
    if full() { full_count } else { quick }
}

/// A small xorshift generator; the seed is printed so a failure can be
/// replayed with `STRATA_SEED`.
pub struct Random(u64);

impl Random {
    pub fn new(what: &str) -> Random {
        let seed = std::env::var("STRATA_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            })
            | 1;
        println!("{what}: STRATA_SEED={seed}");
        Random(seed)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

/// Starts this test binary again, running only the ignored test `name`,
/// with `vars` set and its standard streams piped.
pub fn spawn_child(name: &str, vars: &[(&str, &str)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in vars {
        command.env(key, value);
    }
    command.spawn().unwrap()
}
