//! Database URLs, and opening them for reading, writing or a dry run.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use strata::Database;
use strata::postgres::{Client, NoTls};

use crate::Failure;

/// A database that a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// An open database.
pub enum Db {
    Sqlite(Connection),
    Postgres(Box<Client>),
}

impl Db {
    /// The connection, whatever the database.
    pub fn conn(&mut self) -> &mut dyn Database {
        match self {
            Db::Sqlite(conn) => conn,
            Db::Postgres(client) => &mut **client,
        }
    }
}

/// Connects to the PostgreSQL database `url` names.
pub fn connect_postgres(url: &str) -> Result<Client, Failure> {
    Client::connect(url, NoTls).map_err(|e| {
        Failure::Other(format!(
            "cannot connect to the PostgreSQL database: {}",
            postgres_message(&e)
        ))
    })
}

/// What a command does to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only; the file must exist.
    Read,
    /// Changes it; a missing file is created.
    Write,
    /// Would change it: a dry run, rolled back; a missing file is not
    /// created.
    DryRun,
}

const FORMS: &str = "postgres://user@host:5432/database, sqlite:path/to/app.db, sqlite://path/to/app.db, or a path ending in .db, .sqlite or .sqlite3";

impl Target {
    /// Parses `--database` or `DATABASE_URL`.
    pub fn parse(url: Option<&str>) -> Result<Target, Failure> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Err(Failure::Usage(format!(
                "no database: pass --database URL or set DATABASE_URL ({FORMS})"
            )));
        };
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| lower.ends_with(ext))
            && !url.contains("://")
        {
            url
        } else {
            return Err(Failure::Usage(format!(
                "cannot read the database URL {:?} (use {FORMS})",
                redacted(url)
            )));
        };
        if path.is_empty() || path.contains('?') || path == ":memory:" {
            return Err(Failure::Usage(format!(
                "the database URL {:?} names no file (use {FORMS}; query parameters and :memory: are not supported)",
                redacted(url)
            )));
        }
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    /// Fails, as `status` does, when the SQLite file is missing: for the
    /// commands that change a database they expect to exist, where a
    /// mistyped path would otherwise create an empty one (all but `up` and
    /// `baseline`, which may start a database).
    pub fn must_exist(&self) -> Result<(), Failure> {
        match self {
            Target::Sqlite(path) if !path.exists() => Err(missing(&self.shown())),
            _ => Ok(()),
        }
    }

    /// The database as messages name it.
    pub fn shown(&self) -> String {
        match self {
            // A path may be a URL typed wrong, with a password in it.
            Target::Sqlite(path) => redacted(&path.display().to_string()),
            // Not the URL: it may hold a password.
            Target::Postgres(_) => "the PostgreSQL database".to_owned(),
        }
    }

    /// Opens the database for `access`. A SQLite connection waits for
    /// locks for `wait` (the lock wait) from its first statement on.
    pub fn open(&self, access: Access, wait: Duration) -> Result<Db, Failure> {
        let path = match self {
            Target::Sqlite(path) => path,
            Target::Postgres(url) => {
                // Every statement strata runs outside its transactions
                // (the history's reads) waits for locks as long as the lock
                // wait, no longer (0 would be no limit).
                let mut client = connect_postgres(url)?;
                let ms = wait.as_millis().clamp(1, i32::MAX as u128);
                client
                    .batch_execute(&format!("SET lock_timeout = '{ms}ms'"))
                    .map_err(|e| Failure::Other(postgres_message(&e)))?;
                return Ok(Db::Postgres(Box::new(client)));
            }
        };
        let shown = self.shown();
        if path.is_dir() {
            return Err(Failure::Other(format!(
                "database {shown} is a folder, not a SQLite file (check --database or DATABASE_URL)"
            )));
        }
        let existed = path.exists();
        let open = |conn: Result<Connection, rusqlite::Error>| {
            conn.and_then(|conn| {
                conn.busy_timeout(wait.min(strata::MAX_LOCK_TIMEOUT))?;
                Ok(Db::Sqlite(conn))
            })
            .map_err(|e| {
                Failure::Other(match e.sqlite_error_code() {
                    // A new file in a folder this user may not write.
                    Some(rusqlite::ErrorCode::CannotOpen) if !existed => format!(
                        "cannot create database {shown}: its folder is not writable (make it writable for this user, or fix the path)"
                    ),
                    _ => format!("cannot open database {shown}: {e}"),
                })
            })
        };
        match access {
            Access::Read => {
                if !path.exists() {
                    return Err(missing(&shown));
                }
                // A process that died in a transaction leaves its rollback
                // journal, which the next connection that reads must roll
                // back, and only one that can write may: open read-write
                // then (never creating anything), still only to read.
                let mut journal = path.clone().into_os_string();
                journal.push("-journal");
                let hot = std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0);
                let access = if hot {
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                } else {
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                };
                open(Connection::open_with_flags(
                    path,
                    access | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                ))
            }
            Access::Write => {
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
                if parent.is_some_and(|p| !p.is_dir()) {
                    return Err(Failure::Other(format!(
                        "cannot create database {shown}: its folder does not exist (create the folder, or fix the path)"
                    )));
                }
                open(Connection::open(path))
            }
            // The dry run itself is the library's (one transaction, rolled
            // back); a database that does not exist yet is an empty one.
            Access::DryRun if !path.exists() => open(Connection::open_in_memory()),
            Access::DryRun => open(Connection::open(path)),
        }
    }
}

