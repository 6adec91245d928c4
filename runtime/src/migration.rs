//! `Migration` and `Migrations`: the vocabulary shared by the macro, the
//! planner and the backends.

use std::borrow::Cow;
use std::path::Path;

use crate::source::{self, Direction};
use crate::{Checksum, Error};

/// One migration: a version, a name, the SQL of its up and down files, and
/// the checksums that strata computed from them.
///
/// Built by [`embed_migrations!`](../strata/macro.embed_migrations.html) at
/// compile time, by [`Migrations::from_dir`] at run time, or in code by
/// [`Migration::new`]. In a [`Migrations`] set, the files passed the rules
/// of a folder (a set built in code: all but the statements refused inside
/// a transaction, which are refused when they run).
#[derive(Debug, Clone)]
pub struct Migration {
    version: u64,
    stem: Cow<'static, str>,
    up: Cow<'static, str>,
    down: Cow<'static, str>,
    checksum: Checksum,
    chain: Checksum,
    flags: u8,
}

use crate::source::flags::{DOWN_NO_TRANSACTION, IRREVERSIBLE, UP_NO_TRANSACTION};

impl Migration {
    /// A migration built in code, as a folder would hold it in
    /// `{version}_{name}.up.sql` and `{version}_{name}.down.sql`: for a
    /// set of migrations made some other way than from a folder, and for
    /// tests. Its directives (`-- strata:no-transaction`,
    /// `-- strata:irreversible`) are read from the SQL, and its checksum
    /// computed, as for a file; [`Migrations::new`] checks the files as a
    /// folder's and chains the set.
    ///
    /// ```
    /// let m = strata_runtime::Migration::new(1, "init", "CREATE TABLE t (id INTEGER);", "DROP TABLE t;");
    /// assert_eq!(m.stem(), "1_init");
    /// assert_eq!(m.checksum(), strata_runtime::Checksum::of_sql("CREATE TABLE t (id INTEGER);"));
    /// ```
    pub fn new(
        version: u64,
        name: &str,
        up: impl Into<Cow<'static, str>>,
        down: impl Into<Cow<'static, str>>,
    ) -> Self {
        let (up, down) = (up.into(), down.into());
        let stem = format!("{version}_{name}");
        // Problems are the folder rules' business; `Migrations::new` checks
        // what it must, and the database judges the SQL when it runs.
        let mut ignored = Vec::new();
        let read = |sql: &str, direction: Direction, ignored: &mut Vec<source::Problem>| {
            let file = format!("{stem}{}", direction.suffix());
            source::check_sql(sql, &file, direction, &format!("{stem}.up.sql"), ignored)
        };
        let up_directives = read(&up, Direction::Up, &mut ignored);
        let down_directives = read(&down, Direction::Down, &mut ignored);
        let mut flags = 0;
        if up_directives.no_transaction {
            flags |= UP_NO_TRANSACTION;
        }
        if down_directives.no_transaction {
            flags |= DOWN_NO_TRANSACTION;
        }
        if down_directives.irreversible {
            flags |= IRREVERSIBLE;
        }
        Migration {
            version,
            checksum: Checksum::of_sql(&up),
            chain: Checksum::ZERO,
            stem: Cow::Owned(stem),
            up,
            down,
            flags,
        }
    }

    fn from_folder(m: source::FolderMigration) -> Self {
        let flags = m.flags();
        Migration {
            version: m.version,
            stem: Cow::Owned(m.stem),
            up: Cow::Owned(m.up.sql),
            down: Cow::Owned(m.down.sql),
            checksum: m.checksum,
            chain: m.chain,
            flags,
        }
    }

    /// The version, from the leading digits of the file names.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The name: what follows the version and the underscore.
    pub fn name(&self) -> &str {
        self.stem
            .split_once('_')
            .map_or(&*self.stem, |(_, name)| name)
    }

    /// `VERSION_NAME`, as in the file names (`000003_add_role`).
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// The file name of the up or down half (`000003_add_role.up.sql`).
    pub fn file_name(&self, direction: Direction) -> String {
        format!("{}{}", self.stem, direction.suffix())
    }

    /// The SQL of the up file, without a leading byte-order mark.
    pub fn up_sql(&self) -> &str {
        strip_bom(&self.up)
    }

    /// The SQL of the down file, without a leading byte-order mark.
    pub fn down_sql(&self) -> &str {
        strip_bom(&self.down)
    }

    /// The SQL of one direction.
    pub fn sql(&self, direction: Direction) -> &str {
        match direction {
            Direction::Up => self.up_sql(),
            Direction::Down => self.down_sql(),
        }
    }

    /// The SHA-256 checksum of the up file (see [`Checksum::of_sql`]).
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// The chain value up to and including this migration: what the history
    /// row of this version holds when exactly the migrations before it, none
    /// edited, were applied.
    pub fn chain(&self) -> Checksum {
        self.chain
    }

