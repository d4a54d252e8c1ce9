//! Signing a catalog: a fresh self-signed code-signing certificate and a PKCS #7
//! SignedData (RFC 2315 §9, as Authenticode uses it) over the trust list, and
//! checking such a signature again. See docs/WINDOWS-DRIVER.md.

use std::time::{Duration, SystemTime};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::oid::AssociatedOid;
use der::{Decode, Encode};
use rand_core::{OsRng, RngCore};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer as _, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::catalog::{SHA256, TrustList, algorithm};

/// szOID_CTL: the signed content is a certificate trust list.
const CTL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.1");
/// PKCS #7 signedData.
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// PKCS #9 contentType attribute.
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// PKCS #9 messageDigest attribute.
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// rsaEncryption (PKCS #1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// sha256WithRSAEncryption (PKCS #1).
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// id-kp-codeSigning (RFC 5280 §4.2.1.12).
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// The start of every certificate dfuse makes: how `driver uninstall` finds them again.
pub const SIGNER_NAME_PREFIX: &str = "dfuse WinUSB package signer";
/// RSA modulus size of the signing key.
const KEY_BITS: usize = 2048;
/// The certificate's validity ends at the last instant UTCTime can say (2049).
const NOT_AFTER_UNIX: u64 = 2_524_607_999;

/// What went wrong making or reading a signature.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// ASN.1 encoding or decoding failed.
    #[error("ASN.1: {0}")]
    Der(#[from] der::Error),
    /// Key generation, signing or a signature check failed.
    #[error("RSA: {0}")]
    Rsa(String),
    /// The file is not what a catalog should be.
    #[error("{0}")]
    Shape(String),
}

fn rsa_error(error: impl std::fmt::Display) -> SigningError {
    SigningError::Rsa(error.to_string())
}

/// A signer made for one package: the certificate, and the key that lives only as long
/// as this value (`RsaPrivateKey` zeroes itself when dropped; it is never written out).
pub struct Signer {
    key: SigningKey<Sha256>,
    /// The self-signed certificate, which goes into the catalog and the `.cer` file.
    pub certificate: Certificate,
}

impl Signer {
    /// A fresh RSA-2048 key and a self-signed code-signing certificate for it, valid from a
    /// day before `now` to 2049, its subject name unique to the key.
    pub fn generate(now: SystemTime) -> Result<Signer, SigningError> {
        let key = RsaPrivateKey::new(&mut OsRng, KEY_BITS).map_err(rsa_error)?;
        let spki_der = RsaPublicKey::from(&key)
            .to_public_key_der()
            .map_err(rsa_error)?;
        let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes())?;
        let mut serial = [0u8; 16];
        OsRng.fill_bytes(&mut serial);
        serial[0] &= 0x7F; // positive
        serial[0] |= 0x10; // and 16 bytes long
        let name: Name = format!(
            "CN={SIGNER_NAME_PREFIX} {} (this computer only),O=dfuse",
            crate::catalog::hex(&serial[..4])
        )
        .parse()?;
        let key_id = Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec();
        let extensions = vec![
            extension(
                BasicConstraints::OID,
                true,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )?,
            extension(
                KeyUsage::OID,
                true,
                &KeyUsage(KeyUsages::DigitalSignature.into()),
            )?,
            extension(
                ExtendedKeyUsage::OID,
                false,
                &ExtendedKeyUsage(vec![CODE_SIGNING]),
            )?,
            extension(
                SubjectKeyIdentifier::OID,
                false,
                &SubjectKeyIdentifier(OctetString::new(key_id)?),
            )?,
        ];
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&serial)?,
            signature: algorithm(SHA256_WITH_RSA),
            issuer: name.clone(),
            validity: Validity {
                not_before: Time::UtcTime(UtcTime::from_system_time(
                    now - Duration::from_secs(86_400),
                )?),
                not_after: Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(
                    NOT_AFTER_UNIX,
                ))?),
            },
            subject: name,
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let key = SigningKey::<Sha256>::new(key);
        let signature = sign(&key, &tbs.to_der()?)?;
        let certificate = Certificate {
            tbs_certificate: tbs,
            signature_algorithm: algorithm(SHA256_WITH_RSA),
            signature: BitString::from_bytes(&signature)?,
        };
        Ok(Signer { key, certificate })
    }

    /// The signed catalog: `ContentInfo { signedData { CTL } }`, DER.
    pub(crate) fn sign_catalog(&self, list: &TrustList) -> Result<Vec<u8>, SigningError> {
        let content = Any::from_der(&list.to_der()?)?;
        // RFC 2315 §9.3: the digest covers the content's value octets, not its tag and length.
        let digest = Sha256::digest(content.value()).to_vec();
        let signed_attrs = SetOfVec::try_from(vec![
            Attribute {
                oid: CONTENT_TYPE,
                values: SetOfVec::try_from(vec![Any::from_der(&CTL.to_der()?)?])?,
            },
            Attribute {
                oid: MESSAGE_DIGEST,
                values: SetOfVec::try_from(vec![Any::from_der(
                    &OctetString::new(digest)?.to_der()?,
                )?])?,
            },
        ])?;
        // §9.3: with authenticated attributes, the signature covers their DER as a SET OF.
        let signature = sign(&self.key, &signed_attrs.to_der()?)?;
        let tbs = &self.certificate.tbs_certificate;
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer.clone(),
                serial_number: tbs.serial_number.clone(),
            }),
            digest_alg: algorithm(SHA256),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: algorithm(RSA_ENCRYPTION),
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(SHA256)])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: CTL,
                econtent: Some(content),
            },
            certificates: Some(CertificateSet(SetOfVec::try_from(vec![
                CertificateChoices::Certificate(self.certificate.clone()),
            ])?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
        };
        Ok(ContentInfo {
            content_type: SIGNED_DATA,
            content: Any::from_der(&signed.to_der()?)?,
        }
        .to_der()?)
    }
}

