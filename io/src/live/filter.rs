//! BPF expressions applied to capture files in user space
//! ([`OfflineFilter`], libpcap's offline filter).

use super::options::{LiveError, MAX_FILTER_LEN};
use flowscope_engine::LinkType;
use pcap::Capture;

/// A BPF expression applied to capture files in user space (libpcap's
/// offline filter): what `-f` does for `replay`, so a filter can be tried
/// on a file before it goes on an interface. Compiled once per link type.
pub struct OfflineFilter {
    expr: String,
    /// Per link type met: the program, or why it does not compile for it.
    programs: Vec<(LinkType, Result<pcap::BpfProgram, String>)>,
    /// Packets of a link type the expression cannot apply to.
    unusable: u64,
    rejected: u64,
}

impl std::fmt::Debug for OfflineFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineFilter")
            .field("expr", &self.expr)
            .field("rejected", &self.rejected)
            .finish_non_exhaustive()
    }
}

/// Refuses an expression longer than [`MAX_FILTER_LEN`].
pub(super) fn check_filter_len(expr: &str) -> Result<(), LiveError> {
    if expr.len() > MAX_FILTER_LEN {
        return Err(LiveError::FilterTooLong { len: expr.len() });
    }
    Ok(())
}

fn compile(expr: &str, linktype: LinkType) -> Result<pcap::BpfProgram, String> {
    // Files record LINKTYPE_ values, libpcap compiles for DLT_ values:
    // they differ for raw IP, whose DLT is 12 on Linux (14 on OpenBSD).
    let linktype = match linktype {
        LinkType::RAW => LinkType::RAW_12,
        other => other,
    };
    let dlt = i32::try_from(linktype.0).map_err(|_| "unknown link type".to_owned())?;
    let dead = Capture::dead(pcap::Linktype(dlt)).map_err(|e| e.to_string())?;
    dead.compile(expr, true).map_err(|e| e.to_string())
}

impl OfflineFilter {
    /// Compiles `expr` (for Ethernet, to check it before anything starts;
    /// other link types are compiled when first met).
    pub fn new(expr: &str) -> Result<Self, LiveError> {
        check_filter_len(expr)?;
        let program = compile(expr, LinkType::ETHERNET).map_err(|message| LiveError::Filter {
            expr: expr.to_owned(),
            message,
        })?;
        Ok(OfflineFilter {
            expr: expr.to_owned(),
            programs: vec![(LinkType::ETHERNET, Ok(program))],
            unusable: 0,
            rejected: 0,
        })
    }

    /// Whether the packet passes. A packet of a link type the expression
    /// cannot be compiled for does not pass and is counted
    /// ([`OfflineFilter::unusable`]).
    pub fn matches(&mut self, linktype: LinkType, data: &[u8]) -> bool {
        let at = match self.programs.iter().position(|(l, _)| *l == linktype) {
            Some(i) => i,
            None => {
                self.programs
                    .push((linktype, compile(&self.expr, linktype)));
                self.programs.len() - 1
            }
        };
        let pass = match &self.programs[at].1 {
            Ok(p) => p.filter(data),
            Err(_) => {
                self.unusable += 1;
                false
            }
        };
        self.rejected += u64::from(!pass);
        pass
    }

    /// Packets that did not pass.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Packets of link types the expression does not compile for (part of
    /// [`OfflineFilter::rejected`]), with libpcap's reason for each type.
    pub fn unusable(&self) -> (u64, Vec<String>) {
        let why = self
            .programs
            .iter()
            .filter_map(|(l, p)| p.as_ref().err().map(|e| format!("link type {}: {e}", l.0)))
            .collect();
        (self.unusable, why)
    }

    /// The expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_filter_selects_like_tcpdump() {
        let eth_udp = |dport: u16| {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend_from_slice(&[
                0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ]);
            f.extend_from_slice(&1234u16.to_be_bytes());
            f.extend_from_slice(&dport.to_be_bytes());
            f.extend_from_slice(&[0, 8, 0, 0]);
            f
        };
        let mut f = OfflineFilter::new("udp port 53").unwrap();
        assert!(f.matches(LinkType::ETHERNET, &eth_udp(53)));
        assert!(!f.matches(LinkType::ETHERNET, &eth_udp(54)));
        // Raw IP: compiled for that link type when first met.
        assert!(f.matches(LinkType::RAW, &eth_udp(53)[14..]));
        assert_eq!(f.rejected(), 1);
        // An expression that needs link-layer headers does not apply to raw IP.
        let mut g = OfflineFilter::new("ether host 01:02:03:04:05:06").unwrap();
        assert!(!g.matches(LinkType::RAW, &eth_udp(53)[14..]));
        assert_eq!(g.unusable().0, 1);
    }

    #[test]
    fn a_bad_expression_is_an_error_naming_it() {
        let e = OfflineFilter::new("tcp and and port").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("tcp and and port"), "{text}");
        assert!(matches!(e, LiveError::Filter { .. }));
    }
}
