//! NTSTATUS names (MS-ERREF §2.3.1) as Suricata writes them: the
//! `STATUS_*`, `RPC_NT_*` and `EPT_NT_*` codes, about 850 of them
//! (`names`); a code not there is written as its number (see
//! docs/parsers.md).

/// `STATUS_SUCCESS`.
pub const SUCCESS: u32 = 0;
/// `STATUS_PENDING`: an async answer, the final one follows.
pub const PENDING: u32 = 0x0000_0103;
/// `STATUS_BUFFER_OVERFLOW`: more data follows (a pipe's PDU in pieces).
pub const BUFFER_OVERFLOW: u32 = 0x8000_0005;
/// `STATUS_END_OF_FILE`.
pub const END_OF_FILE: u32 = 0xc000_0011;

mod names;
use names::NAMES;

/// An NTSTATUS's name; `None` for a code not in this table.
pub fn nt_status_name(code: u32) -> Option<&'static str> {
    NAMES
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map(|&(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_without_repeats_and_names_statuses() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(NAMES.len() > 800);
        assert!(NAMES.iter().all(|&(_, n)| {
            ["STATUS_", "RPC_NT_", "EPT_NT_"]
                .iter()
                .any(|p| n.starts_with(p))
                && n.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        }));
    }

    #[test]
    fn names_of_codes_smb_servers_answer_with() {
        assert_eq!(nt_status_name(SUCCESS), Some("STATUS_SUCCESS"));
        assert_eq!(nt_status_name(0xc000_0022), Some("STATUS_ACCESS_DENIED"));
        assert_eq!(nt_status_name(0xc000_006d), Some("STATUS_LOGON_FAILURE"));
        assert_eq!(nt_status_name(0xc000_00cc), Some("STATUS_BAD_NETWORK_NAME"));
        assert_eq!(
            nt_status_name(0xc000_0043),
            Some("STATUS_SHARING_VIOLATION")
        );
        assert_eq!(
            nt_status_name(0xc000_a100),
            Some("STATUS_HASH_NOT_SUPPORTED")
        );
        assert_eq!(
            nt_status_name(0xc002_0001),
            Some("RPC_NT_INVALID_STRING_BINDING")
        );
        assert_eq!(nt_status_name(0xdead_beef), None);
    }
}
