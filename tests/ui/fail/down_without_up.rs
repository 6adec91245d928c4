static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/down_without_up");

fn main() {}
