//! The `embed_migrations!` macro of strata. Use it through the `strata`
//! crate, which documents it.

mod expand;

use proc_macro::TokenStream;

/// Embeds a migrations folder; see `strata::embed_migrations!`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    expand::embed_migrations(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
