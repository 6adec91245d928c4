//! Everything that can be wrong with a migrations folder.

use core::fmt;

use super::sql::Refusal;

/// A problem with a migrations folder or one of its files.
///
/// The macro turns each one into a compile error and the CLI prints each
/// one; both get every problem of a folder at once. Files are named as the
/// user wrote the folder (`migrations/000003_add_role.down.sql`), and each
/// message ends with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The folder does not exist.
    MissingFolder {
        /// The folder as written.
        dir: String,
        /// What the folder is relative to, in words, for the message.
        relative_to: String,
    },
    /// The path exists but is not a folder.
    NotAFolder {
        /// The path as written.
        dir: String,
    },
    /// The folder or a file in it could not be read.
    Unreadable {
        /// The folder or file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// A `.sql` file name is not valid UTF-8.
    NameNotUtf8 {
        /// The file, with invalid bytes replaced.
        file: String,
    },
    /// `001_rooms.sql`: a `.sql` file that is neither `.up.sql` nor `.down.sql`.
    NotUpOrDown {
        /// The file.
        file: String,
        /// The name without `.sql`, for the suggested names.
        stem: String,
    },
    /// `1_init.up.txt`, `1_init.down`: a name that golang-migrate runs as a
    /// migration (it takes any extension), with an extension other than
    /// `.sql`.
    WrongExtension {
        /// The file.
        file: String,
        /// The name it should have.
        fixed: String,
    },
    /// `0001-init.up.sql`: a dash between version and name.
    DashSeparator {
        /// The file.
        file: String,
        /// The name it should have.
        fixed: String,
    },
    /// `000001_init.UP.sql`, `000001_init.up.SQL`: the suffixes are lowercase.
    UppercaseSuffix {
        /// The file.
        file: String,
        /// The name it should have.
        fixed: String,
    },
    /// `init.up.sql`: no version in front.
    NoVersion {
        /// The file.
        file: String,
    },
    /// `000001.up.sql`, `000001_.up.sql`: no name after the version.
    NoName {
        /// The file.
        file: String,
    },
    /// `000001init.up.sql` and other names that do not follow the form.
    BadName {
        /// The file.
        file: String,
    },
    /// The version does not fit in a signed 64-bit integer, which is what
    /// SQLite's `INTEGER` and PostgreSQL's `bigint` hold.
    VersionTooLarge {
        /// The file.
        file: String,
        /// The version's digits as written.
        digits: String,
    },
    /// A setting of strata's in the environment cannot be read
    /// (`STRATA_MAX_FILE_SIZE` that is not a number of bytes).
    Setting {
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A `.sql` file name holds a control character (a line break, ESC),
    /// which would be printed raw.
    ControlCharacter {
        /// The file, its control characters escaped (`\n`, `\u{1b}`).
        file: String,
    },
    /// A name of a migration file names something else: a FIFO, a device
    /// or a socket (also through a symbolic link), which strata does not
    /// read.
    NotAFile {
        /// The file.
        file: String,
    },
    /// A migration file larger than the limit (`STRATA_MAX_FILE_SIZE`, by
    /// default 256 MiB).
    TooLarge {
        /// The file.
        file: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The file's content is not valid UTF-8.
    NotUtf8 {
        /// The file.
        file: String,
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// The file holds a NUL byte: SQLite stops reading there, so what
    /// follows would be skipped, and PostgreSQL refuses it.
    NulByte {
        /// The file.
        file: String,
        /// 1-based line of the first NUL byte.
        line: usize,
    },
    /// An up file without its down file.
    MissingDown {
        /// The down file that should exist.
        file: String,
        /// The up file's name.
        up: String,
    },
    /// A down file without its up file.
    MissingUp {
        /// The down file.
        file: String,
        /// The up file that should exist.
        up: String,
    },
    /// Two migrations with one version.
    DuplicateVersion {
        /// The version.
        version: u64,
        /// Every file that claims it.
        files: Vec<String>,
    },
    /// An up and a down file with one version and different names.
    NameMismatch {
        /// The up file.
        up: String,
        /// The down file.
        down: String,
    },
    /// An up file with nothing but blanks and comments.
    EmptyUp {
        /// The file.
        file: String,
    },
    /// A down file with nothing but blanks and comments, not marked irreversible.
    EmptyDown {
        /// The file.
        file: String,
        /// The up file's name.
        up: String,
    },
    /// `-- strata:irreversible` in an up file.
    IrreversibleUp {
        /// The file.
        file: String,
        /// 1-based line of the directive.
        line: usize,
    },
    /// A down file marked irreversible that still holds SQL.
    IrreversibleWithSql {
        /// The file.
        file: String,
        /// 1-based line of the first statement.
        line: usize,
    },
    /// A file marked `-- strata:no-op` that holds SQL.
    NoOpWithSql {
        /// The file.
        file: String,
        /// 1-based line of the first statement.
        line: usize,
    },
    /// A down file marked both `-- strata:no-op` and
    /// `-- strata:irreversible`, which contradict each other.
    NoOpIrreversible {
        /// The file.
        file: String,
        /// 1-based line of the second of the two directives.
        line: usize,
    },
    /// A `-- strata:` comment that names no known directive.
    UnknownDirective {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What follows `strata:`.
        directive: String,
    },
    /// A directive below the first SQL statement.
    DirectiveAfterSql {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What follows `strata:`.
        directive: String,
    },
    /// A statement that cannot do its work inside strata's transaction
    /// (`COMMIT`, `VACUUM`, `CREATE INDEX CONCURRENTLY`, …), in a file that
    /// runs inside one.
    RefusedInTransaction {
        /// The file.
        file: String,
        /// 1-based line where the statement starts.
        line: usize,
        /// The statement, white space folded, cut to about 60 characters.
        statement: String,
        /// Why it is refused.
        refusal: Refusal,
    },
}

const FORM: &str =
    "names are VERSION_NAME.up.sql and VERSION_NAME.down.sql, such as 000001_init.up.sql";

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingFolder { dir, relative_to } => write!(
                f,
                "migrations folder {dir} does not exist (create it, or fix the path: it is relative to {relative_to})"
            ),
            Problem::NotAFolder { dir } => {
                write!(
                    f,
                    "{dir} is not a folder (name the folder that holds the .sql files)"
                )
            }
            Problem::Unreadable { path, reason } => {
                write!(
                    f,
                    "cannot read {path}: {reason} (check that it exists and is readable)"
                )
            }
            Problem::NameNotUtf8 { file } => {
                write!(
                    f,
                    "the name of {file} is not valid UTF-8 (rename it; {FORM})"
                )
            }
            Problem::NotUpOrDown { file, stem } => write!(
                f,
                "{file} is neither an up nor a down file (rename it to {stem}.up.sql and add {stem}.down.sql with the SQL that reverts it)"
            ),
            Problem::WrongExtension { file, fixed } => write!(
                f,
                "{file}: strata runs migration files named .up.sql and .down.sql only (golang-migrate takes other extensions), so this file would be skipped (rename it to {fixed})"
            ),
            Problem::DashSeparator { file, fixed } => write!(
                f,
                "{file}: the version must be followed by an underscore, not a dash (rename it to {fixed})"
            ),
            Problem::UppercaseSuffix { file, fixed } => write!(
                f,
                "{file}: `.up.sql`, `.down.sql` and `.sql` are lowercase, or the file would be skipped (rename it to {fixed})"
            ),
            Problem::NoVersion { file } => {
                write!(f, "{file} has no version in front ({FORM})")
            }
            Problem::NoName { file } => {
                write!(f, "{file} has no name after the version ({FORM})")
            }
            Problem::BadName { file } => {
                write!(f, "{file} is not a migration file name ({FORM})")
            }
            Problem::VersionTooLarge { file, digits } => write!(
                f,
                "{file}: version {digits} is larger than {}, the largest version a database column holds (use a smaller number, such as a 14-digit timestamp)",
                i64::MAX
            ),
            Problem::Setting { reason } => f.write_str(reason),
            Problem::ControlCharacter { file } => write!(
                f,
                "{file} has a control or invisible character in its name (shown escaped here), which strata does not accept (rename the file: names are VERSION_NAME.up.sql and VERSION_NAME.down.sql)"
            ),
            Problem::NotAFile { file } => write!(
                f,
                "{file} is not a regular file (a pipe, device or socket, or a link to one), which strata does not read (put the SQL in a file of that name)"
            ),
            Problem::TooLarge { file, limit } => write!(
                f,
                "{file} is larger than {limit} bytes, the most strata reads (split the migration, or raise the limit with STRATA_MAX_FILE_SIZE=BYTES)"
            ),
            Problem::NotUtf8 { file, line } => write!(
                f,
                "{file} is not valid UTF-8 (line {line}; save the file as UTF-8)"
            ),
            Problem::NulByte { file, line } => write!(
                f,
                "{file}:{line}: the file holds a NUL byte, where SQLite would stop reading and PostgreSQL refuses the file (remove it; write `char(0)` or `'\\x00'::bytea` for a zero value)"
            ),
            Problem::MissingDown { file, up } => write!(
                f,
                "missing down file {file} (write the SQL that reverts {up}, or put `-- strata:irreversible` in it)"
            ),
            Problem::MissingUp { file, up } => write!(
                f,
                "{file} has no up file (add {up} with the migration, or delete the down file)"
            ),
            Problem::DuplicateVersion { version, files } => write!(
                f,
                "version {version} is used more than once: {} (give each migration its own version)",
                files.join(", ")
            ),
            Problem::NameMismatch { up, down } => write!(
                f,
                "{up} and {down} share a version but not a name (rename one of them so that both names match)"
            ),
            Problem::EmptyUp { file } => write!(
                f,
                "{file} has no SQL, only blanks and comments (write the migration; if it is meant to do nothing, as golang-migrate runs an empty file, put `-- strata:no-op` in it)"
            ),
            Problem::EmptyDown { file, up } => write!(
                f,
                "{file} has no SQL, only blanks and comments (write the SQL that reverts {up}; put `-- strata:irreversible` in it if {up} cannot be reverted, or `-- strata:no-op` if reverting it needs no SQL)"
            ),
            Problem::IrreversibleUp { file, line } => write!(
                f,
                "{file}:{line}: `-- strata:irreversible` belongs in the down file (move it there)"
            ),
            Problem::IrreversibleWithSql { file, line } => write!(
                f,
                "{file}:{line}: a down file marked `-- strata:irreversible` must hold no SQL (remove the SQL, or remove the directive)"
            ),
            Problem::NoOpWithSql { file, line } => write!(
                f,
                "{file}:{line}: a file marked `-- strata:no-op` must hold no SQL (remove the SQL, or remove the directive)"
            ),
            Problem::NoOpIrreversible { file, line } => write!(
                f,
                "{file}:{line}: `-- strata:no-op` (reverting needs no SQL) and `-- strata:irreversible` (it cannot be reverted) contradict each other (keep the one that is true)"
            ),
            Problem::UnknownDirective {
                file,
                line,
                directive,
            } => write!(
                f,
                "{file}:{line}: unknown directive `-- strata:{}` (the directives are `-- strata:no-transaction`, `-- strata:irreversible` and `-- strata:no-op`)",
                super::sql::shown(directive)
            ),
            Problem::DirectiveAfterSql {
                file,
                line,
                directive,
            } => write!(
                f,
                "{file}:{line}: `-- strata:{}` comes after SQL (move it to the top of the file, above the first statement)",
                super::sql::shown(directive)
            ),
            Problem::RefusedInTransaction {
                file,
                line,
                statement,
                refusal,
            } => write!(f, "{file}:{line}: `{statement}` {}", refusal_hint(*refusal)),
        }
    }
}

impl std::error::Error for Problem {}

/// What a refused statement means for a migration run inside a transaction,
/// and what to do: the text after the statement, shared by the build-time
/// problem and the run-time error.
pub fn refusal_hint(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::TransactionControl => {
            "begins, ends or nests a transaction, but strata runs this migration inside its own (remove it, or put `-- strata:no-transaction` at the top of the file to run the file without one)"
        }
        Refusal::NotInTransaction => {
            "cannot run inside a transaction, and strata runs this migration inside one (put `-- strata:no-transaction` at the top of the file, ideally with this statement alone in its migration: a file run without a transaction that fails halfway stays half-applied)"
        }
        Refusal::IgnoredInTransaction => {
            "does nothing inside a transaction, so the migration would be recorded as applied without its effect (for foreign keys, remove it: strata switches them off around each migration and checks them before commit; a connection setting belongs where the application opens its connection; to run it anyway, put `-- strata:no-transaction` at the top of the file)"
        }
    }
}
