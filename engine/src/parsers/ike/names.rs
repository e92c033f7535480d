//! The names Suricata 7 writes for IKE numbers (those of the
//! `ipsec-parser` crate it uses for IKEv2 and of its own IKEv1 tables):
//! payload types, notify types, IKEv2 transform IDs, IKEv1 SA attribute
//! types and values. `None` where Suricata writes a number in a wrapper
//! (the EVE writer spells those).

/// An IKEv2 payload type's name (`SecurityAssociation`...).
pub fn v2_payload_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "NoNextPayload",
        33 => "SecurityAssociation",
        34 => "KeyExchange",
        35 => "IdentInitiator",
        36 => "IdentResponder",
        37 => "Certificate",
        38 => "CertificateRequest",
        39 => "Authentication",
        40 => "Nonce",
        41 => "Notify",
        42 => "Delete",
        43 => "VendorID",
        44 => "TrafficSelectorInitiator",
        45 => "TrafficSelectorResponder",
        46 => "EncryptedAndAuthenticated",
        47 => "Configuration",
        48 => "ExtensibleAuthentication",
        _ => return None,
    })
}

/// An IKEv1 payload type's name (`SecurityAssociation`...); Suricata
/// leaves the others out of the list.
pub fn v1_payload_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "None",
        1 => "SecurityAssociation",
        2 => "Proposal",
        3 => "Transform",
        4 => "KeyExchange",
        5 => "Identification",
        6 => "Certificate",
        7 => "CertificateRequest",
        8 => "Hash",
        9 => "Signature",
        10 => "Nonce",
        11 => "Notification",
        12 => "Delete",
        13 => "VendorID",
        15 => "SaKekPayload",
        16 => "SaTekPayload",
        17 => "KeyDownload",
        18 => "SequenceNumber",
        19 => "ProofOfPossession",
        20 => "NatDiscovery",
        21 => "NatOriginalAddress",
        22 => "GroupAssociatedPolicy",
        _ => return None,
    })
}

/// An IKEv2 notify message type's name (`COOKIE`...).
pub fn notify_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        4 => "INVALID_IKE_SPI",
        5 => "INVALID_MAJOR_VERSION",
        7 => "INVALID_SYNTAX",
        9 => "INVALID_MESSAGE_ID",
        11 => "INVALID_SPI",
        14 => "NO_PROPOSAL_CHOSEN",
        17 => "INVALID_KE_PAYLOAD",
        24 => "AUTHENTICATION_FAILED",
        34 => "SINGLE_PAIR_REQUIRED",
        35 => "NO_ADDITIONAL_SAS",
        36 => "INTERNAL_ADDRESS_FAILURE",
        37 => "FAILED_CP_REQUIRED",
        38 => "TS_UNACCEPTABLE",
        39 => "INVALID_SELECTORS",
        43 => "TEMPORARY_FAILURE",
        44 => "CHILD_SA_NOT_FOUND",
        16384 => "INITIAL_CONTACT",
        16385 => "SET_WINDOW_SIZE",
        16386 => "ADDITIONAL_TS_POSSIBLE",
        16387 => "IPCOMP_SUPPORTED",
        16388 => "NAT_DETECTION_SOURCE_IP",
        16389 => "NAT_DETECTION_DESTINATION_IP",
        16390 => "COOKIE",
        16391 => "USE_TRANSPORT_MODE",
        16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        16393 => "REKEY_SA",
        16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        16395 => "NON_FIRST_FRAGMENTS_ALSO",
        16404 => "MULTIPLE_AUTH_SUPPORTED",
        16405 => "ANOTHER_AUTH_FOLLOWS",
        16406 => "REDIRECT_SUPPORTED",
        16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        16431 => "SIGNATURE_HASH_ALGORITHMS",
        _ => return None,
    })
}

