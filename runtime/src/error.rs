//! The one error type of strata.

use core::fmt;
use std::time::Duration;

use crate::source::Problem;
use crate::{Checksum, Direction};

/// `Result` with strata's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in strata.
///
/// Each variant names the version, file or table it is about, and its
/// message says what to do. When a run returns an error, the migration that
/// failed left nothing behind (its transaction was rolled back), except a
/// `-- strata:no-transaction` migration: what it committed before the
/// failure stays, its version is marked dirty, and the error is
/// [`Error::LeftDirty`], which says how to record the state after a repair.
///
/// Its `Display` is the whole message, causes included, as the CLI prints
/// it; [`source`](std::error::Error::source) walks the same causes as
/// values (down to the driver's `rusqlite::Error` or `postgres::Error`),
/// for `anyhow`, `eyre` and `tracing`. `Debug` prints the message too, so
/// that `fn main() -> Result<(), Box<dyn Error>>` and `unwrap` show it
/// readably; `{:#?}` adds the chain of causes.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A run that applied or reverted migrations before it failed: what
    /// it did stays committed, and `report` lists it, with the version the
    /// database is now at. `cause` is the failure.
    #[error("{cause}{}", partly_done(report, cause))]
    Partial {
        /// What the run committed before the failure.
        report: Box<crate::Report>,
        /// The failure.
        #[source]
        cause: Box<Error>,
    },

    /// A migrations folder read at run time breaks the rules (the macro
    /// reports the same problems as compile errors).
    #[error("{}", folder_problems(folder, problems))]
    InvalidFolder {
        /// The folder as written.
        folder: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },

    /// The file is not a SQLite database.
    #[error(
        "{path} is not a SQLite database (check the path: it names a file of another kind, or an encrypted one)"
    )]
    NotADatabase {
        /// The database file.
        path: String,
    },

    /// A dry run on PostgreSQL failed, and sequences moved while it ran
    /// (a rollback does not undo `nextval`): `cause` is the failure, as a
    /// run would meet it.
    #[error(
        "{cause}\n(dry run: its rollback does not undo sequences, and these moved while it ran: {})",
        moved(sequences_advanced)
    )]
    DryRunFailed {
        /// The failure.
        #[source]
        cause: Box<Error>,
        /// The sequences that moved.
        sequences_advanced: Vec<crate::SequenceAdvanced>,
    },

    /// The database could not be written: what kept it from being written
    /// is `fault`. Where it happened while a migration ran, `version` and
    /// `file` name it; its transaction was rolled back (a no-transaction
    /// migration's comes inside [`Error::LeftDirty`]).
    #[error(
        "{}{} {}",
        file.as_deref().map(|f| format!("{f}: ")).unwrap_or_default(),
        database(path),
        fault.says(cause)
    )]
    Storage {
        /// The database file (on PostgreSQL, "the PostgreSQL database").
        path: String,
        /// What kept it from being written.
        fault: StorageFault,
        /// The migration that was running, if one was.
        version: Option<u64>,
        /// Its file.
        file: Option<String>,
        /// The database's own error (`None`: strata saw that the
        /// connection is read-only before it tried).
        #[source]
        cause: Option<DatabaseError>,
    },

    /// A transaction on the database was cut off by a crash and its
    /// rollback journal is still there (hot); a connection opened read-only
    /// cannot roll it back, so it cannot read the database.
    #[error(
        "database {path} was left in the middle of a transaction by a process that died, and its rollback journal ({path}-journal) must be rolled back before it can be read, which a read-only connection cannot do (open it read-write once, as `strata up` or any SQLite client does, or as a user that may write the file and its folder; do not delete the journal)"
    )]
    HotJournal {
        /// The database file.
        path: String,
    },

    /// Migrations are pending but the database cannot be written.
    #[error("database {path} is read-only, and {} would change it (open it read-write, or check the file's permissions)", count(*pending, "migration"))]
    ReadOnly {
        /// The database file.
        path: String,
        /// How many migrations are pending.
        pending: usize,
    },

    /// Another connection held the write lock for longer than the runner waits.
    #[error(
        "the database stayed locked by another connection for {waited:.1?} (another process may be migrating it or holding a long write; try again, or raise the runner's lock_timeout)"
    )]
    Locked {
        /// How long strata waited.
        waited: Duration,
    },

    /// A PostgreSQL migration released strata's advisory lock (`DISCARD
    /// ALL`, `pg_advisory_unlock_all()`, directly or in a function it
    /// called): what ran after that ran without the lock, while another
    /// process could migrate the same database.
    #[error(
        "a migration released strata's advisory lock (`DISCARD ALL` or `pg_advisory_unlock_all()`, in the file or in a function it called), so what ran after it ran without the lock and another process could have migrated this database at the same time (look at the status once no other process runs; then remove that statement: `DISCARD PLANS`, `DISCARD SEQUENCES`, `DISCARD TEMP` and `RESET ALL` keep the lock)"
    )]
    LockReleased,

    /// A setting that a PostgreSQL migration changed for the session could
    /// not be put back, and it changes how SQL runs: the migrations after
    /// it, strata's own statements and the application would run with it.
    #[error(
        "a migration changed the setting {setting} for the session, and strata could not put it back to {value:?}: {cause} (change it with SET LOCAL inside the migration, or put it back at the end of the file)"
    )]
    SettingKept {
        /// The setting's name.
        setting: String,
        /// The value it had before the migration.
        value: String,
        /// The server's refusal.
        #[source]
        cause: DatabaseError,
    },

    /// On PostgreSQL, the history table's schema was not named and the
    /// session has no current schema (its `search_path` names none that
    /// exists), so strata cannot tell where the history belongs.
    #[error(
        "the connection's search_path names no schema that exists, so strata cannot tell where the history table {table} belongs (name its schema: `Runner::table(\"app.{table}\")`, `--table app.{table}`; or set the search_path on the connection)"
    )]
    NoSchema {
        /// The history table's name, without a schema.
        table: String,
    },

    /// On PostgreSQL, the history table's schema was not named, and the
    /// table is not in the current schema but in another one on the
    /// search path: the search path changed since the history began.
    #[error(
        "the history table {table} is in schema {found}, but the current schema is {current} (the first of the connection's search_path that exists; it changed since the history began, by ALTER DATABASE ... SET search_path, ALTER ROLE, or a new schema named like the role): strata keeps one history, so name its schema (`--table {found}.{table}`, `Runner::table(\"{found}.{table}\")`) or set the search_path back"
    )]
    HistoryTableElsewhere {
        /// The history table's name, without a schema.
        table: String,
        /// The current schema.
        current: String,
        /// The schema that holds the table.
        found: String,
    },

    /// The connection was already inside a transaction.
    #[error(
        "the connection is inside a transaction (run migrations outside of it: strata opens its own transactions)"
    )]
    InTransaction,

    /// A table with the history table's name exists in another shape. strata
    /// never alters a table that it did not create.
    #[error("table {table} exists but is not a strata history table (its columns: {}); {}", columns.join(", "), kind.hint(table))]
    ForeignHistoryTable {
        /// The table.
        table: String,
        /// Its columns, in order.
        columns: Vec<String>,
        /// What it looks like.
        kind: ForeignTable,
    },

    /// A value in the history table cannot be read back.
    #[error(
        "history table {table} has an unreadable {column} for version {version}: {value:?} (was the row written by hand? restore it from a backup, or fix the value)"
    )]
    CorruptHistory {
        /// The table.
        table: String,
        /// The row's version.
        version: i64,
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },

    /// An applied migration's up file changed since it was applied.
    #[error(
        "migration {version} ({file}) was changed after it was applied: the database recorded checksum {applied}, the file now has {current} (undo the edit and put the change in a new migration)"
    )]
    ChecksumMismatch {
        /// The version.
        version: u64,
        /// Its up file.
        file: String,
        /// The checksum in the history table.
        applied: Checksum,
        /// The checksum of the file now.
        current: Checksum,
    },

    /// The database has applied a version that the migrations lack.
    #[error(
        "version {version} ({}) is applied in the database but has no files in {folder} (the database is ahead of this build: deploy the build that has it, or restore its files{})",
        name.as_deref().map_or(std::borrow::Cow::Borrowed("name unknown"), crate::source::sql::shown),
        if *allow_newer_helps {
            "; in a rolling deploy, where a newer build migrated first, this build may run beside it: `strata up --allow-newer`, Runner::allow_newer"
        } else {
            ""
        }
    )]
    MissingMigration {
        /// The version.
        version: u64,
        /// Its name, as recorded (`None`: the history does not record
        /// names, as golang-migrate's does not).
        name: Option<String>,
        /// Whether [`Runner::allow_newer`](crate::Runner::allow_newer)
        /// would accept it: it is above the newest migration of the files,
        /// the operation moves up, and the option was not given.
        allow_newer_helps: bool,
        /// The migrations folder.
        folder: String,
    },

    /// A pending migration's version is below the newest applied one.
    #[error(
        "migration {version} ({file}) is pending but version {newest_applied} is already applied (a new migration: give it a version above {newest_applied}; one that must run below it, as after a late merge or `down --only`, once you have checked that it does not depend on what came later: allow_out_of_order, `--allow-out-of-order`)"
    )]
    OutOfOrder {
        /// The pending version.
        version: u64,
        /// Its up file.
        file: String,
        /// The newest applied version.
        newest_applied: u64,
    },

    /// A `-- strata:no-transaction` migration is pending below a version
    /// that is already applied, and out-of-order runs are allowed. It is
    /// refused all the same: if it failed halfway, its dirty row would sit
    /// below applied ones, where no `force` can record the repaired state
    /// without also changing theirs.
    #[error(
        "{file} runs outside a transaction (`-- strata:no-transaction`) and is pending below version {newest_applied}, which is applied; such a migration cannot run out of order, because a failure would leave a dirty version below applied ones that force cannot clear (give it a version above {newest_applied})"
    )]
    NoTransactionOutOfOrder {
        /// The pending version.
        version: u64,
        /// Its up file.
        file: String,
        /// The newest applied version.
        newest_applied: u64,
    },

    /// A down would run a `-- strata:no-transaction` down file while a
    /// higher version stays applied (`down --only`, or a history applied
    /// out of order). It is refused: if it failed halfway, its dirty row
    /// would sit below applied ones, where no `force` can record the
    /// repaired state without also changing theirs.
    #[error(
        "{file} runs outside a transaction (`-- strata:no-transaction`), and version {newest_applied} above it would stay applied; such a down cannot run below an applied version, because a failure would leave a dirty version below applied ones that force cannot clear (first revert what is applied above it, up to version {newest_applied}; or move below {version} with `strata goto`, Runner::goto)"
    )]
    NoTransactionRevertBelow {
        /// The version to revert.
        version: u64,
        /// Its down file.
        file: String,
        /// The newest version that would stay applied.
        newest_applied: u64,
    },

    /// A down named one version to revert, and it is not applied.
    #[error("version {version} is not applied, so there is nothing to revert ({file} was not run)")]
    NotApplied {
        /// The version.
        version: u64,
        /// Its down file.
        file: String,
    },

    /// The first migration run on a database that had no history table
    /// failed because what it creates is already there: the database was
    /// built without strata (by hand, or by another tool).
    #[error(
        "{cause}; the database had no history table {table}, yet already holds what {file} creates, so it was built without strata (by hand or by another tool): record the migrations it already has with `strata baseline VERSION` (Runner::baseline), then run up; if strata's history or another tool's is under another table name, name it with --table (Runner::table), and for another tool's run `strata adopt`"
    )]
    SchemaExists {
        /// The history table strata looked for.
        table: String,
        /// The first migration's version.
        version: u64,
        /// Its up file.
        file: String,
        /// The migration's failure ([`Error::Statement`]).
        #[source]
        cause: Box<Error>,
    },

    /// A migration that runs outside a transaction began and did not finish
    /// (it failed, or its process died): strata refuses to run until a
    /// person has repaired the database and recorded its state with force.
    #[error(
        "migration {version} ({}) is marked dirty: it runs outside a transaction and began but did not finish, so the database may hold part of it (repair the database by hand, then record where it is: {}; the same after a down that failed)",
        crate::source::sql::shown(name),
        force_choices(*version, *previous, Direction::Up)
    )]
    Dirty {
        /// The version.
        version: u64,
        /// Its name, as recorded.
        name: String,
        /// The newest version recorded below it, which `force` records when
        /// none of the migration's changes are in the database (`None`:
        /// `force none`).
        previous: Option<u64>,
    },

    /// A no-transaction migration is marked dirty because another process
    /// is running it right now (it holds strata's lock: the advisory lock
    /// on PostgreSQL, the lock file beside a SQLite database). Unlike
    /// [`Error::Dirty`], nothing needs repair: wait for that process.
    #[error(
        "migration {version} ({}) is being run outside a transaction (applied or reverted) by another process that is still running; wait for it to finish, then run again (do not force it: that process is still changing the database)",
        crate::source::sql::shown(name)
    )]
    InProgress {
        /// The version.
        version: u64,
        /// Its name, as recorded.
        name: String,
    },

    /// The lock file that strata holds beside a SQLite database while a
    /// run changes it (so that other processes wait instead of finding a
    /// no-transaction migration dirty) could not be opened or locked, or is
    /// not a regular file; runs whose folder has no-transaction migrations
    /// need it.
    #[error(
        "cannot use the lock file {path} that strata holds while it changes the database (folders with no-transaction migrations need it): {cause} (make the database's folder writable, or remove what is at that path)"
    )]
    LockFile {
        /// The lock file: the database's path followed by `-strata-lock`.
        path: String,
        /// Why.
        #[source]
        cause: std::io::Error,
    },

    /// A statement of a migration failed. Inside a transaction the
    /// migration was rolled back; outside one (`-- strata:no-transaction`)
    /// the statements before it stay applied.
    #[error("{file}{}: {cause}{}{}", at_line(*line), in_statement(statement.as_deref()), transaction_hint(cause, *in_transaction))]
    Statement {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line of the error: where the database points inside the
        /// statement, else where the statement starts. `None` when the
        /// failing statement could not be told (PostgreSQL ran the file in
        /// one round trip, and the error did not recur when its statements
        /// ran one by one).
        line: Option<usize>,
        /// The failing statement, white space folded, shortened when long.
        statement: Option<String>,
        /// Whether strata ran the migration inside its transaction (false
        /// for a `-- strata:no-transaction` file).
        in_transaction: bool,
        /// The database's error.
        #[source]
        cause: DatabaseError,
    },

    /// On PostgreSQL, a statement of a migration waited for a lock on a
    /// table (held by another session: a long query, an open transaction)
    /// for longer than the table lock timeout that strata sets for each
    /// migration (`SET LOCAL lock_timeout`, 10 seconds by default), so that
    /// an `ALTER TABLE` waiting for its lock does not queue every query of
    /// the application behind it.
    #[error(
        "{file}{}: {cause}{}: strata sets lock_timeout to {} for each statement of a migration, so that a statement waiting for a table's lock does not queue the application's queries behind it, and {} (the lock is held by another session, such as a long query or an open transaction: let it finish, or raise the limit: `--table-lock-timeout SECONDS`, 0 to wait as long as it takes; Runner::table_lock_timeout)",
        at_line(*line),
        in_statement(statement.as_deref()),
        crate::runner::Millis(*timeout),
        if *in_transaction { "the migration was rolled back" } else { "this statement did not run" }
    )]
    TableLockTimeout {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line of the statement, when known.
        line: Option<usize>,
        /// The statement, white space folded, shortened when long.
        statement: Option<String>,
        /// The table lock timeout in force ([`Runner::table_lock_timeout`](crate::Runner::table_lock_timeout)).
        timeout: Duration,
        /// Whether the migration ran inside strata's transaction (then it
        /// was rolled back).
        in_transaction: bool,
        /// The server's error ("canceling statement due to lock timeout").
        #[source]
        cause: DatabaseError,
    },

    /// PostgreSQL ran a different number of statements from a file sent
    /// whole than strata's split of it holds: strata's lexer read the file
    /// otherwise than the server. The migration was rolled back (nothing in
    /// such a file can end strata's transaction).
    #[error(
        "{file}: PostgreSQL ran {server} statements where strata read {strata}, so strata rolled the migration back (strata reads this SQL otherwise than the server: please report the file to strata)"
    )]
    SplitDisagrees {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// How many statements the server ran.
        server: usize,
        /// How many statements strata read.
        strata: usize,
    },

    /// A migration tried to begin, commit or roll back a transaction.
    #[error(
        "{file}{}: the statement begins, ends or nests a transaction, but strata runs this migration inside its own (remove it, or put `-- strata:no-transaction` at the top of the file)",
        at_line(*line)
    )]
    TransactionControl {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line where the statement starts, when it is known (a
        /// transaction found closed after the file does not say where).
        line: Option<usize>,
    },

    /// A migration that runs inside a transaction holds a statement that
    /// cannot do its work there (`VACUUM`, `CREATE INDEX CONCURRENTLY`,
    /// SQLite's `PRAGMA foreign_keys = …`); nothing of it was applied
    /// (PostgreSQL refuses the file before it runs; SQLite refuses the
    /// statement as it prepares it, and the transaction is rolled back).
    #[error("{file}:{line}: `{statement}` {}", crate::source::refusal_hint(*refusal))]
    RefusedInTransaction {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line where the statement starts.
        line: usize,
        /// The statement, white space folded, cut to about 60 characters.
        statement: String,
        /// Why it is refused.
        refusal: crate::source::sql::Refusal,
    },

    /// A migration left rows whose foreign keys point nowhere; it was rolled back.
    #[error(
        "{file} would leave {} with a broken foreign key, so it was rolled back: {}{} (fix the data in the migration, for example by deleting or updating those rows first)",
        count(*rows, "row"),
        list_inline(violations),
        match rows.saturating_sub(violations.len()) {
            0 => String::new(),
            more => format!(" and {more} more"),
        }
    )]
    ForeignKeyViolation {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// How many broken rows there are in all (a row that breaks two
        /// foreign keys counts twice, as SQLite's `foreign_key_check`
        /// reports it).
        rows: usize,
        /// A few of them, for the message: at most five per table.
        violations: Vec<ForeignKeyViolation>,
    },

    /// A `-- strata:no-transaction` migration began a transaction and did
    /// not end it. strata rolled it back, so the file's work since that
    /// `BEGIN` is undone; the error comes inside [`Error::LeftDirty`].
    #[error(
        "{file} began a transaction and did not commit it, so strata rolled that transaction back (add the missing COMMIT to the file)"
    )]
    TransactionLeftOpen {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
    },

    /// A `-- strata:no-transaction` migration failed, or its history row
    /// could not be cleaned after it ran. Its statements ran one by one,
    /// each committed, so what it did before the failure stays in the
    /// database (for example an `INVALID` index after a failed `CREATE
    /// INDEX CONCURRENTLY`), and its version is marked dirty: later runs
    /// refuse to start with [`Error::Dirty`] until a person repairs the
    /// database and records its state with `force`.
    #[error(
        "{cause}; version {version} is now marked dirty: {} (repair the database by hand, then record where it is: {})",
        left_behind(file, *file_completed, *direction),
        force_choices(*version, *previous, *direction)
    )]
    LeftDirty {
        /// The migration's version, now dirty.
        version: u64,
        /// The file that failed (the up file, or the down file of a down).
        file: String,
        /// The newest version recorded below it, which `force` records when
        /// none of the migration's changes are in the database (`None`:
        /// `force none`). `force version` records it when all of them are.
        previous: Option<u64>,
        /// Which file ran: up, or down (the advice differs).
        direction: Direction,
        /// The file ran to its end, and what failed came after it (putting
        /// the connection's settings back, or cleaning the history row):
        /// the migration is most likely applied (or reverted) in full.
        file_completed: bool,
        /// What failed.
        #[source]
        cause: Box<Error>,
    },

    /// A migration that must run outside a transaction was asked to run in
    /// the all-in-one transaction.
    #[error(
        "{file} runs outside a transaction (`-- strata:no-transaction`), so the pending migrations cannot all run in one transaction (run without single_transaction, `--single-transaction`)"
    )]
    NoTransactionInSingleTransaction {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
    },

    /// A target version that none of the migrations has.
    #[error(
        "there is no migration with version {version} in {folder} (name a version that the folder has)"
    )]
    UnknownVersion {
        /// The version asked for.
        version: u64,
        /// The migrations folder.
        folder: String,
    },

    /// A down would cross a migration that cannot be reverted.
    #[error(
        "{file} is marked `-- strata:irreversible`, so version {version} cannot be reverted (nothing was reverted; a down must stop above version {version})"
    )]
    Irreversible {
        /// The migration's version.
        version: u64,
        /// Its down file.
        file: String,
    },

    /// `baseline` on a database that already has history.
    #[error(
        "history table {table} already records migrations, up to version {newest} (baseline is for a database without history; to correct recorded state use force)"
    )]
    HistoryExists {
        /// The history table.
        table: String,
        /// Its newest recorded version.
        newest: u64,
    },

    /// `adopt` found golang-migrate's dirty flag set.
    #[error(
        "{table} records {} as dirty: a golang-migrate migration failed halfway (repair the database by hand, then adopt it saying which version it is at: `strata adopt --force-version V`, or Runner::adopt_forced; V is the newest migration now applied in full, or none)",
        version.map_or_else(|| "golang-migrate's \"no version\" (-1, before its first migration)".to_owned(), |v| format!("version {v}"))
    )]
    AdoptDirty {
        /// The history table.
        table: String,
        /// The dirty version (`None`: golang-migrate's "no version", -1,
        /// which it records dirty when a first migration failed).
        version: Option<u64>,
    },

    /// `adopt` was told a version to record, and the history table is
    /// strata's already: there is nothing to convert.
    #[error(
        "the history table {table} is strata's already, so adopt has nothing to convert and records nothing (to record that the database is at a version after repairing it, use `strata force V`, Runner::force)"
    )]
    AdoptedAlready {
        /// The history table.
        table: String,
    },

    /// `adopt` found no table to adopt.
    #[error(
        "there is no history table {table} to adopt (for a database that has tables but no history, record its state with baseline)"
    )]
    NothingToAdopt {
        /// The history table's name.
        table: String,
    },

    /// Another process changed the history during a down.
    #[error(
        "the history changed while strata was reverting migrations (another process migrated this database at the same time); look at the status and run the command again"
    )]
    HistoryChanged,

    /// A migration ran, and then its row could not be written to the
    /// history table: the migration dropped, renamed or locked it, its
    /// schema, or the right to write it.
    #[error(
        "migration {version} ({file}) ran, but then strata could not write its row in the history table {table}: {cause}{}",
        if *in_transaction {
            " (the migration was rolled back with it; a migration must leave the history table, its schema and the right to write it as they were)"
        } else {
            ""
        }
    )]
    HistoryTable {
        /// The history table, with its schema on PostgreSQL.
        table: String,
        /// The version.
        version: u64,
        /// The file that ran.
        file: String,
        /// Whether the file ran inside strata's transaction, which was
        /// rolled back.
        in_transaction: bool,
        /// The database's error.
        #[source]
        cause: Box<Error>,
    },

    /// `verify` found down files that do not revert their up files, or
    /// files that fail.
    #[error("{0}")]
    VerifyFailed(Box<crate::report::VerifyFailures>),

    /// `verify` could not read the schema around a migration.
    #[error("verify could not read the schema around migration {version}: {cause}")]
    VerifyDescribe {
        /// The version whose round trip it was checking.
        version: u64,
        /// Why.
        #[source]
        cause: Box<Error>,
    },

    /// On PostgreSQL, the folder cannot be verified inside one transaction
    /// of the database verify was given: a migration runs outside a
    /// transaction, or uses an enum value that an earlier one added.
    #[error(
        "migration {version} ({file}) {}, so verify needs a scratch database where each migration commits (`Migrations::verify_postgres_scratch(&config, tls)`; `strata verify` uses one when the role may create databases)",
        if *new_enum_value {
            "uses an enum value added in the one transaction verify ran the folder in, which PostgreSQL allows only after a commit"
        } else {
            "runs outside a transaction, which verify cannot roll back"
        }
    )]
    VerifyNeedsScratchDatabase {
        /// The version.
        version: u64,
        /// Its up file.
        file: String,
        /// Why: the enum value (else: outside a transaction).
        new_enum_value: bool,
    },

    /// On PostgreSQL, verify could not create, or drop, the scratch
    /// database it needs for migrations that run outside a transaction.
    #[error(
        "{}: {cause}",
        if *created {
            format!("verify could not drop its scratch database {database} (drop it by hand, or let the next verify drop it)")
        } else if cause.is_insufficient_privilege() {
            format!("verify could not create the scratch database {database} (the role needs CREATEDB: `ALTER ROLE ... CREATEDB`; or verify against a server where it may create databases)")
        } else {
            format!("verify could not create the scratch database {database}")
        }
    )]
    ScratchDatabase {
        /// The scratch database's name.
        database: String,
        /// Whether it had been created (so the failure was to drop it).
        created: bool,
        /// The server's error.
        #[source]
        cause: DatabaseError,
    },

    /// Another database error.
    #[error("database error: {0}")]
    Database(#[source] DatabaseError),
}

