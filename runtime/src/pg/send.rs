//! How a migration's SQL goes to the server: a file without a word that
//! could end a transaction whole, in one round trip, its statement count
//! checked; any other statement by statement, each in a message of its own
//! in the extended protocol, where the server parses exactly one statement.

use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::error::{ErrorPosition, SqlState};

use super::{Pg, PgClient, session};
use crate::backend::STATEMENT_SHOWN;
use crate::backend::refuse_in_transaction;
use crate::source::sql::{self, Dialect, PgStrings, Splitter};
use crate::{DatabaseError, Error, Migration, Result};

impl<C: PgClient> Pg<'_, C> {
    /// Runs a file inside the open transaction, behind a savepoint whose
    /// release afterwards checks, on the server, that strata's transaction
    /// is still open.
    ///
    /// A file that holds none of the words that end a transaction
    /// ([`ENDS_TRANSACTION`], looked for in its raw text, so that no
    /// mistake of the lexer's can hide one), nor a backslash with a change
    /// of `standard_conforming_strings`, goes whole, in one round trip:
    /// however the server splits it, nothing in it can commit part of it,
    /// and the server's count of the statements it ran must be strata's,
    /// or the migration is rolled back. Any other file goes statement by
    /// statement ([`run_statements`](Self::run_statements)), where the
    /// server parses each message as exactly one statement.
    pub(super) async fn execute_file(
        &mut self,
        m: &Migration,
        file: &str,
        text: &str,
        strings: PgStrings,
        lexed: &sql::Lexed<'_>,
    ) -> Result<()> {
        // Sent whole, the file is read under the setting it arrived with;
        // statement by statement, each under the one the statements before
        // it left, as psql sends it: so a file whose strings could read
        // otherwise after its own `SET standard_conforming_strings` goes
        // statement by statement too.
        let strings_may_change =
            text.contains('\\') && sql::holds_words(text, &[b"standard_conforming_strings"]) != 0;
        if strings_may_change || sql::holds_keywords(text, &ENDS_TRANSACTION) {
            self.client
                .batch_execute("SAVEPOINT strata_file")
                .await
                .map_err(|e| self.db(e))?;
            self.run_statements(m, file, text, strings, true).await?;
        } else {
            self.run_whole(m, file, text, strings, lexed).await?;
        }
        // The release carries the cheap comparison of settings: no round
        // trip of its own.
        let release = format!("RELEASE SAVEPOINT strata_file; {}", self.quick_select);
        match self.client.simple_query(&release).await {
            Ok(messages) => {
                self.quick_now = session::quick_of(&messages);
                Ok(())
            }
            // The file ended strata's transaction (and perhaps began
            // another), which the checks before it would have refused.
            Err(e)
                if e.code() == Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION)
                    || e.code() == Some(&SqlState::S_E_INVALID_SPECIFICATION) =>
            {
                Err(Error::TransactionControl {
                    version: m.version(),
                    file: file.to_owned(),
                    line: None,
                })
            }
            Err(e) => Err(self.db(e)),
        }
    }

    /// A file sent whole after the savepoint, in one round trip, read by
    /// the server under `strings` as strata read it (`lexed`).
    async fn run_whole(
        &mut self,
        m: &Migration,
        file: &str,
        text: &str,
        strings: PgStrings,
        lexed: &sql::Lexed<'_>,
    ) -> Result<()> {
        let e = match self
            .client
            .simple_query(&format!("{SAVEPOINT}{text}"))
            .await
        {
            Ok(messages) => {
                let ran = messages
                    .iter()
                    .filter(|m| matches!(m, SimpleQueryMessage::CommandComplete(_)))
                    .count();
                // The savepoint, then the file's statements.
                if ran == 1 + lexed.statements.len() {
                    return Ok(());
                }
                return Err(Error::SplitDisagrees {
                    version: m.version(),
                    file: file.to_owned(),
                    server: ran.saturating_sub(1),
                    strata: lexed.statements.len(),
                });
            }
            Err(e) => e,
        };
        let prefix = SAVEPOINT.chars().count();
        if let Some(ErrorPosition::Original(at)) = e.as_db_error().and_then(|d| d.position()) {
            let byte = byte_of_position(text, (*at as usize).saturating_sub(prefix));
            let index = lexed.statements.partition_point(|s| s.start <= byte);
            let statement = index.checked_sub(1).map(|i| &lexed.statements[i]);
            return Err(Error::Statement {
                version: m.version(),
                file: file.to_owned(),
                line: Some(sql::line_of(text, byte)),
                statement: statement.map(|s| s.shortened(STATEMENT_SHOWN)),
                in_transaction: true,
                cause: DatabaseError::Postgres(e),
            });
        }
        if let [statement] = lexed.statements.as_slice() {
            return Err(statement_error(m, file, statement, true, e));
        }
        // An error while statements ran (a constraint, a lock time-out)
        // does not say which one: undo the file and run it again statement
        // by statement to find out (everything is rolled back after). Not
        // for a wait that ran out, a deadlock or a conflict: running again
        // would wait again, and need not fail the same way. The statement
        // is named only when it fails as the file did.
        let transient = matches!(
            e.code().map(SqlState::code),
            Some("55P03" | "57014" | "40P01" | "40001")
        );
        if !transient
            && self
                .client
                .batch_execute("ROLLBACK TO SAVEPOINT strata_file")
                .await
                .is_ok()
        {
            match self.run_statements(m, file, text, strings, true).await {
                Err(Error::Statement {
                    line,
                    statement,
                    cause: DatabaseError::Postgres(again),
                    ..
                }) if again.code() == e.code() => {
                    return Err(Error::Statement {
                        version: m.version(),
                        file: file.to_owned(),
                        line,
                        statement,
                        in_transaction: true,
                        cause: DatabaseError::Postgres(again),
                    });
                }
                _ => {}
            }
        }
        Err(Error::Statement {
            version: m.version(),
            file: file.to_owned(),
            line: None,
            statement: None,
            in_transaction: true,
            cause: DatabaseError::Postgres(e),
        })
    }

    /// Sends the statements of a file one by one, each in a message of its
    /// own in the extended protocol, where the server parses exactly one
    /// statement or refuses the message. A statement strata split wrongly
    /// (were its lexer ever to disagree with the server's) therefore fails
    /// instead of carrying a second one, a `COMMIT` say, past the check of
    /// transaction control, which (in strata's transaction) each statement
    /// passes again as it is sent. Each statement is read under the setting
    /// the ones before left: with a backslash in the file, ask the server
    /// after each. An error names its statement and line.
    pub(super) async fn run_statements(
        &mut self,
        m: &Migration,
        file: &str,
        text: &str,
        strings: PgStrings,
        in_transaction: bool,
    ) -> Result<()> {
        let backslash = text.contains('\\');
        let mut statements = Splitter::new(text, Dialect::Postgres, strings);
        while let Some(statement) = statements.next() {
            // Checked again as split now: a `SET standard_conforming_strings`
            // earlier in the file may have made it read otherwise than the
            // check of the whole file before it ran.
            if in_transaction {
                refuse_in_transaction(m, file, std::slice::from_ref(&statement))?;
            }
            // Rows a statement returns are read and dropped.
            self.client
                .execute_typed(statement.text, &[])
                .await
                .map_err(|e| statement_error(m, file, &statement, in_transaction, e))?;
            if backslash {
                statements.set_strings(self.strings().await?);
            }
        }
        Ok(())
    }
}

