//! Just enough PEM and DER to read an X.509 certificate's serial number and public key, and to
//! wrap a SEC1 EC key as PKCS#8: tag-length-value reading, nothing more.

use base64::Engine;

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...) and decoded bytes.
pub(crate) struct PemBlock {
    /// The word(s) after `-----BEGIN `.
    pub label: String,
    /// The base64-decoded contents.
    pub der: Vec<u8>,
}

/// Every PEM block of `text`, in order. Text outside blocks is ignored (as OpenSSL does).
/// Errors never quote the contents (they may be a private key).
pub(crate) fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut base64 = String::new();
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            // Headers of old encrypted PEM (`Proc-Type: ...`) have a colon; base64 never does.
            if line.contains(':') {
                return Err(format!("the {label} block has headers (an encrypted legacy key?)"));
            }
            base64.push_str(line);
        }
        if !closed {
            return Err(format!("the {label} block has no END line"));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64.as_bytes())
            .map_err(|_| format!("the {label} block is not valid base64"))?;
        blocks.push(PemBlock { label: label.to_owned(), der });
    }
    Ok(blocks)
}

/// One DER element.
#[derive(Clone, Copy)]
pub(crate) struct Tlv<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The contents.
    pub value: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
/// `[0]`, constructed: the version of a certificate.
pub(crate) const CONTEXT_0: u8 = 0xA0;

/// Reads one element from the front of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let [tag, first, rest @ ..] = input else { return Err("DER ends early".to_owned()) };
    let (length, rest) = if first & 0x80 == 0 {
        (usize::from(*first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err("DER length is not definite or too long".to_owned());
        }
        let length = rest[..count].iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err("DER element is longer than its input".to_owned());
    }
    Ok((Tlv { tag: *tag, value: &rest[..length] }, &rest[length..]))
}

/// Reads one element that must have `tag`.
pub(crate) fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(Tlv<'a>, &'a [u8]), String> {
    let (tlv, rest) = read(input).map_err(|e| format!("{what}: {e}"))?;
    if tlv.tag != tag {
        return Err(format!("{what}: expected DER tag {tag:#04x}, found {:#04x}", tlv.tag));
    }
    Ok((tlv, rest))
}

/// Encodes one element.
pub(crate) fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = value.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(value);
    out
}

/// A non-negative DER INTEGER's value (big-endian bytes) in decimal, as Go's `big.Int.String`
/// and the IAM Roles Anywhere credential scope write certificate serial numbers.
pub(crate) fn integer_to_decimal(bytes: &[u8]) -> Result<String, String> {
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return Err("the serial number is negative".to_owned());
    }
    let mut number: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if number.is_empty() {
        return Ok("0".to_owned());
    }
    let mut digits = Vec::new();
    while !number.is_empty() {
        // Divide the big-endian number by 10 in place; the remainder is the next digit.
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let current = (remainder << 8) | u32::from(*byte);
            *byte = (current / 10) as u8;
            remainder = current % 10;
        }
        digits.push(b'0' + remainder as u8);
        let leading = number.iter().take_while(|b| **b == 0).count();
        number.drain(..leading);
    }
    digits.reverse();
    // Only ASCII digits were pushed.
    Ok(String::from_utf8(digits).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_print_in_decimal() {
        let table: &[(&[u8], &str)] = &[
            (&[0x00], "0"),
            (&[0x01], "1"),
            (&[0x0f, 0x42, 0x40], "1000000"),
            (&[0x00, 0xff], "255"),
            (
                &[
                    0x45, 0x6f, 0x2a, 0x1b, 0x9c, 0x33, 0x10, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
                    0x05,
                ],
                "92293930709161698766915286950691931141",
            ),
        ];
        for (bytes, decimal) in table {
            assert_eq!(integer_to_decimal(bytes).as_deref(), Ok(*decimal), "{bytes:02x?}");
        }
        assert!(integer_to_decimal(&[0x80]).is_err());
    }

    #[test]
    fn elements_read_and_encode() {
        let long = vec![7u8; 300];
        let encoded = encode(OCTET_STRING, &long);
        assert_eq!(&encoded[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tlv, rest) = read(&encoded).unwrap();
        assert_eq!((tlv.tag, tlv.value.len(), rest.len()), (OCTET_STRING, 300, 0));
        assert_eq!(encode(INTEGER, &[1]), [0x02, 0x01, 0x01]);
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
        assert!(
            expect(&[0x02, 0x01, 0x01], SEQUENCE, "x")
                .err()
                .unwrap_or_default()
                .contains("expected DER tag 0x30")
        );
    }

    #[test]
    fn pem_blocks_decode() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n\
                    -----BEGIN PRIVATE KEY-----\nBAU=\n-----END PRIVATE KEY-----\n";
        let blocks = pem_blocks(text).unwrap();
        let got: Vec<(&str, &[u8])> = blocks.iter().map(|b| (b.label.as_str(), b.der.as_slice())).collect();
        assert_eq!(got, [("CERTIFICATE", &[1u8, 2, 3][..]), ("PRIVATE KEY", &[4u8, 5][..])]);
        let table: &[(&str, &str)] = &[
            ("-----BEGIN X-----\nAQID\n", "the X block has no END line"),
            ("-----BEGIN X-----\n!!!!\n-----END X-----", "the X block is not valid base64"),
            ("-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n-----END X-----", "the X block has headers"),
        ];
        for (text, message) in table {
            let error = pem_blocks(text).err().unwrap_or_default();
            assert!(error.starts_with(message), "{text}: {error}");
        }
    }
}
