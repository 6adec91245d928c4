//! The tokens of SQLite and PostgreSQL, as far as splitting a file into
//! statements needs them (`ends.rs` says where each dialect ends one).
//!
//! Each rule follows the database's own scanner: SQLite's `tokenize.c` and
//! `complete.c` (`sqlite3_complete`), PostgreSQL's `scan.l` and psql's
//! `psqlscan.l`. Where a rule looks odd, the scanner it copies does the
//! same.

use super::{Dialect, LineComment};

/// A token, as far as statement boundaries care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Token<'a> {
    /// A keyword or an unquoted identifier.
    Word(&'a str),
    Semicolon,
    Open,
    Close,
    /// Anything else: strings, quoted identifiers, numbers, operators.
    Other,
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pub(super) pos: usize,
    dialect: Dialect,
    /// PostgreSQL's `standard_conforming_strings`: when off, `\` escapes
    /// in plain `'...'` strings too.
    pub(super) standard_strings: bool,
    /// A construct only this dialect has was met (a dollar quote, an
    /// `E'...'`, `B'...'` or `U&'...'` string, `ARRAY[`; a backtick name).
    pub(super) specific: bool,
}

/// SQLite's `IdChar`: letters, digits, `_`, `$` and every byte of a
/// non-ASCII character.
fn sqlite_id(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii()
}

/// PostgreSQL's `ident_start`.
fn pg_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii()
}

