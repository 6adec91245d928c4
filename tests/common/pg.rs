//! A PostgreSQL database of its own for each test, created on the server
//! named by `STRATA_TEST_POSTGRES_URL` and dropped afterwards. Without that
//! variable the tests print a notice and skip.

use strata::postgres::{Client, NoTls};

pub const URL_VARIABLE: &str = "STRATA_TEST_POSTGRES_URL";

pub struct TestDb {
    /// The URL of the test's own database.
    pub url: String,
    admin: String,
    name: String,
}

impl TestDb {
    /// A new, empty database for `test`, or `None` (with a notice) when no
    /// server is configured.
    pub fn new(test: &str) -> Option<TestDb> {
        let Ok(admin) = std::env::var(URL_VARIABLE) else {
            eprintln!("notice: {URL_VARIABLE} is not set; skipping the PostgreSQL test {test}");
            return None;
        };
        let name = format!("strata_{test}_{}", std::process::id());
        assert!(name.len() <= 63, "database name too long: {name}");
        let mut client =
            Client::connect(&admin, NoTls).expect("connect to STRATA_TEST_POSTGRES_URL");
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_database(&admin, &name);
        Some(TestDb { url, admin, name })
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.admin, NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// Names of the tables in the current schema, sorted.
pub fn tables(client: &mut impl Sql) -> Vec<String> {
    client
        .rows(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
        )
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// (version, name, dirty) of every history row.
pub fn history(client: &mut impl Sql) -> Vec<(i64, String, bool)> {
    client
        .rows("SELECT version, name, dirty FROM schema_migrations ORDER BY version")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// `pg_dump --schema-only` of the database at `url`, with `args` before
/// the URL, without psql's meta-commands (the `\restrict` lines carry a
/// random key).
pub fn dump(url: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("pg_dump")
        .arg("--schema-only")
        .args(args)
        .arg(url)
        .output()
        .expect("pg_dump runs (it comes with the PostgreSQL client)");
    assert!(
        output.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The scratch databases of verify on the server, by the name pattern its
/// cleanup uses.
pub fn scratch_databases(client: &mut impl Sql) -> Vec<String> {
    client
        .rows(
            "SELECT datname::text FROM pg_database WHERE datname ~ '^strata_verify_[0-9]+_[0-9]+$' ORDER BY 1",
        )
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// What the helpers here read through: either kind of connection.
pub trait Sql {
    fn rows(&mut self, sql: &str) -> Vec<strata::postgres::Row>;
}

impl Sql for Client {
    fn rows(&mut self, sql: &str) -> Vec<strata::postgres::Row> {
        self.query(sql, &[]).unwrap()
    }
}