fn missing(shown: &str) -> Failure {
    Failure::Other(format!(
        "database {shown} does not exist (check --database or DATABASE_URL; `strata up` creates it)"
    ))
}

/// The server's own message where there is one (the driver's `Display`
/// says only "db error"), else the driver's error and its causes.
pub fn postgres_message(e: &strata::postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_owned();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `text` (a database URL, a connection string, a path) as messages show
/// it: every password replaced by `***`, wherever it may sit, also in what
/// could not be read as a URL: a `password=` value (connection strings,
/// URL parameters), the part after the first `:` of the user-info before an
/// `@` (`postgres://app:***@db/app`, `postgres:/app:***@db`), and after a
/// URL's `user:` when no host follows (`postgres://app:***`).
pub fn redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Each run between `/` and white space: its last `@` ends user-info.
    let mut run_start = 0;
    let bytes = text.as_bytes();
    for i in 0..=bytes.len() {
        let boundary = i == bytes.len() || bytes[i] == b'/' || bytes[i].is_ascii_whitespace();
        if !boundary {
            continue;
        }
        let run = &text[run_start..i];
        match run.rfind('@') {
            Some(at) if run[..at].contains(':') => {
                let colon = run.find(':').unwrap_or(at);
                out.push_str(&run[..=colon]);
                out.push_str("***");
                out.push_str(&run[at..]);
            }
            _ => out.push_str(run),
        }
        if i < bytes.len() {
            out.push(bytes[i] as char);
        }
        run_start = i + 1;
    }
    // A URL whose user-info has no host after it: `scheme://user:secret`.
    if let Some((scheme, rest)) = out.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if !authority.contains('@')
            && let Some((user, after)) = authority.split_once(':')
            && !after.is_empty()
            && !after.bytes().all(|b| b.is_ascii_digit())
            && after != "***"
        {
            out = format!("{scheme}://{user}:***{}", &rest[end..]);
        }
    }
    // `password=...` in a connection string or a URL's parameters.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.to_ascii_lowercase().find("password=") {
        let value = at + "password=".len();
        result.push_str(&rest[..value]);
        result.push_str("***");
        let tail = &rest[value..];
        let end = if let Some(quoted) = tail.strip_prefix('\'') {
            quoted.find('\'').map_or(tail.len(), |e| e + 2)
        } else {
            tail.find(|c: char| c.is_whitespace() || c == '&')
                .unwrap_or(tail.len())
        };
        rest = &tail[end..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Target, String> {
        Target::parse(Some(url)).map_err(|f| f.to_string())
    }

    #[test]
    fn url_forms() {
        let path = |p: &str| Ok(Target::Sqlite(PathBuf::from(p)));
        assert_eq!(parse("sqlite:data/app.db"), path("data/app.db"));
        assert_eq!(parse("sqlite://data/app.db"), path("data/app.db"));
        assert_eq!(parse("sqlite:///srv/app.db"), path("/srv/app.db"));
        assert_eq!(parse("sqlite:app"), path("app"));
        assert_eq!(parse("app.sqlite3"), path("app.sqlite3"));
        assert_eq!(parse("./x/App.DB"), path("./x/App.DB"));
    }

    #[test]
    fn postgres_urls() {
        assert_eq!(
            parse("postgresql://u@localhost:5432/app"),
            Ok(Target::Postgres("postgresql://u@localhost:5432/app".into()))
        );
        assert_eq!(
            parse("postgres://u:secret@db/app?sslmode=disable"),
            Ok(Target::Postgres(
                "postgres://u:secret@db/app?sslmode=disable".into()
            ))
        );
        assert_eq!(
            Target::Postgres("postgres://u:secret@db/app".into()).shown(),
            "the PostgreSQL database"
        );
    }

    #[test]
    fn passwords_are_never_shown() {
        for (url, shown) in [
            (
                "postgress://user:secret@localhost/x",
                "postgress://user:***@localhost/x",
            ),
            (
                "postgres://u:p@ss:w@rd@h:5/x?sslmode=disable",
                "postgres://u:***@h:5/x?sslmode=disable",
            ),
            (
                "sqlite://user:secret@host/x?y",
                "sqlite://user:***@host/x?y",
            ),
            ("postgres://user@host/x", "postgres://user@host/x"),
            ("postgres://host/x@y", "postgres://host/x@y"),
            ("app.db", "app.db"),
            // From an attack: forms that are not URLs still hold passwords.
            (
                "postgres:/postgres:S3cr3tPW@127.0.0.1:5432/test",
                "postgres:/postgres:***@127.0.0.1:5432/test",
            ),
            ("postgres//u:pw@h/x", "postgres//u:***@h/x"),
            ("postgres:u:pw@h/x", "postgres:***@h/x"),
            ("postgres://postgres:S3cr3tPW", "postgres://postgres:***"),
            ("postgres://h:5432/x", "postgres://h:5432/x"),
            (
                "postgres://postgres@127.0.0.1:5432/test?password=S3cr3tPW&sslmode=bogus",
                "postgres://postgres@127.0.0.1:5432/test?password=***&sslmode=bogus",
            ),
            (
                "host=127.0.0.1 port=5999 user=postgres password=S3cr3tPW dbname=test",
                "host=127.0.0.1 port=5999 user=postgres password=*** dbname=test",
            ),
            (
                "user=u PASSWORD='a b' dbname=x",
                "user=u PASSWORD=*** dbname=x",
            ),
            ("postgres:S3cr3tPW@host/x.db", "postgres:***@host/x.db"),
        ] {
            assert_eq!(redacted(url), shown);
        }
        for url in [
            "postgress://user:secret@localhost/x",
            "sqlite://user:secret@host/x?y",
        ] {
            let err = parse(url).unwrap_err();
            assert!(!err.contains("secret"), "{err}");
            assert!(err.contains("user:***@"), "{err}");
        }
    }

    #[test]
    fn urls_that_are_refused() {
        assert!(
            parse("mysql://localhost/app")
                .unwrap_err()
                .contains("cannot read the database URL")
        );
        assert!(
            parse("app.txt")
                .unwrap_err()
                .contains("cannot read the database URL")
        );
        assert!(parse("sqlite:").unwrap_err().contains("names no file"));
        assert!(
            parse("sqlite:app.db?mode=ro")
                .unwrap_err()
                .contains("names no file")
        );
        assert!(
            Target::parse(None)
                .unwrap_err()
                .to_string()
                .starts_with("no database")
        );
    }
}
