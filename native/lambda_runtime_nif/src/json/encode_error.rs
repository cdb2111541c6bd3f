//! Why a term cannot be encoded as JSON (`encode`, `resume`): each case
//! carries the offending term, for the Elixir side's error.

use rustler::Term;

/// Why a term cannot be encoded, carrying the offending term.
pub enum EncodeError<'a> {
    /// A pid, port, reference, function or tuple.
    Unsupported(Term<'a>),
    /// A binary (value or key) that is not valid UTF-8.
    InvalidUtf8(Term<'a>),
    /// A map key that is not an atom, binary or integer.
    InvalidKey(Term<'a>),
    /// A list whose tail is not a list.
    ImproperList(Term<'a>),
    /// A map with `__struct__`: the caller converts structs and retries.
    Struct(Term<'a>),
    TooDeep,
    /// `resume` was given frames that `Paused::into_terms` did not make.
    BadFrames(Term<'a>),
    /// Two keys of one map that write the same object key (`:a` and `"a"`).
    DuplicateKey(Term<'a>, Term<'a>),
    /// A `LambdaRuntime.JSON.BigNumber` whose `text` is not a JSON number.
    BadNumber(Term<'a>),
}
