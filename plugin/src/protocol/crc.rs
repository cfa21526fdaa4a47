//! The three CRCs S3 checksums with: CRC-32 (ISO-HDLC), CRC-32C (Castagnoli) and CRC-64/NVME,
//! computed incrementally and combined across parts without reading the bytes again.
//!
//! Written here rather than taken from crc-fast: on wasm32 crc-fast falls back to lookup tables
//! chosen at run time among every CRC it knows, so the component carried the tables of dozens
//! of CRCs it never computes (BENCHMARKS.md, "Component size"). These three are reflected, with
//! initial value and final XOR all ones, so one slice-by-16 implementation serves them all; their
//! tables are built on first use, not stored in the component.

use std::sync::OnceLock;

/// Sixteen tables of 256 entries: `[k][b]` is the CRC register after byte `b` and `k` zero bytes.
type Tables = [[u64; 256]; 16];

/// One of the CRCs: its width, its polynomial (bit-reflected) and where its tables go.
pub struct Params {
    width: u32,
    poly: u64,
    // A static of its own, all zeros until first use: inside `Params`, whose other fields are
    // not zero, the 32 KiB would be stored in the component's data segment.
    tables: &'static OnceLock<Tables>,
}

static CRC32_TABLES: OnceLock<Tables> = OnceLock::new();
static CRC32C_TABLES: OnceLock<Tables> = OnceLock::new();
static CRC64NVME_TABLES: OnceLock<Tables> = OnceLock::new();

/// CRC-32/ISO-HDLC, S3's `CRC32` (zlib's).
pub static CRC32: Params = Params { width: 32, poly: 0xEDB8_8320, tables: &CRC32_TABLES };
/// CRC-32/ISCSI, S3's `CRC32C`.
pub static CRC32C: Params = Params { width: 32, poly: 0x82F6_3B78, tables: &CRC32C_TABLES };
/// CRC-64/NVME, S3's `CRC64NVME`.
pub static CRC64NVME: Params = Params { width: 64, poly: 0x9A6C_9329_AC4B_C9B5, tables: &CRC64NVME_TABLES };

impl Params {
    /// All ones in the CRC's width: the initial register and the final XOR.
    fn ones(&self) -> u64 {
        u64::MAX >> (64 - self.width)
    }

    /// The register shifted by one bit: multiplied by x, modulo the polynomial.
    fn shift(&self, register: u64) -> u64 {
        if register & 1 == 1 { (register >> 1) ^ self.poly } else { register >> 1 }
    }

    /// The tables, built on the first call.
    fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| {
            let mut tables = [[0u64; 256]; 16];
            for (byte, entry) in (0u64..).zip(tables[0].iter_mut()) {
                *entry = (0..8).fold(byte, |register, _| self.shift(register));
            }
            for k in 1..16 {
                for byte in 0..256 {
                    let previous = tables[k - 1][byte];
                    // Invariant: `previous & 0xff` indexes a 256-entry table.
                    tables[k][byte] = (previous >> 8) ^ tables[0][(previous & 0xff) as usize];
                }
            }
            tables
        })
    }

    /// The product of `a` and `b`, polynomials modulo the CRC's, in its reflected form (the
    /// highest bit is x^0): zlib's `multmodp`, for any width.
    fn multiply(&self, a: u64, mut b: u64) -> u64 {
        let mut product = 0;
        let mut bit = 1u64 << (self.width - 1);
        while bit != 0 {
            if a & bit != 0 {
                product ^= b;
            }
            b = self.shift(b);
            bit >>= 1;
        }
        product
    }

    /// x^(8 × `bytes`) modulo the CRC's polynomial: what appending `bytes` bytes multiplies a
    /// CRC by.
    fn x_to_the_bits_of(&self, mut bytes: u64) -> u64 {
        let mut result = 1u64 << (self.width - 1);
        // x^8: every width here is at least 32.
        let mut power = 1u64 << (self.width - 9);
        while bytes != 0 {
            if bytes & 1 == 1 {
                result = self.multiply(result, power);
            }
            power = self.multiply(power, power);
            bytes >>= 1;
        }
        result
    }
}

/// A CRC being computed over bytes fed in pieces.
#[derive(Clone)]
pub struct Digest {
    params: &'static Params,
    register: u64,
    length: u64,
}