/// What an existing table with the history table's name looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForeignTable {
    /// golang-migrate's `(version, dirty)`.
    GolangMigrate,
    /// A home-made runner's `(version, name, applied_at)` or similar, with
    /// a version column but no checksum.
    HomeMade,
    /// Anything else.
    Other,
}

impl ForeignTable {
    /// What a table with these columns looks like.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn of_columns(columns: &[String]) -> ForeignTable {
        let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
        if columns.len() == 2 && has("version") && has("dirty") {
            ForeignTable::GolangMigrate
        } else if has("version") && !has("checksum") {
            ForeignTable::HomeMade
        } else {
            ForeignTable::Other
        }
    }

    fn hint(self, table: &str) -> String {
        let what = match self {
            ForeignTable::GolangMigrate => "golang-migrate's history table",
            ForeignTable::HomeMade => "the history table of another migration runner",
            ForeignTable::Other => {
                return format!(
                    "strata leaves it as it is: rename or drop {table} if it is not needed, or give strata another table name"
                );
            }
        };
        format!(
            "it looks like {what}: convert it into strata's, keeping every recorded version, with adopt (`strata adopt`, or Runner::adopt)"
        )
    }
}

/// One row that breaks a foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyViolation {
    /// The table holding the row.
    pub table: String,
    /// The row's rowid, if the table has one.
    pub rowid: Option<i64>,
    /// The table the foreign key points to.
    pub parent: String,
}

