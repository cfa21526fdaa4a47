//! An X.509 identity for IAM Roles Anywhere: the end-entity certificate, an optional chain of
//! intermediates, and the private key (RSA or ECDSA P-256) that signs, read from PEM.
//!
//! Private keys are PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`) or SEC1
//! (`BEGIN EC PRIVATE KEY`), unencrypted. Nothing here prints key material: errors name the
//! file and what was expected, never its contents.

use std::fmt;
use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};

use super::der;

const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The kind of key a certificate holds, which decides the signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA, signed with PKCS#1 v1.5 and SHA-256.
    Rsa,
    /// ECDSA on P-256 with SHA-256, DER-encoded signatures.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The SigV4-X509 algorithm name: `AWS4-X509-RSA-SHA256` or `AWS4-X509-ECDSA-SHA256`.
    pub fn signing_algorithm(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "AWS4-X509-RSA-SHA256",
            KeyAlgorithm::EcdsaP256 => "AWS4-X509-ECDSA-SHA256",
        }
    }
}

/// A parsed certificate: its DER, serial number and public key.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    serial: String,
    algorithm: KeyAlgorithm,
    public_key: Vec<u8>,
}

impl Certificate {
    /// Reads the serial number and the subject public key of a DER certificate.
    pub fn from_der(der_bytes: Vec<u8>) -> Result<Self, String> {
        let (certificate, _) = der::expect(&der_bytes, der::SEQUENCE, "the certificate")?;
        let (tbs, _) = der::expect(certificate.value, der::SEQUENCE, "the certificate body")?;
        let mut rest = tbs.value;
        let (first, after) = der::read(rest)?;
        if first.tag == der::CONTEXT_0 {
            rest = after;
        }
        let (serial, rest) = der::expect(rest, der::INTEGER, "the serial number")?;
        let serial = der::integer_to_decimal(serial.value)?;
        // signature algorithm, issuer, validity, subject: skipped.
        let mut rest = rest;
        for what in ["the signature algorithm", "the issuer", "the validity", "the subject"] {
            rest = der::expect(rest, der::SEQUENCE, what)?.1;
        }
        let (spki, _) = der::expect(rest, der::SEQUENCE, "the public key info")?;
        let (algorithm_id, rest) = der::expect(spki.value, der::SEQUENCE, "the key algorithm")?;
        let (bits, _) = der::expect(rest, der::BIT_STRING, "the public key")?;
        let (oid, parameters) = der::expect(algorithm_id.value, der::OID, "the key algorithm")?;
        let algorithm = if oid.value == OID_RSA_ENCRYPTION {
            KeyAlgorithm::Rsa
        } else if oid.value == OID_EC_PUBLIC_KEY
            && der::read(parameters).is_ok_and(|(curve, _)| curve.tag == der::OID && curve.value == OID_P256)
        {
            KeyAlgorithm::EcdsaP256
        } else {
            return Err("its key is neither RSA nor ECDSA P-256, the kinds supported here".to_owned());
        };
        let public_key = match bits.value {
            [0, key @ ..] if !key.is_empty() => key.to_vec(),
            _ => return Err("its public key bit string is malformed".to_owned()),
        };
        Ok(Self { der: der_bytes, serial, algorithm, public_key })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The serial number in decimal, the "key id" of the SigV4-X509 credential scope.
    pub fn serial_number(&self) -> &str {
        &self.serial
    }

    /// The kind of key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The subject public key (RSAPublicKey DER, or the uncompressed EC point).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("serial", &self.serial)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// Every `CERTIFICATE` block of PEM `text` (other blocks are skipped).
pub fn certificates_from_pem(text: &str) -> Result<Vec<Certificate>, String> {
    der::pem_blocks(text)?
        .into_iter()
        .filter(|block| block.label == "CERTIFICATE")
        .map(|block| Certificate::from_der(block.der))
        .collect()
}

enum Key {
    Rsa(signature::RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// A private key that signs SigV4-X509 strings. Debug shows only its kind.
pub struct PrivateKey {
    key: Key,
    rng: SystemRandom,
}

impl PrivateKey {
    /// Reads the first private key block of PEM `text`.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let rng = SystemRandom::new();
        let blocks = der::pem_blocks(text)?;
        fn rejected(kind: &'static str) -> impl Fn(ring::error::KeyRejected) -> String {
            move |e| format!("the {kind} key cannot be used ({e})")
        }
        for block in blocks {
            let key = match block.label.as_str() {
                "PRIVATE KEY" => match signature::RsaKeyPair::from_pkcs8(&block.der) {
                    Ok(rsa) => Key::Rsa(rsa),
                    Err(_) => Key::Ecdsa(
                        EcdsaKeyPair::from_pkcs8(
                            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                            &block.der,
                            &rng,
                        )
                        .map_err(rejected("PKCS#8 (neither RSA nor ECDSA P-256)"))?,
                    ),
                },
                "RSA PRIVATE KEY" => {
                    Key::Rsa(signature::RsaKeyPair::from_der(&block.der).map_err(rejected("RSA"))?)
                }
                "EC PRIVATE KEY" => Key::Ecdsa(
                    EcdsaKeyPair::from_pkcs8(
                        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                        &sec1_to_pkcs8(&block.der),
                        &rng,
                    )
                    .map_err(rejected("EC (P-256 only)"))?,
                ),
                "ENCRYPTED PRIVATE KEY" => {
                    return Err("the key is encrypted; decrypt it first (openssl pkcs8 -in KEY -out PLAIN)"
                        .to_owned());
                }
                _ => continue,
            };
            return Ok(Self { key, rng });
        }
        Err("no BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block".to_owned())
    }

    /// The kind of key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            Key::Rsa(_) => KeyAlgorithm::Rsa,
            Key::Ecdsa(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The public half, encoded as in a certificate's subject public key.
    pub fn public_key(&self) -> &[u8] {
        match &self.key {
            Key::Rsa(key) => key.public_key().as_ref(),
            Key::Ecdsa(key) => key.public_key().as_ref(),
        }
    }

    /// Signs `message` (SHA-256 hashed here): RSA PKCS#1 v1.5, or ECDSA with a DER signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        match &self.key {
            Key::Rsa(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(|_| "RSA signing failed".to_owned())?;
                Ok(signature)
            }
            Key::Ecdsa(key) => key
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_owned()),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?}, <redacted>)", self.algorithm())
    }
}

