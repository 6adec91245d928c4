//! Splitting a file into statements exactly as the database does, per
//! dialect: enough to find its comments and directives, name the line of a
//! failing statement, and refuse statements that cannot run inside strata's
//! transaction.
//!
//! The two dialects differ where it matters: PostgreSQL's block comments
//! nest and SQLite's do not; PostgreSQL has dollar quotes, `E'...'` strings
//! with backslash escapes and `BEGIN ATOMIC` bodies, SQLite has `[...]` and
//! backtick identifiers and ends a trigger body at `; END;`. The rules copy
//! each database's own scanner (see `lexer.rs`), and the tests check them
//! against the databases themselves. It does not parse SQL: the database
//! does that.

mod ends;
mod lexer;
mod refuse;

use ends::Ends;
use lexer::{Lexer, Token};
pub use refuse::{Refusal, pragma_refusal};

/// The SQL dialect a file is split in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL (and psql's way of splitting a file).
    Postgres,
}

impl Dialect {
    /// Both dialects, for checks made before the database is known.
    pub const ALL: [Dialect; 2] = [Dialect::Sqlite, Dialect::Postgres];
}

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
    /// The dialect it was split in.
    pub dialect: Dialect,
    /// Its first two words as written; `""` where there is none, or after
    /// a first token that is not a word.
    first_words: [&'a str; 2],
}

impl<'a> Statement<'a> {
    /// Its first word, or `""` when it opens with something else.
    pub fn first_word(&self) -> &'a str {
        self.first_words[0]
    }

    /// The statement's keywords and unquoted identifiers, in order.
    pub fn words(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.tokens_with_text().filter_map(|(t, _)| match t {
            Token::Word(w) => Some(w),
            _ => None,
        })
    }

    /// Each token with its text.
    fn tokens_with_text(&self) -> impl Iterator<Item = (Token<'a>, &'a str)> + use<'a> {
        let text = self.text;
        let mut lexer = Lexer::new(text, self.dialect);
        std::iter::from_fn(move || {
            lexer
                .next(None)
                .map(|(start, t)| (t, &text[start..lexer.pos]))
        })
    }

    /// Whether the statement begins, ends or nests a transaction (`BEGIN`,
    /// `COMMIT`, `END`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`, PostgreSQL's
    /// `START TRANSACTION`, `ABORT` and `PREPARE TRANSACTION`). A runner
    /// that wraps a migration in its own transaction must not run one.
    pub fn controls_transaction(&self) -> bool {
        let [first, second] = self.first_words;
        let is = |word: &str, keyword: &str| word.eq_ignore_ascii_case(keyword);
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
            || ((is(first, "START") || is(first, "PREPARE")) && is(second, "TRANSACTION"))
    }

    /// The statement's text on one line, cut to about `max` characters, for
    /// a message.
    pub fn shortened(&self, max: usize) -> String {
        shorten(self.text, max)
    }
}

/// Whether `c` would act on a terminal rather than show: a control
/// character (line breaks, ESC, DEL), or one that is invisible or turns
/// text around (zero-width, bidirectional overrides, a byte order mark, a
/// soft hyphen, a no-break space).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00a0}'
                | '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `text` as a message shows it: each character that [`is_hidden`] as
/// `\u{...}`, so that no name or statement can move the cursor, clear the
/// screen or reorder what follows it.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` with white space folded, cut to about `max` characters with `…`,
/// what would act on a terminal escaped ([`shown`]).
pub fn shorten(text: &str, max: usize) -> String {
    shown(&shorten_plain(text, max)).into_owned()
}

fn shorten_plain(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() > max {
            let room = max.saturating_sub(out.chars().count());
            if room > 8 || out.is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.extend(word.chars().take(room.max(8)));
            }
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
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
    /// Whether the text holds a construct only this dialect has: a dollar
    /// quote, an `E'...'`, `B'...'` or `U&'...'` string, `ARRAY[`
    /// (PostgreSQL); a backtick name (SQLite; a `[...]` name does not
    /// count, since PostgreSQL writes arrays with brackets).
    pub dialect_specific: bool,
}

