//! NIF adapters for in-flight marks (`in_flight.rs`); normal scheduler.

use rustler::{Atom, ResourceArc};

use crate::atoms;
use crate::in_flight::{self, Mark};

/// A mark as an Erlang resource: released when the poller says so, when
/// the combined `/response` + `/next` call saw the response accepted, or
/// when the resource is collected, whichever comes first.
pub struct MarkResource(pub Mark);

#[rustler::resource_impl]
impl rustler::Resource for MarkResource {}

/// Takes a mark: one more invocation SIGTERM waits for.
#[rustler::nif]
fn in_flight_mark() -> ResourceArc<MarkResource> {
    ResourceArc::new(MarkResource(Mark::new()))
}

/// Gives a mark back (a mark already given back stays so).
#[rustler::nif]
fn in_flight_release(mark: ResourceArc<MarkResource>) -> Atom {
    mark.0.release();
    atoms::ok()
}

/// How many marks are out.
#[rustler::nif]
fn in_flight_count() -> i64 {
    in_flight::count()
}