impl fmt::Display for ForeignKeyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rowid {
            Some(rowid) => write!(f, "{} row {} -> {}", self.table, rowid, self.parent),
            None => write!(f, "{} (a row) -> {}", self.table, self.parent),
        }
    }
}

/// What kept a database from being written ([`Error::Storage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageFault {
    /// The file, or the connection, is read-only.
    ReadOnly,
    /// The database's folder is not writable: SQLite creates its journal
    /// (`-journal`, or `-wal` and `-shm`) beside the file.
    FolderNotWritable,
    /// The disk is full, or the database reached its `max_page_count`.
    DiskFull,
    /// The operating system failed a read or a write.
    Io,
}

impl StorageFault {
    fn says(self, cause: &Option<DatabaseError>) -> String {
        match self {
            StorageFault::ReadOnly => "is read-only, so strata cannot change it (open it read-write, or check the file's permissions)".to_owned(),
            StorageFault::FolderNotWritable => "cannot be written because its folder is not writable, and SQLite creates its journal beside the file (make the folder writable for this user)".to_owned(),
            StorageFault::DiskFull => "could not grow: the disk is full, or the database reached its max_page_count (free space, then run again; what failed was rolled back)".to_owned(),
            StorageFault::Io => match cause {
                Some(cause) => format!("could not be read or written: the operating system reported an I/O error ({cause}; check the disk)"),
                None => "could not be read or written: the operating system reported an I/O error (check the disk)".to_owned(),
            },
        }
    }
}

