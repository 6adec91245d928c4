static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/missing_down");

fn main() {}