impl Lexed<'_> {
    /// Byte offset of the first token that is not a comment, if any.
    pub fn first_token(&self) -> Option<usize> {
        self.statements.first().map(|s| s.start)
    }
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

/// Which of `words` (lower case ASCII, at most 32) `text` holds, in any
/// case, anywhere, comments and strings included: bit `i` of the result
/// for `words[i]`. One pass, no allocation: a quick test for whether a
/// file may do something, before the work of finding out.
pub fn holds_words(text: &str, words: &[&[u8]]) -> u32 {
    // For each byte, the words that begin with it, in either case: most
    // bytes begin none, and cost one look-up.
    let mut starts = [0u32; 256];
    for (i, word) in words.iter().enumerate() {
        starts[usize::from(word[0])] |= 1 << i;
        starts[usize::from(word[0].to_ascii_uppercase())] |= 1 << i;
    }
    let bytes = text.as_bytes();
    let all = (1u32 << words.len()) - 1;
    let mut found = 0u32;
    for (at, &byte) in bytes.iter().enumerate() {
        let mut candidates = starts[usize::from(byte)] & !found;
        while candidates != 0 {
            let i = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            if bytes
                .get(at..at + words[i].len())
                .is_some_and(|candidate| candidate.eq_ignore_ascii_case(words[i]))
            {
                found |= 1 << i;
                if found == all {
                    return found;
                }
            }
        }
    }
    found
}

/// Whether `text` holds one of `words` (lower case ASCII) where
/// PostgreSQL could read it as a keyword, in any case, anywhere, comments
/// and strings included: not after a letter, `_` or a non-ASCII byte, nor
/// before a letter, digit, `_`, `$` or a non-ASCII byte, which would make
/// it part of a longer name. Read without the lexer, so that no mistake of
/// the lexer's can hide a word: a file without them cannot hold such a
/// statement however it is split. One pass, no allocation.
pub fn holds_keywords(text: &str, words: &[&[u8]]) -> bool {
    let bytes = text.as_bytes();
    let continues_before = |b: u8| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80;
    let continues_after = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    let mut starts = [false; 256];
    for word in words {
        starts[usize::from(word[0])] = true;
        starts[usize::from(word[0].to_ascii_uppercase())] = true;
    }
    bytes.iter().enumerate().any(|(at, &byte)| {
        starts[usize::from(byte)]
            && (at == 0 || !continues_before(bytes[at - 1]))
            && words.iter().any(|word| {
                bytes
                    .get(at..at + word.len())
                    .is_some_and(|candidate| candidate.eq_ignore_ascii_case(word))
                    && bytes
                        .get(at + word.len())
                        .is_none_or(|&b| !continues_after(b))
            })
    })
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    line_of_bytes(text.as_bytes(), offset)
}

/// Lexes `text` into statements and comments, as `dialect` splits it
/// (PostgreSQL's `standard_conforming_strings` taken as on, its default).
pub fn lex(text: &str, dialect: Dialect) -> Lexed<'_> {
    lex_with(text, dialect, PgStrings::Standard)
}

/// The text of each token of `text`, as `dialect` reads it, without
/// white space and comments: words, strings and quoted names whole, any
/// other character alone (`>=` is two tokens).
pub fn tokens(text: &str, dialect: Dialect) -> Vec<&str> {
    let mut lexer = lexer::Lexer::new(text, dialect);
    let mut out = Vec::new();
    while let Some((start, _)) = lexer.next(None) {
        out.push(&text[start..lexer.pos]);
    }
    out
}

/// How a PostgreSQL session reads a backslash in a plain `'...'` string.
/// The server reads a text it is sent whole under the setting it arrived
/// with; a `SET` in it applies to later texts, not to the rest of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgStrings {
    /// As written: `standard_conforming_strings` is on (the default).
    Standard,
    /// As an escape: `standard_conforming_strings` is off.
    Escaped,
}