    /// Whether the file of `direction` runs outside a transaction
    /// (`-- strata:no-transaction`).
    pub fn no_transaction(&self, direction: Direction) -> bool {
        let flag = match direction {
            Direction::Up => UP_NO_TRANSACTION,
            Direction::Down => DOWN_NO_TRANSACTION,
        };
        self.flags & flag != 0
    }

    /// Whether the down file says `-- strata:irreversible`.
    pub fn irreversible(&self) -> bool {
        self.flags & IRREVERSIBLE != 0
    }
}

fn strip_bom(sql: &str) -> &str {
    sql.strip_prefix('\u{feff}').unwrap_or(sql)
}

/// A checked, ordered set of migrations: what `embed_migrations!` produces
/// at build time, [`Migrations::from_dir`] at run time, or
/// [`Migrations::new`] from migrations built in code.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("000001_init.up.sql"), "CREATE TABLE t (id INTEGER);")?;
/// std::fs::write(dir.path().join("000001_init.down.sql"), "DROP TABLE t;")?;
/// let migrations = strata_runtime::Migrations::from_dir(dir.path())?;
/// assert_eq!(migrations.len(), 1);
/// assert_eq!(migrations.as_slice()[0].name(), "init");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrations {
    folder: Cow<'static, str>,
    list: Cow<'static, [Migration]>,
    /// Whether a file of a migration runs outside a transaction, known
    /// once, so that no operation scans the list for it (the startup check
    /// stays flat in the number of migrations).
    outside_transaction: bool,
}

