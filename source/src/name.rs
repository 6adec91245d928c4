//! The file-name rules: `VERSION_NAME.up.sql` and `VERSION_NAME.down.sql`.

use super::Problem;

/// Whether a file holds the up or the down half of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// `.up.sql`: applies the migration.
    Up,
    /// `.down.sql`: reverts it.
    Down,
}

impl Direction {
    /// The suffix of a file in this direction.
    pub const fn suffix(self) -> &'static str {
        match self {
            Direction::Up => ".up.sql",
            Direction::Down => ".down.sql",
        }
    }
}

/// A file name that follows the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName<'a> {
    /// The version, parsed from the leading digits.
    pub version: u64,
    /// `VERSION_NAME`, the name without its suffix.
    pub stem: &'a str,
    /// The part after the first underscore.
    pub name: &'a str,
    /// Up or down.
    pub direction: Direction,
}

/// The largest version: what SQLite's `INTEGER` and PostgreSQL's `bigint` hold.
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// Classifies one file name.
///
/// `Ok(None)` for a file that is not a migration and is skipped on purpose:
/// a name that does not end in `.sql` in any case (`README.md`, an editor's
/// `000001_init.up.sql~` or `.bak`), and hidden files (`.gitkeep`, macOS's
/// `._000001_init.up.sql`). Every other `.sql` name must follow the form:
/// silence would drop a migration that its author meant to run. So must a
/// name that golang-migrate runs with another extension (`1_init.up.txt`,
/// `1_init.down`): golang-migrate takes any, strata only `.sql`.
/// `shown` is the file as the messages should name it.
pub fn parse<'a>(file_name: &'a str, shown: &str) -> Result<Option<FileName<'a>>, Problem> {
    let file = || shown.to_owned();
    if file_name.starts_with('.') {
        return Ok(None);
    }
    if !ends_with_ignore_case(file_name, ".sql") {
        return match other_extension(file_name) {
            Some((stem, direction)) => Err(Problem::WrongExtension {
                file: file(),
                fixed: format!("{stem}{}", direction.suffix()),
            }),
            None => Ok(None),
        };
    }
    let base = &file_name[..file_name.len() - 4];
    let direction = [Direction::Up, Direction::Down]
        .into_iter()
        .find(|d| ends_with_ignore_case(base, &d.suffix()[..d.suffix().len() - 4]));
    let Some(direction) = direction else {
        return Err(Problem::NotUpOrDown {
            file: file(),
            stem: base.to_owned(),
        });
    };
    let stem = &base[..base.len() + 4 - direction.suffix().len()];
    if !file_name.ends_with(direction.suffix()) {
        return Err(Problem::UppercaseSuffix {
            file: file(),
            fixed: format!("{stem}{}", direction.suffix()),
        });
    }
    let digits_len = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return Err(Problem::NoVersion { file: file() });
    }
    let (digits, rest) = stem.split_at(digits_len);
    let name = match rest.as_bytes().first() {
        Some(b'_') => &rest[1..],
        Some(b'-') if rest.len() > 1 => {
            return Err(Problem::DashSeparator {
                file: file(),
                fixed: format!("{digits}_{}{}", &rest[1..], direction.suffix()),
            });
        }
        None => "",
        Some(_) => return Err(Problem::BadName { file: file() }),
    };
    if name.is_empty() {
        return Err(Problem::NoName { file: file() });
    }
    let version = digits
        .parse::<u64>()
        .ok()
        .filter(|&v| v <= MAX_VERSION)
        .ok_or_else(|| Problem::VersionTooLarge {
            file: file(),
            digits: digits.to_owned(),
        })?;
    Ok(Some(FileName {
        version,
        stem,
        name,
        direction,
    }))
}

/// What editors, patch tools and people append to a file they keep aside:
/// such a file is never a migration, whatever its name says.
const LEFTOVERS: [&str; 11] = [
    "~",
    ".bak",
    ".orig",
    ".swp",
    ".swo",
    ".tmp",
    ".old",
    ".rej",
    ".save",
    ".backup",
    ".disabled",
];

