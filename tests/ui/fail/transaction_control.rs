static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/transaction_control");

fn main() {}