/// An error from the database driver.
#[derive(Debug)]
#[non_exhaustive]
pub enum DatabaseError {
    /// From rusqlite (boxed: rusqlite's error is large, and strata's
    /// errors stay small enough to return by value).
    #[cfg(feature = "sqlite")]
    Sqlite(Box<rusqlite::Error>),
    /// From postgres.
    #[cfg(feature = "postgres")]
    Postgres(postgres::Error),
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            // rusqlite's syntax error repeats the whole text it was given;
            // strata names the file, the line and the statement instead.
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => match **e {
                rusqlite::Error::SqlInputError { ref msg, .. } => _f.write_str(msg),
                ref e => fmt::Display::fmt(e, _f),
            },
            // The driver's own text is "db error: ERROR: ..."; the server's
            // message with its detail and hint says more.
            #[cfg(feature = "postgres")]
            DatabaseError::Postgres(ref e) => match e.as_db_error() {
                Some(db) => {
                    write!(_f, "{}", db.message())?;
                    if let Some(detail) = db.detail() {
                        write!(_f, " ({detail})")?;
                    }
                    if let Some(hint) = db.hint() {
                        write!(_f, "; hint: {hint}")?;
                    }
                    Ok(())
                }
                None => fmt::Display::fmt(e, _f),
            },
        }
    }
}

