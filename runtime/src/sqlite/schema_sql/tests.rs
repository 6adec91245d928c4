//! The SQL reader's tests: by example, and against SQLite itself.

use super::*;

#[test]
fn columns_checks_and_options() {
    let table = parse_table(
        "CREATE TABLE \"T\" (id INTEGER PRIMARY KEY AUTOINCREMENT, -- the key\n\
         [Name] VARCHAR(20) NOT NULL ON CONFLICT IGNORE COLLATE nocase CHECK(length(name)>0),\n\
         parent INT REFERENCES t(id) ON DELETE SET NULL NOT DEFERRABLE NOT NULL,\n\
         total AS (id * 2) STORED, twice INT GENERATED ALWAYS AS (id+id),\n\
         CONSTRAINT positive CHECK (id >= 0), UNIQUE (name COLLATE binary)) WITHOUT ROWID, STRICT",
    )
    .unwrap();
    assert_eq!(table.options, ["without rowid", "strict"]);
    assert_eq!(
        table.checks,
        ["check (length(name) > 0)", "check positive (id >= 0)"]
    );
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "name", "parent", "total", "twice"]);
    assert!(table.columns[0].autoincrement);
    assert_eq!(table.columns[1].collation.as_deref(), Some("NOCASE"));
    assert_eq!(
        table.columns[1].not_null_conflict.as_deref(),
        Some("IGNORE")
    );
    assert_eq!(table.columns[2].collation, None);
    let spaced = parse_table("CREATE TABLE t (\"a \"\"b\" TEXT COLLATE NOCASE)").unwrap();
    assert_eq!(spaced.columns[0].name, "a \"b");
    assert_eq!(spaced.columns[0].collation.as_deref(), Some("NOCASE"));
    assert_eq!(
        table.columns[3].generated.as_deref(),
        Some("(id * 2) STORED")
    );
    assert_eq!(
        table.columns[4].generated.as_deref(),
        Some("(id + id) VIRTUAL")
    );
}

#[test]
fn index_terms_and_condition() {
    let index = parse_index(
        "CREATE UNIQUE INDEX i ON t (lower(name) COLLATE NOCASE DESC, \"id\") WHERE deleted IS NULL",
    )
    .unwrap();
    assert_eq!(index.terms, ["lower(name)", "id"]);
    assert_eq!(index.condition.as_deref(), Some("deleted is null"));
}

#[test]
fn canonical_form_ignores_layout_case_quotes_and_comments() {
    assert_eq!(
        canonical_sql("CREATE VIEW v AS SELECT \"a\" , b/*x*/FROM [t] WHERE a>='X'"),
        canonical_sql("create view V as\n  select a, B from t -- c\n where A >= 'X'")
    );
    assert_ne!(
        canonical_sql("CREATE VIEW v AS SELECT 'a'"),
        canonical_sql("CREATE VIEW v AS SELECT 'A'")
    );
    assert_eq!(canonical_sql("-1"), "-1");
    // Names that are not ASCII, quoted or not, in every quoting.
    assert_eq!(
        canonical_sql("SELECT é, \"é\", [é], `é` FROM t"),
        "select é, é, é, é from t"
    );
    assert_eq!(canonical_sql("f(-1, +2) - 3"), "f(-1, +2) - 3");
}

/// SQLite is the authority: for tables built from random column
/// definitions (quoting, comments, every kind of constraint in any
/// order), what the parser reads of each column is what SQLite does.
/// The collation SQLite gives a column shows in an index on it that
/// names none; a generated column's kind in `pragma_table_xinfo`.
mod against_sqlite {
    use super::*;
    use proptest::prelude::*;
    use rusqlite::Connection;

