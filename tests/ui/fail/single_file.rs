static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/single_file");

fn main() {}
