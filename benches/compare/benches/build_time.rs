//! Build time: how long `cargo build` takes after a touch of `main.rs` in a
//! crate that embeds N = 1000 migrations, four ways:
//!
//! - `none`: the same crate with nothing embedded: it reads the folder
//!   with `Migrations::from_dir` at run time, so it links what `strata`
//!   does, and the difference between the two is the embedding alone;
//! - `include_str`: a hand-written static table of `include_str!`s (the
//!   floor: the files are in the binary and nothing is checked);
//! - `strata`: `strata::embed_migrations!`;
//! - `refinery`: `refinery::embed_migrations!`.
//!
//! Each is a small application that applies its set to an in-memory
//! database at startup, so all four link SQLite and their migration code as
//! an application does; they have the same dependencies, and only `main.rs`
//! differs. Each is built once, then touched and rebuilt several times, in
//! the dev and the release profile; the median is reported. Each binary then
//! runs, and prints the heap allocations it made to reach its embedded set.
//!
//! The crates are generated in the temporary folder and share this
//! workspace's target folder, so dependencies compiled for the other
//! benchmarks are reused. `STRATA_BENCH_SMOKE=1`: N = 3, release only, one
//! rebuild, and not the optimized-macro variant.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use strata_compare::{smoke, write_refinery, write_strata};

const CRATES: [&str; 5] = [
    "none",
    "include_str",
    "strata",
    "strata_optimized_macro",
    "refinery",
];

/// `strata_optimized_macro` is `strata` in a workspace whose profiles build
/// proc macros and their dependencies optimized: Cargo builds them at
/// `opt-level = 0` by default, in the release profile too.
const OPTIMIZED_MACROS: &str = "\n[profile.dev.build-override]\nopt-level = 3\n\n[profile.release.build-override]\nopt-level = 3\n";

/// The workspace a crate is built in.
fn workspace(work: &Path, name: &str) -> PathBuf {
    if name == "strata_optimized_macro" {
        work.join("optimized-macros")
    } else {
        work.to_owned()
    }
}

/// The generated `main.rs` before its embedded set: it counts the
/// allocations that reaching the set takes, then applies the set.
const MAIN: &str = r#"mod counting;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

fn main() {
    let (allocations, (count, bytes)) = counting::allocations(embedded);
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    let applied = apply(&mut conn);
    println!("{count} {bytes} {allocations} {applied}");
}
"#;

/// The floor's code: what an application with its own table would write
/// to apply it, with a history table.
const FLOOR: &str = r#"];

fn embedded() -> (usize, usize) {
    let set = std::hint::black_box(MIGRATIONS);
    (set.len(), set.iter().map(|m| m.2.len()).sum())
}

fn apply(conn: &mut rusqlite::Connection) -> usize {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)").unwrap();
    for (version, name, up, _down) in MIGRATIONS {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(up).unwrap();
        tx.execute("INSERT INTO schema_migrations VALUES (?1, ?2)", (*version as i64, name)).unwrap();
        tx.commit().unwrap();
    }
    MIGRATIONS.len()
}
"#;

fn main() {
    // The smoke run leaves out the crate whose workspace would compile the
    // proc macros' dependencies once more, optimized: a minute of CI.
    let crates: Vec<&str> = CRATES
        .into_iter()
        .filter(|c| !(smoke() && *c == "strata_optimized_macro"))
        .collect();
    let n: u32 = if smoke() { 3 } else { 1000 };
    let rebuilds = if smoke() { 1 } else { 5 };
    let profiles: &[&str] = if smoke() {
        &["release"]
    } else {
        &["dev", "release"]
    };
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("target"));
    // Outside the target folder: cargo does not look for changes in
    // sources that lie inside it.
    let work = std::env::temp_dir().join(format!("strata-build-time-{n}"));
    generate(here, &work, n);

    println!("## Rebuild after touching main.rs, N = {n} migrations\n");
    println!("Median of {rebuilds} rebuilds (min–max), seconds; ratio to `include_str`.\n");
    println!("| profile | {} |", crates.join(" | "));
    println!("|{}", " --- |".repeat(crates.len() + 1));
    for profile in profiles {
        for &name in &crates {
            cargo_build(&workspace(&work, name), &target, profile, name);
        }
        let mut cells = Vec::new();
        let mut floor = None;
        for &name in &crates {
            let mut times: Vec<Duration> = (0..rebuilds)
                .map(|_| {
                    let work = workspace(&work, name);
                    touch(&work.join(name).join("src/main.rs"));
                    let started = Instant::now();
                    cargo_build(&work, &target, profile, name);
                    started.elapsed()
                })
                .collect();
            times.sort();
            let median = times[times.len() / 2];
            if name == "include_str" {
                floor = Some(median);
            }
            cells.push((name, median, times[0], times[times.len() - 1]));
        }
        let floor = floor.expect("the floor was built").as_secs_f64();
        let row: Vec<String> = cells
            .iter()
            .map(|(_, median, min, max)| {
                format!(
                    "{:.2} ({:.2}–{:.2}) {:.2}x",
                    median.as_secs_f64(),
                    min.as_secs_f64(),
                    max.as_secs_f64(),
                    median.as_secs_f64() / floor
                )
            })
            .collect();
        println!("| {profile} | {} |", row.join(" | "));
    }

    println!("\n## Heap allocations to reach the embedded set at startup, N = {n}\n");
    println!("| crate | migrations | bytes of SQL | allocations |");
    println!("| --- | --- | --- | --- |");
    let profile = profiles[profiles.len() - 1];
    for &name in &crates {
        let dir = if profile == "dev" { "debug" } else { profile };
        let output = Command::new(target.join(dir).join(format!("build-time-{name}")))
            .output()
            .expect("the binary runs");
        assert!(output.status.success(), "{name}: {output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(fields[3], n.to_string(), "{name} applied every migration");
        if name == "none" {
            continue;
        }
        assert_eq!(fields[0], n.to_string(), "{name} embedded every migration");
        println!("| {name} | {} | {} | {} |", fields[0], fields[1], fields[2]);
    }
}

