//! A/B instruction counts: apply N migrations on tmpfs (per-migration and
//! single transaction), then 1000 startup checks.
use strata::Migrations;
use strata::rusqlite::Connection;

fn main() {
    let what = std::env::args().nth(1).unwrap();
    let n: u64 = std::env::args().nth(2).unwrap().parse().unwrap();
    let dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let folder = dir.path().join("m");
    std::fs::create_dir(&folder).unwrap();
    for v in 1..=n {
        std::fs::write(folder.join(format!("{v:06}_t{v}.up.sql")), format!("CREATE TABLE t{v} (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO t{v} (name) VALUES ('a');\n")).unwrap();
        std::fs::write(
            folder.join(format!("{v:06}_t{v}.down.sql")),
            format!("DROP TABLE t{v};\n"),
        )
        .unwrap();
    }
    let set = Migrations::from_dir(&folder).unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    match what.as_str() {
        "apply" => {
            set.run(&mut conn).unwrap();
        }
        "single" => {
            set.runner()
                .single_transaction(true)
                .run(&mut conn)
                .unwrap();
        }
        "startup" => {
            set.run(&mut conn).unwrap();
            for _ in 0..1000 {
                assert!(set.run(&mut conn).unwrap().is_empty());
            }
        }
        _ => panic!(),
    }
}
