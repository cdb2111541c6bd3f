//! JSON straight between bytes and Erlang terms, with no intermediate tree.
//!
//! Both directions are iterative (an explicit stack, no recursion), so a
//! hostile nesting depth yields an error instead of overflowing the small
//! stack of a dirty scheduler thread.

pub mod bignum;
#[cfg(not(test))]
pub mod decode;
#[cfg(not(test))]
mod decode_string;
#[cfg(not(test))]
pub mod encode;
#[cfg(not(test))]
mod encode_error;
pub mod escape;
mod number;

/// Deepest nesting of arrays and objects accepted in either direction.
#[cfg_attr(test, allow(dead_code))]
pub const MAX_DEPTH: usize = 1024;
