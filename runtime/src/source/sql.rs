//! A small SQL lexer: enough to split a file into statements, find its
//! comments, and tell which statements control transactions.
//!
//! It knows the quoting of SQLite and PostgreSQL (strings, `E'...'` strings,
//! quoted identifiers, `[brackets]`, backticks, dollar quotes) and the bodies
//! that contain semicolons (`CREATE TRIGGER ... BEGIN ... END`, PostgreSQL's
//! `BEGIN ATOMIC ... END`). It does not parse SQL: the database does that.

/// One statement of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Byte offset of the statement's first token.
    pub start: usize,
    /// Byte offset just past its last token (the `;` when there is one).
    pub end: usize,
    /// 1-based line of its first token.
    pub line: usize,
    /// The statement's text, from its first token to its end.
    pub text: &'a str,
    first_words: [Option<&'a str>; 2],
}

impl Statement<'_> {
    /// Whether the statement begins, ends or nests a transaction (`BEGIN`,
    /// `COMMIT`, `END`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`, PostgreSQL's
    /// `START TRANSACTION` and `ABORT`). A runner that wraps a migration in
    /// its own transaction must not run one.
    pub fn controls_transaction(&self) -> bool {
        let is = |word: Option<&str>, keyword: &str| {
            word.is_some_and(|w| w.eq_ignore_ascii_case(keyword))
        };
        let [first, second] = self.first_words;
        [
            "BEGIN",
            "COMMIT",
            "END",
            "ROLLBACK",
            "SAVEPOINT",
            "RELEASE",
            "ABORT",
        ]
        .iter()
        .any(|k| is(first, k))
            || (is(first, "START") && is(second, "TRANSACTION"))
    }
}

/// A `--` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineComment<'a> {
    /// Byte offset of the `--`.
    pub start: usize,
    /// The text after `--`, without the line ending.
    pub body: &'a str,
}

/// What the lexer found in a file.
#[derive(Debug, Default)]
pub struct Lexed<'a> {
    /// Statements in order; a lone `;` is not a statement.
    pub statements: Vec<Statement<'a>>,
    /// Every `--` comment in order (inside or outside statements).
    pub line_comments: Vec<LineComment<'a>>,
}

impl Lexed<'_> {
    /// Byte offset of the first token that is not a comment, if any.
    pub fn first_token(&self) -> Option<usize> {
        self.statements.first().map(|s| s.start)
    }
}

/// The offset of the first byte at or after `offset` that is not white
/// space, a comment or a lone `;`: where the next statement starts.
pub fn skip_trivia(text: &str, mut offset: usize) -> usize {
    let bytes = text.as_bytes();
    while offset < bytes.len() {
        let rest = &text[offset..];
        if bytes[offset].is_ascii_whitespace() || bytes[offset] == b';' {
            offset += 1;
        } else if rest.starts_with("--") {
            offset += rest.find('\n').unwrap_or(rest.len());
        } else if let Some(comment) = rest.strip_prefix("/*") {
            offset += comment.find("*/").map_or(rest.len(), |at| at + 4);
        } else {
            break;
        }
    }
    offset.min(bytes.len())
}

/// Line numbers of offsets that only grow, counted once for the whole text
/// (a file of many statements would otherwise be counted again for each).
struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset >= self.offset {
            self.line += self.text[self.offset..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.offset = offset;
            self.line
        } else {
            line_of_bytes(self.text, offset)
        }
    }
}

