//! Property tests of the file-name parser and the directive parser: no
//! input makes them panic, and every accepted name means what it says.

use proptest::prelude::*;
use strata_source::{Direction, Directives, check_sql, parse_file_name, sql};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The one-pass word test agrees with searching the lower-cased text
    /// for each word.
    #[test]
    fn holds_words_finds_what_a_search_finds(text in r"[sSeEtTdDiIcCaArRuUnNlLoOkK_ ;\u{e9}]{0,40}") {
        let words: [&[u8]; 3] = [b"set", b"discard", b"unlock"];
        let lower = text.to_ascii_lowercase();
        let mut expected = 0u32;
        for (i, word) in words.iter().enumerate() {
            if lower.contains(std::str::from_utf8(word).unwrap()) {
                expected |= 1 << i;
            }
        }
        prop_assert_eq!(sql::holds_words(&text, &words), expected);
    }

    /// The keyword test never misses a word that the PostgreSQL lexer
    /// reads as a token of its own, wherever it stands (it is also true
    /// inside comments and strings, where the lexer reads none).
    #[test]
    fn holds_keywords_sees_every_word_the_lexer_reads(
        text in r#"([eEnNdDcCoOmMiItT_$1 ;'"\-/*\n\u{e9}xX]|end|END|commit|\$\$|/\*|\*/|--|E'){0,30}"#
    ) {
        let words: [&[u8]; 2] = [b"commit", b"end"];
        let lexed = sql::tokens(&text, sql::Dialect::Postgres)
            .iter()
            .any(|t| words.iter().any(|w| t.as_bytes().eq_ignore_ascii_case(w)));
        if lexed {
            prop_assert!(sql::holds_keywords(&text, &words), "{:?}", text);
        }
    }

    #[test]
    fn the_name_parser_never_panics(name in any::<String>()) {
        let _ = parse_file_name(&name, &name);
    }

    #[test]
    fn names_close_to_the_form_never_panic(name in r"[._0-9a-zA-Z\-\u{e9}\u{feff}]{0,12}(\.(up|UP|down|Down))?\.(sql|SQL|sql~)") {
        let _ = parse_file_name(&name, &name);
    }

    #[test]
    fn every_accepted_name_round_trips(
        version in 0u64..=i64::MAX as u64,
        width in 1usize..20,
        name in r"[a-z0-9_][a-z0-9_.\-]{0,20}",
        up in any::<bool>(),
    ) {
        let direction = if up { Direction::Up } else { Direction::Down };
        let file = format!("{version:0width$}_{name}{}", direction.suffix());
        let parsed = parse_file_name(&file, &file).unwrap().unwrap();
        prop_assert_eq!(parsed.version, version);
        prop_assert_eq!(parsed.name, name.as_str());
        prop_assert_eq!(parsed.direction, direction);
        prop_assert_eq!(format!("{}{}", parsed.stem, direction.suffix()), file);
    }

    #[test]
    fn the_directive_parser_and_the_lexer_never_panic(text in any::<String>(), up in any::<bool>()) {
        let direction = if up { Direction::Up } else { Direction::Down };
        let mut problems = Vec::new();
        let _ = check_sql(&text, "f.sql", direction, "f.up.sql", &mut problems);
        for dialect in sql::Dialect::ALL {
            let _ = sql::lex(&text, dialect);
        }
    }

    #[test]
    fn sql_shaped_text_never_panics(
        text in r"(--[ a-z:\-]{0,20}\n|/\*|\*/|'|\x22|\$\$|\$a\$|\[|\]|\(|\)|;|BEGIN |END |CASE |CREATE TRIGGER |E'|\\| |\n|x){0,40}"
    ) {
        let mut problems = Vec::new();
        let _ = check_sql(&text, "f.sql", Direction::Up, "f.up.sql", &mut problems);
        for dialect in sql::Dialect::ALL {
            let lexed = sql::lex(&text, dialect);
            for statement in &lexed.statements {
                // Statements lie inside the text, in order, on valid boundaries.
                prop_assert!(statement.start <= statement.end && statement.end <= text.len());
                prop_assert_eq!(&text[statement.start..statement.end], statement.text);
                let _ = statement.refusal();
            }
        }
    }

    #[test]
    fn directives_above_sql_are_read(
        no_transaction in any::<bool>(),
        irreversible in any::<bool>(),
        blank in r"[ \t]{0,3}",
    ) {
        let mut text = String::new();
        if no_transaction { text.push_str(&format!("--{blank}strata:no-transaction\n")); }
        if irreversible { text.push_str(&format!("-- strata:irreversible{blank}\n")); }
        text.push_str("-- a comment\n");
        let mut problems = Vec::new();
        let found = check_sql(&text, "f.down.sql", Direction::Down, "f.up.sql", &mut problems);
        prop_assert_eq!(found, Directives { no_transaction, irreversible, no_op: false });
        prop_assert_eq!(problems.is_empty(), irreversible);
    }
}

/// Found by the differential tests: SQLite runs the INSERT after a comment
/// that PostgreSQL reads as nested and unterminated. A file that one
/// dialect sees SQL in is not empty; the build leaves it to the backend.
#[test]
fn a_file_with_sql_to_one_dialect_only_is_not_empty() {
    let mut problems = Vec::new();
    let sql = "/* a /* b */ INSERT INTO t VALUES (1);";
    check_sql(sql, "f.up.sql", Direction::Up, "f.up.sql", &mut problems);
    assert_eq!(problems, []);
    check_sql(
        "/* a */ -- b\n",
        "f.up.sql",
        Direction::Up,
        "f.up.sql",
        &mut problems,
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
}

/// Found by an attack on the split: what only one dialect has decides how
/// a file is judged, so that the other dialect's reading (an apostrophe
/// inside a dollar quote opens a string to SQLite) hides nothing.
#[test]
fn a_file_is_judged_by_the_dialect_it_is_written_in() {
    let refused = |sql: &str| {
        let mut problems = Vec::new();
        check_sql(sql, "f.up.sql", Direction::Up, "f.up.sql", &mut problems);
        problems.len()
    };
    let postgres = "CREATE TABLE accounts (id int);\nCOMMENT ON TABLE accounts IS $$Each user's accounts$$;\nCOMMIT;\nCREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n";
    assert_eq!(refused(postgres), 2);
    let sqlite = "CREATE TABLE `user's notes` (a);\nPRAGMA foreign_keys = OFF;\nVACUUM;\nCOMMIT;\n";
    assert_eq!(refused(sqlite), 3);
    // A `[name]` is no evidence (PostgreSQL has brackets too), so here the
    // apostrophe opens a string to PostgreSQL and the build sees nothing
    // past it; the SQLite backend refuses these statements when it runs.
    let bracket = "CREATE TABLE [user's notes] (a);\nVACUUM;\n";
    assert_eq!(refused(bracket), 0);
    // PostgreSQL writes arrays with brackets: no evidence of SQLite.
    let arrays = "CREATE TABLE t (tags text[]);\nSELECT ARRAY['a]'];\nCREATE INDEX CONCURRENTLY t_tags ON t (tags);\n";
    assert_eq!(refused(arrays), 1);
    // A procedure that commits, in a dollar quote, is not a COMMIT.
    let procedure = "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\n";
    assert_eq!(refused(procedure), 0);
}
