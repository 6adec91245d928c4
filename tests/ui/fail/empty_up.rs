static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/empty_up");

fn main() {}