/// An IKEv2 encryption transform ID's name (`ENCR_AES_CBC`...).
pub fn enc_name(t: u16) -> Option<&'static str> {
    const N: [&str; 29] = [
        "",
        "ENCR_DES_IV64",
        "ENCR_DES",
        "ENCR_3DES",
        "ENCR_RC5",
        "ENCR_IDEA",
        "ENCR_CAST",
        "ENCR_BLOWFISH",
        "ENCR_3IDEA",
        "ENCR_DES_IV32",
        "",
        "ENCR_NULL",
        "ENCR_AES_CBC",
        "ENCR_AES_CTR",
        "ENCR_AES_CCM_8",
        "ENCR_AES_CCM_12",
        "ENCR_AES_CCM_16",
        "",
        "ENCR_AES_GCM_8",
        "ENCR_AES_GCM_12",
        "ENCR_AES_GCM_16",
        "ENCR_NULL_AUTH_AES_GMAC",
        "",
        "ENCR_CAMELLIA_CBC",
        "ENCR_CAMELLIA_CTR",
        "ENCR_CAMELLIA_CCM_8",
        "ENCR_CAMELLIA_CCM_12",
        "ENCR_CAMELLIA_CCM_16",
        "ENCR_CHACHA20_POLY1305",
    ];
    N.get(usize::from(t)).copied().filter(|s| !s.is_empty())
}

/// An IKEv2 PRF transform ID's name (`PRF_HMAC_SHA2_256`...).
pub fn prf_name(t: u16) -> Option<&'static str> {
    const N: [&str; 9] = [
        "PRF_NULL",
        "PRF_HMAC_MD5",
        "PRF_HMAC_SHA1",
        "PRF_HMAC_TIGER",
        "PRF_AES128_XCBC",
        "PRF_HMAC_SHA2_256",
        "PRF_HMAC_SHA2_384",
        "PRF_HMAC_SHA2_512",
        "PRF_AES128_CMAC",
    ];
    N.get(usize::from(t)).copied()
}

/// An IKEv2 integrity transform ID's name (`AUTH_HMAC_SHA2_256_128`...).
pub fn auth_name(t: u16) -> Option<&'static str> {
    const N: [&str; 15] = [
        "NONE",
        "AUTH_HMAC_MD5_96",
        "AUTH_HMAC_SHA1_96",
        "AUTH_DES_MAC",
        "AUTH_KPDK_MD5",
        "AUTH_AES_XCBC_96",
        "AUTH_HMAC_MD5_128",
        "AUTH_HMAC_SHA1_160",
        "AUTH_AES_CMAC_96",
        "AUTH_AES_128_GMAC",
        "AUTH_AES_192_GMAC",
        "AUTH_AES_256_GMAC",
        "AUTH_HMAC_SHA2_256_128",
        "AUTH_HMAC_SHA2_384_192",
        "AUTH_HMAC_SHA2_512_256",
    ];
    N.get(usize::from(t)).copied()
}

/// An IKEv2 Diffie-Hellman group's name (`Ecp256`, `Curve25519`...).
pub fn dh_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0 => "None",
        1 => "Modp768",
        2 => "Modp1024",
        5 => "Modp1536",
        14 => "Modp2048",
        15 => "Modp3072",
        16 => "Modp4096",
        17 => "Modp6144",
        18 => "Modp8192",
        19 => "Ecp256",
        20 => "Ecp384",
        21 => "Ecp521",
        22 => "Modp1024s160",
        23 => "Modp2048s224",
        24 => "Modp2048s256",
        25 => "Ecp192",
        26 => "Ecp224",
        27 => "BrainpoolP224r1",
        28 => "BrainpoolP256r1",
        29 => "BrainpoolP384r1",
        30 => "BrainpoolP512r1",
        31 => "Curve25519",
        32 => "Curve448",
        _ => return None,
    })
}

/// An IKEv2 extended sequence numbers transform ID's name.
pub fn esn_name(t: u16) -> Option<&'static str> {
    match t {
        0 => Some("NoESN"),
        1 => Some("ESN"),
        _ => None,
    }
}