impl std::error::Error for DatabaseError {
    /// The driver's own error, for downcasting (`rusqlite::Error`,
    /// `postgres::Error`) and for chains of causes.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => Some(&**e),
            #[cfg(feature = "postgres")]
            DatabaseError::Postgres(ref e) => Some(e),
        }
    }
}

/// The message, as `Display` gives it; `{:#?}` adds every cause below it
/// (see [`Error`]).
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        if f.alternate() {
            let mut cause = std::error::Error::source(self);
            while let Some(e) = cause {
                write!(f, "\n\ncaused by: {e}")?;
                cause = e.source();
            }
        }
        Ok(())
    }
}

impl Error {
    /// The error that stopped the run: `self`, or the cause inside
    /// [`Error::Partial`] and [`Error::DryRunFailed`], which add what the
    /// run did before it. Match on this to handle a kind of failure
    /// whatever came before it.
    pub fn failure(&self) -> &Error {
        match self {
            Error::Partial { cause, .. } | Error::DryRunFailed { cause, .. } => cause.failure(),
            other => other,
        }
    }

    /// What a run that failed had committed before its failure: the
    /// migrations it applied or reverted, and the version the database is
    /// now at. `None` when it had changed nothing.
    pub fn report(&self) -> Option<&crate::Report> {
        match self {
            Error::Partial { report, .. } => Some(report),
            _ => None,
        }
    }

