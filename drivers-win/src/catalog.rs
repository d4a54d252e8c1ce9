//! The content of a Windows catalog file (`.cat`): a certificate trust list
//! (CTL) whose subjects are the package's files, each named by its hash.
//! The layout is described in docs/WINDOWS-DRIVER.md; in short:
//!
//! ```text
//! CertificateTrustList ::= SEQUENCE {            -- wincrypt.h CTL_INFO
//!   subjectUsage      SEQUENCE OF OID,           -- szOID_CATALOG_LIST
//!   listIdentifier    OCTET STRING OPTIONAL,     -- 16 random bytes
//!   thisUpdate        UTCTime,
//!   subjectAlgorithm  AlgorithmIdentifier,       -- szOID_CATALOG_LIST_MEMBER, NULL
//!   trustedSubjects   SEQUENCE OF SEQUENCE {
//!     subjectIdentifier OCTET STRING,            -- hex of the hash, UTF-16LE, NUL-ended
//!     subjectAttributes SET OF Attribute },      -- member info, name/values, indirect data
//!   extensions        [0] EXPLICIT Extensions }  -- catalog-wide name/values
//! ```

use der::asn1::{Any, BmpString, Null, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode, Sequence, Tag};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;

/// szOID_CATALOG_LIST: the CTL lists catalog members.
const CATALOG_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.1.1");
/// szOID_CATALOG_LIST_MEMBER: the subjects are version-1 catalog members.
const CATALOG_LIST_MEMBER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.1.2");
/// CAT_NAMEVALUE_OBJID: a named string attribute (catalog-wide or per member).
const CAT_NAMEVALUE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.2.1");
/// CAT_MEMBERINFO_OBJID: which subject interface package hashed the member.
const CAT_MEMBERINFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.2.2");
/// SPC_INDIRECT_DATA_OBJID: the member's hash, Authenticode style.
const SPC_INDIRECT_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.4");
/// SPC_CAB_DATA_OBJID: the indirect data type Windows writes for flat files.
const SPC_CAB_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.25");
/// SHA-1 (OIW).
pub(crate) const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// SHA-256 (NIST).
pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// CRYPT_SUBJTYPE_FLAT_IMAGE: the subject interface package for files hashed whole (mssip.h).
const FLAT_IMAGE_SIP: &str = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}";
/// Member info version Windows' catalog tools write.
const MEMBER_INFO_VERSION: u32 = 512;
/// CRYPTCAT_ATTR_AUTHENTICATED | CRYPTCAT_ATTR_DATAASCII | CRYPTCAT_ATTR_NAMEASCII (mscat.h).
const NAME_VALUE_FLAGS: u32 = 0x1001_0001;
/// The Windows versions the package is for, as catalogs name them
/// (platform 2 = NT; 6.1 = Windows 7 … 10.0 = Windows 10 and 11).
pub const OS_ATTR: &str = "2:6.1,2:6.2,2:6.3,2:10.0";

/// The certificate trust list; field names after wincrypt.h's CTL_INFO.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct TrustList {
    subject_usage: Vec<ObjectIdentifier>,
    #[asn1(optional = "true")]
    list_identifier: Option<OctetString>,
    this_update: UtcTime,
    subject_algorithm: AlgorithmIdentifierOwned,
    subjects: Vec<Subject>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// One member: its tag and attributes.
#[derive(Clone, Debug, Sequence)]
struct Subject {
    identifier: OctetString,
    attributes: SetOfVec<Attribute>,
}

/// CAT_NAMEVALUE: `tag = value`, the value UTF-16LE and NUL-ended.
#[derive(Clone, Debug, Sequence)]
struct NameValue {
    tag: BmpString,
    flags: u32,
    value: OctetString,
}

/// CAT_MEMBERINFO: the subject interface package's GUID.
#[derive(Clone, Debug, Sequence)]
struct MemberInfo {
    sip_guid: BmpString,
    version: u32,
}

/// SpcIndirectDataContent (Authenticode): what was hashed, and the hash.
#[derive(Clone, Debug, Sequence)]
struct IndirectData {
    data: TypeAndValue,
    message_digest: DigestInfo,
}

/// SpcAttributeTypeAndOptionalValue.
#[derive(Clone, Debug, Sequence)]
struct TypeAndValue {
    data_type: ObjectIdentifier,
    value: Any,
}

/// DigestInfo (PKCS #7 / RFC 2315 §9.4).
#[derive(Clone, Debug, Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

/// A hash algorithm a member can be listed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// SHA-1: what `CryptCATAdminCalcHashFromFileHandle` computes.
    Sha1,
    /// SHA-256: what `CryptCATAdminCalcHashFromFileHandle2` computes with a SHA-256 context.
    Sha256,
}

impl std::fmt::Display for HashKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HashKind::Sha1 => "SHA-1",
            HashKind::Sha256 => "SHA-256",
        })
    }
}