/// An IKEv1 SA attribute type's key in a record (`alg_enc`...; `unknown`
/// for the others).
pub fn attribute_key(t: u16) -> &'static str {
    const N: [&str; 17] = [
        "unknown",
        "alg_enc",
        "alg_hash",
        "alg_auth",
        "alg_dh",
        "sa_group_type",
        "sa_group_prime",
        "sa_group_generator_one",
        "sa_group_generator_two",
        "sa_group_curve_a",
        "sa_group_curve_b",
        "sa_life_type",
        "sa_life_duration",
        "alg_prf",
        "sa_key_length",
        "sa_field_size",
        "sa_group_order",
    ];
    N.get(usize::from(t)).copied().unwrap_or("unknown")
}

/// The `_raw` key beside [`attribute_key`] (`alg_enc_raw`...).
pub fn attribute_raw_key(t: u16) -> &'static str {
    const N: [&str; 17] = [
        "unknown_raw",
        "alg_enc_raw",
        "alg_hash_raw",
        "alg_auth_raw",
        "alg_dh_raw",
        "sa_group_type_raw",
        "sa_group_prime_raw",
        "sa_group_generator_one_raw",
        "sa_group_generator_two_raw",
        "sa_group_curve_a_raw",
        "sa_group_curve_b_raw",
        "sa_life_type_raw",
        "sa_life_duration_raw",
        "alg_prf_raw",
        "sa_key_length_raw",
        "sa_field_size_raw",
        "sa_group_order_raw",
    ];
    N.get(usize::from(t)).copied().unwrap_or("unknown_raw")
}

/// The name Suricata gives an IKEv1 SA attribute's value `v` of type `t`
/// (`EncAesCbc`, `HashSha2_256`, `LifeTypeSeconds`...; `Unknown` for
/// values it has no name for and for types whose values are numbers).
pub fn attribute_value_name(t: u16, v: u16) -> &'static str {
    let n: &[&str] = match t {
        1 => &[
            "",
            "EncDesCbc",
            "EncIdeaCbc",
            "EncBlowfishCbc",
            "EncRc5R16B64Cbc",
            "EncTripleDesCbc",
            "EncCastCbc",
            "EncAesCbc",
            "EncCamelliaCbc",
        ],
        2 => &[
            "",
            "HashMd5",
            "HashSha",
            "HashTiger",
            "HashSha2_256",
            "HashSha2_384",
            "HashSha2_512",
        ],
        3 => &[
            "",
            "AuthPreSharedKey",
            "AuthDssSignatures",
            "AuthRsaSignatures",
            "AuthEncryptionWithRsa",
            "AuthRevisedEncryptionWithRsa",
            "AuthReserved",
            "AuthReserved",
            "AuthReserved",
            "AuthEcdsaSha256",
            "AuthEcdsaSha384",
            "AuthEcdsaSha512",
        ],
        4 => &[
            "",
            "GroupDefault768BitModp",
            "GroupAlternate1024BitModpGroup",
            "GroupEc2nOnGp2p155",
            "GroupEc2nOnGp2p185",
            "GroupModp1536Bit",
            "GroupEc2nOverGf2p163",
            "GroupEc2nOverGf2p163",
            "GroupEc2nOverGf2p283",
            "GroupEc2nOverGf2p283",
            "GroupEc2nOverGf2p409",
            "GroupEc2nOverGf2p409",
            "GroupEc2nOverGf2p571",
            "GroupEc2nOverGf2p571",
            "GroupModp2048Bit",
            "GroupModp3072Bit",
            "GroupModp4096Bit",
            "GroupModp6144Bit",
            "GroupModp8192Bit",
            "GroupRandomEcp256",
            "GroupRandomEcp384",
            "GroupRandomEcp521",
            "GroupModp1024With160BitPrime",
            "GroupModp2048With224BitPrime",
            "GroupModp2048With256BitPrime",
            "GroupRandomEcp192",
            "GroupRandomEcp224",
            "GroupBrainpoolEcp224",
            "GroupBrainpoolEcp256",
            "GroupBrainpoolEcp384",
            "GroupBrainpoolEcp512",
        ],
        11 => &["", "LifeTypeSeconds", "LifeTypeKilobytes"],
        _ => &[],
    };
    n.get(usize::from(v))
        .copied()
        .filter(|s| !s.is_empty())
        .unwrap_or("Unknown")
}
