//! Reading a migration file: a regular file only, up to a size limit.

use std::fs;
use std::path::Path;

/// The largest migration file strata reads, in bytes, unless the
/// environment variable `STRATA_MAX_FILE_SIZE` gives another (in bytes; read
/// by `embed_migrations!` when it compiles, and by `Migrations::from_dir`
/// and the CLI when they run): 256 MiB, a quarter of what PostgreSQL takes
/// in one message.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 << 20;

/// Why a file was not read.
pub(super) enum Unread {
    /// Not a regular file (a FIFO, a device, a socket), even through a
    /// symbolic link: reading one could wait forever or never end.
    NotAFile,
    /// Larger than `limit` bytes.
    TooLarge {
        limit: u64,
    },
    Io(std::io::Error),
}

/// The limit in force: `STRATA_MAX_FILE_SIZE`, or the default. A value
/// that is not a number of bytes is an error, not the default.
pub(super) fn max_file_size() -> Result<u64, std::io::Error> {
    match std::env::var("STRATA_MAX_FILE_SIZE") {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MAX_FILE_SIZE),
        Ok(value) => value.trim().parse().map_err(|_| {
            std::io::Error::other(format!(
                "STRATA_MAX_FILE_SIZE is {value:?}, not a number of bytes (unset it for 256 MiB)"
            ))
        }),
        Err(e) => Err(std::io::Error::other(format!("STRATA_MAX_FILE_SIZE: {e}"))),
    }
}

/// Reads a regular file of at most the size limit, without opening
/// anything else (opening a FIFO waits for a writer).
pub(super) fn read_regular(path: &Path) -> Result<Vec<u8>, Unread> {
    use std::io::Read;
    let limit = max_file_size().map_err(Unread::Io)?;
    let meta = fs::metadata(path).map_err(Unread::Io)?;
    if !meta.is_file() {
        return Err(Unread::NotAFile);
    }
    if meta.len() > limit {
        return Err(Unread::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file that grows while it is read stops at the limit too.
    fs::File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Unread::TooLarge { limit });
    }
    Ok(bytes)
}
