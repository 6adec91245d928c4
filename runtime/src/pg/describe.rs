//! The schema as verify compares it, read from the catalog.

use super::{Pg, catalog};
use crate::{DatabaseError, Error, Result};
use postgres::Client;
use postgres::error::SqlState;

impl crate::backend::Describe for Pg<'_> {
    fn snapshot(&mut self) -> Result<crate::schema::Snapshot> {
        self.describe()
    }

    fn expand<'s>(
        &mut self,
        snapshot: &'s crate::schema::Snapshot,
    ) -> Result<std::borrow::Cow<'s, crate::schema::Schema>> {
        // A text comes only from this connection's description.
        debug_assert!(snapshot.text.is_none() || self.described.is_some());
        Ok(match (&snapshot.text, &self.described) {
            (Some(text), Some(described)) => std::borrow::Cow::Owned(described.expand(text)),
            _ => std::borrow::Cow::Borrowed(&snapshot.schema),
        })
    }
}

impl Pg<'_> {
    /// Before the transaction ends: what verify's description must read
    /// again (see `catalog`).
    pub(super) fn note_touched(&mut self) {
        if !std::mem::take(&mut self.changed_in_transaction) {
            return;
        }
        if let Some(described) = &mut self.described {
            described.note_touched(self.client, &mut self.describe_statements);
        }
    }

    /// The catalog, as verify compares it: read whole inside verify's one
    /// transaction, where locks cannot say what changed since the last
    /// snapshot; else read where it changed, as a text.
    pub(super) fn describe(&mut self) -> Result<crate::schema::Snapshot> {
        let cache = &mut self.describe_statements;
        let client = &mut *self.client;
        let mut described = match self.nested {
            Some(_) => None,
            None => Some(self.described.get_or_insert_with(|| {
                let mut described = catalog::Described::default();
                if self.catalog_function {
                    described.note_always();
                }
                described
            })),
        };
        // Inside a transaction, behind a savepoint: a failed statement
        // would end its use.
        let guarded = self.in_transaction;
        let mut attempt = |client: &mut Client, cache: &mut catalog::Prepared| {
            if guarded {
                client.batch_execute("SAVEPOINT strata_describe")?;
            }
            let result =
                match &mut described {
                    Some(described) => described.snapshot(client, cache, guarded).map(|text| {
                        crate::schema::Snapshot {
                            text: Some(text),
                            schema: crate::schema::Schema::default(),
                        }
                    }),
                    None => catalog::describe(client, cache)
                        .map(|schema| crate::schema::Snapshot { text: None, schema }),
                };
            if guarded {
                client.batch_execute(if result.is_ok() {
                    "RELEASE SAVEPOINT strata_describe"
                } else {
                    "ROLLBACK TO SAVEPOINT strata_describe; RELEASE SAVEPOINT strata_describe"
                })?;
            }
            result
        };
        match attempt(client, cache) {
            // A migration's `DEALLOCATE ALL` or `DISCARD ALL` took the
            // prepared statements away: prepare them again.
            Err(e) if e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) => {
                cache.clear();
                attempt(client, cache)
            }
            result => result,
        }
        .map_err(|e| Error::Database(DatabaseError::Postgres(e)))
    }
}
