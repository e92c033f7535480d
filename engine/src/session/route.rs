//! Which flows a parser is offered: a [`Route`] (port hints, an optional
//! content [`Probe`], a name), the [`PortIndex`] that finds the routes a
//! flow's ports match without scanning every route's list, and one
//! selection round over the candidate routes of a flow.

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

    /// Taken without looking at a byte: no probe, and every port or a
    /// matching one (`port_matched`).
    pub(super) fn certain_without_bytes(&self, port_matched: bool) -> bool {
        self.probe.is_none() && (self.ports.is_empty() || port_matched)
    }
}

/// The routes of one transport by port: `(port, route)` pairs sorted by
/// port, then route (registration order), so a flow's two ports find their
/// routes with two binary searches however many routes list ports; and the
/// routes offered to flows on any port, in registration order.
#[derive(Debug, Default, Clone)]
pub(super) struct PortIndex {
    pairs: Vec<(u16, u16)>,
    any_port: Vec<u16>,
}

impl PortIndex {
    /// Enters route number `route`, registered after every route entered
    /// before it.
    pub(super) fn add(&mut self, route_no: u16, route: &Route) {
        self.pairs
            .extend(route.ports.iter().map(|&p| (p, route_no)));
        self.pairs.sort_unstable();
        self.pairs.dedup();
        if !route.only_ports {
            self.any_port.push(route_no);
        }
    }

    /// The routes offered to flows on any port (not [`Route::only_ports`]),
    /// in registration order.
    pub(super) fn any_port(&self) -> &[u16] {
        &self.any_port
    }

    /// The routes listing `port`, in registration order.
    fn listing(&self, port: u16) -> impl Iterator<Item = u16> + '_ {
        let lo = self.pairs.partition_point(|&(p, _)| p < port);
        self.pairs[lo..]
            .iter()
            .take_while(move |&&(p, _)| p == port)
            .map(|&(_, r)| r)
    }

    /// The routes listing either port (those listing both twice), each
    /// port's in registration order.
    pub(super) fn matching(&self, ports: (u16, u16)) -> impl Iterator<Item = u16> + '_ {
        self.listing(ports.0).chain(self.listing(ports.1))
    }

    /// The first route (in registration order) listing either port.
    pub(super) fn first(&self, ports: (u16, u16)) -> Option<u16> {
        let a = self.listing(ports.0).next();
        let b = self.listing(ports.1).next();
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A route still in the running for a flow, and whether one of the flow's
/// ports is among the route's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Candidate {
    pub(super) route: u16,
    pub(super) port_matched: bool,
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
    cands: &mut Vec<Candidate>,
    sample: Option<(&[u8], FlowSide)>,
    force: bool,
) -> Choice {
    let mut waiting = false;
    let mut i = 0;
    while i < cands.len() {
        let c = cands[i];
        let route = route_of(c.route);
        let answer = match (&route.probe, sample) {
            _ if route.certain_without_bytes(c.port_matched) => Probe::Certain,
            (None, _) => Probe::No,
            (Some(_), None) => Probe::NeedMore,
            (Some(p), Some((bytes, side))) => p(bytes, side),
        };
        match answer {
            Probe::No => {
                cands.remove(i);
            }
            Probe::Certain if !waiting => return Choice::Take(c.route),
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
    match cands.iter().find(|c| c.port_matched) {
        Some(c) => Choice::Take(c.route),
        None => Choice::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::{PortIndex, Route};

    #[test]
    fn port_index_finds_the_routes_of_either_port_in_registration_order() {
        let mut index = PortIndex::default();
        index.add(0, &Route::ports([80, 8080]));
        index.add(1, &Route::ports([53]).only_ports());
        index.add(2, &Route::ports([80, 443, 80]));
        index.add(3, &Route::any());
        index.add(4, &Route::ports([443]).only_ports());
        assert_eq!(index.any_port(), [0, 2, 3]);
        assert_eq!(index.first((80, 53)), Some(0));
        assert_eq!(index.first((40000, 53)), Some(1));
        assert_eq!(index.first((443, 40000)), Some(2));
        assert_eq!(index.first((1, 2)), None);
        let matching = |ports| index.matching(ports).collect::<Vec<_>>();
        assert_eq!(matching((40000, 80)), [0, 2]);
        assert_eq!(matching((53, 80)), [1, 0, 2]);
        assert!(matching((0, 0)).is_empty());
        assert_eq!(index.listing(80).collect::<Vec<_>>(), [0, 2]);
    }
}