/// [`lex`] for a PostgreSQL session whose strings read as `strings` says.
pub fn lex_with<'a>(text: &'a str, dialect: Dialect, strings: PgStrings) -> Lexed<'a> {
    let mut splitter = Splitter::new(text, dialect, strings);
    splitter.comments = Some(Vec::new());
    let statements = splitter.by_ref().collect();
    Lexed {
        statements,
        dialect_specific: splitter.lexer.specific,
        line_comments: splitter.comments.unwrap_or_default(),
    }
}

/// The statements of a text one at a time, so that the way strings read
/// can change between two of them: statements sent to PostgreSQL one by
/// one are each read under the setting the ones before left.
pub struct Splitter<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
    lines: Lines<'a>,
    dialect: Dialect,
    /// The `--` comments seen, when they are wanted.
    comments: Option<Vec<LineComment<'a>>>,
}

impl<'a> Splitter<'a> {
    /// The statements of `text` in `dialect`.
    pub fn new(text: &'a str, dialect: Dialect, strings: PgStrings) -> Self {
        let mut lexer = Lexer::new(text, dialect);
        lexer.standard_strings = strings == PgStrings::Standard;
        Splitter {
            text,
            lexer,
            lines: Lines {
                text: text.as_bytes(),
                offset: 0,
                line: 1,
            },
            dialect,
            comments: None,
        }
    }

    /// How strings read from the next statement on.
    pub fn set_strings(&mut self, strings: PgStrings) {
        self.lexer.standard_strings = strings == PgStrings::Standard;
    }
}

impl<'a> Iterator for Splitter<'a> {
    type Item = Statement<'a>;

    fn next(&mut self) -> Option<Statement<'a>> {
        let mut ends = Ends::new(self.dialect);
        let mut begin = None;
        // The statement's first two words, filled as they come.
        let mut first_words = [""; 2];
        let mut words_seen = 0;
        let mut end = 0;
        while let Some((start, token)) = self.lexer.next(self.comments.as_mut()) {
            if ends.ends(token) {
                // A lone `;` is no statement.
                if begin.is_some() {
                    end = self.lexer.pos;
                    break;
                }
                continue;
            }
            begin.get_or_insert(start);
            if words_seen < 2 {
                match token {
                    Token::Word(word) => first_words[words_seen] = word,
                    // A statement that opens with a string or `(` is no
                    // transaction control: its word slots stay empty.
                    _ if words_seen == 0 => words_seen = 1,
                    _ => {}
                }
                words_seen += 1;
            }
            end = self.lexer.pos;
        }
        let begin = begin?;
        Some(Statement {
            start: begin,
            end,
            line: self.lines.at(begin),
            text: &self.text[begin..end],
            dialect: self.dialect,
            first_words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str, dialect: Dialect) -> Vec<&str> {
        lex(sql, dialect)
            .statements
            .iter()
            .map(|s| s.text)
            .collect()
    }

    fn both(sql: &str) -> [Vec<&str>; 2] {
        Dialect::ALL.map(|d| texts(sql, d))
    }

    fn control(sql: &str, dialect: Dialect) -> Vec<bool> {
        lex(sql, dialect)
            .statements
            .iter()
            .map(|s| s.controls_transaction())
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- a; comment\n/* b; */ INSERT INTO \"we;ird\" VALUES ('it''s;');\nSELECT 1";
        let expected = vec![
            "CREATE TABLE a (x TEXT DEFAULT ';');",
            "INSERT INTO \"we;ird\" VALUES ('it''s;');",
            "SELECT 1",
        ];
        assert_eq!(both(sql), [expected.clone(), expected]);
        for dialect in Dialect::ALL {
            let lexed = lex(sql, dialect);
            assert_eq!(lexed.statements[1].line, 3);
            assert_eq!(lexed.line_comments.len(), 1);
            assert_eq!(lexed.line_comments[0].body, " a; comment");
        }
    }

    #[test]
    fn block_comments_nest_on_postgres_only() {
        let sql = "/* old /* note */ DELETE FROM t; */ SELECT 1;";
        assert_eq!(
            both(sql),
            [vec!["DELETE FROM t;", "*/ SELECT 1;"], vec!["SELECT 1;"]]
        );
        assert_eq!(
            texts("/*/* x */ SELECT 1; */ SELECT 2;", Dialect::Postgres),
            ["SELECT 2;"]
        );
    }

    #[test]
    fn sqlite_trigger_bodies_end_at_semicolon_end_semicolon() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN 1 THEN 2 END;\n  DELETE FROM c;\nEND;\nCOMMIT;";
        assert_eq!(control(sql, Dialect::Sqlite), vec![false, true]);
        assert_eq!(lex(sql, Dialect::Sqlite).statements[1].line, 5);
        let temp =
            "create temp trigger if not exists t before delete on a begin select 1; end; select 2;";
        assert_eq!(texts(temp, Dialect::Sqlite).len(), 2);
        // `EXPLAIN CREATE TRIGGER` opens a body too; `CREATE TABLE` does not.
        assert_eq!(
            texts(
                "EXPLAIN CREATE TRIGGER t BEGIN SELECT 1; END; SELECT 2;",
                Dialect::Sqlite
            )
            .len(),
            2
        );
        assert_eq!(
            texts("CREATE TABLE trigger (a); SELECT 2;", Dialect::Sqlite).len(),
            2
        );
    }

