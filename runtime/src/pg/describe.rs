//! The schema as verify compares it, read from the catalog.

use super::{Pg, PgClient, catalog};
use crate::call::Call;
use crate::{DatabaseError, Error, Result};
use tokio_postgres::error::SqlState;

impl<C: PgClient> crate::backend::Describe for Pg<'_, C> {
    fn snapshot(&mut self) -> Call<'_, Result<crate::schema::Snapshot>> {
        C::call(self.describe())
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

impl<C: PgClient> Pg<'_, C> {
    /// Before the transaction ends: what verify's description must read
    /// again (see `catalog`).
    pub(super) async fn note_touched(&mut self) {
        if !std::mem::take(&mut self.changed_in_transaction) {
            return;
        }
        if let Some(described) = &mut self.described {
            described
                .note_touched(&mut *self.client, &mut self.describe_statements)
                .await;
        }
    }

    /// The catalog, as verify compares it: read whole inside verify's one
    /// transaction, where locks cannot say what changed since the last
    /// snapshot; else read where it changed, as a text.
    pub(super) async fn describe(&mut self) -> Result<crate::schema::Snapshot> {
        if self.nested.is_none() && self.described.is_none() {
            let mut described = catalog::Described::default();
            if self.catalog_function {
                described.note_always();
            }
            self.described = Some(described);
        }
        match self.describe_once().await {
            // A migration's `DEALLOCATE ALL` or `DISCARD ALL` took the
            // prepared statements away: prepare them again.
            Err(e) if e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) => {
                self.describe_statements.clear();
                self.describe_once().await
            }
            result => result,
        }
        .map_err(|e| Error::Database(DatabaseError::Postgres(e)))
    }

    /// One try of [`describe`](Self::describe). Inside a transaction,
    /// behind a savepoint: a failed statement would end its use.
    async fn describe_once(
        &mut self,
    ) -> std::result::Result<crate::schema::Snapshot, tokio_postgres::Error> {
        let guarded = self.in_transaction;
        let client = &mut *self.client;
        let cache = &mut self.describe_statements;
        if guarded {
            client.batch_execute("SAVEPOINT strata_describe").await?;
        }
        let result = match (self.nested, &mut self.described) {
            (None, Some(described)) => {
                described
                    .snapshot(client, cache, guarded)
                    .await
                    .map(|text| crate::schema::Snapshot {
                        text: Some(text),
                        schema: crate::schema::Schema::default(),
                    })
            }
            _ => catalog::describe(client, cache)
                .await
                .map(|schema| crate::schema::Snapshot { text: None, schema }),
        };
        if guarded {
            client
                .batch_execute(if result.is_ok() {
                    "RELEASE SAVEPOINT strata_describe"
                } else {
                    "ROLLBACK TO SAVEPOINT strata_describe; RELEASE SAVEPOINT strata_describe"
                })
                .await?;
        }
        result
    }
}