/// PostgreSQL's `ident_cont`.
fn pg_ident_cont(b: u8) -> bool {
    pg_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str, dialect: Dialect) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            dialect,
            standard_strings: true,
            specific: false,
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Moves to just past the next `close`, or to the end of the text.
    fn skip_past(&mut self, close: &str) {
        match self.text[self.pos..].find(close) {
            Some(at) => self.pos += at + close.len(),
            None => self.pos = self.bytes.len(),
        }
    }

    /// Skips a quoted run opened at `pos`, ending at `quote`; a doubled
    /// quote is an escaped one. With `backslash`, `\` escapes the next byte.
    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        let mut at = self.pos + 1;
        while let Some(found) = self.bytes[at.min(self.bytes.len())..]
            .iter()
            .position(|&b| b == quote || (backslash && b == b'\\'))
        {
            at += found;
            if self.bytes[at] != quote || self.bytes.get(at + 1) == Some(&quote) {
                // An escaped byte, or a doubled quote.
                at += 2;
            } else {
                self.pos = at + 1;
                return;
            }
        }
        self.pos = self.bytes.len();
    }

    /// A PostgreSQL `'...'` string from `pos`, with its continuations: a
    /// string followed by white space holding a line break (and comments)
    /// and another `'` goes on there, read the same way (`E'a'` then a
    /// line break and `'b\''` is one escaped string).
    fn skip_pg_string(&mut self, backslash: bool) {
        loop {
            self.skip_quoted(b'\'', backslash);
            match self.continuation() {
                Some(quote) => self.pos = quote,
                None => return,
            }
        }
    }

    /// Where a string's continuation opens, if one follows `pos`: scan.l's
    /// `{horiz_whitespace}*{newline}{special_whitespace}*` then a quote,
    /// where `horiz_whitespace` takes a `--` comment too.
    fn continuation(&self) -> Option<usize> {
        let bytes = self.bytes;
        let mut at = self.pos;
        loop {
            match bytes.get(at)? {
                b' ' | b'\t' | b'\x0c' | b'\x0b' => at += 1,
                b'-' if bytes.get(at + 1) == Some(&b'-') => {
                    at += bytes[at..].iter().position(|&b| b == b'\n' || b == b'\r')?;
                }
                b'\n' | b'\r' => break,
                _ => return None,
            }
        }
        loop {
            match bytes.get(at)? {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b' => at += 1,
                // A comment counts only with the line break that ends it.
                b'-' if bytes.get(at + 1) == Some(&b'-') => {
                    let end = bytes[at..].iter().position(|&b| b == b'\n' || b == b'\r')?;
                    at += end;
                }
                b'\'' => return Some(at),
                _ => return None,
            }
        }
    }

    /// Whether the word `word` (any case) stands right before `at`, white
    /// space aside.
    fn after_word(&self, at: usize, word: &str) -> bool {
        let before = self.text[..at].trim_end().as_bytes();
        before.len() >= word.len()
            && before[before.len() - word.len()..].eq_ignore_ascii_case(word.as_bytes())
            && !before
                .len()
                .checked_sub(word.len() + 1)
                .is_some_and(|i| pg_ident_cont(before[i]))
    }

    /// Whether `pos` holds white space in this dialect (PostgreSQL also
    /// takes `\v`).
    fn is_space(&self, b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
            || (b == b'\x0b' && self.dialect == Dialect::Postgres)
    }

    /// A `/* ... */` comment from `pos`. PostgreSQL's nest; SQLite's end at
    /// the first `*/`. Unterminated, it runs to the end of the text, and
    /// this returns false.
    fn skip_block_comment(&mut self) -> bool {
        self.pos += 2;
        if self.dialect == Dialect::Sqlite {
            let found = self.text[self.pos..].find("*/");
            self.pos = found.map_or(self.bytes.len(), |at| self.pos + at + 2);
            return found.is_some();
        }
        let mut depth = 1usize;
        while self.pos < self.bytes.len() {
            match (self.bytes[self.pos], self.peek(1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return true;
                    }
                }
                _ => self.pos += 1,
            }
        }
        false
    }

    /// A PostgreSQL dollar-quote delimiter (`$$`, `$body$`) at `pos`.
    fn dollar_tag(&self) -> Option<&'a str> {
        let rest = &self.bytes[self.pos + 1..];
        let len = match rest.first() {
            Some(&b) if pg_ident_start(b) => {
                1 + rest[1..]
                    .iter()
                    .take_while(|&&b| pg_ident_start(b) || b.is_ascii_digit())
                    .count()
            }
            _ => 0,
        };
        (rest.get(len) == Some(&b'$')).then(|| &self.text[self.pos..self.pos + len + 2])
    }

    /// The next token and its start, recording `--` comments on the way.
    pub(super) fn next(
        &mut self,
        mut comments: Option<&mut Vec<LineComment<'a>>>,
    ) -> Option<(usize, Token<'a>)> {
        let pg = self.dialect == Dialect::Postgres;
        loop {
            let b = self.peek(0)?;
            let start = self.pos;
            let token = match b {
                b if self.is_space(b) => {
                    self.pos += 1;
                    continue;
                }
                b'-' if self.peek(1) == Some(b'-') => {
                    // SQLite's comment runs to `\n`, PostgreSQL's to `\n` or `\r`.
                    let end = self.bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n' || (pg && b == b'\r'))
                        .map_or(self.bytes.len(), |at| start + at);
                    if let Some(comments) = comments.as_deref_mut() {
                        comments.push(LineComment {
                            start,
                            body: self.text[start + 2..end].trim_end_matches('\r'),
                        });
                    }
                    self.pos = end;
                    continue;
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    // SQLite's scanner takes an unterminated comment as a
                    // comment; PostgreSQL's refuses it, and psql sends it
                    // for the server to refuse: a statement, then.
                    if self.skip_block_comment() || !pg {
                        continue;
                    }
                    Token::Other
                }
                b'\'' if pg => {
                    self.skip_pg_string(!self.standard_strings);
                    Token::Other
                }
                b'\'' => {
                    self.skip_quoted(b'\'', false);
                    Token::Other
                }
                b'"' => {
                    self.skip_quoted(b'"', false);
                    Token::Other
                }
                b'`' if !pg => {
                    self.specific = true;
                    self.skip_quoted(b'`', false);
                    Token::Other
                }
                // `ARRAY[...]` is PostgreSQL's alone.
                b'[' if pg => {
                    self.specific |= self.after_word(start, "array");
                    self.pos += 1;
                    Token::Other
                }
                // Not evidence of SQLite: PostgreSQL has `[` too (arrays).
                b'[' if !pg => {
                    self.skip_past("]");
                    Token::Other
                }
                b'$' if pg => {
                    if let Some(tag) = self.dollar_tag() {
                        self.specific = true;
                        self.pos += tag.len();
                        self.skip_past(tag);
                    } else {
                        // `$1`, a parameter, or a stray `$`.
                        self.pos += 1;
                        while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                            self.pos += 1;
                        }
                    }
                    Token::Other
                }
                b';' => {
                    self.pos += 1;
                    Token::Semicolon
                }
                b'(' => {
                    self.pos += 1;
                    Token::Open
                }
                b')' => {
                    self.pos += 1;
                    Token::Close
                }
                b if !pg && sqlite_id(b) => {
                    // SQLite's `IdChar` run, digits first or not (as
                    // `sqlite3_complete` reads it: `1end` is no `END`).
                    self.pos += self.bytes[start..]
                        .iter()
                        .take_while(|&&b| sqlite_id(b))
                        .count();
                    Token::Word(&self.text[start..self.pos])
                }
                b if pg && pg_ident_start(b) => {
                    self.pos += self.bytes[start..]
                        .iter()
                        .take_while(|&&b| pg_ident_cont(b))
                        .count();
                    let word = &self.text[start..self.pos];
                    self.prefixed_string(word).unwrap_or(Token::Word(word))
                }
                b if pg && b.is_ascii_digit() => {
                    self.pos += self.bytes[start..]
                        .iter()
                        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                        .count();
                    Token::Other
                }
                _ => {
                    // One character (whole, so slices stay on boundaries).
                    self.pos += self.text[start..].chars().next().map_or(1, char::len_utf8);
                    Token::Other
                }
            };
            return Some((start, token));
        }
    }

    /// PostgreSQL's string prefixes, when the word just read is one and a
    /// quote follows: `E'...'` takes `\` escapes, `B'...'` and `X'...'`
    /// never do, `U&'...'` and `U&"..."` are plain quoted runs.
    fn prefixed_string(&mut self, word: &str) -> Option<Token<'a>> {
        match (word, self.peek(0), self.peek(1)) {
            ("E" | "e", Some(b'\''), _) => self.skip_pg_string(true),
            ("B" | "b", Some(b'\''), _) => self.skip_pg_string(false),
            // SQLite writes blobs the same way: no evidence of a dialect.
            ("X" | "x", Some(b'\''), _) => {
                self.skip_pg_string(false);
                return Some(Token::Other);
            }
            ("U" | "u", Some(b'&'), Some(b'\'')) => {
                self.pos += 1;
                self.skip_pg_string(false);
            }
            ("U" | "u", Some(b'&'), Some(b'"')) => {
                self.pos += 1;
                self.skip_quoted(b'"', false);
            }
            _ => return None,
        }
        self.specific = true;
        Some(Token::Other)
    }
}
