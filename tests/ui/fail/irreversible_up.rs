static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/irreversible_up");

fn main() {}
