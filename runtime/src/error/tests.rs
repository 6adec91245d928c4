//! The message of every error variant, as a user reads it. (A unit test:
//! the variants are `#[non_exhaustive]`, so only this crate builds them.)

use std::time::Duration;

use crate::source::Problem;
use crate::{Checksum, Direction, Error, ForeignKeyViolation, ForeignTable, Refusal};

fn checksum(text: &str) -> Checksum {
    Checksum::of_sql(text)
}

#[test]
fn every_error_says_what_happened_and_what_to_do() {
    let a = checksum("a");
    let b = checksum("b");
    let cases: Vec<(Error, String)> = vec![
        (
            Error::InvalidFolder {
                folder: "migrations".into(),
                problems: vec![Problem::EmptyUp { file: "migrations/1_a.up.sql".into() }],
            },
            "migrations/1_a.up.sql has no SQL, only blanks and comments (write the migration; if it is meant to do nothing, as golang-migrate runs an empty file, put `-- strata:no-op` in it)".into(),
        ),
        (
            Error::InvalidFolder {
                folder: "migrations".into(),
                problems: vec![
                    Problem::EmptyUp { file: "migrations/1_a.up.sql".into() },
                    Problem::NoVersion { file: "migrations/a.up.sql".into() },
                ],
            },
            "2 problems in migrations folder migrations:\n  migrations/1_a.up.sql has no SQL, only blanks and comments (write the migration; if it is meant to do nothing, as golang-migrate runs an empty file, put `-- strata:no-op` in it)\n  migrations/a.up.sql has no version in front (names are VERSION_NAME.up.sql and VERSION_NAME.down.sql, such as 000001_init.up.sql)".into(),
        ),
        (
            Error::Storage {
                path: "app.db".into(),
                fault: crate::StorageFault::ReadOnly,
                version: None,
                file: None,
                cause: None,
            },
            "database app.db is read-only, so strata cannot change it (open it read-write, or check the file's permissions)".into(),
        ),
        (
            Error::Storage {
                path: "app.db".into(),
                fault: crate::StorageFault::FolderNotWritable,
                version: Some(3),
                file: Some("migrations/3_a.up.sql".into()),
                cause: None,
            },
            "migrations/3_a.up.sql: database app.db cannot be written because its folder is not writable, and SQLite creates its journal beside the file (make the folder writable for this user)".into(),
        ),
        (
            Error::Storage {
                path: "the PostgreSQL database".into(),
                fault: crate::StorageFault::ReadOnly,
                version: None,
                file: None,
                cause: None,
            },
            "the PostgreSQL database is read-only, so strata cannot change it (open it read-write, or check the file's permissions)".into(),
        ),
        (
            Error::Storage {
                path: "app.db".into(),
                fault: crate::StorageFault::DiskFull,
                version: Some(3),
                file: Some("migrations/3_a.up.sql".into()),
                cause: None,
            },
            "migrations/3_a.up.sql: database app.db could not grow: the disk is full, or the database reached its max_page_count (free space, then run again; what failed was rolled back)".into(),
        ),
        (
            Error::Storage {
                path: "app.db".into(),
                fault: crate::StorageFault::Io,
                version: None,
                file: None,
                cause: None,
            },
            "database app.db could not be read or written: the operating system reported an I/O error (check the disk)".into(),
        ),
        (
            Error::DryRunFailed {
                cause: Box::new(Error::InTransaction),
                sequences_advanced: Vec::new(),
            },
            format!("{}\n(dry run: its rollback does not undo sequences, and these moved while it ran: )", Error::InTransaction),
        ),
        (
            Error::InProgress { version: 4, name: "index".into() },
            "migration 4 (index) is being run outside a transaction (applied or reverted) by another process that is still running; wait for it to finish, then run again (do not force it: that process is still changing the database)".into(),
        ),
        (
            Error::LockFile {
                path: "app.db-strata-lock".into(),
                cause: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            },
            "cannot use the lock file app.db-strata-lock that strata holds while it changes the database (folders with no-transaction migrations need it): permission denied (make the database's folder writable, or remove what is at that path)".into(),
        ),
        (
            Error::SplitDisagrees {
                version: 3,
                file: "migrations/3_a.up.sql".into(),
                server: 4,
                strata: 3,
            },
            "migrations/3_a.up.sql: PostgreSQL ran 4 statements where strata read 3, so strata rolled the migration back (strata reads this SQL otherwise than the server: please report the file to strata)".into(),
        ),
        (
            Error::NotADatabase { path: "app.db".into() },
            "app.db is not a SQLite database (check the path: it names a file of another kind, or an encrypted one)".into(),
        ),
        (
            Error::ReadOnly { path: "app.db".into(), pending: 2 },
            "database app.db is read-only, and 2 migrations would change it (open it read-write, or check the file's permissions)".into(),
        ),
        (
            Error::Locked { waited: Duration::from_secs(60) },
            "the database stayed locked by another connection for 60.0s (another process may be migrating it or holding a long write; try again, or raise the runner's lock_timeout)".into(),
        ),
        (
            Error::InTransaction,
            "the connection is inside a transaction (run migrations outside of it: strata opens its own transactions)".into(),
        ),
        (
            Error::ForeignHistoryTable {
                table: "schema_migrations".into(),
                columns: vec!["version".into(), "dirty".into()],
                kind: ForeignTable::GolangMigrate,
            },
            "table schema_migrations exists but is not a strata history table (its columns: version, dirty); it looks like golang-migrate's history table: convert it into strata's, keeping every recorded version, with adopt (`strata adopt`, or Runner::adopt)".into(),
        ),
        (
            Error::ForeignHistoryTable {
                table: "schema_migrations".into(),
                columns: vec!["id".into()],
                kind: ForeignTable::Other,
            },
            "table schema_migrations exists but is not a strata history table (its columns: id); strata leaves it as it is: rename or drop schema_migrations if it is not needed, or give strata another table name".into(),
        ),
        (
            Error::CorruptHistory {
                table: "schema_migrations".into(),
                version: 3,
                column: "checksum",
                value: "xyz".into(),
            },
            "history table schema_migrations has an unreadable checksum for version 3: \"xyz\" (was the row written by hand? restore it from a backup, or fix the value)".into(),
        ),
        (
            Error::ChecksumMismatch {
                version: 3,
                file: "migrations/000003_role.up.sql".into(),
                applied: a,
                current: b,
            },
            format!("migration 3 (migrations/000003_role.up.sql) was changed after it was applied: the database recorded checksum {a}, the file now has {b} (undo the edit and put the change in a new migration)"),
        ),
        (
            Error::MissingMigration { version: 4, name: Some("role".into()), folder: "migrations".into(), allow_newer_helps: true },
            "version 4 (role) is applied in the database but has no files in migrations (the database is ahead of this build: deploy the build that has it, or restore its files; in a rolling deploy, where a newer build migrated first, this build may run beside it: `strata up --allow-newer`, Runner::allow_newer)".into(),
        ),
        (
            Error::MissingMigration { version: 12, name: None, folder: "migrations".into(), allow_newer_helps: false },
            "version 12 (name unknown) is applied in the database but has no files in migrations (the database is ahead of this build: deploy the build that has it, or restore its files)".into(),
        ),
        (
            Error::NotApplied { version: 4, file: "migrations/4_late.down.sql".into() },
            "version 4 is not applied, so there is nothing to revert (migrations/4_late.down.sql was not run)".into(),
        ),
        (
            Error::NoTransactionRevertBelow { version: 2, file: "migrations/2_index.down.sql".into(), newest_applied: 3 },
            "migrations/2_index.down.sql runs outside a transaction (`-- strata:no-transaction`), and version 3 above it would stay applied; such a down cannot run below an applied version, because a failure would leave a dirty version below applied ones that force cannot clear (first revert what is applied above it, up to version 3; or move below 2 with `strata goto`, Runner::goto)".into(),
        ),
        (
            Error::OutOfOrder { version: 2, file: "migrations/2_b.up.sql".into(), newest_applied: 3 },
            "migration 2 (migrations/2_b.up.sql) is pending but version 3 is already applied (a new migration: give it a version above 3; one that must run below it, as after a late merge or `down --only`, once you have checked that it does not depend on what came later: allow_out_of_order, `--allow-out-of-order`)".into(),
        ),
        (
            Error::Dirty { version: 5, name: "index".into(), previous: Some(4) },
            "migration 5 (index) is marked dirty: it runs outside a transaction and began but did not finish, so the database may hold part of it (repair the database by hand, then record where it is: `strata force 5` if the migration is now applied in full, `strata force 4` if none of it is; the same after a down that failed)".into(),
        ),
        (
            Error::Dirty { version: 1, name: "init".into(), previous: None },
            "migration 1 (init) is marked dirty: it runs outside a transaction and began but did not finish, so the database may hold part of it (repair the database by hand, then record where it is: `strata force 1` if the migration is now applied in full, `strata force none` if none of it is; the same after a down that failed)".into(),
        ),
        (
            Error::Statement {
                version: 2,
                file: "migrations/2_b.up.sql".into(),
                line: Some(7),
                statement: Some("SELECT x FROM t;".into()),
                in_transaction: true,
                cause: rusqlite::Error::InvalidQuery.into(),
            },
            "migrations/2_b.up.sql:7: Query is not read-only (in `SELECT x FROM t;`)".into(),
        ),
        (
            Error::Statement {
                version: 2,
                file: "migrations/2_b.up.sql".into(),
                line: None,
                statement: None,
                in_transaction: false,
                cause: rusqlite::Error::InvalidQuery.into(),
            },
            "migrations/2_b.up.sql: Query is not read-only".into(),
        ),
        (
            Error::TransactionControl { version: 2, file: "migrations/2_b.up.sql".into(), line: Some(3) },
            "migrations/2_b.up.sql:3: the statement begins, ends or nests a transaction, but strata runs this migration inside its own (remove it, or put `-- strata:no-transaction` at the top of the file)".into(),
        ),
        (
            Error::TransactionControl { version: 2, file: "migrations/2_b.up.sql".into(), line: None },
            "migrations/2_b.up.sql: the statement begins, ends or nests a transaction, but strata runs this migration inside its own (remove it, or put `-- strata:no-transaction` at the top of the file)".into(),
        ),
        (
            Error::RefusedInTransaction {
                version: 2,
                file: "migrations/2_b.up.sql".into(),
                line: 4,
                statement: "VACUUM;".into(),
                refusal: Refusal::NotInTransaction,
            },
            "migrations/2_b.up.sql:4: `VACUUM;` cannot run inside a transaction, and strata runs this migration inside one (put `-- strata:no-transaction` at the top of the file, ideally with this statement alone in its migration: a file run without a transaction that fails halfway stays half-applied)".into(),
        ),
        (
            Error::RefusedInTransaction {
                version: 2,
                file: "migrations/2_b.up.sql".into(),
                line: 1,
                statement: "PRAGMA foreign_keys = OFF;".into(),
                refusal: Refusal::IgnoredInTransaction,
            },
            "migrations/2_b.up.sql:1: `PRAGMA foreign_keys = OFF;` does nothing inside a transaction, so the migration would be recorded as applied without its effect (for foreign keys, remove it: strata switches them off around each migration and checks them before commit; a connection setting belongs where the application opens its connection; to run it anyway, put `-- strata:no-transaction` at the top of the file)".into(),
        ),
        (
            Error::ForeignKeyViolation {
                version: 2,
                file: "migrations/2_b.up.sql".into(),
                rows: 1,
                violations: vec![ForeignKeyViolation { table: "messages".into(), rowid: Some(9), parent: "sessions".into() }],
            },
            "migrations/2_b.up.sql would leave 1 row with a broken foreign key, so it was rolled back: messages row 9 -> sessions (fix the data in the migration, for example by deleting or updating those rows first)".into(),
        ),
        (
            Error::ForeignKeyViolation {
                version: 2,
                file: "migrations/2_b.up.sql".into(),
                rows: 950,
                violations: vec![
                    ForeignKeyViolation { table: "messages".into(), rowid: Some(9), parent: "sessions".into() },
                    ForeignKeyViolation { table: "messages".into(), rowid: None, parent: "sessions".into() },
                ],
            },
            "migrations/2_b.up.sql would leave 950 rows with a broken foreign key, so it was rolled back: messages row 9 -> sessions, messages (a row) -> sessions and 948 more (fix the data in the migration, for example by deleting or updating those rows first)".into(),
        ),
        (
            Error::LeftDirty {
                version: 4,
                file: "migrations/4_index.up.sql".into(),
                direction: Direction::Up,
                previous: Some(3),
                file_completed: false,
                cause: Box::new(Error::TransactionLeftOpen { version: 4, file: "migrations/4_index.up.sql".into() }),
            },
            "migrations/4_index.up.sql began a transaction and did not commit it, so strata rolled that transaction back (add the missing COMMIT to the file); version 4 is now marked dirty: migrations/4_index.up.sql runs outside a transaction (`-- strata:no-transaction`), so what it committed before the failure stays in the database, such as a table it created or, on PostgreSQL, an INVALID index left by a failed CREATE INDEX CONCURRENTLY (repair the database by hand, then record where it is: `strata force 4` if the migration is now applied in full, `strata force 3` if none of it is)".into(),
        ),
        (
            Error::LeftDirty {
                version: 1,
                file: "migrations/1_a.down.sql".into(),
                direction: Direction::Down,
                previous: None,
                file_completed: true,
                cause: Box::new(Error::LockReleased),
            },
            "a migration released strata's advisory lock (`DISCARD ALL` or `pg_advisory_unlock_all()`, in the file or in a function it called), so what ran after it ran without the lock and another process could have migrated this database at the same time (look at the status once no other process runs; then remove that statement: `DISCARD PLANS`, `DISCARD SEQUENCES`, `DISCARD TEMP` and `RESET ALL` keep the lock); version 1 is now marked dirty: migrations/1_a.down.sql ran to its end outside a transaction (`-- strata:no-transaction`), but strata could not record that it did (repair the database by hand, then record where it is: `strata force none` if the migration is now reverted in full, `strata force 1` if none of it is)".into(),
        ),
        (
            Error::SettingKept {
                setting: "session_replication_role".into(),
                value: "origin".into(),
                cause: crate::DatabaseError::Sqlite(Box::new(rusqlite::Error::InvalidQuery)),
            },
            "a migration changed the setting session_replication_role for the session, and strata could not put it back to \"origin\": Query is not read-only (change it with SET LOCAL inside the migration, or put it back at the end of the file)".into(),
        ),
        (
            Error::NoSchema { table: "schema_migrations".into() },
            "the connection's search_path names no schema that exists, so strata cannot tell where the history table schema_migrations belongs (name its schema: `Runner::table(\"app.schema_migrations\")`, `--table app.schema_migrations`; or set the search_path on the connection)".into(),
        ),
        (
            Error::NoTransactionOutOfOrder { version: 2, file: "migrations/2_index.up.sql".into(), newest_applied: 3 },
            "migrations/2_index.up.sql runs outside a transaction (`-- strata:no-transaction`) and is pending below version 3, which is applied; such a migration cannot run out of order, because a failure would leave a dirty version below applied ones that force cannot clear (give it a version above 3)".into(),
        ),
        (
            Error::NoTransactionInSingleTransaction { version: 4, file: "migrations/4_vacuum.up.sql".into() },
            "migrations/4_vacuum.up.sql runs outside a transaction (`-- strata:no-transaction`), so the pending migrations cannot all run in one transaction (run without single_transaction, `--single-transaction`)".into(),
        ),
        (
            Error::UnknownVersion { version: 9, folder: "migrations".into() },
            "there is no migration with version 9 in migrations (name a version that the folder has)".into(),
        ),
        (
            Error::Irreversible { version: 3, file: "migrations/3_drop.down.sql".into() },
            "migrations/3_drop.down.sql is marked `-- strata:irreversible`, so version 3 cannot be reverted (nothing was reverted; a down must stop above version 3)".into(),
        ),
        (
            Error::HistoryExists { table: "schema_migrations".into(), newest: 4 },
            "history table schema_migrations already records migrations, up to version 4 (baseline is for a database without history; to correct recorded state use force)".into(),
        ),
        (
            Error::AdoptDirty { table: "schema_migrations".into(), version: Some(5) },
            "schema_migrations records version 5 as dirty: a migration of the other tool failed halfway (repair the database by hand, then adopt it saying which version it is at: `strata adopt --force-version V`, or Runner::adopt_forced; V is the newest migration now applied in full, or none)".into(),
        ),
        (
            Error::AdoptDirty { table: "schema_migrations".into(), version: None },
            "schema_migrations records golang-migrate's \"no version\" (-1, before its first migration) as dirty: a migration of the other tool failed halfway (repair the database by hand, then adopt it saying which version it is at: `strata adopt --force-version V`, or Runner::adopt_forced; V is the newest migration now applied in full, or none)".into(),
        ),
        (
            Error::NothingToAdopt { table: "schema_migrations".into() },
            "there is no history table schema_migrations to adopt (for a database that has tables but no history, record its state with baseline)".into(),
        ),
        (
            Error::HistoryChanged,
            "the history changed while strata was reverting migrations (another process migrated this database at the same time); look at the status and run the command again".into(),
        ),
        (
            Error::from(rusqlite::Error::InvalidQuery),
            "database error: Query is not read-only".into(),
        ),
        (
            Error::HistoryTable {
                table: "app.schema_migrations".into(),
                version: 3,
                file: "migrations/000003_clean.up.sql".into(),
                in_transaction: true,
                cause: Box::new(Error::from(rusqlite::Error::InvalidQuery)),
            },
            "migration 3 (migrations/000003_clean.up.sql) ran, but then strata could not write its row in the history table app.schema_migrations: database error: Query is not read-only (the migration was rolled back with it; a migration must leave the history table, its schema and the right to write it as they were)".into(),
        ),
        (
            Error::HistoryTableElsewhere {
                table: "schema_migrations".into(),
                current: "app".into(),
                found: "public".into(),
            },
            "the history table schema_migrations is in schema public, but the current schema is app (the first of the connection's search_path that exists; it changed since the history began, by ALTER DATABASE ... SET search_path, ALTER ROLE, or a new schema named like the role): strata keeps one history, so name its schema (`--table public.schema_migrations`, `Runner::table(\"public.schema_migrations\")`) or set the search_path back".into(),
        ),
        (
            Error::VerifyNeedsScratchDatabase {
                version: 2,
                file: "migrations/000002_index.up.sql".into(),
                new_enum_value: false,
            },
            "migration 2 (migrations/000002_index.up.sql) runs outside a transaction, which verify cannot roll back, so verify needs a scratch database where each migration commits (`Migrations::verify_postgres_scratch(&config, tls)`; `strata verify` uses one when the role may create databases)".into(),
        ),
        (
            Error::VerifyNeedsScratchDatabase {
                version: 3,
                file: "migrations/000003_use.up.sql".into(),
                new_enum_value: true,
            },
            "migration 3 (migrations/000003_use.up.sql) uses an enum value added in the one transaction verify ran the folder in, which PostgreSQL allows only after a commit, so verify needs a scratch database where each migration commits (`Migrations::verify_postgres_scratch(&config, tls)`; `strata verify` uses one when the role may create databases)".into(),
        ),
        (
            Error::VerifyNeedsEmptyDatabase {
                path: "app.db".into(),
                found: vec![
                    "is a file on disk, which another connection may use".into(),
                    "holds table users".into(),
                ],
            },
            "verify runs the migrations in a new in-memory database, which it empties again afterwards, and app.db is a file on disk, which another connection may use, and holds table users (pass a connection from `rusqlite::Connection::open_in_memory()`, with the SQL functions your migrations use registered on it)".into(),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(error.to_string(), expected, "{error:?}");
    }
}