fn line_of_bytes(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    line_of_bytes(text.as_bytes(), offset)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    Semicolon,
    Open,
    Close,
    Other,
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Skips to just past the next `close`, or to the end of the text.
    fn skip_past(&mut self, close: &str) {
        match self.text[self.pos..].find(close) {
            Some(at) => self.pos += at + close.len(),
            None => self.pos = self.bytes.len(),
        }
    }

    /// Skips a quoted run that ends at `quote`, where a doubled quote is
    /// an escaped one. With `backslash`, `\` escapes the next byte.
    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if backslash && b == b'\\' {
                self.pos += 1;
            } else if b == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
        self.pos = self.pos.min(self.bytes.len());
    }

    /// A dollar-quote tag (`$$`, `$body$`) starting at `pos`, if there is one.
    fn dollar_tag(&self) -> Option<&'a str> {
        let rest = &self.text[self.pos + 1..];
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c == '_' || c.is_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map(|(i, _)| i)?;
        rest[len..]
            .starts_with('$')
            .then(|| &self.text[self.pos..self.pos + len + 2])
    }

    /// The next token with its start, recording comments on the way.
    fn next(&mut self, comments: &mut Vec<LineComment<'a>>) -> Option<(usize, Token<'a>)> {
        loop {
            let b = self.peek(0)?;
            let start = self.pos;
            let token = match b {
                b if b.is_ascii_whitespace() => {
                    self.pos += 1;
                    continue;
                }
                b'-' if self.peek(1) == Some(b'-') => {
                    let end = self.text[start..]
                        .find('\n')
                        .map_or(self.bytes.len(), |at| start + at);
                    comments.push(LineComment {
                        start,
                        body: self.text[start + 2..end].trim_end_matches('\r'),
                    });
                    self.pos = end;
                    continue;
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.pos += 2;
                    self.skip_past("*/");
                    continue;
                }
                b'\'' => {
                    self.skip_quoted(b'\'', false);
                    Token::Other
                }
                b'"' | b'`' => {
                    self.skip_quoted(b, false);
                    Token::Other
                }
                // `[name]` quotes an identifier in SQLite; right after a
                // value it is a PostgreSQL array subscript (`a[1]`), which
                // holds no `;` anyway.
                b'[' if !start.checked_sub(1).is_some_and(|at| {
                    let before = self.bytes[at];
                    before.is_ascii_alphanumeric() || b"_)]\"".contains(&before)
                }) =>
                {
                    self.skip_past("]");
                    Token::Other
                }
                b'$' => match self.dollar_tag() {
                    Some(tag) => {
                        self.pos += tag.len();
                        self.skip_past(tag);
                        Token::Other
                    }
                    None => {
                        self.pos += 1;
                        Token::Other
                    }
                },
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
                _ => {
                    let c = self.text[start..].chars().next()?;
                    if c == '_' || c.is_alphabetic() {
                        // ASCII byte by byte (the common case, and cheap in
                        // the unoptimized macro), then by characters from
                        // the first non-ASCII one.
                        let mut len = 0;
                        while let Some(&b) = self.bytes.get(start + len) {
                            if b == b'_' || b == b'$' || b.is_ascii_alphanumeric() {
                                len += 1;
                            } else {
                                break;
                            }
                        }
                        if self.bytes.get(start + len).is_some_and(|b| !b.is_ascii()) {
                            len += self.text[start + len..]
                                .find(|c: char| !(c == '_' || c == '$' || c.is_alphanumeric()))
                                .unwrap_or(self.bytes.len() - start - len);
                        }
                        self.pos += len;
                        let word = &self.text[start..start + len];
                        if matches!(word, "E" | "e") && self.peek(0) == Some(b'\'') {
                            self.skip_quoted(b'\'', true);
                            Token::Other
                        } else {
                            Token::Word(word)
                        }
                    } else {
                        self.pos += c.len_utf8();
                        Token::Other
                    }
                }
            };
            return Some((start, token));
        }
    }
}

/// Tracks whether a `;` ends the current statement: not inside the body of
/// a trigger or of a `BEGIN ATOMIC` function, where `CASE ... END` nests.
#[derive(Default)]
struct Body {
    words: usize,
    is_create: bool,
    is_trigger: bool,
    after_begin: bool,
    open: bool,
    cases: usize,
}

impl Body {
    fn word(&mut self, word: &str) {
        let is = |k: &str| word.eq_ignore_ascii_case(k);
        self.words += 1;
        if self.words == 1 {
            self.is_create = is("CREATE");
        } else if self.is_create && self.words <= 5 && is("TRIGGER") {
            self.is_trigger = true;
        }
        if self.open {
            if is("CASE") {
                self.cases += 1;
            } else if is("END") {
                match self.cases {
                    0 => self.open = false,
                    _ => self.cases -= 1,
                }
            }
        } else if self.after_begin && is("ATOMIC") {
            self.open = true;
        } else if self.is_create && self.words > 1 && is("BEGIN") {
            self.open = self.is_trigger;
        }
        self.after_begin = self.is_create && is("BEGIN");
    }
}