/// The migrations, and the workspaces of the crates.
fn generate(here: &Path, work: &Path, n: u32) {
    write_strata(&work.join("migrations"), n);
    write_refinery(&work.join("refinery-migrations"), n);
    let strata = here.join("../..").canonicalize().unwrap();
    let roots = [work.to_owned(), workspace(work, "strata_optimized_macro")];
    for root in &roots {
        let members: Vec<String> = CRATES
            .iter()
            .filter(|c| workspace(work, c) == *root)
            .map(|c| format!("{c:?}"))
            .collect();
        let profiles = if root == work { "" } else { OPTIMIZED_MACROS };
        write(
            &root.join("Cargo.toml"),
            &format!(
                "[workspace]\nmembers = [{}]\nresolver = \"3\"\n{profiles}",
                members.join(", ")
            ),
        );
        // The same versions as the benchmarks here, so their builds are
        // reused.
        let lock = root.join("Cargo.lock");
        if !lock.exists() {
            std::fs::copy(here.join("Cargo.lock"), &lock).unwrap();
        }
    }
    for name in CRATES {
        let dir = workspace(work, name).join(name);
        let migrations = pathdiff(&dir, &work.join("migrations"));
        write(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"build-time-{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dependencies]\n\
                 strata = {{ path = {:?} }}\n\
                 refinery = {{ version = \"0.10\", features = [\"rusqlite\"] }}\n\
                 rusqlite = {{ version = \"0.40\", features = [\"bundled\"] }}\n",
                strata.display().to_string()
            ),
        );
        let embedded = match name {
            "none" => "fn embedded() -> (usize, usize) {\n    (0, 0)\n}\n\n\
                 fn apply(conn: &mut rusqlite::Connection) -> usize {\n    \
                 let set = strata::Migrations::from_dir(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../migrations\")).unwrap();\n    \
                 set.run(conn).unwrap().applied.len()\n}\n"
                .to_owned(),
            "include_str" => {
                let mut table = String::from(
                    "/// (version, name, up, down)\nstatic MIGRATIONS: &[(u64, &str, &str, &str)] = &[\n",
                );
                for v in 1..=n {
                    writeln!(
                        table,
                        "    ({v}, \"m{v}\", include_str!(\"../../migrations/{v:06}_m{v}.up.sql\"), include_str!(\"../../migrations/{v:06}_m{v}.down.sql\")),"
                    )
                    .unwrap();
                }
                table.push_str(FLOOR);
                table
            }
            "strata" | "strata_optimized_macro" => format!("static MIGRATIONS: strata::Migrations = strata::embed_migrations!({migrations:?});\n\n\
                 fn embedded() -> (usize, usize) {{\n    let set = std::hint::black_box(&MIGRATIONS);\n    (set.len(), set.iter().map(|m| m.up_sql().len()).sum())\n}}\n\n\
                 fn apply(conn: &mut rusqlite::Connection) -> usize {{\n    MIGRATIONS.run(conn).unwrap().applied.len()\n}}\n"),
            "refinery" => "mod embedded {\n    refinery::embed_migrations!(\"../refinery-migrations\");\n}\n\n\
                 fn embedded() -> (usize, usize) {\n    let runner = embedded::migrations::runner();\n    let set = runner.get_migrations();\n    (set.len(), set.iter().map(|m| m.sql().map_or(0, str::len)).sum())\n}\n\n\
                 fn apply(conn: &mut rusqlite::Connection) -> usize {\n    embedded::migrations::runner().run(conn).unwrap().applied_migrations().len()\n}\n"
                .to_owned(),
            _ => unreachable!(),
        };
        write(&dir.join("src/main.rs"), &format!("{MAIN}\n{embedded}"));
        // The same counting allocator as the `counts` target.
        write(
            &dir.join("src/counting.rs"),
            include_str!("../src/counting.rs"),
        );
    }
}

/// Writes a file only when its content changes, so an unchanged crate
/// stays built between runs.
fn write(path: &Path, content: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// `to` relative to `from`, both under the same folder.
fn pathdiff(from: &Path, to: &Path) -> String {
    let common = from
        .ancestors()
        .find(|a| to.starts_with(a))
        .expect("a common folder");
    let ups = from.strip_prefix(common).unwrap().components().count();
    let mut path = "../".repeat(ups);
    path.push_str(&to.strip_prefix(common).unwrap().to_string_lossy());
    path
}

fn touch(path: &Path) {
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
}

fn cargo_build(work: &Path, target: &Path, profile: &str, name: &str) {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "--profile", profile, "-p"])
        .arg(format!("build-time-{name}"))
        .arg("--manifest-path")
        .arg(work.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {name} ({profile}) failed");
}