    /// `cause`, wrapped with what `report` says the run did before it,
    /// when it did something that stays (not in a dry run). A `Partial`
    /// cause gains the steps `report` did before the ones it lists.
    pub(crate) fn after(cause: Error, report: &crate::Report) -> Error {
        if report.dry_run || report.is_empty() {
            return cause;
        }
        match cause {
            Error::Partial {
                report: mut later,
                cause,
            } => {
                let mut reverted = report.reverted.clone();
                reverted.append(&mut later.reverted);
                later.reverted = reverted;
                let mut applied = report.applied.clone();
                applied.append(&mut later.applied);
                later.applied = applied;
                Error::Partial {
                    report: later,
                    cause,
                }
            }
            cause => {
                let mut report = report.clone();
                // A no-transaction up file that failed left its row, dirty,
                // after what `report` counted.
                if let Error::LeftDirty {
                    version,
                    direction: Direction::Up,
                    ..
                } = cause.failure()
                {
                    report.version = report.version.max(Some(*version));
                }
                Error::Partial {
                    report: Box::new(report),
                    cause: Box::new(cause),
                }
            }
        }
    }
}

/// What a run did before it failed, for [`Error::Partial`]'s message.
fn partly_done(report: &crate::Report, cause: &Error) -> String {
    let mut done = Vec::new();
    if !report.reverted.is_empty() {
        done.push(format!(
            "reverted {}",
            count(report.reverted.len(), "migration")
        ));
    }
    if !report.applied.is_empty() {
        done.push(format!(
            "applied {}",
            count(report.applied.len(), "migration")
        ));
    }
    let steps = report.reverted.len() + report.applied.len();
    format!(
        " (before this failure the run {}; {} committed, and the database {})",
        done.join(" and "),
        if steps == 1 { "it stays" } else { "they stay" },
        now_at(report.version, cause)
    )
}