/// Lexes `text` into statements and comments.
pub fn lex(text: &str) -> Lexed<'_> {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut out = Lexed::default();
    let mut lines = Lines {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    let mut current: Option<(usize, [Option<&str>; 2])> = None;
    let mut body = Body::default();
    // A `;` inside parentheses (PostgreSQL's `CREATE RULE ... DO (a; b)`)
    // does not end the statement.
    let mut depth = 0usize;
    let mut last_end = 0;
    while let Some((start, token)) = lexer.next(&mut out.line_comments) {
        match token {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        if token == Token::Semicolon && !body.open && depth == 0 {
            if let Some((begin, first_words)) = current.take() {
                out.statements.push(Statement {
                    start: begin,
                    end: lexer.pos,
                    line: lines.at(begin),
                    text: &text[begin..lexer.pos],
                    first_words,
                });
            }
            body = Body::default();
            depth = 0;
            continue;
        }
        let (_, words) = current.get_or_insert((start, [None, None]));
        if let Token::Word(word) = token {
            if let Some(slot) = words.iter_mut().find(|w| w.is_none()) {
                *slot = Some(word);
            }
            body.word(word);
        } else if words[0].is_none() {
            // A statement that opens with a non-word (`(SELECT ...)`, a
            // string) is no transaction control; keep its word slots full.
            *words = [Some(""), Some("")];
        }
        last_end = lexer.pos;
    }
    if let Some((begin, first_words)) = current {
        out.statements.push(Statement {
            start: begin,
            end: last_end,
            line: lines.at(begin),
            text: &text[begin..last_end],
            first_words,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        lex(sql).statements.iter().map(|s| s.text).collect()
    }

    fn control(sql: &str) -> Vec<bool> {
        lex(sql)
            .statements
            .iter()
            .map(|s| s.controls_transaction())
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- a; comment\n/* b; */ INSERT INTO \"we;ird\" VALUES ('it''s;');\nSELECT 1";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE TABLE a (x TEXT DEFAULT ';');",
                "INSERT INTO \"we;ird\" VALUES ('it''s;');",
                "SELECT 1"
            ]
        );
        let lexed = lex(sql);
        assert_eq!(lexed.statements[1].line, 3);
        assert_eq!(lexed.line_comments.len(), 1);
        assert_eq!(lexed.line_comments[0].body, " a; comment");
    }

    #[test]
    fn trigger_bodies_keep_their_semicolons() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN 1 THEN 2 END;\n  DELETE FROM c;\nEND;\nCOMMIT;";
        assert_eq!(control(sql), vec![false, true]);
        assert_eq!(lex(sql).statements[1].line, 5);
        let temp =
            "create temp trigger if not exists t before delete on a begin select 1; end; select 2;";
        assert_eq!(texts(temp).len(), 2);
    }

    #[test]
    fn dollar_quotes_and_atomic_bodies() {
        let sql = "DO $$ BEGIN PERFORM 1; END $$;\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\nCREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT $1;";
        assert_eq!(control(sql), vec![false, false, false, false]);
        assert_eq!(texts(sql).len(), 4);
    }

    #[test]
    fn semicolons_inside_parentheses() {
        let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nCOMMIT;";
        assert_eq!(control(sql), vec![false, true]);
    }

    #[test]
    fn escape_strings_and_brackets() {
        let sql = "SELECT E'it\\'s; fine';\nSELECT [odd;name] FROM t;\nSELECT a[1] FROM t; COMMIT";
        assert_eq!(control(sql), vec![false, false, false, true]);
    }

    #[test]
    fn transaction_control_words() {
        let sql = "BEGIN; begin immediate; COMMIT; END TRANSACTION; ROLLBACK TO x; SAVEPOINT x; RELEASE x; START TRANSACTION; ABORT; CREATE TABLE begin_x (a); (SELECT 1); 'x';";
        assert_eq!(
            control(sql),
            vec![
                true, true, true, true, true, true, true, true, true, false, false, false
            ]
        );
    }

    #[test]
    fn a_column_named_begin_does_not_open_a_body() {
        let sql = "CREATE TABLE t (begin INTEGER, \"end\" INTEGER);\nCOMMIT;";
        assert_eq!(control(sql), vec![false, true]);
    }

    #[test]
    fn trivia_is_skipped() {
        let sql = "  -- a\n/* b */ ;\n\tSELECT 1; /* unterminated";
        assert_eq!(&sql[skip_trivia(sql, 0)..], "SELECT 1; /* unterminated");
        assert_eq!(skip_trivia(sql, sql.find("/* u").unwrap()), sql.len());
    }

    #[test]
    fn unterminated_input_never_panics() {
        for sql in [
            "'abc", "\"abc", "/* abc", "$$ abc", "$a$ x", "[abc", "E'\\", "--", "é;ü", "$",
        ] {
            let _ = lex(sql);
        }
    }
}
