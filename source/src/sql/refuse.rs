//! Statements that cannot do their work inside strata's transaction.
//!
//! Some fail there (PostgreSQL's `CREATE INDEX CONCURRENTLY`, `VACUUM` on
//! both databases); others run and do nothing, so the migration would be
//! recorded as applied without its effect (SQLite's `PRAGMA foreign_keys`
//! and `journal_mode` inside a transaction). Both kinds are refused in a
//! file that runs inside strata's transaction, before anything runs. The
//! tests run each one inside a transaction on the real database to show
//! that it is refused or ignored there.

use super::{Dialect, Statement, Token};

/// Why a statement cannot run inside a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// It begins, ends or nests a transaction (`BEGIN`, `COMMIT`, …): it
    /// would end strata's own.
    TransactionControl,
    /// The database refuses it inside a transaction block (`VACUUM`,
    /// `CREATE INDEX CONCURRENTLY`, `ALTER SYSTEM`, SQLite's `PRAGMA
    /// synchronous = …`, …).
    NotInTransaction,
    /// SQLite ignores it inside a transaction (`PRAGMA foreign_keys = …`,
    /// `PRAGMA journal_mode = …`).
    IgnoredInTransaction,
}

impl Statement<'_> {
    /// Why this statement cannot run inside strata's transaction, if it
    /// cannot; judged by the rules of its dialect.
    pub fn refusal(&self) -> Option<Refusal> {
        if self.controls_transaction() {
            return Some(Refusal::TransactionControl);
        }
        match self.dialect {
            Dialect::Sqlite => self.sqlite_refusal(),
            Dialect::Postgres => self.postgres_refusal(),
        }
    }

    fn sqlite_refusal(&self) -> Option<Refusal> {
        let first = self.first_word();
        if first.eq_ignore_ascii_case("VACUUM") {
            return Some(Refusal::NotInTransaction);
        }
        if !first.eq_ignore_ascii_case("PRAGMA") {
            return None;
        }
        let mut tokens = self.tokens_with_text();
        tokens.next();
        // PRAGMA [schema.]name, then `= value` or `(value)`; a read alone
        // (`PRAGMA foreign_keys;`) is harmless.
        let mut name = "";
        for (token, text) in tokens {
            match token {
                Token::Open => break,
                Token::Other if text == "=" => break,
                Token::Other if text == "." => {}
                Token::Word(_) | Token::Other => name = text,
                _ => return None,
            }
        }
        let name = name.trim_matches(|c| "\"'`[]".contains(c));
        let assigns = self
            .tokens_with_text()
            .any(|(t, text)| t == Token::Open || text == "=");
        if assigns { pragma_refusal(name) } else { None }
    }

    fn postgres_refusal(&self) -> Option<Refusal> {
        // Most statements are ruled out by their first word, without a
        // look at the rest.
        let first = self.first_word();
        let candidates = [
            "VACUUM", "ALTER", "DISCARD", "CREATE", "DROP", "REINDEX", "CLUSTER",
        ];
        if !candidates.iter().any(|c| first.eq_ignore_ascii_case(c)) {
            return None;
        }
        let words: Vec<String> = self
            .words()
            .take(12)
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let concurrently = words.contains(&"CONCURRENTLY");
        let refused = match words.as_slice() {
            ["VACUUM", ..] | ["ALTER", "SYSTEM", ..] | ["DISCARD", "ALL", ..] => true,
            ["CREATE" | "DROP", "DATABASE" | "TABLESPACE", ..] => true,
            ["CREATE", "INDEX", "CONCURRENTLY", ..]
            | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
            | ["DROP", "INDEX", "CONCURRENTLY", ..] => true,
            // REINDEX [(options)] {INDEX | TABLE | SCHEMA | DATABASE |
            // SYSTEM} [CONCURRENTLY] name: the kind decides, not a name.
            ["REINDEX", rest @ ..] => {
                concurrently
                    || rest
                        .iter()
                        .find(|w| {
                            matches!(**w, "INDEX" | "TABLE" | "SCHEMA" | "DATABASE" | "SYSTEM")
                        })
                        .is_some_and(|w| matches!(*w, "SCHEMA" | "DATABASE" | "SYSTEM"))
            }
            // ALTER TABLE … DETACH PARTITION … CONCURRENTLY
            ["ALTER", "TABLE", ..] => concurrently && words.contains(&"DETACH"),
            ["ALTER", "DATABASE", ..] => words.windows(2).any(|w| w == ["SET", "TABLESPACE"]),
            // CLUSTER with no table reclusters every table, outside a
            // transaction only.
            ["CLUSTER", rest @ ..] => rest.iter().all(|w| *w == "VERBOSE"),
            _ => false,
        };
        refused.then_some(Refusal::NotInTransaction)
    }
}

/// Why setting SQLite pragma `name` inside a transaction is refused, if it
/// is: the backend's authorizer denies the same ones.
pub fn pragma_refusal(name: &str) -> Option<Refusal> {
    let is = |p: &str| name.eq_ignore_ascii_case(p);
    if is("foreign_keys") || is("journal_mode") {
        Some(Refusal::IgnoredInTransaction)
    } else if is("synchronous") {
        // "Safety level may not be changed inside a transaction".
        Some(Refusal::NotInTransaction)
    } else {
        None
    }
}
