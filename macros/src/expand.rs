//! Parse the argument, check the folder with strata-source's scanner, and
//! emit a static array of `Migration`s: data, not code.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use strata_source::{self as source, Folder};
use syn::LitStr;

/// Set by strata's own UI tests: trybuild compiles them in a crate of its
/// own, whose `CARGO_MANIFEST_DIR` does not hold the fixture folders.
const MANIFEST_DIR_OVERRIDE: &str = "STRATA_MANIFEST_DIR_OVERRIDE";

/// What the macro expands to: tokens, or the migrations as Rust source for
/// the compiler to lex (see [`emit`]) inside tokens that name the crate.
pub enum Expansion {
    Tokens(TokenStream),
    Source(Embedded),
}

/// The expansion of a folder that follows the rules.
pub struct Embedded {
    /// The path to the `strata` crate, as the caller reaches it.
    pub krate: TokenStream,
    /// How many migrations there are.
    pub count: usize,
    /// The array's elements, as Rust source.
    pub elements: String,
    /// The folder as written, for messages.
    pub shown: String,
}

impl Embedded {
    /// The whole expansion, around `elements` lexed.
    pub fn tokens(self, elements: TokenStream) -> TokenStream {
        let Embedded {
            krate,
            count,
            shown,
            ..
        } = self;
        quote! {
            {
                use #krate::__private::migration as __M;
                use ::core::include_str as __s;
                static __STRATA_EMBEDDED: [#krate::Migration; #count] = [#elements];
                #krate::__private::migrations(#shown, &__STRATA_EMBEDDED)
            }
        }
    }
}

/// The input, `$crate; "folder"` from the `strata::embed_migrations!`
/// wrapper (which passes the path to strata however the caller's
/// `Cargo.toml` names it), or `"folder"` alone (then `::strata`).
pub fn embed_migrations(input: TokenStream) -> syn::Result<Expansion> {
    let (krate, input) = split_crate(input);
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
        Err(problems) => return Ok(Expansion::Tokens(report(&krate, &literal, &problems))),
    };
    Ok(Expansion::Source(Embedded {
        krate,
        count: folder.migrations.len(),
        elements: emit(&folder),
        shown: folder.shown,
    }))
}

/// The crate path before the first top-level `;`, and the rest.
fn split_crate(input: TokenStream) -> (TokenStream, TokenStream) {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    match tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
    {
        Some(at) => (
            tokens[..at].iter().cloned().collect(),
            tokens[at + 1..].iter().cloned().collect(),
        ),
        None => (quote!(::strata), tokens.into_iter().collect()),
    }
}

/// Every problem as its own compile error, then a placeholder value so
/// that the caller's `static` gets no second, confusing type error.
fn report(krate: &TokenStream, literal: &LitStr, problems: &[source::Problem]) -> TokenStream {
    let errors = problems
        .iter()
        .map(|problem| syn::Error::new(literal.span(), problem).into_compile_error());
    quote! {
        {
            #(#errors)*
            #krate::__private::migrations("", &[])
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

/// The array's elements are written as Rust source, which the compiler
/// lexes in one call: building tens of thousands of tokens one by one
/// through the proc-macro bridge costs more than the folder scan itself.
/// String literals come from `Debug`, which writes valid Rust. Short local
/// names (`__M`, `__s`, set by [`Embedded::tokens`]) keep the text, and the
/// compiler's work, small.
fn emit(folder: &Folder) -> String {
    use std::fmt::Write as _;

    let mut text = String::with_capacity(400 * folder.migrations.len());
    for m in &folder.migrations {
        let _ = write!(
            text,
            "__M({}, {:?}, __s!({:?}), __s!({:?}), *b\"{}\", *b\"{}\", {}),",
            m.version,
            m.stem,
            m.up.path.to_string_lossy(),
            m.down.path.to_string_lossy(),
            escaped(m.checksum.as_bytes()),
            escaped(m.chain.as_bytes()),
            m.flags(),
        );
    }
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
