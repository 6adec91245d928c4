static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/empty_down");

fn main() {}
