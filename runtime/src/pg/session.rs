//! The session state every migration starts from. A `SET` (not `SET
//! LOCAL`), `set_config(…, false)`, `SET ROLE` or `SET SESSION
//! AUTHORIZATION` in a file outlives it: inside strata's transaction it
//! stays after the commit, and outside one at once. pg_dump's output begins
//! with a dozen of them (`search_path` emptied, `check_function_bodies`
//! off, timeouts set to 0). Left in force they change how every later file
//! runs, and strata's own history statements.
//!
//! strata reads the session's settings before the first file (every setting
//! whose value this session set, and the role and session user), and after
//! each file puts back every setting that differs. Reading them all costs
//! the server about half a millisecond, so it is done after a file whose
//! text holds `set` (`SET`, `RESET`, `set_config`, `DO` bodies that run
//! them). After every file one cheap statement compares the [`QUICK`]
//! settings, which change how SQL runs, and checks that the advisory lock
//! is still held; a difference there (a function called by the file
//! changed one) leads to the full comparison too.

use tokio_postgres::SimpleQueryMessage;

use super::PgClient;

use crate::{DatabaseError, Error};

/// Every setting this session changed, with its value and the value it
/// resets to, and the two that `pg_settings` does not list.
const READ: &str = "SELECT name, setting, reset_val FROM pg_settings WHERE source = 'session' \
     UNION ALL SELECT 'session_authorization', current_setting('session_authorization'), NULL \
     UNION ALL SELECT 'role', current_setting('role'), NULL";

/// The settings that the cheap comparison reads: those that change how SQL
/// runs, or how the server writes names and values. `lock_timeout` is not
/// among them: strata holds its own inside its transaction.
const QUICK: [&str; 22] = [
    "search_path",
    "role",
    "session_authorization",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "session_replication_role",
    "standard_conforming_strings",
    "check_function_bodies",
    "default_transaction_read_only",
    "default_transaction_isolation",
    "row_security",
    "default_tablespace",
    "synchronous_commit",
    "TimeZone",
    "DateStyle",
    "work_mem",
    // How the catalog's text writes names and values, which verify
    // compares (a function that sets one leaks it into later files).
    "quote_all_identifiers",
    "extra_float_digits",
    "bytea_output",
    "IntervalStyle",
    "lc_monetary",
];

/// The session's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settings {
    /// Every setting the session changed, by name, as `pg_settings` gives
    /// it (in base units, which `set_config` reads back the same way).
    changed: Vec<(String, String)>,
    /// The [`QUICK`] settings, joined.
    quick: String,
}

impl Settings {
    /// The statements that put these settings back without reading what
    /// they are now, for a connection left part-way (see `Pg`'s `Drop`):
    /// the session user; every other setting the session set since, and
    /// had not set before, to the value it resets to (not `RESET ALL`,
    /// which would also clear the caller's custom settings, such as
    /// `app.tenant_id`, that `pg_settings` does not list); each saved one;
    /// the role last, so that the others are put back with the session
    /// user's rights. Each is a statement of its own (and the resets each
    /// in a block of their own), so that one the server refuses stops no
    /// other.
    pub(super) fn restore_blind(&self) -> Vec<String> {
        let set = |name: &str, value: &str| {
            format!(
                "SELECT set_config({}, {}, false)",
                super::quote_literal(name),
                super::quote_literal(value)
            )
        };
        let saved = |name: &str| self.changed.iter().find(|(n, _)| n == name);
        let mut out = Vec::new();
        if let Some((name, value)) = saved("session_authorization") {
            out.push(set(name, value));
        }
        let names: Vec<String> = self
            .changed
            .iter()
            .map(|(name, _)| super::quote_literal(name))
            .collect();
        out.push(format!(
            "DO $strata$ DECLARE s record; BEGIN \
             FOR s IN SELECT name, reset_val FROM pg_settings \
             WHERE source = 'session' AND name <> ALL (ARRAY[{}]::text[]) LOOP \
             BEGIN PERFORM set_config(s.name, s.reset_val, false); \
             EXCEPTION WHEN OTHERS THEN NULL; END; \
             END LOOP; END $strata$",
            names.join(", ")
        ));
        for (name, value) in &self.changed {
            if name != "session_authorization" && name != "role" {
                out.push(set(name, value));
            }
        }
        if let Some((name, value)) = saved("role") {
            out.push(set(name, value));
        }
        out
    }
}

