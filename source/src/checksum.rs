//! SHA-256 checksums of migrations and the chain over applied migrations.

use core::fmt;

use sha2::{Digest, Sha256};

/// A SHA-256 digest, shown and stored as 64 lowercase hex characters.
///
/// Used both for the checksum of one migration's up file and for the chain
/// value that sums up every migration up to a version.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum([u8; 32]);

impl Checksum {
    /// The chain value before the first migration: 32 zero bytes.
    pub const ZERO: Checksum = Checksum([0; 32]);

    /// Wraps 32 raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Checksum(bytes)
    }

    /// The 32 raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The checksum of a migration's up file, as strata defines it.
    ///
    /// SHA-256 over the text after two normalizations, so that a checkout
    /// with other line endings still validates: a leading byte-order mark is
    /// dropped and every CRLF becomes LF. Nothing else is changed: an edit
    /// to a comment or to white space inside a line is an edit.
    pub fn of_sql(sql: &str) -> Self {
        let text = sql.strip_prefix('\u{feff}').unwrap_or(sql);
        let mut hasher = Sha256::new();
        // `str::find` with a `&str` pattern runs the standard library's
        // searcher, which is fast even in the unoptimized proc macro.
        let mut rest = text;
        while let Some(at) = rest.find("\r\n") {
            hasher.update(&rest.as_bytes()[..at]);
            hasher.update(b"\n");
            rest = &rest[at + 2..];
        }
        hasher.update(rest.as_bytes());
        Checksum(hasher.finalize().into())
    }

    /// The chain value after appending `version` with `checksum` to `self`:
    /// `SHA-256(self || version as 8 bytes big-endian || checksum)`.
    pub fn chain(&self, version: u64, checksum: &Checksum) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(version.to_be_bytes());
        hasher.update(checksum.0);
        Checksum(hasher.finalize().into())
    }

    /// Parses 64 hex characters (either case), as stored in a history table.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            out[i] = (high * 16 + low) as u8;
        }
        Some(Checksum(out))
    }

    /// The 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        // sha256("abc") from FIPS 180-2.
        assert_eq!(
            Checksum::of_sql("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bom_and_crlf_are_normalized_and_nothing_else() {
        let lf = Checksum::of_sql("CREATE TABLE a (x);\nCREATE TABLE b (y);\n");
        assert_eq!(
            lf,
            Checksum::of_sql("CREATE TABLE a (x);\r\nCREATE TABLE b (y);\r\n")
        );
        assert_eq!(
            lf,
            Checksum::of_sql("\u{feff}CREATE TABLE a (x);\nCREATE TABLE b (y);\n")
        );
        assert_ne!(
            lf,
            Checksum::of_sql("CREATE TABLE a (x);\rCREATE TABLE b (y);\r")
        );
        assert_ne!(
            lf,
            Checksum::of_sql("CREATE TABLE a (x); \nCREATE TABLE b (y);\n")
        );
        // A lone CR before a CRLF keeps the CR.
        assert_ne!(Checksum::of_sql("a\r\r\n"), Checksum::of_sql("a\n"));
    }

    #[test]
    fn hex_round_trip() {
        let c = Checksum::of_sql("select 1");
        assert_eq!(Checksum::from_hex(&c.to_hex()), Some(c));
        assert_eq!(Checksum::from_hex(&c.to_hex().to_uppercase()), Some(c));
        assert_eq!(Checksum::from_hex("abc"), None);
        assert_eq!(Checksum::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn chain_depends_on_order_version_and_checksum() {
        let a = Checksum::of_sql("a");
        let b = Checksum::of_sql("b");
        let ab = Checksum::ZERO.chain(1, &a).chain(2, &b);
        assert_ne!(ab, Checksum::ZERO.chain(1, &b).chain(2, &a));
        assert_ne!(ab, Checksum::ZERO.chain(1, &a).chain(3, &b));
        assert_eq!(ab, Checksum::ZERO.chain(1, &a).chain(2, &b));
    }
}
