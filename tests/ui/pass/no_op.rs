// A migration meant to do nothing says so, and builds.
static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/no_op");

fn main() {
    assert_eq!(MIGRATIONS.len(), 2);
}