/// Where a run that failed left the database, after "the database": `is
/// now at version 4`, `is now at version 4, marked dirty`, `now has no
/// migration applied`.
fn now_at(version: Option<u64>, cause: &Error) -> String {
    let dirty =
        matches!(cause.failure(), Error::LeftDirty { version: v, .. } if Some(*v) == version);
    match version {
        Some(v) if dirty => format!("is now at version {v}, marked dirty"),
        Some(v) => format!("is now at version {v}"),
        None => "now has no migration applied".to_owned(),
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for DatabaseError {
    fn from(e: postgres::Error) -> Self {
        DatabaseError::Postgres(e)
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Database(DatabaseError::Postgres(e))
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for DatabaseError {
    fn from(e: rusqlite::Error) -> Self {
        DatabaseError::Sqlite(Box::new(e))
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(DatabaseError::Sqlite(Box::new(e)))
    }
}

impl Error {
    /// A database error at the commit of migration `version` (deferred
    /// constraints are checked there), as the error of that migration's
    /// file. Other errors stay as they are.
    pub(crate) fn at_commit(self, version: u64, file: String) -> Error {
        match self {
            Error::Database(cause) => Error::Statement {
                version,
                file,
                line: None,
                statement: Some("COMMIT".to_owned()),
                in_transaction: true,
                cause,
            },
            Error::Storage {
                path,
                fault,
                version: None,
                cause,
                ..
            } => Error::Storage {
                path,
                fault,
                version: Some(version),
                file: Some(file),
                cause,
            },
            other => other,
        }
    }
}

/// Sequences as `name before -> after`, for messages.
fn moved(sequences: &[crate::SequenceAdvanced]) -> String {
    crate::report::moved(sequences)
}

/// A database as a message's subject: `database app.db`, or the
/// backend's own words (`the PostgreSQL database`).
fn database(path: &str) -> String {
    if path.starts_with("the ") {
        path.to_owned()
    } else {
        format!("database {path}")
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map_or_else(String::new, |line| format!(":{line}"))
}

fn in_statement(statement: Option<&str>) -> String {
    statement.map_or_else(String::new, |s| format!(" (in `{s}`)"))
}

/// The `-- strata:no-transaction` hint for the errors a database gives a
/// statement that cannot run inside a transaction, where strata could not
/// tell beforehand (a procedure that commits, a function that vacuums).
fn transaction_hint(cause: &DatabaseError, in_transaction: bool) -> &'static str {
    if in_transaction && cause.needs_no_transaction() {
        "; strata ran this migration inside a transaction: to run it without one, put `-- strata:no-transaction` at the top of the file"
    } else {
        ""
    }
}

impl DatabaseError {
    /// Whether the database refused a statement because it ran inside a
    /// transaction (PostgreSQL's SQLSTATE 25001 and 2D000; SQLite's
    /// "cannot … within a transaction").
    fn needs_no_transaction(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => e.to_string().contains("within a transaction"),
            #[cfg(feature = "postgres")]
            DatabaseError::Postgres(ref e) => matches!(
                e.code().map(postgres::error::SqlState::code),
                Some("25001" | "2D000")
            ),
        }
    }

    /// Whether the database refused to create something because it is
    /// there already (SQLite's "already exists" and "duplicate column";
    /// PostgreSQL's duplicate_table, duplicate_object, duplicate_schema,
    /// duplicate_function and duplicate_column).
    pub(crate) fn is_already_there(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => {
                let text = e.to_string();
                text.contains("already exists") || text.starts_with("duplicate column name")
            }
            #[cfg(feature = "postgres")]
            DatabaseError::Postgres(ref e) => matches!(
                e.code().map(postgres::error::SqlState::code),
                Some("42P07" | "42710" | "42P06" | "42723" | "42701")
            ),
        }
    }

    /// Whether the server gave up waiting for a lock (PostgreSQL's
    /// SQLSTATE 55P03, lock_not_available).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn is_lock_not_available(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            DatabaseError::Postgres(ref e) => {
                e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
            }
        }
    }

    /// Whether the server refused for want of a privilege (PostgreSQL's
    /// SQLSTATE 42501).
    fn is_insufficient_privilege(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            DatabaseError::Postgres(ref e) => {
                e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
            }
        }
    }
}

