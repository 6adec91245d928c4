//! A migrations folder read from disk: its files named, paired, ordered,
//! read and checked, every problem collected.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::read::{Unread, read_regular};
use crate::{Checksum, Direction, Problem, check_sql, name, read, sql};

/// A migrations folder that follows every rule.
#[derive(Debug, Clone)]
pub struct Folder {
    /// The folder as the user wrote it, with `/` separators and no trailing
    /// slash: the prefix of every file name in messages.
    pub shown: String,
    /// The migrations, in ascending order of version.
    pub migrations: Vec<FolderMigration>,
}

/// One checked migration of a [`Folder`].
#[derive(Debug, Clone)]
pub struct FolderMigration {
    /// The version.
    pub version: u64,
    /// `VERSION_NAME`, as in the file names.
    pub stem: String,
    /// The up file.
    pub up: SqlFile,
    /// The down file.
    pub down: SqlFile,
    /// Whether the down file says `-- strata:irreversible`.
    pub irreversible: bool,
    /// The checksum of the up file.
    pub checksum: Checksum,
    /// The chain value up to and including this migration.
    pub chain: Checksum,
}

/// One checked `.sql` file.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// Where it is on disk (the folder joined with the file name).
    pub path: PathBuf,
    /// Its content.
    pub sql: String,
    /// Whether it says `-- strata:no-transaction`.
    pub no_transaction: bool,
}

/// A file name that follows the rules, while the folder is paired up.
struct Named {
    file: String,
    stem: String,
    name: String,
}

/// Normalizes a folder as written for messages: `/` separators, no
/// trailing slash, no leading `./`.
pub fn shown_folder(dir: &str) -> String {
    let dir = dir.replace('\\', "/");
    let dir = dir.trim_end_matches('/');
    let dir = dir.strip_prefix("./").unwrap_or(dir);
    if dir.is_empty() {
        ".".to_owned()
    } else {
        dir.to_owned()
    }
}