/// The cheap comparison's statement: one row of two columns, the
/// [`QUICK`] settings joined, and whether this session still holds the
/// advisory lock `lock` (true when there is none to hold). strata holds the
/// lock twice: releasing one hold succeeds only if the session holds it,
/// and the other hold keeps it meanwhile; the hold is then taken again.
/// `DISCARD ALL` and `pg_advisory_unlock_all()` release both. (`pg_locks`
/// would say the same at several times the cost: it copies the server's
/// whole lock table.)
pub(super) fn quick_select(lock: Option<i64>) -> String {
    let reads: Vec<String> = QUICK
        .iter()
        // Missing on older servers (`idle_session_timeout` came in 14):
        // NULL, which `concat_ws` skips.
        .map(|name| format!("current_setting('{name}', true)"))
        .collect();
    let held = match lock {
        Some(key) => format!(
            "CASE WHEN pg_advisory_unlock({key}) THEN pg_try_advisory_lock({key}) ELSE false END"
        ),
        None => "true".to_owned(),
    };
    format!("SELECT concat_ws(chr(31), {}), {held}", reads.join(", "))
}

/// What the cheap comparison read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Quick {
    /// The [`QUICK`] settings, joined.
    pub(super) values: String,
    /// Whether the session still holds strata's advisory lock.
    pub(super) locked: bool,
}

/// Sets one setting for the session; inside a transaction behind a
/// savepoint, so that a refusal does not end the transaction.
async fn put_back(
    client: &mut impl PgClient,
    name: &str,
    value: &str,
    in_transaction: bool,
) -> Result<(), tokio_postgres::Error> {
    const SET: &str = "SELECT set_config($1, $2, false)";
    if !in_transaction {
        return client.execute(SET, &[&name, &value]).await.map(drop);
    }
    client.batch_execute("SAVEPOINT strata_restore").await?;
    match client.execute(SET, &[&name, &value]).await {
        Ok(_) => {
            client
                .batch_execute("RELEASE SAVEPOINT strata_restore")
                .await
        }
        Err(e) => {
            client
                .batch_execute(
                    "ROLLBACK TO SAVEPOINT strata_restore; RELEASE SAVEPOINT strata_restore",
                )
                .await?;
            Err(e)
        }
    }
}

/// The cheap comparison's result: the last row in `messages`, from the
/// simple protocol.
pub(super) fn quick_of(messages: &[SimpleQueryMessage]) -> Option<Quick> {
    messages.iter().rev().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(Quick {
            values: row.get(0).unwrap_or_default().to_owned(),
            locked: row.get(1) == Some("t"),
        }),
        _ => None,
    })
}

/// The cheap comparison now, in one round trip.
pub(super) async fn quick(
    client: &mut impl PgClient,
    select: &str,
) -> Result<Quick, tokio_postgres::Error> {
    Ok(
        quick_of(&client.simple_query(select).await?).unwrap_or(Quick {
            values: String::new(),
            locked: false,
        }),
    )
}

/// A setting as read: name, value, and the value it resets to.
type Read = (String, String, Option<String>);