/// The two ways to record a dirty migration's state after a repair: by
/// what the database holds now, applied in full or not at all.
fn force_choices(version: u64, previous: Option<u64>, direction: Direction) -> String {
    let previous = previous.map_or_else(|| "none".to_owned(), |v| v.to_string());
    match direction {
        Direction::Up => format!(
            "`strata force {version}` if the migration is now applied in full, `strata force {previous}` if none of it is"
        ),
        Direction::Down => format!(
            "`strata force {previous}` if the migration is now reverted in full, `strata force {version}` if none of it is"
        ),
    }
}

/// What a failed no-transaction file may have left in the database.
fn left_behind(file: &str, completed: bool, direction: Direction) -> String {
    if completed {
        return format!(
            "{file} ran to its end outside a transaction (`-- strata:no-transaction`), but strata could not record that it did"
        );
    }
    let example = match direction {
        Direction::Up => {
            "a table it created or, on PostgreSQL, an INVALID index left by a failed CREATE INDEX CONCURRENTLY"
        }
        Direction::Down => "a table it dropped while others are still there",
    };
    format!(
        "{file} runs outside a transaction (`-- strata:no-transaction`), so what it committed before the failure stays in the database, such as {example}"
    )
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// One problem as it is; several under a line that counts them.
fn folder_problems(folder: &str, problems: &[Problem]) -> String {
    match problems {
        [one] => one.to_string(),
        _ => {
            let list: String = problems.iter().map(|p| format!("\n  {p}")).collect();
            format!(
                "{} in migrations folder {folder}:{list}",
                count(problems.len(), "problem")
            )
        }
    }
}

fn list_inline(violations: &[ForeignKeyViolation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
