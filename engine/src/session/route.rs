//! Which flows a parser is offered: a [`Route`] (port hints, an optional
//! content [`Probe`], a name) and one selection round over the candidate
//! routes of a flow.

use crate::vocab::FlowSide;
use std::sync::Arc;

/// A content probe's answer about the first bytes of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// This parser's protocol.
    Certain,
    /// Not this parser's protocol.
    No,
    /// Cannot tell yet: show me more bytes.
    NeedMore,
}

pub(super) type ProbeFn = Arc<dyn Fn(&[u8], FlowSide) -> Probe + Send + Sync>;

/// Which flows a parser is offered: port hints and an optional content
/// probe.
///
/// Selection per flow: registrations whose port matches either endpoint
/// come first, then the others, each group in registration order. The
/// first registration that does not answer [`Probe::No`] decides: without
/// a probe it is taken when its port matched (or it lists no ports at all:
/// [`Route::any`]); with a probe, `Certain` takes it and `NeedMore` waits
/// for more bytes. When the probe buffer is full (or the flow ends) the
/// first remaining port-matched registration is taken; otherwise the flow
/// runs without a parser.
#[derive(Clone)]
pub struct Route {
    pub(super) ports: Vec<u16>,
    pub(super) probe: Option<ProbeFn>,
    /// Offered only to flows with one of `ports` (see [`Route::only_ports`]).
    pub(super) only_ports: bool,
    /// The protocol's name, reported as the flow's `app_proto`.
    pub(super) name: Option<&'static str>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("ports", &self.ports)
            .field("probe", &self.probe.is_some())
            .field("only_ports", &self.only_ports)
            .field("name", &self.name)
            .finish()
    }
}

impl Route {
    /// Every flow of the protocol.
    pub fn any() -> Self {
        Route {
            ports: Vec::new(),
            probe: None,
            only_ports: false,
            name: None,
        }
    }

    /// Flows with one of these ports at either end (unless a probe says
    /// otherwise).
    pub fn ports(ports: impl IntoIterator<Item = u16>) -> Self {
        Route {
            ports: ports.into_iter().collect(),
            probe: None,
            only_ports: false,
            name: None,
        }
    }

    /// Adds a content probe, shown the first bytes (TCP: the first
    /// reassembled bytes of the first side to send; UDP: each datagram
    /// until one decides) and the side that sent them.
    pub fn probe(
        mut self,
        probe: impl Fn(&[u8], FlowSide) -> Probe + Send + Sync + 'static,
    ) -> Self {
        self.probe = Some(Arc::new(probe));
        self
    }

    /// Offers the parser to flows with one of the route's ports only (the
    /// probe then confirms rather than discovers): for protocols whose
    /// content check alone would claim unrelated traffic.
    pub fn only_ports(mut self) -> Self {
        self.only_ports = true;
        self
    }

    /// Names the protocol: flows given this parser report it in
    /// [`FlowStats::app_proto`](crate::FlowStats::app_proto) (`failed` is used for flows with payload
    /// that no parser took).
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    pub(super) fn port_matches(&self, ports: (u16, u16)) -> bool {
        self.ports.contains(&ports.0) || self.ports.contains(&ports.1)
    }

    /// Taken without looking at a byte: no probe, and every port or a
    /// matching one.
    pub(super) fn certain_without_bytes(&self, ports: (u16, u16)) -> bool {
        self.probe.is_none() && (self.ports.is_empty() || self.port_matches(ports))
    }
}

/// The outcome of one selection round.
pub(super) enum Choice {
    Take(u16),
    Wait,
    Nothing,
}

/// One selection round over `cands` (see [`Route`]). `sample` is what the
/// probes see; `force` ends the waiting.
pub(super) fn choose<'r>(
    route_of: impl Fn(u16) -> &'r Route,
    cands: &mut Vec<u16>,
    ports: (u16, u16),
    sample: Option<(&[u8], FlowSide)>,
    force: bool,
) -> Choice {
    let mut waiting = false;
    let mut i = 0;
    while i < cands.len() {
        let route = route_of(cands[i]);
        let answer = match (&route.probe, sample) {
            _ if route.certain_without_bytes(ports) => Probe::Certain,
            (None, _) => Probe::No,
            (Some(_), None) => Probe::NeedMore,
            (Some(p), Some((bytes, side))) => p(bytes, side),
        };
        match answer {
            Probe::No => {
                cands.remove(i);
            }
            Probe::Certain if !waiting => return Choice::Take(cands[i]),
            Probe::Certain | Probe::NeedMore => {
                waiting = true;
                i += 1;
            }
        }
    }
    if cands.is_empty() {
        return Choice::Nothing;
    }
    if !force {
        return Choice::Wait;
    }
    match cands.iter().find(|&&c| route_of(c).port_matches(ports)) {
        Some(&c) => Choice::Take(c),
        None => Choice::Nothing,
    }
}
