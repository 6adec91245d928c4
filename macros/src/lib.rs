//! The `embed_migrations!` macro of strata. Use it through the `strata`
//! crate, which documents it.

mod expand;

use proc_macro::TokenStream;

/// Embeds a migrations folder; see `strata::embed_migrations!`, which
/// calls it with the path to `strata` first: `$crate; "migrations"`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand::embed_migrations(input.into()) {
        Ok(expand::Expansion::Tokens(tokens)) => tokens.into(),
        // Lexed by the compiler itself: proc-macro2 would first check the
        // text with its own lexer, which costs as much again.
        Ok(expand::Expansion::Source(embedded)) => match embedded.elements.parse::<TokenStream>() {
            Ok(elements) => embedded.tokens(elements.into()).into(),
            Err(e) => syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("strata could not lex its own expansion ({e}): please report this"),
            )
            .into_compile_error()
            .into(),
        },
        Err(e) => e.into_compile_error().into(),
    }
}
