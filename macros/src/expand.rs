//! Parse the argument, check the folder with the runtime's scanner, and
//! emit a static array of `Migration`s: data, not code.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use strata_runtime::Migration;
use strata_runtime::source::{self, Folder};
use syn::LitStr;

/// Set by strata's own UI tests: trybuild compiles them in a crate of its
/// own, whose `CARGO_MANIFEST_DIR` does not hold the fixture folders.
const MANIFEST_DIR_OVERRIDE: &str = "STRATA_MANIFEST_DIR_OVERRIDE";

/// What the macro expands to: tokens, or Rust source for the compiler to
/// lex (see [`emit`]).
pub enum Expansion {
    Tokens(TokenStream),
    Source(String),
}

pub fn embed_migrations(input: TokenStream) -> syn::Result<Expansion> {
    let literal = parse(input)?;
    let written = literal.value();
    if Path::new(&written).is_absolute() {
        return Err(syn::Error::new(
            literal.span(),
            format!(
                "the migrations folder must be relative to the crate's Cargo.toml, not absolute (write it as `embed_migrations!(\"migrations\")`; {written:?} is absolute)"
            ),
        ));
    }
    let base = manifest_dir(&literal)?;
    let folder = match source::scan(&base, &written, "the directory of the crate's Cargo.toml") {
        Ok(folder) => folder,
        Err(problems) => return Ok(Expansion::Tokens(report(&literal, &problems))),
    };
    Ok(Expansion::Source(emit(&folder)))
}

/// Every problem as its own compile error, then a placeholder value so
/// that the caller's `static` gets no second, confusing type error.
fn report(literal: &LitStr, problems: &[source::Problem]) -> TokenStream {
    let errors = problems
        .iter()
        .map(|problem| syn::Error::new(literal.span(), problem).into_compile_error());
    quote! {
        {
            #(#errors)*
            ::strata::__private::Migrations::__embedded("", &[])
        }
    }
}

fn parse(input: TokenStream) -> syn::Result<LitStr> {
    const USAGE: &str = "expected the migrations folder as a string literal, relative to the crate's Cargo.toml: `embed_migrations!(\"migrations\")`";
    if input.is_empty() {
        return Err(syn::Error::new(Span::call_site(), USAGE));
    }
    syn::parse2::<LitStr>(input).map_err(|e| syn::Error::new(e.span(), USAGE))
}

fn manifest_dir(literal: &LitStr) -> syn::Result<PathBuf> {
    std::env::var_os(MANIFEST_DIR_OVERRIDE)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            syn::Error::new(
                literal.span(),
                "CARGO_MANIFEST_DIR is not set: build with cargo, which sets it",
            )
        })
}

/// The expansion is written as Rust source, which the compiler lexes in
/// one call: building tens of thousands of tokens one by one through the
/// proc-macro bridge costs more than the folder scan itself. String
/// literals come from `Debug`, which writes valid Rust.
fn emit(folder: &Folder) -> String {
    use std::fmt::Write as _;

    let mut text = String::with_capacity(400 * folder.migrations.len() + 256);
    // Short local names keep the text, and the compiler's work, small.
    let _ = write!(
        text,
        "{{ use ::strata::__private::Migration as __M; use ::core::include_str as __s; \
         static __STRATA_EMBEDDED: [__M; {}] = [",
        folder.migrations.len()
    );
    for m in &folder.migrations {
        let _ = write!(
            text,
            "__M::__embedded({}, {:?}, __s!({:?}), __s!({:?}), *b\"{}\", *b\"{}\", {}),",
            m.version,
            m.stem,
            m.up.path.to_string_lossy(),
            m.down.path.to_string_lossy(),
            escaped(m.checksum.as_bytes()),
            escaped(m.chain.as_bytes()),
            Migration::__flags(m),
        );
    }
    let _ = write!(
        text,
        "]; ::strata::__private::Migrations::__embedded({:?}, &__STRATA_EMBEDDED) }}",
        folder.shown
    );
    text
}

/// Bytes as the inside of a byte string literal: `\x12\x34…`.
fn escaped(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 4);
    for &b in bytes {
        out.push_str("\\x");
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}