impl Migrations {
    /// A set of migrations built in code (see [`Migration::new`]), in any
    /// order. `folder` is how messages name their files
    /// (`{folder}/{version}_{name}.up.sql`).
    ///
    /// ```
    /// use strata_runtime::{Migration, Migrations};
    ///
    /// let migrations = Migrations::new("in_code", [
    ///     Migration::new(2, "add_email", "ALTER TABLE users ADD email TEXT;", "ALTER TABLE users DROP email;"),
    ///     Migration::new(1, "users", "CREATE TABLE users (id INTEGER);", "DROP TABLE users;"),
    /// ])?;
    /// assert_eq!(migrations.as_slice()[0].version(), 1);
    /// # Ok::<(), strata_runtime::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFolder`] with every problem that a folder holding
    /// these files would have, as the macro names them: a name a file
    /// could not have (a version above `i64::MAX`, an empty name, a path
    /// separator or a control character in it), a version given twice,
    /// and what the files' directives and content break (a mistyped
    /// directive, an empty up file, an irreversible down file with SQL,
    /// ...). Statements refused inside a transaction are the exception:
    /// they are refused when the migration runs, in the database's own
    /// dialect, naming the file (as for a set read from a folder, which
    /// the backend checks again).
    pub fn new(
        folder: impl Into<Cow<'static, str>>,
        migrations: impl IntoIterator<Item = Migration>,
    ) -> Result<Self, Error> {
        let folder: Cow<'static, str> = Cow::Owned(source::shown_folder(&folder.into()));
        let mut list: Vec<Migration> = migrations.into_iter().collect();
        list.sort_by_key(|m| m.version);
        let mut problems = Vec::new();
        for m in &list {
            let file = m.file_name(Direction::Up);
            let shown = format!("{folder}/{}", source::sql::shown(&file));
            if m.name().chars().any(source::sql::is_hidden) {
                problems.push(source::Problem::ControlCharacter { file: shown });
                continue;
            }
            // A folder holds files, not paths.
            let one_file = !m.name().contains(['/', '\\']);
            match source::parse_file_name(&file, &shown) {
                Ok(Some(name)) if one_file && name.stem == m.stem() => {}
                Ok(_) => problems.push(source::Problem::BadName { file: shown }),
                Err(problem) => problems.push(problem),
            }
            for direction in [Direction::Up, Direction::Down] {
                let mut found = Vec::new();
                let path = format!("{folder}/{}", m.file_name(direction));
                source::check_sql(m.sql(direction), &path, direction, &file, &mut found);
                problems.extend(
                    found
                        .into_iter()
                        .filter(|p| !matches!(p, source::Problem::RefusedInTransaction { .. })),
                );
            }
        }
        for same in list.chunk_by(|a, b| a.version == b.version) {
            if let [first, _, ..] = same {
                problems.push(source::Problem::DuplicateVersion {
                    version: first.version,
                    files: same
                        .iter()
                        .map(|m| format!("{folder}/{}", m.file_name(Direction::Up)))
                        .collect(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidFolder {
                folder: folder.into_owned(),
                problems,
            });
        }
        let mut chain = Checksum::ZERO;
        for m in &mut list {
            chain = chain.chain(m.version, &m.checksum);
            m.chain = chain;
        }
        Ok(Migrations {
            folder,
            outside_transaction: outside_transaction(&list),
            list: Cow::Owned(list),
        })
    }

    /// Reads and checks a migrations folder at run time, with the same rules
    /// and messages as `embed_migrations!` at build time. `dir` is resolved
    /// against the current directory and named as written in messages.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFolder`], listing every problem of every file (as
    /// the macro's compile errors would).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let written = dir.to_string_lossy();
        let folder = source::scan(Path::new("."), &written, "the current directory").map_err(
            |problems| Error::InvalidFolder {
                folder: source::shown_folder(&written),
                problems,
            },
        )?;
        let list: Vec<Migration> = folder
            .migrations
            .into_iter()
            .map(Migration::from_folder)
            .collect();
        Ok(Migrations {
            folder: Cow::Owned(folder.shown),
            outside_transaction: outside_transaction(&list),
            list: Cow::Owned(list),
        })
    }

    /// Whether a file of a migration runs outside a transaction
    /// (`-- strata:no-transaction`), without a scan.
    pub(crate) fn any_outside_transaction(&self) -> bool {
        self.outside_transaction
    }

    /// The folder as written in the macro call or to `from_dir`, used to
    /// name files in messages (`migrations`).
    pub fn folder(&self) -> &str {
        &self.folder
    }

    /// The migrations in ascending order of version.
    pub fn as_slice(&self) -> &[Migration] {
        &self.list
    }

    /// Iterates over the migrations in ascending order of version.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.list.iter()
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The migration with this version.
    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.index_of(version).map(|i| &self.list[i])
    }

    pub(crate) fn index_of(&self, version: u64) -> Option<usize> {
        self.list.binary_search_by_key(&version, |m| m.version).ok()
    }

    /// The path of a migration's file as messages show it
    /// (`migrations/000003_add_role.up.sql`).
    pub fn file_path(&self, migration: &Migration, direction: Direction) -> String {
        format!("{}/{}", self.folder, migration.file_name(direction))
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The constant a migration of `embed_migrations!`'s expansion is: the
/// files checked and checksummed at build time.
pub const fn embedded(
    version: u64,
    stem: &'static str,
    up: &'static str,
    down: &'static str,
    checksum: [u8; 32],
    chain: [u8; 32],
    flags: u8,
) -> Migration {
    Migration {
        version,
        stem: Cow::Borrowed(stem),
        up: Cow::Borrowed(up),
        down: Cow::Borrowed(down),
        checksum: Checksum::from_bytes(checksum),
        chain: Checksum::from_bytes(chain),
        flags,
    }
}

/// The constant set of migrations `embed_migrations!` expands to.
pub const fn embedded_set(folder: &'static str, list: &'static [Migration]) -> Migrations {
    Migrations {
        folder: Cow::Borrowed(folder),
        list: Cow::Borrowed(list),
        outside_transaction: outside_transaction(list),
    }
}

/// Whether a file of one of `list` runs outside a transaction (computed
/// at compile time for an embedded set).
const fn outside_transaction(list: &[Migration]) -> bool {
    let mut i = 0;
    while i < list.len() {
        if list[i].flags & (UP_NO_TRANSACTION | DOWN_NO_TRANSACTION) != 0 {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flag kept with a set says what a scan of its migrations says,
    /// for every way a set is made.
    #[test]
    fn the_outside_transaction_flag_is_what_a_scan_finds() {
        let inside = |v| Migration::new(v, "in", "SELECT 1;", "SELECT 1;");
        let up_outside =
            |v| Migration::new(v, "out", "-- strata:no-transaction\nSELECT 1;", "SELECT 1;");
        let down_outside =
            |v| Migration::new(v, "out", "SELECT 1;", "-- strata:no-transaction\nSELECT 1;");
        let scan = |set: &Migrations| {
            set.iter()
                .any(|m| m.no_transaction(Direction::Up) || m.no_transaction(Direction::Down))
        };
        for list in [
            vec![],
            vec![inside(1), inside(2)],
            vec![inside(1), up_outside(2)],
            vec![down_outside(1), inside(2)],
        ] {
            let built = Migrations::new("m", list.clone()).unwrap();
            assert_eq!(built.any_outside_transaction(), scan(&built));
            let leaked: &'static [Migration] = Vec::leak(list);
            let embedded = embedded_set("m", leaked);
            assert_eq!(embedded.any_outside_transaction(), scan(&embedded));
        }
        let dir = std::env::temp_dir().join(format!("strata-flag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("1_a.up.sql"),
            "-- strata:no-transaction\nSELECT 1;",
        )
        .unwrap();
        std::fs::write(dir.join("1_a.down.sql"), "SELECT 1;").unwrap();
        let read = Migrations::from_dir(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(read.any_outside_transaction() && scan(&read));
    }
}