/// Reads and checks the folder `dir` (as the user wrote it), resolved
/// against `base`, which messages call `relative_to` ("the crate's
/// Cargo.toml", "the current directory"). Returns every problem found, not
/// only the first.
pub fn scan(base: &Path, dir: &str, relative_to: &str) -> Result<Folder, Vec<Problem>> {
    let shown = shown_folder(dir);
    let path = base.join(dir);
    let entries = match fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(_) if !path.exists() => {
            return Err(vec![Problem::MissingFolder {
                dir: shown,
                relative_to: relative_to.to_owned(),
            }]);
        }
        Err(_) if !path.is_dir() => return Err(vec![Problem::NotAFolder { dir: shown }]),
        Err(e) => {
            return Err(vec![Problem::Unreadable {
                path: shown,
                reason: e.to_string(),
            }]);
        }
    };

    // A limit that cannot be read stops the scan, said once.
    if let Err(e) = read::max_file_size() {
        return Err(vec![Problem::Setting {
            reason: e.to_string(),
        }]);
    }
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for entry in entries {
        match entry {
            // Subfolders are not searched, whatever their name. The entry
            // knows its type without another look at the disk, except for a
            // symbolic link, which is followed.
            Ok(entry) => {
                let is_dir = match entry.file_type() {
                    Ok(kind) if kind.is_symlink() => entry.path().is_dir(),
                    Ok(kind) => kind.is_dir(),
                    Err(_) => entry.path().is_dir(),
                };
                if !is_dir {
                    names.push(entry.file_name());
                }
            }
            Err(e) => problems.push(Problem::Unreadable {
                path: shown.clone(),
                reason: e.to_string(),
            }),
        }
    }
    names.sort();

    // The files of each version: [ups, downs].
    let mut groups: BTreeMap<u64, [Vec<Named>; 2]> = BTreeMap::new();
    for os_name in &names {
        let Some(file_name) = os_name.to_str() else {
            let lossy = os_name.to_string_lossy();
            if lossy.to_ascii_lowercase().ends_with(".sql") && !lossy.starts_with('.') {
                problems.push(Problem::NameNotUtf8 {
                    file: format!("{shown}/{}", sql::shown(&lossy)),
                });
            }
            continue;
        };
        // A control character (a line break, ESC) in a name would be
        // printed raw in every message, where it can rewrite the terminal.
        // (A byte order mark in front has its own rule: "no version".)
        if file_name
            .chars()
            .any(|c| sql::is_hidden(c) && c != '\u{feff}')
            && file_name.to_ascii_lowercase().ends_with(".sql")
            && !file_name.starts_with('.')
        {
            problems.push(Problem::ControlCharacter {
                file: format!("{shown}/{}", sql::shown(file_name)),
            });
            continue;
        }
        let file = format!("{shown}/{file_name}");
        match name::parse(file_name, &file) {
            Ok(Some(parsed)) => {
                groups.entry(parsed.version).or_default()[parsed.direction as usize].push(Named {
                    file: file_name.to_owned(),
                    stem: parsed.stem.to_owned(),
                    name: parsed.name.to_owned(),
                })
            }
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }

    let mut migrations = Vec::new();
    let mut chain = Checksum::ZERO;
    for (version, [ups, downs]) in groups {
        let shown_of = |file: &str| format!("{shown}/{file}");
        let before = problems.len();
        // The pairing first; then every file of the version is read and
        // checked all the same, so that one run names every problem.
        if ups.len() > 1 || downs.len() > 1 {
            let mut files: Vec<String> = ups.iter().map(|f| shown_of(&f.file)).collect();
            if ups.len() <= 1 {
                files = downs.iter().map(|f| shown_of(&f.file)).collect();
            }
            problems.push(Problem::DuplicateVersion { version, files });
        }
        match (ups.as_slice(), downs.as_slice()) {
            ([up], [down]) if up.name != down.name => problems.push(Problem::NameMismatch {
                up: shown_of(&up.file),
                down: shown_of(&down.file),
            }),
            ([up], []) => problems.push(Problem::MissingDown {
                file: shown_of(&format!("{}.down.sql", up.stem)),
                up: up.file.clone(),
            }),
            ([], [down]) => problems.push(Problem::MissingUp {
                file: shown_of(&down.file),
                up: shown_of(&format!("{}.up.sql", down.stem)),
            }),
            _ => {}
        }
        let mut read = |named: &Named, direction: Direction| {
            let up_name = match direction {
                Direction::Up => named.file.clone(),
                Direction::Down => format!("{}.up.sql", named.stem),
            };
            read_file(
                &path,
                &shown,
                &named.file,
                direction,
                &up_name,
                &mut problems,
            )
        };
        let mut up_files: Vec<_> = ups.iter().map(|up| read(up, Direction::Up)).collect();
        let mut down_files: Vec<_> = downs
            .iter()
            .map(|down| read(down, Direction::Down))
            .collect();
        if problems.len() == before
            && let ([_], [_]) = (up_files.as_slice(), down_files.as_slice())
            && let (Some(Some((up_file, _))), Some(Some((down_file, irreversible)))) =
                (up_files.pop(), down_files.pop())
        {
            let checksum = Checksum::of_sql(&up_file.sql);
            chain = chain.chain(version, &checksum);
            migrations.push(FolderMigration {
                version,
                stem: ups[0].stem.clone(),
                up: up_file,
                down: down_file,
                irreversible,
                checksum,
                chain,
            });
        }
    }

    if problems.is_empty() {
        Ok(Folder { shown, migrations })
    } else {
        Err(problems)
    }
}

/// Reads one file and checks its content: UTF-8, directives, SQL present,
/// no transaction control in a transactional file. Returns the file and
/// whether it is marked irreversible; problems go to `problems`.
fn read_file(
    dir: &Path,
    shown: &str,
    file_name: &str,
    direction: Direction,
    up_name: &str,
    problems: &mut Vec<Problem>,
) -> Option<(SqlFile, bool)> {
    let file = format!("{shown}/{file_name}");
    let path = dir.join(file_name);
    let bytes = match read_regular(&path) {
        Ok(bytes) => bytes,
        Err(Unread::NotAFile) => {
            problems.push(Problem::NotAFile { file });
            return None;
        }
        Err(Unread::TooLarge { limit }) => {
            problems.push(Problem::TooLarge { file, limit });
            return None;
        }
        Err(Unread::Io(e)) => {
            problems.push(Problem::Unreadable {
                path: file,
                reason: e.to_string(),
            });
            return None;
        }
    };
    let sql = match String::from_utf8(bytes) {
        Ok(sql) => sql,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            problems.push(Problem::NotUtf8 { file, line });
            return None;
        }
    };
    if let Some(at) = sql.find('\0') {
        problems.push(Problem::NulByte {
            line: sql::line_of(&sql, at),
            file,
        });
        return None;
    }
    let before = problems.len();
    let checked = check_sql(&sql, &file, direction, up_name, problems);
    (problems.len() == before).then_some((
        SqlFile {
            path,
            sql,
            no_transaction: checked.no_transaction,
        },
        checked.irreversible,
    ))
}