    fn clause() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("NOT NULL".to_owned()),
            Just("NOT NULL ON CONFLICT REPLACE".to_owned()),
            Just("NULL".to_owned()),
            Just("UNIQUE".to_owned()),
            Just("DEFAULT 'x'".to_owned()),
            Just("DEFAULT -1".to_owned()),
            Just("DEFAULT (1 + 2)".to_owned()),
            Just("DEFAULT CURRENT_TIMESTAMP".to_owned()),
            Just("COLLATE NOCASE".to_owned()),
            Just("COLLATE \"rtrim\"".to_owned()),
            Just("collate binary".to_owned()),
            Just("CONSTRAINT c1 CHECK (length(x) < 5)".to_owned()),
            Just("CHECK(x <> 'bad')".to_owned()),
            Just("REFERENCES p(id) ON DELETE SET NULL".to_owned()),
            Just("REFERENCES p ON UPDATE CASCADE NOT DEFERRABLE".to_owned()),
            Just("REFERENCES \"p\" (id) DEFERRABLE INITIALLY DEFERRED".to_owned()),
            Just("/* c */".to_owned()),
            Just("-- c\n".to_owned()),
        ]
    }

    fn column() -> impl Strategy<Value = (String, Vec<String>)> {
        (
            prop_oneof![
                Just(""),
                Just("TEXT"),
                Just("VARCHAR(10)"),
                Just("unsigned big int"),
                Just("\"TEXT\"")
            ],
            proptest::collection::vec(clause(), 0..4),
            prop_oneof![
                Just(""),
                Just("GENERATED ALWAYS AS (x || 'g') STORED"),
                Just("AS (upper(x))"),
                Just("AS (x) VIRTUAL")
            ],
        )
            .prop_map(|(kind, mut clauses, generated)| {
                // A generated column takes no default.
                if !generated.is_empty() {
                    clauses.retain(|c| !c.starts_with("DEFAULT"));
                    clauses.push(generated.to_owned());
                }
                (kind.to_owned(), clauses)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parser_reads_what_sqlite_does(columns in proptest::collection::vec(column(), 1..5), quote in any::<bool>()) {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE p (id INTEGER PRIMARY KEY)").unwrap();
            let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
            let definitions: Vec<String> = columns
                .iter()
                .zip(&names)
                .map(|((kind, clauses), name)| {
                    let name = if quote { format!("\"{name}\"") } else { name.clone() };
                    format!("{name} {kind} {}", clauses.join(" "))
                })
                .collect();
            let sql = format!("CREATE TABLE t (x TEXT, {})", definitions.join(",\n"));
            // SQLite refuses some mixes (a generated column with a
            // foreign key to another table is fine; two clauses that
            // clash are not): those say nothing.
            prop_assume!(conn.execute_batch(&sql).is_ok());
            let parsed = parse_table(&sql).unwrap();
            prop_assert_eq!(parsed.columns.len(), columns.len() + 1);
            for (i, name) in names.iter().enumerate() {
                let column = &parsed.columns[i + 1];
                prop_assert_eq!(&column.name, name);
                conn.execute_batch(&format!("CREATE INDEX probe ON t ({name})")).unwrap();
                let collation: String = conn
                    .query_row("SELECT coll FROM pragma_index_xinfo('probe') WHERE key", [], |r| r.get(0))
                    .unwrap();
                conn.execute_batch("DROP INDEX probe").unwrap();
                prop_assert_eq!(
                    column.collation.clone().unwrap_or_else(|| "BINARY".into()),
                    collation.to_ascii_uppercase(),
                    "{}", sql
                );
                let hidden: i64 = conn
                    .query_row("SELECT hidden FROM pragma_table_xinfo('t') WHERE name = ?1", [name], |r| r.get(0))
                    .unwrap();
                let kind = column.generated.as_deref().map(|g| g.rsplit(' ').next().unwrap());
                prop_assert_eq!(kind, match hidden { 2 => Some("VIRTUAL"), 3 => Some("STORED"), _ => None }, "{}", sql);
            }
            // Every CHECK clause is found, none taken from a foreign
            // key clause or a comment.
            let checks = columns.iter().flat_map(|(_, c)| c).filter(|c| c.contains("CHECK")).count();
            prop_assert_eq!(parsed.checks.len(), checks, "{}", sql);
        }
    }

    /// Deferral, against SQLite: a foreign key is deferred exactly
    /// when a row that breaks it is taken until the commit. Clauses
    /// stand anywhere after the key, among other clauses, and at table
    /// level.
    fn deferral() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just(""),
            Just("DEFERRABLE INITIALLY DEFERRED"),
            Just("deferrable initially immediate"),
            Just("DEFERRABLE"),
            Just("NOT DEFERRABLE"),
            Just("NOT DEFERRABLE INITIALLY DEFERRED"),
        ]
    }

    fn other() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just(""),
            Just("DEFAULT NULL"),
            Just("COLLATE NOCASE"),
            Just("CHECK (1)"),
            Just("/* c */"),
            Just("UNIQUE"),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn deferral_is_read_as_sqlite_does(
            columns in proptest::collection::vec(
                (0..3u8, deferral(), other(), deferral(), other()),
                1..5,
            ),
        ) {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY)").unwrap();
            let mut definitions = Vec::new();
            let mut table_keys = Vec::new();
            for (i, (key, first, between, second, after)) in columns.iter().enumerate() {
                let name = format!("c{i}");
                match key {
                    // A column-level key with clauses around it.
                    0 => definitions.push(format!("{name} INT {between} REFERENCES p (id) {first} {after} {second}")),
                    // A table-level key.
                    1 => {
                        definitions.push(format!("{name} INT {between} {first}"));
                        table_keys.push(format!("FOREIGN KEY ({name}) REFERENCES p {second}"));
                    }
                    // No key: a stray clause applies to an earlier key.
                    _ => definitions.push(format!("{name} INT {between} {first} {after}")),
                }
            }
            definitions.extend(table_keys);
            let sql = format!("CREATE TABLE t ({})", definitions.join(", "));
            prop_assume!(conn.execute_batch(&sql).is_ok());
            let parsed = parse_table(&sql).unwrap();
            for i in 0..columns.len() {
                let name = format!("c{i}");
                let keyed: i64 = conn
                    .query_row("SELECT count(*) FROM pragma_foreign_key_list('t') WHERE \"from\" = ?1", [&name], |r| r.get(0))
                    .unwrap();
                if keyed == 0 {
                    continue;
                }
                conn.execute_batch("BEGIN").unwrap();
                let taken = conn.execute_batch(&format!("INSERT INTO t ({name}) VALUES (999)")).is_ok();
                conn.execute_batch("ROLLBACK").unwrap();
                let line = format!("foreign key ({name}) initially deferred");
                prop_assert_eq!(parsed.keys.contains(&line), taken, "{}\n{:?}", sql, parsed.keys);
            }
        }
    }
}