fn extension(
    oid: ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, SigningError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn sign(key: &SigningKey<Sha256>, message: &[u8]) -> Result<Vec<u8>, SigningError> {
    let signature: Signature = key.try_sign(message).map_err(rsa_error)?;
    Ok(signature.to_vec())
}

fn verify(cert: &Certificate, message: &[u8], signature: &[u8]) -> Result<(), SigningError> {
    let spki = cert.tbs_certificate.subject_public_key_info.to_der()?;
    let key = RsaPublicKey::from_public_key_der(&spki).map_err(rsa_error)?;
    let signature = Signature::try_from(signature).map_err(rsa_error)?;
    VerifyingKey::<Sha256>::new(key)
        .verify(message, &signature)
        .map_err(|_| SigningError::Shape("the signature does not match".into()))
}

/// A catalog whose signature checked out: its trust list and its signer's certificate.
pub(crate) struct Checked {
    pub list: TrustList,
    pub certificate: Certificate,
}

fn shape(what: &str) -> SigningError {
    SigningError::Shape(what.into())
}

/// Decodes a signed catalog and checks it the way a verifier does: a signedData of a CTL,
/// signed with SHA-256/RSA by the certificate it carries (which must sign itself), the
/// message digest equal to the CTL's hash.
pub(crate) fn check_catalog(bytes: &[u8]) -> Result<Checked, SigningError> {
    let info = ContentInfo::from_der(bytes)?;
    if info.content_type != SIGNED_DATA {
        return Err(shape("it is not PKCS #7 signed data"));
    }
    let signed = SignedData::from_der(&info.content.to_der()?)?;
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .filter(|_| signed.encap_content_info.econtent_type == CTL)
        .ok_or_else(|| shape("its signed content is not a certificate trust list"))?;
    let list = TrustList::from_der(&content.to_der()?)?;
    if !list.is_catalog() {
        return Err(shape("its trust list is not a catalog member list"));
    }
    let certificate = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert.clone()),
            CertificateChoices::Other(_) => None,
        })
        .ok_or_else(|| shape("it carries no certificate"))?;
    verify(
        &certificate,
        &certificate.tbs_certificate.to_der()?,
        certificate.signature.raw_bytes(),
    )
    .map_err(|_| shape("its certificate is not self-signed by its own key"))?;
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| shape("it has no signer"))?;
    if signer.digest_alg.oid != SHA256 {
        return Err(shape("its signer does not use SHA-256"));
    }
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| shape("its signer has no authenticated attributes"))?;
    let digest = attrs
        .iter()
        .find(|attr| attr.oid == MESSAGE_DIGEST)
        .and_then(|attr| attr.values.iter().next())
        .and_then(|value| OctetString::from_der(&value.to_der().ok()?).ok())
        .ok_or_else(|| shape("its signer has no message digest"))?;
    if digest.as_bytes() != Sha256::digest(content.value()).as_slice() {
        return Err(shape(
            "its message digest is not the trust list's hash: the catalog was changed after signing",
        ));
    }
    verify(&certificate, &attrs.to_der()?, signer.signature.as_bytes())
        .map_err(|_| shape("its signature does not match its certificate"))?;
    Ok(Checked { list, certificate })
}