/// SEC1 `ECPrivateKey` inside PKCS#8 `PrivateKeyInfo` for P-256, the form ring reads.
fn sec1_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    let algorithm = der::encode(
        der::SEQUENCE,
        &[der::encode(der::OID, OID_EC_PUBLIC_KEY), der::encode(der::OID, OID_P256)].concat(),
    );
    let body = [der::encode(der::INTEGER, &[0]), algorithm, der::encode(der::OCTET_STRING, sec1)].concat();
    der::encode(der::SEQUENCE, &body)
}

/// A certificate, its chain and its key, checked to belong together.
#[derive(Debug)]
pub struct X509Identity {
    /// The end-entity certificate (sent as `X-Amz-X509`).
    pub certificate: Certificate,
    /// Intermediate certificates (sent as `X-Amz-X509-Chain`), possibly none.
    pub chain: Vec<Certificate>,
    /// The key of `certificate`.
    pub key: PrivateKey,
}

impl X509Identity {
    /// From PEM texts: the first certificate of `certificate_pem` is the end-entity one (any
    /// further ones join the chain), `chain_pem` adds intermediates.
    pub fn from_pem(certificate_pem: &str, key_pem: &str, chain_pem: Option<&str>) -> Result<Self, String> {
        let mut certificates =
            certificates_from_pem(certificate_pem).map_err(|e| format!("the certificate: {e}"))?.into_iter();
        let certificate = certificates.next().ok_or("the certificate: no BEGIN CERTIFICATE block")?;
        let mut chain: Vec<Certificate> = certificates.collect();
        if let Some(text) = chain_pem {
            chain.extend(certificates_from_pem(text).map_err(|e| format!("the certificate chain: {e}"))?);
        }
        let key = PrivateKey::from_pem(key_pem).map_err(|e| format!("the private key: {e}"))?;
        if key.algorithm() != certificate.algorithm() || key.public_key() != certificate.public_key() {
            return Err(format!(
                "the private key does not belong to the certificate (serial {}); pair the certificate with its own key",
                certificate.serial_number()
            ));
        }
        Ok(Self { certificate, chain, key })
    }

    /// Reads the PEM files; errors name the file.
    pub fn load(certificate: &Path, key: &Path, chain: Option<&Path>) -> Result<Self, String> {
        let read = |path: &Path, what: &str| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
        };
        let certificate_pem = read(certificate, "certificate")?;
        let key_pem = read(key, "private key")?;
        let chain_pem = chain.map(|p| read(p, "certificate chain")).transpose()?;
        Self::from_pem(&certificate_pem, &key_pem, chain_pem.as_deref()).map_err(|e| {
            format!("{e} (certificate {}, private key {})", certificate.display(), key.display())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_pem_is_refused_with_what_was_expected() {
        let key_table: &[(&str, &str)] = &[
            ("", "no BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block"),
            (
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----",
                "the key is encrypted; decrypt it first",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1WQUxVRQ==\n-----END RSA PRIVATE KEY-----",
                "the RSA key cannot be used",
            ),
        ];
        for (pem, message) in key_table {
            let error = PrivateKey::from_pem(pem).err().unwrap_or_default();
            assert!(error.starts_with(message), "{pem}: {error}");
            assert!(!error.contains("secret-key-VALUE") && !error.contains("c2VjcmV0"), "{error}");
        }
        let error = X509Identity::from_pem("", "", None).err().unwrap_or_default();
        assert_eq!(error, "the certificate: no BEGIN CERTIFICATE block");
        let error = certificates_from_pem("-----BEGIN CERTIFICATE-----\nAgEB\n-----END CERTIFICATE-----")
            .err()
            .unwrap_or_default();
        assert!(error.starts_with("the certificate: expected DER tag 0x30"), "{error}");
        assert_eq!(KeyAlgorithm::EcdsaP256.signing_algorithm(), "AWS4-X509-ECDSA-SHA256");
    }
}
