//! Where each dialect ends a statement: SQLite as `sqlite3_complete` does,
//! PostgreSQL as psql does, except that a routine body opens at `BEGIN
//! ATOMIC` and not at any `begin`, which is how the server reads it
//! (`begin` is also a name).

use super::Dialect;
use super::lexer::Token;

/// Where a `;` ends a statement.
pub(super) enum Ends {
    /// `sqlite3_complete`'s state machine: a `;` ends the statement except
    /// inside `CREATE [TEMP] TRIGGER ... BEGIN ... END`, whose body ends at a
    /// `;` followed by `END` and another `;`.
    Sqlite(SqliteState),
    /// psql's rule: not inside parentheses (`CREATE RULE ... DO (a; b)`), and
    /// not inside the `BEGIN ATOMIC ... END` body of `CREATE [OR REPLACE]
    /// FUNCTION` or `PROCEDURE`, where `CASE ... END` nests.
    Postgres(PgState),
}

/// `sqlite3_complete`'s states, in its order.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(super) enum SqliteState {
    #[default]
    Start,
    Normal,
    Explain,
    Create,
    Trigger,
    Semi,
    End,
}

/// `sqlite3_complete`'s token classes, in its order (white space and
/// comments are not fed: they change no state but the first).
#[derive(Clone, Copy)]
enum SqliteClass {
    Semi,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

fn sqlite_class(token: Token<'_>) -> SqliteClass {
    let Token::Word(word) = token else {
        return if token == Token::Semicolon {
            SqliteClass::Semi
        } else {
            SqliteClass::Other
        };
    };
    let is = |k: &str| word.eq_ignore_ascii_case(k);
    // By length first: most words are none of these.
    match word.len() {
        3 if is("end") => SqliteClass::End,
        4 if is("temp") => SqliteClass::Temp,
        6 if is("create") => SqliteClass::Create,
        7 if is("trigger") => SqliteClass::Trigger,
        7 if is("explain") => SqliteClass::Explain,
        9 if is("temporary") => SqliteClass::Temp,
        _ => SqliteClass::Other,
    }
}

/// `sqlite3_complete`'s transition table (its states INVALID and START are
/// one here: they differ only in what an empty input returns).
const TRANSITIONS: [[SqliteState; 7]; 7] = {
    use SqliteState::*;
    [
        // Semi   Other    Explain  Create   Temp     Trigger  End
        [Start, Normal, Explain, Create, Normal, Normal, Normal], // Start
        [Start, Normal, Normal, Normal, Normal, Normal, Normal],  // Normal
        [Start, Explain, Normal, Create, Normal, Normal, Normal], // Explain
        [Start, Normal, Normal, Normal, Create, Trigger, Normal], // Create
        [Semi, Trigger, Trigger, Trigger, Trigger, Trigger, Trigger], // Trigger
        [Semi, Trigger, Trigger, Trigger, Trigger, Trigger, End], // Semi
        [Start, Trigger, Trigger, Trigger, Trigger, Trigger, Trigger], // End
    ]
};

#[derive(Default)]
pub(super) struct PgState {
    parens: usize,
    begins: usize,
    /// The first letters of the statement's first four words, where the
    /// word is one of `create`, `or`, `replace`, `function`, `procedure`.
    heads: [u8; 4],
    words: usize,
    /// The last token was the word `begin`: an `atomic` now opens a body.
    after_begin: bool,
}

impl Ends {
    pub(super) fn new(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Sqlite => Ends::Sqlite(SqliteState::default()),
            Dialect::Postgres => Ends::Postgres(PgState::default()),
        }
    }

    /// Feeds one token; true when it is a `;` that ends the statement.
    pub(super) fn ends(&mut self, token: Token<'_>) -> bool {
        match self {
            Ends::Sqlite(state) => {
                *state = TRANSITIONS[*state as usize][sqlite_class(token) as usize];
                // A `;` that leads back to the start ends a statement.
                token == Token::Semicolon && *state == SqliteState::Start
            }
            Ends::Postgres(state) => match token {
                Token::Open => {
                    state.parens += 1;
                    state.after_begin = false;
                    false
                }
                Token::Close => {
                    state.parens = state.parens.saturating_sub(1);
                    state.after_begin = false;
                    false
                }
                Token::Semicolon if state.parens == 0 && state.begins == 0 => {
                    *state = PgState::default();
                    true
                }
                Token::Word(w) => {
                    state.word(w);
                    false
                }
                _ => {
                    state.after_begin = false;
                    false
                }
            },
        }
    }
}

impl PgState {
    fn word(&mut self, word: &str) {
        let is = |k: &str| word.eq_ignore_ascii_case(k);
        if self.words < self.heads.len()
            && ["create", "function", "procedure", "or", "replace"]
                .iter()
                .any(|k| is(k))
        {
            self.heads[self.words] = word.as_bytes()[0].to_ascii_lowercase();
        }
        self.words += 1;
        let routine = matches!(
            self.heads,
            [b'c', b'f' | b'p', ..] | [b'c', b'o', b'r', b'f' | b'p']
        );
        let after_begin = std::mem::take(&mut self.after_begin);
        if routine && self.parens == 0 {
            // psql opens a body at any `begin`; but `begin` is also a
            // name (`CREATE FUNCTION begin()`, a column), and the body the
            // server reads is `BEGIN ATOMIC ... END` only.
            if is("begin") {
                self.after_begin = true;
            } else if is("atomic") && after_begin {
                self.begins += 1;
            } else if is("case") {
                if self.begins >= 1 {
                    self.begins += 1;
                }
            } else if is("end") {
                self.begins = self.begins.saturating_sub(1);
            }
        }
    }
}