impl Digest {
    /// A fresh CRC of nothing yet.
    pub fn new(params: &'static Params) -> Self {
        Digest { params, register: params.ones(), length: 0 }
    }

    /// Adds `bytes`: sixteen at a time through the sixteen tables, the rest one by one.
    pub fn update(&mut self, bytes: &[u8]) {
        let tables = self.params.tables();
        let mut register = self.register;
        let mut chunks = bytes.chunks_exact(16);
        for chunk in &mut chunks {
            let mut sum = 0;
            for i in 0..8 {
                // The register's byte `i` meets the chunk's; `as u8` keeps every index below 256.
                let first = chunk[i] ^ (register >> (8 * i)) as u8;
                sum ^= tables[15 - i][usize::from(first)] ^ tables[7 - i][usize::from(chunk[8 + i])];
            }
            register = sum;
        }
        for &next in chunks.remainder() {
            register = tables[0][usize::from(next ^ register as u8)] ^ (register >> 8);
        }
        self.register = register;
        self.length += bytes.len() as u64;
    }

    /// Appends what `next` has seen to what this one has, as if its bytes had been fed here too.
    /// Both must be of the same CRC.
    pub fn combine(&mut self, next: &Digest) {
        let params = self.params;
        let shifted = params.multiply(self.finalize(), params.x_to_the_bits_of(next.length));
        self.register = shifted ^ next.finalize() ^ params.ones();
        self.length += next.length;
    }

    /// The CRC of the bytes so far, in the low bits.
    pub fn finalize(&self) -> u64 {
        self.register ^ self.params.ones()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crc_fast::CrcAlgorithm;

    const ALL: [(&Params, CrcAlgorithm); 3] = [
        (&CRC32, CrcAlgorithm::Crc32IsoHdlc),
        (&CRC32C, CrcAlgorithm::Crc32Iscsi),
        (&CRC64NVME, CrcAlgorithm::Crc64Nvme),
    ];

    fn crc(params: &'static Params, bytes: &[u8]) -> u64 {
        let mut digest = Digest::new(params);
        digest.update(bytes);
        digest.finalize()
    }

    /// The CRC catalogue's check values, of "123456789".
    #[test]
    fn check_values() {
        assert_eq!(crc(&CRC32, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(&CRC32C, b"123456789"), 0xE306_9283);
        assert_eq!(crc(&CRC64NVME, b"123456789"), 0xAE8B_1486_0A79_9888);
        for (params, _) in ALL {
            assert_eq!(crc(params, b""), 0);
        }
    }

    /// The same CRCs as crc-fast (which the component used before) for every length up to 600
    /// and every split, fed whole, in pieces, and combined from parts.
    #[test]
    fn agree_with_crc_fast() {
        let data: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for (params, algorithm) in ALL {
            for length in 0..data.len() {
                let bytes = &data[..length];
                let expected = crc_fast::checksum(algorithm, bytes);
                assert_eq!(crc(params, bytes), expected, "{algorithm:?}, {length} bytes");
                for split in [0, 1, 7, 8, 9, length / 2, length.saturating_sub(3), length] {
                    let split = split.min(length);
                    let (head, tail) = bytes.split_at(split);
                    let mut pieces = Digest::new(params);
                    pieces.update(head);
                    pieces.update(tail);
                    assert_eq!(pieces.finalize(), expected, "{algorithm:?}, {length} bytes split at {split}");
                    let mut whole = Digest::new(params);
                    whole.update(head);
                    let mut part = Digest::new(params);
                    part.update(tail);
                    whole.combine(&part);
                    assert_eq!(
                        whole.finalize(),
                        expected,
                        "{algorithm:?}, {length} bytes combined at {split}"
                    );
                }
            }
        }
    }

    #[test]
    fn combining_keeps_going_after_a_combine() {
        let data: Vec<u8> = (0..5_000u32).map(|i| (i * 31 % 253) as u8).collect();
        for (params, algorithm) in ALL {
            let mut whole = Digest::new(params);
            for piece in data.chunks(777) {
                let mut part = Digest::new(params);
                part.update(piece);
                whole.combine(&part);
            }
            whole.update(b"tail");
            let mut expected = data.clone();
            expected.extend_from_slice(b"tail");
            assert_eq!(whole.finalize(), crc_fast::checksum(algorithm, &expected), "{algorithm:?}");
        }
    }
}