/// For a name that golang-migrate reads as a migration (`VERSION_` then
/// anything, then `.up` or `.down` at the end or before a last extension)
/// but with an extension other than `.sql` (`.txt`, `.sqlx`, `.sql.gz`): its
/// stem and direction. Not for a file kept aside (`.up.sql.bak`,
/// `.up.txt~`: [`LEFTOVERS`]).
fn other_extension(file_name: &str) -> Option<(&str, Direction)> {
    let digits = file_name.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || file_name.as_bytes().get(digits) != Some(&b'_') {
        return None;
    }
    let lower = file_name.to_ascii_lowercase();
    if LEFTOVERS.iter().any(|end| lower.ends_with(end)) {
        return None;
    }
    [Direction::Up, Direction::Down]
        .into_iter()
        .filter_map(|direction| {
            let word = &direction.suffix()[..direction.suffix().len() - 4];
            // The last `.up.` (or a trailing `.up`), as golang-migrate's
            // pattern `^([0-9]+)_(.*)\.(down|up)\.(.*)$` finds it.
            let at = if lower.ends_with(word) {
                lower.len() - word.len()
            } else {
                lower.rfind(&format!("{word}."))?
            };
            (at > digits).then_some((at, direction))
        })
        .max_by_key(|&(at, _)| at)
        .map(|(at, direction)| (&file_name[..at], direction))
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.is_char_boundary(text.len() - suffix.len())
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(name: &str) -> Option<(u64, String, String, Direction)> {
        parse(name, name)
            .unwrap()
            .map(|f| (f.version, f.stem.to_owned(), f.name.to_owned(), f.direction))
    }

    fn err(name: &str) -> Problem {
        parse(name, &format!("migrations/{name}")).unwrap_err()
    }

    #[test]
    fn accepts_the_form() {
        assert_eq!(
            ok("000001_init.up.sql"),
            Some((1, "000001_init".into(), "init".into(), Direction::Up))
        );
        assert_eq!(
            ok("20260407120000_add_users.table.down.sql"),
            Some((
                20260407120000,
                "20260407120000_add_users.table".into(),
                "add_users.table".into(),
                Direction::Down
            ))
        );
        assert_eq!(ok("0_zero.up.sql").map(|m| m.0), Some(0));
        assert_eq!(
            ok("9223372036854775807_max.up.sql").map(|m| m.0),
            Some(i64::MAX as u64)
        );
    }

    #[test]
    fn skips_what_is_not_sql_and_hidden_files() {
        for name in [
            "README.md",
            "000001_init.up.sql.bak",
            "000001_init.up.sql~",
            ".gitkeep",
            "._000001_init.up.sql",
            "notes.txt",
            "000001_init.up.sql.orig",
            "000001_init.down.SQL.bak",
            "2024_notes.txt",
            "1_upgrade-notes.md",
            "1_x.upper",
            "2_y.up.txt~",
            "2_y.up.txt.bak",
            "5_x.up.sql.disabled",
        ] {
            assert_eq!(ok(name), None, "{name}");
        }
    }

    #[test]
    fn golang_migrate_names_with_another_extension_are_refused() {
        for (name, fixed) in [
            ("1_x.up.txt", "1_x.up.sql"),
            ("1_x.down.txt", "1_x.down.sql"),
            ("1_x.up", "1_x.up.sql"),
            ("000002_add_users.DOWN", "000002_add_users.down.sql"),
            ("3_setup.up.psql", "3_setup.up.sql"),
            ("4_a.down.b.up.cql", "4_a.down.b.up.sql"),
            ("5_markup.down.txt", "5_markup.down.sql"),
            ("6_y.up.sqlx", "6_y.up.sql"),
            ("7_y.up.sql.txt", "7_y.up.sql"),
            ("8_y.down.sql.gz", "8_y.down.sql"),
            ("9_.up.txt", "9_.up.sql"),
        ] {
            assert_eq!(
                err(name),
                Problem::WrongExtension {
                    file: format!("migrations/{name}"),
                    fixed: fixed.into()
                },
                "{name}"
            );
        }
    }

    #[test]
    fn near_misses_get_their_own_problem() {
        assert_eq!(
            err("001_rooms.sql"),
            Problem::NotUpOrDown {
                file: "migrations/001_rooms.sql".into(),
                stem: "001_rooms".into()
            }
        );
        assert_eq!(
            err("0001-init.up.sql"),
            Problem::DashSeparator {
                file: "migrations/0001-init.up.sql".into(),
                fixed: "0001_init.up.sql".into()
            }
        );
        assert_eq!(
            err("000001_init.UP.sql"),
            Problem::UppercaseSuffix {
                file: "migrations/000001_init.UP.sql".into(),
                fixed: "000001_init.up.sql".into()
            }
        );
        assert_eq!(
            err("000001_init.down.SQL"),
            Problem::UppercaseSuffix {
                file: "migrations/000001_init.down.SQL".into(),
                fixed: "000001_init.down.sql".into()
            }
        );
        assert_eq!(
            err("init.up.sql"),
            Problem::NoVersion {
                file: "migrations/init.up.sql".into()
            }
        );
        assert_eq!(
            err("000001.up.sql"),
            Problem::NoName {
                file: "migrations/000001.up.sql".into()
            }
        );
        assert_eq!(
            err("000001_.up.sql"),
            Problem::NoName {
                file: "migrations/000001_.up.sql".into()
            }
        );
        assert_eq!(
            err("000001init.up.sql"),
            Problem::BadName {
                file: "migrations/000001init.up.sql".into()
            }
        );
        assert_eq!(
            err("18446744073709551616_big.up.sql"),
            Problem::VersionTooLarge {
                file: "migrations/18446744073709551616_big.up.sql".into(),
                digits: "18446744073709551616".into()
            }
        );
        assert!(matches!(
            err("9223372036854775808_big.up.sql"),
            Problem::VersionTooLarge { .. }
        ));
    }

    #[test]
    fn odd_names_never_panic() {
        for name in [
            "é.sql",
            ".sql",
            "up.sql",
            ".up.sql",
            "1_é.UP.sql",
            "1-.up.sql",
            "_.down.sql",
            "ésql",
        ] {
            let _ = parse(name, name);
        }
    }
}
