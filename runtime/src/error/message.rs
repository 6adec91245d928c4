//! The messages: what each error says, and the words they share.

use core::fmt;

use super::words::*;

use super::Error;
use super::partial::partly_done;
use crate::Direction;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Partial { report, cause } => write!(f, "{cause}{}", partly_done(report, cause)),
            Error::InvalidFolder { folder, problems } => {
                write!(f, "{}", folder_problems(folder, problems))
            }
            Error::NotADatabase { path } => write!(
                f,
                "{path} is not a SQLite database (check the path: it names a file of another kind, or an encrypted one)"
            ),
            Error::DryRunFailed {
                cause,
                sequences_advanced,
            } => write!(
                f,
                "{cause}\n(dry run: its rollback does not undo sequences, and these moved while it ran: {})",
                moved(sequences_advanced)
            ),
            Error::Storage {
                path,
                fault,
                file,
                cause,
                ..
            } => write!(
                f,
                "{}{} {}",
                file.as_deref()
                    .map(|f| format!("{f}: "))
                    .unwrap_or_default(),
                database(path),
                fault.says(cause)
            ),
            Error::HotJournal { path } => write!(
                f,
                "database {path} was left in the middle of a transaction by a process that died, and its rollback journal ({path}-journal) must be rolled back before it can be read, which a read-only connection cannot do (open it read-write once, as `strata up` or any SQLite client does, or as a user that may write the file and its folder; do not delete the journal)"
            ),
            Error::ReadOnly { path, pending } => write!(
                f,
                "database {path} is read-only, and {} would change it (open it read-write, or check the file's permissions)",
                count(*pending, "migration")
            ),
            Error::Locked { waited } => write!(
                f,
                "the database stayed locked by another connection for {waited:.1?} (another process may be migrating it or holding a long write; try again, or raise the runner's lock_timeout)"
            ),
            Error::LockReleased => write!(
                f,
                "a migration released strata's advisory lock (`DISCARD ALL` or `pg_advisory_unlock_all()`, in the file or in a function it called), so what ran after it ran without the lock and another process could have migrated this database at the same time (look at the status once no other process runs; then remove that statement: `DISCARD PLANS`, `DISCARD SEQUENCES`, `DISCARD TEMP` and `RESET ALL` keep the lock)"
            ),
            Error::SettingKept {
                setting,
                value,
                cause,
            } => write!(
                f,
                "a migration changed the setting {setting} for the session, and strata could not put it back to {value:?}: {cause} (change it with SET LOCAL inside the migration, or put it back at the end of the file)"
            ),
            Error::NoSchema { table } => write!(
                f,
                "the connection's search_path names no schema that exists, so strata cannot tell where the history table {table} belongs (name its schema: `Runner::table(\"app.{table}\")`, `--table app.{table}`; or set the search_path on the connection)"
            ),
            Error::HistoryTableElsewhere {
                table,
                current,
                found,
            } => write!(
                f,
                "the history table {table} is in schema {found}, but the current schema is {current} (the first of the connection's search_path that exists; it changed since the history began, by ALTER DATABASE ... SET search_path, ALTER ROLE, or a new schema named like the role): strata keeps one history, so name its schema (`--table {found}.{table}`, `Runner::table(\"{found}.{table}\")`) or set the search_path back"
            ),
            Error::InTransaction => write!(
                f,
                "the connection is inside a transaction (run migrations outside of it: strata opens its own transactions)"
            ),
            Error::ForeignHistoryTable {
                table,
                columns,
                kind,
            } => write!(
                f,
                "table {table} exists but is not a strata history table (its columns: {}); {}",
                columns.join(", "),
                kind.hint(table)
            ),
            Error::CorruptHistory {
                table,
                version,
                column,
                value,
            } => write!(
                f,
                "history table {table} has an unreadable {column} for version {version}: {value:?} (was the row written by hand? restore it from a backup, or fix the value)"
            ),
            Error::ChecksumMismatch {
                version,
                file,
                applied,
                current,
            } => write!(
                f,
                "migration {version} ({file}) was changed after it was applied: the database recorded checksum {applied}, the file now has {current} (undo the edit and put the change in a new migration)"
            ),
            Error::MissingMigration {
                version,
                name,
                allow_newer_helps,
                folder,
            } => write!(
                f,
                "version {version} ({}) is applied in the database but has no files in {folder} (the database is ahead of this build: deploy the build that has it, or restore its files{})",
                name.as_deref().map_or(
                    std::borrow::Cow::Borrowed("name unknown"),
                    crate::source::sql::shown
                ),
                if *allow_newer_helps {
                    "; in a rolling deploy, where a newer build migrated first, this build may run beside it: `strata up --allow-newer`, Runner::allow_newer"
                } else {
                    ""
                }
            ),
            Error::OutOfOrder {
                version,
                file,
                newest_applied,
            } => write!(
                f,
                "migration {version} ({file}) is pending but version {newest_applied} is already applied (a new migration: give it a version above {newest_applied}; one that must run below it, as after a late merge or `down --only`, once you have checked that it does not depend on what came later: allow_out_of_order, `--allow-out-of-order`)"
            ),
            Error::NoTransactionOutOfOrder {
                file,
                newest_applied,
                ..
            } => write!(
                f,
                "{file} runs outside a transaction (`-- strata:no-transaction`) and is pending below version {newest_applied}, which is applied; such a migration cannot run out of order, because a failure would leave a dirty version below applied ones that force cannot clear (give it a version above {newest_applied})"
            ),
            Error::NoTransactionRevertBelow {
                version,
                file,
                newest_applied,
            } => write!(
                f,
                "{file} runs outside a transaction (`-- strata:no-transaction`), and version {newest_applied} above it would stay applied; such a down cannot run below an applied version, because a failure would leave a dirty version below applied ones that force cannot clear (first revert what is applied above it, up to version {newest_applied}; or move below {version} with `strata goto`, Runner::goto)"
            ),
            Error::NotApplied { version, file } => write!(
                f,
                "version {version} is not applied, so there is nothing to revert ({file} was not run)"
            ),
            Error::SchemaExists {
                table, file, cause, ..
            } => write!(
                f,
                "{cause}; the database had no history table {table}, yet already holds what {file} creates, so it was built without strata (by hand or by another tool): record the migrations it already has with `strata baseline VERSION` (Runner::baseline), then run up; if strata's history or another tool's is under another table name, name it with --table (Runner::table), and for another tool's run `strata adopt`"
            ),
            Error::Dirty {
                version,
                name,
                previous,
            } => write!(
                f,
                "migration {version} ({}) is marked dirty: it runs outside a transaction and began but did not finish, so the database may hold part of it (repair the database by hand, then record where it is: {}; the same after a down that failed)",
                crate::source::sql::shown(name),
                force_choices(*version, *previous, Direction::Up)
            ),
            Error::InProgress { version, name } => write!(
                f,
                "migration {version} ({}) is being run outside a transaction (applied or reverted) by another process that is still running; wait for it to finish, then run again (do not force it: that process is still changing the database)",
                crate::source::sql::shown(name)
            ),
            Error::LockFile { path, cause } => write!(
                f,
                "cannot use the lock file {path} that strata holds while it changes the database (folders with no-transaction migrations need it): {cause} (make the database's folder writable, or remove what is at that path)"
            ),
            Error::Statement {
                file,
                line,
                statement,
                in_transaction,
                cause,
                ..
            } => write!(
                f,
                "{file}{}: {cause}{}{}",
                at_line(*line),
                in_statement(statement.as_deref()),
                transaction_hint(cause, *in_transaction)
            ),
            Error::TableLockTimeout {
                file,
                line,
                statement,
                timeout,
                in_transaction,
                cause,
                ..
            } => write!(
                f,
                "{file}{}: {cause}{}: strata sets lock_timeout to {} for each statement of a migration, so that a statement waiting for a table's lock does not queue the application's queries behind it, and {} (the lock is held by another session, such as a long query or an open transaction: let it finish, or raise the limit: `--table-lock-timeout SECONDS`, 0 to wait as long as it takes; Runner::table_lock_timeout)",
                at_line(*line),
                in_statement(statement.as_deref()),
                crate::options::Millis(*timeout),
                if *in_transaction {
                    "the migration was rolled back"
                } else {
                    "this statement did not run"
                }
            ),
            Error::SplitDisagrees {
                file,
                server,
                strata,
                ..
            } => write!(
                f,
                "{file}: PostgreSQL ran {server} statements where strata read {strata}, so strata rolled the migration back (strata reads this SQL otherwise than the server: please report the file to strata)"
            ),
            Error::TransactionControl { file, line, .. } => write!(
                f,
                "{file}{}: the statement begins, ends or nests a transaction, but strata runs this migration inside its own (remove it, or put `-- strata:no-transaction` at the top of the file)",
                at_line(*line)
            ),
            Error::RefusedInTransaction {
                file,
                line,
                statement,
                refusal,
                ..
            } => write!(
                f,
                "{file}:{line}: `{statement}` {}",
                crate::source::refusal_hint(*refusal)
            ),
            Error::ForeignKeyViolation {
                file,
                rows,
                violations,
                ..
            } => write!(
                f,
                "{file} would leave {} with a broken foreign key, so it was rolled back: {}{} (fix the data in the migration, for example by deleting or updating those rows first)",
                count(*rows, "row"),
                list_inline(violations),
                match rows.saturating_sub(violations.len()) {
                    0 => String::new(),
                    more => format!(" and {more} more"),
                }
            ),
            Error::TransactionLeftOpen { file, .. } => write!(
                f,
                "{file} began a transaction and did not commit it, so strata rolled that transaction back (add the missing COMMIT to the file)"
            ),
            Error::LeftDirty {
                version,
                file,
                previous,
                direction,
                file_completed,
                cause,
            } => write!(
                f,
                "{cause}; version {version} is now marked dirty: {} (repair the database by hand, then record where it is: {})",
                left_behind(file, *file_completed, *direction),
                force_choices(*version, *previous, *direction)
            ),
            Error::NoTransactionInSingleTransaction { file, .. } => write!(
                f,
                "{file} runs outside a transaction (`-- strata:no-transaction`), so the pending migrations cannot all run in one transaction (run without single_transaction, `--single-transaction`)"
            ),
            Error::UnknownVersion { version, folder } => write!(
                f,
                "there is no migration with version {version} in {folder} (name a version that the folder has)"
            ),
            Error::Irreversible { version, file } => write!(
                f,
                "{file} is marked `-- strata:irreversible`, so version {version} cannot be reverted (nothing was reverted; a down must stop above version {version})"
            ),
            Error::HistoryExists { table, newest } => write!(
                f,
                "history table {table} already records migrations, up to version {newest} (baseline is for a database without history; to correct recorded state use force)"
            ),
            Error::AdoptDirty { table, version } => write!(
                f,
                "{table} records {} as dirty: a migration of the other tool failed halfway (repair the database by hand, then adopt it saying which version it is at: `strata adopt --force-version V`, or Runner::adopt_forced; V is the newest migration now applied in full, or none)",
                version.map_or_else(
                    || "golang-migrate's \"no version\" (-1, before its first migration)"
                        .to_owned(),
                    |v| format!("version {v}")
                )
            ),
            Error::AdoptedAlready { table } => write!(
                f,
                "the history table {table} is strata's already, so adopt has nothing to convert and records nothing (to record that the database is at a version after repairing it, use `strata force V`, Runner::force)"
            ),
            Error::NothingToAdopt { table } => write!(
                f,
                "there is no history table {table} to adopt (for a database that has tables but no history, record its state with baseline)"
            ),
            Error::HistoryChanged => write!(
                f,
                "the history changed while strata was reverting migrations (another process migrated this database at the same time); look at the status and run the command again"
            ),
            Error::HistoryTable {
                table,
                version,
                file,
                in_transaction,
                cause,
            } => write!(
                f,
                "migration {version} ({file}) ran, but then strata could not write its row in the history table {table}: {cause}{}",
                if *in_transaction {
                    " (the migration was rolled back with it; a migration must leave the history table, its schema and the right to write it as they were)"
                } else {
                    ""
                }
            ),
            Error::VerifyFailed(inner) => write!(f, "{inner}"),
            Error::VerifyDescribe { version, cause } => write!(
                f,
                "verify could not read the schema around migration {version}: {cause}"
            ),
            Error::VerifyNeedsScratchDatabase {
                version,
                file,
                new_enum_value,
            } => write!(
                f,
                "migration {version} ({file}) {}, so verify needs a scratch database where each migration commits (`Migrations::verify_postgres_scratch(&config, tls)`; `strata verify` uses one when the role may create databases)",
                if *new_enum_value {
                    "uses an enum value added in the one transaction verify ran the folder in, which PostgreSQL allows only after a commit"
                } else {
                    "runs outside a transaction, which verify cannot roll back"
                }
            ),
            Error::VerifyNeedsEmptyDatabase { path, found } => write!(
                f,
                "verify runs the migrations in a new in-memory database, which it empties again afterwards, and {path} {} (pass a connection from `rusqlite::Connection::open_in_memory()`, with the SQL functions your migrations use registered on it)",
                found.join(", and ")
            ),
            Error::ScratchDatabase {
                database,
                created,
                cause,
            } => write!(
                f,
                "{}: {cause}",
                if *created {
                    format!(
                        "verify could not drop its scratch database {database} (drop it by hand, or let the next verify drop it)"
                    )
                } else if cause.is_insufficient_privilege() {
                    format!(
                        "verify could not create the scratch database {database} (the role needs CREATEDB: `ALTER ROLE ... CREATEDB`; or verify against a server where it may create databases)"
                    )
                } else {
                    format!("verify could not create the scratch database {database}")
                }
            ),
            Error::Database(inner) => write!(f, "database error: {inner}"),
        }
    }
}