/// What goes before a file sent whole.
const SAVEPOINT: &str = "SAVEPOINT strata_file; ";

/// The words of the statements that end a transaction: `COMMIT`, `END`,
/// `ABORT`, `ROLLBACK` and `PREPARE TRANSACTION` (and `COMMIT PREPARED`,
/// `ROLLBACK PREPARED`).
const ENDS_TRANSACTION: [&[u8]; 5] = [b"commit", b"end", b"abort", b"rollback", b"prepare"];

/// The byte of `text` at the server's error position `at`: a 1-based
/// character position in `text`. Past the end ("at end of input"), the
/// end.
fn byte_of_position(text: &str, at: usize) -> usize {
    let chars = at.saturating_sub(1);
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(byte, _)| byte)
}

/// The error of one statement sent on its own: the line is where the
/// server points inside it, else where it starts.
fn statement_error(
    m: &Migration,
    file: &str,
    statement: &sql::Statement<'_>,
    in_transaction: bool,
    e: tokio_postgres::Error,
) -> Error {
    let line = match e.as_db_error().and_then(|d| d.position()) {
        Some(ErrorPosition::Original(at)) => {
            statement.line
                + sql::line_of(
                    statement.text,
                    byte_of_position(statement.text, *at as usize),
                )
                - 1
        }
        _ => statement.line,
    };
    Error::Statement {
        version: m.version(),
        file: file.to_owned(),
        line: Some(line),
        statement: Some(statement.shortened(STATEMENT_SHOWN)),
        in_transaction,
        cause: DatabaseError::Postgres(e),
    }
}
