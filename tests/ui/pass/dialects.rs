// Refused statements in strings, dollar quotes and nested comments, and a
// CONCURRENTLY that PostgreSQL runs inside a transaction: the build
// accepts them.
static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/dialects");

fn main() {
    assert_eq!(MIGRATIONS.len(), 1);
}