/// Parentheses that only group a whole expression are dropped, and no
/// others: wherever two ways of writing an expression read the same after
/// the drop, SQLite computes the same value from them, for every value of
/// their names (checked over a grid that holds NULL); and the ways that
/// differ in value keep differing (so a down that changes what a check or
/// a view computes is still named).
#[test]
fn dropped_parentheses_never_change_what_sqlite_computes() {
    use rusqlite::Connection;
    const SHAPES: [&str; 8] = [
        "{a} + {b} * {c}",
        "{a} OR {b} AND {c}",
        "{a} - {b} - {c}",
        "NOT {a} OR {b}",
        "{a} = {b} OR {c}",
        "{a} || {b} || {c}",
        "{a} < {b} AND {b} < {c}",
        "CASE WHEN {a} THEN {b} ELSE {c} END",
    ];
    // Each operand bare or in parentheses; the whole bare, once or twice
    // in parentheses; and the first two operands grouped.
    let mut variants: Vec<Vec<String>> = Vec::new();
    for shape in SHAPES {
        let mut forms = Vec::new();
        for wrap in 0..8u8 {
            let operand = |name: &str, bit: u8| {
                if wrap & bit != 0 {
                    format!("({name})")
                } else {
                    name.to_owned()
                }
            };
            let e = shape
                .replace("{a}", &operand("a", 1))
                .replace("{b}", &operand("b", 2))
                .replace("{c}", &operand("c", 4));
            forms.push(format!("(({e}))"));
            forms.push(format!("({e})"));
            forms.push(e);
        }
        let first = shape.find("{b}").unwrap() + 3;
        forms.push(format!(
            "({}){}",
            &shape[..first].replace("{a}", "a").replace("{b}", "b"),
            &shape[first..].replace("{c}", "c").replace("{b}", "b")
        ));
        variants.push(forms);
    }
    let conn = Connection::open_in_memory().unwrap();
    let values = ["NULL", "0", "1", "2", "'x'"];
    // What SQLite computes from `e` over the grid; `None` for a grouping
    // that SQLite refuses (a CASE cut in two), which no schema holds.
    let computed = |e: &str| -> Option<Vec<String>> {
        let mut out = Vec::new();
        for a in values {
            for b in values {
                for c in values {
                    let sql =
                        format!("SELECT quote({e}) FROM (SELECT {a} AS a, {b} AS b, {c} AS c)");
                    out.push(conn.query_row(&sql, [], |r| r.get(0)).ok()?);
                }
            }
        }
        Some(out)
    };
    let mut pairs = 0;
    for forms in &variants {
        for x in forms {
            for y in forms {
                // As the whole of a WHERE, where the rule applies, and
                // inside a CHECK's own parentheses.
                for context in ["WHERE {}", "CHECK ({})"] {
                    let read = |e: &str| {
                        let sql = context.replace("{}", e);
                        canonical(&tokens(&sql, Dialect::Sqlite))
                    };
                    if read(x) != read(y) {
                        continue;
                    }
                    let (Some(of_x), Some(of_y)) = (computed(x), computed(y)) else {
                        continue;
                    };
                    pairs += 1;
                    assert_eq!(of_x, of_y, "{x} and {y} read the same in {context}");
                }
            }
        }
    }
    assert!(pairs > 500, "{pairs}");
    // Grouping against precedence stays: these differ in value and in form.
    for (x, y) in [
        ("(a + b) * c", "a + b * c"),
        ("(a OR b) AND c", "a OR b AND c"),
        ("a - (b - c)", "a - b - c"),
    ] {
        assert_ne!(computed(x), computed(y));
        let read = |e: &str| canonical(&tokens(&format!("WHERE {e}"), Dialect::Sqlite));
        assert_ne!(read(x), read(y), "{x} and {y}");
    }
}