async fn read_all(client: &mut impl PgClient) -> Result<Vec<Read>, tokio_postgres::Error> {
    Ok(client
        .query(READ, &[])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

/// The settings now.
pub(super) async fn read(client: &mut impl PgClient) -> Result<Settings, tokio_postgres::Error> {
    let mut settings: Vec<(String, String)> = read_all(client)
        .await?
        .into_iter()
        .map(|(name, value, _)| (name, value))
        .collect();
    settings.sort();
    Ok(Settings {
        changed: settings,
        quick: quick(client, &quick_select(None)).await?.values,
    })
}

/// The settings that differ from `saved`, each with the value to put back:
/// the saved one, or for a setting the session had not changed, the value
/// it resets to. `local`: a setting strata itself holds with `SET LOCAL`
/// in the open transaction, and its value there, which is not a change.
/// The session user comes before the role (setting it resets the role);
/// [`restore`] orders the rest.
fn changes(saved: &Settings, now: Vec<Read>, local: Option<(&str, &str)>) -> Vec<(String, String)> {
    let was = |name: &str| {
        saved
            .changed
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| saved.changed[i].1.clone())
    };
    let mut out = Vec::new();
    for (name, value, reset) in &now {
        if local.is_some_and(|(n, v)| n == name && v == value) {
            continue;
        }
        if let Some(wanted) = was(name).or_else(|| reset.clone())
            && &wanted != value
        {
            out.push((name.clone(), wanted));
        }
    }
    // A setting the file reset to its default.
    for (name, value) in &saved.changed {
        if !now.iter().any(|(n, ..)| n == name) {
            out.push((name.clone(), value.clone()));
        }
    }
    // The session user before the role: setting it resets the role.
    out.sort_by_key(|(name, _)| name != "session_authorization");
    out
}

/// Whether the settings may differ from `saved`, by the cheap comparison.
pub(super) fn quick_differs(saved: &Settings, now: &Quick) -> bool {
    now.values != saved.quick
}

/// Puts back every setting that differs from `saved`; returns the names of
/// those it put back. `local` as in [`changes`]: when that setting changed,
/// it is put back in the session and then held again for the transaction.
///
/// The others go first, under the role the file left (which may be the one
/// with the right to change them), then the session user and the role,
/// then again those that failed. A setting the server still refuses is an
/// error when it is one of the [`QUICK`] settings, which change how SQL
/// runs; another (`temp_buffers`, once a temporary table was used) is left,
/// with a warning in the log.
pub(super) async fn restore(
    client: &mut impl PgClient,
    saved: &Settings,
    local: Option<(&str, &str)>,
    in_transaction: bool,
) -> Result<Vec<String>, Error> {
    let read = read_all(client).await?;
    let changed = changes(saved, read, local);
    let is_identity = |name: &str| matches!(name, "session_authorization" | "role");
    let mut refused = Vec::new();
    for (name, value) in changed.iter().filter(|(n, _)| !is_identity(n)) {
        if put_back(client, name, value, in_transaction).await.is_err() {
            refused.push((name, value));
        }
    }
    for (name, value) in changed.iter().filter(|(n, _)| is_identity(n)) {
        put_back(client, name, value, in_transaction)
            .await
            .map_err(|e| kept(name, value, e))?;
    }
    for (name, value) in refused {
        if let Err(e) = put_back(client, name, value, in_transaction).await {
            if QUICK.iter().any(|q| q.eq_ignore_ascii_case(name)) {
                return Err(kept(name, value, e));
            }
            let message = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_owned());
            log::warn!(
                "strata could not put back the setting {name} = {value:?}, which a migration changed: {message}"
            );
        }
    }
    if let Some((name, held)) = local
        && changed.iter().any(|(n, _)| n == name)
    {
        client
            .execute("SELECT set_config($1, $2, true)", &[&name, &held])
            .await?;
    }
    Ok(changed.into_iter().map(|(name, _)| name).collect())
}

fn kept(name: &str, value: &str, e: tokio_postgres::Error) -> Error {
    Error::SettingKept {
        setting: name.to_owned(),
        value: value.to_owned(),
        cause: DatabaseError::Postgres(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let mut changed: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        changed.sort();
        Settings {
            changed,
            quick: String::new(),
        }
    }

    fn read(rows: &[(&str, &str, Option<&str>)]) -> Vec<Read> {
        rows.iter()
            .map(|(n, v, r)| ((*n).to_owned(), (*v).to_owned(), r.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn puts_back_what_changed() {
        let saved = settings(&[
            ("role", "none"),
            ("session_authorization", "postgres"),
            ("work_mem", "8192"),
        ]);
        let now = read(&[
            ("search_path", "", Some("\"$user\", public")),
            ("statement_timeout", "0", Some("0")),
            ("work_mem", "8192", Some("4096")),
            ("role", "app", None),
            ("session_authorization", "postgres", None),
        ]);
        assert_eq!(
            changes(&saved, now, None),
            vec![
                ("search_path".to_owned(), "\"$user\", public".to_owned()),
                ("role".to_owned(), "none".to_owned()),
            ]
        );
    }

    #[test]
    fn a_reset_setting_gets_its_saved_value_and_strata_s_own_is_kept() {
        let saved = settings(&[("role", "none"), ("work_mem", "8192")]);
        let now = read(&[("lock_timeout", "10000", Some("0")), ("role", "none", None)]);
        assert_eq!(
            changes(&saved, now.clone(), Some(("lock_timeout", "10000"))),
            vec![("work_mem".to_owned(), "8192".to_owned())]
        );
        assert_eq!(
            changes(&saved, now, Some(("lock_timeout", "5000"))),
            vec![
                ("lock_timeout".to_owned(), "0".to_owned()),
                ("work_mem".to_owned(), "8192".to_owned())
            ]
        );
    }
}