    #[test]
    fn postgres_dollar_quotes_and_atomic_bodies() {
        let sql = "DO $$ BEGIN PERFORM 1; END $$;\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\nCREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nSELECT $1;";
        assert_eq!(
            control(sql, Dialect::Postgres),
            vec![false, false, false, false]
        );
        // A procedure whose body commits is one statement, not a COMMIT.
        let sql = "CREATE PROCEDURE p() LANGUAGE plpgsql AS $x$ BEGIN COMMIT; END $x$;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false]);
        // `$` inside a word is part of it, not a quote.
        assert_eq!(texts("SELECT a$b$; SELECT 2;", Dialect::Postgres).len(), 2);
    }

    #[test]
    fn postgres_semicolons_inside_parentheses() {
        let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nCOMMIT;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false, true]);
    }

    #[test]
    fn strings_by_dialect() {
        // PostgreSQL: E'' takes backslash escapes, B'' and plain '' do not.
        let sql = "SELECT E'it\\'s; fine'; SELECT 'a\\'; SELECT B'1'; COMMIT";
        assert_eq!(
            control(sql, Dialect::Postgres),
            vec![false, false, false, true]
        );
        // With standard_conforming_strings off, plain strings take them too;
        // a SET in a text read whole does not change how the rest reads.
        let sql =
            "SELECT 'a\\'; SET standard_conforming_strings = off; SELECT 'b\\'; COMMIT'; COMMIT;";
        assert_eq!(
            control(sql, Dialect::Postgres),
            vec![false, false, false, true]
        );
        let mut one_by_one = Splitter::new(sql, Dialect::Postgres, PgStrings::Standard);
        let first = one_by_one.by_ref().take(2).count();
        one_by_one.set_strings(PgStrings::Escaped);
        let controls: Vec<bool> = one_by_one.map(|s| s.controls_transaction()).collect();
        assert_eq!((first, controls), (2, vec![false, true]));
        assert_eq!(
            control("SELECT 'b\\'; COMMIT'; COMMIT;", Dialect::Postgres),
            vec![false, true]
        );
        assert_eq!(
            lex_with(
                "SELECT 'b\\'; COMMIT'; COMMIT;",
                Dialect::Postgres,
                PgStrings::Escaped
            )
            .statements
            .len(),
            2
        );
        // SQLite: brackets and backticks quote identifiers.
        let sql = "SELECT [odd;name] FROM t; SELECT `a;b`; COMMIT";
        assert_eq!(control(sql, Dialect::Sqlite), vec![false, false, true]);
    }

    #[test]
    fn line_comments_end_at_carriage_return_on_postgres_only() {
        let sql = "-- note\rSELECT 1;";
        assert_eq!(both(sql), [Vec::<&str>::new(), vec!["SELECT 1;"]]);
    }

    #[test]
    fn transaction_control_words() {
        let sql = "BEGIN; begin immediate; COMMIT; END TRANSACTION; ROLLBACK TO x; SAVEPOINT x; RELEASE x; START TRANSACTION; ABORT; PREPARE TRANSACTION 'x'; CREATE TABLE begin_x (a); (SELECT 1); 'x';";
        for dialect in Dialect::ALL {
            assert_eq!(
                control(sql, dialect),
                vec![
                    true, true, true, true, true, true, true, true, true, true, false, false, false
                ]
            );
        }
    }

    #[test]
    fn a_column_named_begin_does_not_open_a_body() {
        let sql = "CREATE TABLE t (begin INTEGER, \"end\" INTEGER);\nCOMMIT;";
        for dialect in Dialect::ALL {
            assert_eq!(control(sql, dialect), vec![false, true]);
        }
    }

    // Cases the differential tests (tests/statements.rs) and an attack on
    // the split found, kept here.

    #[test]
    fn postgres_strings_continue_across_a_line_break() {
        // The server reads `E'a'` and `'b\''` as one escaped string, so the
        // COMMIT is a statement; without a line break there is none.
        let sql = "SELECT E'a'\n-- note\n'b\\'' ; COMMIT; SELECT 1 -- '\n;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false, true, false]);
        let sql = "SELECT E'a' 'b\\'' ; COMMIT; SELECT 1 -- '\n;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false]);
        // A comment may stand before the line break too.
        let sql = "SELECT E'a' -- note\n'b\\'' ; COMMIT; SELECT 1 -- '\n;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false, true, false]);
    }

    #[test]
    fn begin_is_a_body_only_before_atomic() {
        let sql = "CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1';\nCOMMIT;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false, true]);
        let sql = "CREATE FUNCTION f() RETURNS date LANGUAGE sql BEGIN ATOMIC SELECT begin FROM p ORDER BY begin; END;\nCOMMIT;";
        assert_eq!(control(sql, Dialect::Postgres), vec![false, true]);
    }

    #[test]
    fn an_unterminated_postgres_comment_is_sent_for_the_server_to_refuse() {
        // psql sends it, and the server answers "unterminated /* comment";
        // SQLite's scanner takes it as a comment to the end.
        let sql = "SELECT 1; /* unterminated; INSERT INTO t VALUES (1);";
        assert_eq!(
            both(sql),
            [
                vec!["SELECT 1;"],
                vec!["SELECT 1;", "/* unterminated; INSERT INTO t VALUES (1);"]
            ]
        );
    }

    #[test]
    fn a_rule_with_two_actions_is_one_statement() {
        let sql =
            "CREATE OR REPLACE RULE r AS ON UPDATE TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3;";
        assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
    }

    #[test]
    fn shortened_statements() {
        assert_eq!(shorten("SELECT\n  1", 20), "SELECT 1");
        assert_eq!(
            shorten("INSERT INTO t VALUES (1), (2), (3)", 20),
            "INSERT INTO t VALUES…"
        );
        assert_eq!(shorten(&"x".repeat(50), 10).chars().count(), 11);
    }

    #[test]
    fn unterminated_input_never_panics() {
        for sql in [
            "'abc", "\"abc", "/* abc", "$$ abc", "$a$ x", "[abc", "E'\\", "--", "é;ü", "$", "U&",
            "U&'", "/* /* */", "`x",
        ] {
            for dialect in Dialect::ALL {
                let _ = lex(sql, dialect);
            }
        }
    }
}