impl HashKind {
    /// Both, SHA-1 first.
    pub const ALL: [HashKind; 2] = [HashKind::Sha1, HashKind::Sha256];

    /// The hash of a flat file, as Windows computes it: over every byte.
    pub fn hash(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            HashKind::Sha1 => Sha1::digest(bytes).to_vec(),
            HashKind::Sha256 => Sha256::digest(bytes).to_vec(),
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            HashKind::Sha1 => SHA1,
            HashKind::Sha256 => SHA256,
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<HashKind> {
        HashKind::ALL.into_iter().find(|kind| kind.oid() == *oid)
    }
}

/// A catalog member as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its tag: the hash in upper-case hex.
    pub tag: String,
    /// The file it names (its `File` attribute).
    pub file: Option<String>,
    /// The hash algorithm of its indirect data.
    pub hash: Option<HashKind>,
    /// The hash in its indirect data.
    pub digest: Vec<u8>,
}

/// Upper-case hex, as catalog tags spell hashes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Algorithm identifier with NULL parameters.
pub(crate) fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: Some(Any::from(Null)),
    }
}

fn utf16le_nul(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn from_utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|&unit| unit != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

fn attribute(oid: ObjectIdentifier, value: &impl Encode) -> der::Result<Attribute> {
    let value = Any::from_der(&value.to_der()?)?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

fn name_value(tag: &str, value: &str) -> der::Result<NameValue> {
    Ok(NameValue {
        tag: BmpString::from_utf8(tag)?,
        flags: NAME_VALUE_FLAGS,
        value: OctetString::new(utf16le_nul(value))?,
    })
}

/// SpcLink `file` [2] holding SpcString `unicode` [0] "<<<Obsolete>>>", as Windows writes it
/// for flat files.
fn obsolete_link() -> der::Result<Any> {
    let text: Vec<u8> = "<<<Obsolete>>>"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let inner = Any::new(
        Tag::ContextSpecific {
            constructed: false,
            number: der::TagNumber::N0,
        },
        text,
    )?;
    Any::new(
        Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber::N2,
        },
        inner.to_der()?,
    )
}

fn member(file: &str, bytes: &[u8], kind: HashKind) -> der::Result<Subject> {
    let digest = kind.hash(bytes);
    let info = MemberInfo {
        sip_guid: BmpString::from_utf8(FLAT_IMAGE_SIP)?,
        version: MEMBER_INFO_VERSION,
    };
    let indirect = IndirectData {
        data: TypeAndValue {
            data_type: SPC_CAB_DATA,
            value: obsolete_link()?,
        },
        message_digest: DigestInfo {
            algorithm: algorithm(kind.oid()),
            digest: OctetString::new(digest.clone())?,
        },
    };
    let attributes = vec![
        attribute(CAT_MEMBERINFO, &info)?,
        attribute(CAT_NAMEVALUE, &name_value("File", file)?)?,
        attribute(CAT_NAMEVALUE, &name_value("OSAttr", OS_ATTR)?)?,
        attribute(SPC_INDIRECT_DATA, &indirect)?,
    ];
    Ok(Subject {
        identifier: OctetString::new(utf16le_nul(&hex(&digest)))?,
        attributes: SetOfVec::try_from(attributes)?,
    })
}

/// The trust list for `files` (name, bytes): each file twice, under its SHA-1 and its
/// SHA-256 hash, with catalog-wide `OSAttr` and one `HWIDn` per hardware ID.
pub(crate) fn trust_list(
    files: &[(&str, &[u8])],
    hardware_ids: &[String],
    list_identifier: [u8; 16],
    now: UtcTime,
) -> der::Result<TrustList> {
    let mut subjects = Vec::new();
    for (name, bytes) in files {
        for kind in HashKind::ALL {
            subjects.push(member(name, bytes, kind)?);
        }
    }
    subjects.sort_by(|a, b| a.identifier.as_bytes().cmp(b.identifier.as_bytes()));
    let mut names = vec![name_value("OSAttr", OS_ATTR)?];
    for (n, id) in hardware_ids.iter().enumerate() {
        names.push(name_value(&format!("HWID{}", n + 1), &id.to_lowercase())?);
    }
    let extensions = names
        .iter()
        .map(|name| {
            Ok(Extension {
                extn_id: CAT_NAMEVALUE,
                critical: false,
                extn_value: OctetString::new(name.to_der()?)?,
            })
        })
        .collect::<der::Result<Vec<_>>>()?;
    Ok(TrustList {
        subject_usage: vec![CATALOG_LIST],
        list_identifier: Some(OctetString::new(list_identifier.to_vec())?),
        this_update: now,
        subject_algorithm: algorithm(CATALOG_LIST_MEMBER),
        subjects,
        extensions: Some(extensions),
    })
}

impl TrustList {
    /// Whether it lists catalog members.
    pub(crate) fn is_catalog(&self) -> bool {
        self.subject_usage.contains(&CATALOG_LIST)
            && self.subject_algorithm.oid == CATALOG_LIST_MEMBER
    }

    /// Its members, with what their attributes say.
    pub(crate) fn members(&self) -> Vec<Member> {
        self.subjects.iter().map(read_member).collect()
    }

    /// The catalog-wide name/value attributes.
    pub(crate) fn names(&self) -> Vec<(String, String)> {
        self.extensions
            .iter()
            .flatten()
            .filter(|ext| ext.extn_id == CAT_NAMEVALUE)
            .filter_map(|ext| NameValue::from_der(ext.extn_value.as_bytes()).ok())
            .map(|nv| (nv.tag.to_string(), from_utf16le(nv.value.as_bytes())))
            .collect()
    }
}

fn read_member(subject: &Subject) -> Member {
    let mut member = Member {
        tag: from_utf16le(subject.identifier.as_bytes()),
        file: None,
        hash: None,
        digest: Vec::new(),
    };
    for attribute in subject.attributes.iter() {
        for value in attribute.values.iter() {
            let Ok(der) = value.to_der() else { continue };
            if attribute.oid == CAT_NAMEVALUE {
                if let Ok(nv) = NameValue::from_der(&der)
                    && nv.tag.to_string() == "File"
                {
                    member.file = Some(from_utf16le(nv.value.as_bytes()));
                }
            } else if attribute.oid == SPC_INDIRECT_DATA
                && let Ok(indirect) = IndirectData::from_der(&der)
            {
                member.hash = HashKind::from_oid(&indirect.message_digest.algorithm.oid);
                member.digest = indirect.message_digest.digest.as_bytes().to_vec();
            }
        }
    }
    member
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_file_is_listed_under_both_hashes_and_reads_back() {
        let inf = b"[Version]\r\nSignature=\"$Windows NT$\"\r\n";
        let now = UtcTime::from_unix_duration(Duration::from_secs(1_800_000_000)).unwrap();
        let list = trust_list(
            &[("a.inf", inf)],
            &["USB\\VID_0483&PID_DF11".into()],
            [7; 16],
            now,
        )
        .unwrap();
        let list = TrustList::from_der(&list.to_der().unwrap()).unwrap();
        assert!(list.is_catalog());
        let members = list.members();
        assert_eq!(members.len(), 2);
        for kind in HashKind::ALL {
            let digest = kind.hash(inf);
            let member = members.iter().find(|m| m.hash == Some(kind)).unwrap();
            assert_eq!(member.tag, hex(&digest));
            assert_eq!(member.digest, digest);
            assert_eq!(member.file.as_deref(), Some("a.inf"));
        }
        assert_eq!(
            list.names(),
            vec![
                ("OSAttr".to_string(), OS_ATTR.to_string()),
                ("HWID1".to_string(), "usb\\vid_0483&pid_df11".to_string())
            ]
        );
    }

    #[test]
    fn the_indirect_data_nests_its_type_and_its_digest_info_as_authenticode_says() {
        // SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue,
        // messageDigest DigestInfo }: two SEQUENCEs, read here without the crate's types.
        let subject = member("x", b"abc", HashKind::Sha256).unwrap();
        let indirect = subject
            .attributes
            .iter()
            .find(|a| a.oid == SPC_INDIRECT_DATA)
            .unwrap();
        let der = indirect.values.iter().next().unwrap().to_der().unwrap();
        let outer: Vec<Any> = Vec::from_der(&der).unwrap();
        assert_eq!(outer.len(), 2);
        let data: Vec<Any> = Vec::from_der(&outer[0].to_der().unwrap()).unwrap();
        assert_eq!(
            data[0].decode_as::<ObjectIdentifier>().unwrap(),
            SPC_CAB_DATA
        );
        let digest_info: Vec<Any> = Vec::from_der(&outer[1].to_der().unwrap()).unwrap();
        let algorithm: Vec<Any> = Vec::from_der(&digest_info[0].to_der().unwrap()).unwrap();
        assert_eq!(
            algorithm[0].decode_as::<ObjectIdentifier>().unwrap(),
            SHA256
        );
        assert_eq!(
            digest_info[1]
                .decode_as::<OctetString>()
                .unwrap()
                .as_bytes(),
            HashKind::Sha256.hash(b"abc").as_slice()
        );
    }

    #[test]
    fn a_sha1_tag_is_forty_hex_digits_and_utf16() {
        let subject = member("x", b"abc", HashKind::Sha1).unwrap();
        // SHA-1("abc") from FIPS 180-2 appendix A.1.
        let tag = "A9993E364706816ABA3E25717850C26C9CD0D89D";
        assert_eq!(subject.identifier.as_bytes(), utf16le_nul(tag).as_slice());
        assert_eq!(subject.identifier.as_bytes().len(), 82);
    }
}
