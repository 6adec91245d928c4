//! `strata create`: the next pair of files.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use strata::Direction;
use strata_source::parse_file_name;

use crate::Failure;

/// The width of versions in a new folder: `000001`.
const NEW_FOLDER_WIDTH: usize = 6;

/// Creates `VERSION_NAME.up.sql` and `VERSION_NAME.down.sql` in `dir` and
/// returns their paths. The version is the newest one plus one, as wide as
/// the newest one's digits, or the time (UTC, `YYYYMMDDHHMMSS`) with
/// `timestamp`. Never overwrites a file.
pub fn create(
    dir: &Path,
    name: &str,
    timestamp: bool,
    now: SystemTime,
) -> Result<[PathBuf; 2], Failure> {
    check_name(name)?;
    fs::create_dir_all(dir)
        .map_err(|e| Failure::Other(format!("cannot create the folder {}: {e}", dir.display())))?;
    let newest = newest_version(dir)?;
    let stem = if timestamp {
        let stamp = utc_timestamp(now);
        // Two files created in one second must still get two versions.
        let version = match newest {
            Some((newest, _)) if newest >= stamp => newest + 1,
            _ => stamp,
        };
        format!("{version}_{name}")
    } else {
        let (version, width) = match newest {
            Some((newest, width)) => (newest + 1, width),
            None => (1, NEW_FOLDER_WIDTH),
        };
        format!("{version:0width$}_{name}")
    };
    let up_name = format!("{stem}{}", Direction::Up.suffix());
    match parse_file_name(&up_name, &up_name) {
        Ok(Some(parsed)) if parsed.name == name => {}
        Ok(_) => return Err(bad_name(name, "it would not make a migration file name")),
        Err(problem) => {
            return Err(Failure::Usage(format!(
                "cannot create migration {name:?}: {problem}"
            )));
        }
    }
    let up = dir.join(&up_name);
    let down = dir.join(format!("{stem}{}", Direction::Down.suffix()));
    write_new(&up, &format!("-- {stem}: write the migration here.\n"))?;
    let down_text = format!(
        "-- {stem}: write the SQL that reverts {up_name} here,\n-- or replace these lines with `-- strata:irreversible` if it cannot be reverted.\n"
    );
    if let Err(e) = write_new(&down, &down_text) {
        // Leave no half pair behind.
        let _ = fs::remove_file(&up);
        return Err(e);
    }
    Ok([up, down])
}

fn bad_name(name: &str, why: &str) -> Failure {
    Failure::Usage(format!(
        "cannot create migration {name:?}: {why} (use letters, digits and underscores, such as add_users)"
    ))
}

fn check_name(name: &str) -> Result<(), Failure> {
    if name.is_empty() {
        return Err(bad_name(name, "the name is empty"));
    }
    if name.starts_with('.')
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(bad_name(
            name,
            "it holds a path separator, white space or a leading dot",
        ));
    }
    if name.to_ascii_lowercase().ends_with(".sql") {
        return Err(bad_name(name, "give the name without the .sql suffix"));
    }
    Ok(())
}

/// The newest version in the folder and the number of digits it is
/// written with.
fn newest_version(dir: &Path) -> Result<Option<(u64, usize)>, Failure> {
    let entries = fs::read_dir(dir)
        .map_err(|e| Failure::Other(format!("cannot read the folder {}: {e}", dir.display())))?;
    let mut newest: Option<(u64, usize)> = None;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if let Ok(Some(parsed)) = parse_file_name(file_name, file_name) {
            let width = parsed.stem.len() - parsed.name.len() - 1;
            if newest.is_none_or(|(v, _)| parsed.version > v) {
                newest = Some((parsed.version, width));
            }
        }
    }
    Ok(newest)
}

fn write_new(path: &Path, text: &str) -> Result<(), Failure> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            Failure::Other(format!(
                "cannot create {}: {e} (strata never overwrites a file)",
                path.display()
            ))
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))
}

/// `YYYYMMDDHHMMSS` in UTC, as a number.
fn utc_timestamp(now: SystemTime) -> u64 {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    ((year as u64 * 100 + month) * 100 + day) * 1_000_000 + hour * 10_000 + minute * 100 + second
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The error for a folder that holds no migrations: `--dir` likely names
/// the wrong folder, so it names the subfolders that hold migrations.
pub fn no_migrations(dir: &Path) -> String {
    let holds_migrations = |path: &Path| {
        std::fs::read_dir(path).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|name| name.ends_with(".up.sql"))
            })
        })
    };
    let mut inside: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir() && holds_migrations(&e.path()))
        .map(|e| e.path().display().to_string())
        .collect();
    inside.sort();
    let hint = match inside.as_slice() {
        [] => String::new(),
        [one] => format!(", but {one} does: point --dir at it"),
        many => format!(
            ", but these subfolders do: {} (point --dir at one)",
            many.join(", ")
        ),
    };
    format!(
        "no migrations in {}: it holds no VERSION_NAME.up.sql files{hint} (check --dir, which is `migrations` unless given; `strata create NAME` writes a first migration; if the folder is meant to be empty, pass --allow-empty)",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_calendar_time() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), 19700101000000);
        // 2024-02-29T23:59:59Z, a leap day.
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(1_709_251_199)),
            20240229235959
        );
        // 2026-11-22T02:51:08Z
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(1_795_315_868)),
            20261122025108
        );
    }
}
