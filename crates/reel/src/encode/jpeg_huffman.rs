//! Huffman tables fitted to a frame's symbols, as JPEG defines them (ITU
//! T.81, Annex C and K.2): code lengths from the symbol counts, at most 16
//! bits, with no code made of ones only (the all-ones code of the longest
//! length is left unused, so that a byte of padding ones is never a code).

use super::png_huffman::code_lengths;

/// Code lengths are fitted within this many bits (JPEG allows 16; the
/// shared fitter stops at deflate's 15, which costs nothing measurable on
/// frames, whose longest codes are far shorter).
const LIMIT: u8 = 15;

/// A Huffman table for up to 256 symbols: each used symbol's code (MSB
/// first) and length, and the table as a DHT segment lists it.
#[derive(Debug, Clone)]
pub struct HuffmanTable {
    /// Per symbol: code in the low `length` bits, and length (0: unused).
    codes: [(u16, u8); 256],
    /// Codes of each length 1–16 (`BITS`).
    counts_per_length: [u8; 16],
    /// The symbols by code length, then symbol (`HUFFVAL`).
    symbols: Vec<u8>,
}

impl HuffmanTable {
    /// The table for symbols counted in `counts` (a symbol never counted
    /// gets no code).
    pub fn fitted(counts: &[u32; 256]) -> Self {
        // A reserved symbol (256) counted once takes the longest length and,
        // last in canonical order, the all-ones code, which is then dropped.
        let mut with_reserved = [0u32; 257];
        with_reserved[..256].copy_from_slice(counts);
        with_reserved[256] = 1;
        let mut lengths = [0u8; 257];
        code_lengths(&with_reserved, LIMIT, &mut lengths);
        // The fitter may give another symbol counted once a longer code than the reserved
        // one: swapping their lengths costs nothing and puts the reserved symbol last.
        let longest = *lengths.iter().max().expect("257 lengths");
        if lengths[256] < longest {
            let other = lengths
                .iter()
                .rposition(|&l| l == longest)
                .expect("a symbol of the longest length");
            lengths.swap(256, other);
        }
        let mut table = HuffmanTable {
            codes: [(0, 0); 256],
            counts_per_length: [0; 16],
            symbols: Vec::new(),
        };
        let mut code = 0u16;
        for length in 1..=LIMIT {
            for symbol in (0..256).filter(|&s| lengths[s] == length) {
                table.codes[symbol] = (code, length);
                table.counts_per_length[usize::from(length) - 1] += 1;
                table.symbols.push(symbol as u8);
                code += 1;
            }
            // The reserved symbol's code is the last one of the longest length.
            if lengths[256] == length {
                code += 1;
            }
            code <<= 1;
        }
        table
    }

    /// `symbol`'s code (in the low bits) and its length.
    #[inline(always)]
    pub fn code(&self, symbol: u8) -> (u16, u8) {
        self.codes[usize::from(symbol)]
    }

    /// The table's part of a DHT segment: class and id (`class_and_id`:
    /// 0x00/0x01 DC luma/chroma, 0x10/0x11 AC), `BITS` and `HUFFVAL`.
    pub fn write_dht_entry(&self, class_and_id: u8, out: &mut Vec<u8>) {
        out.push(class_and_id);
        out.extend_from_slice(&self.counts_per_length);
        out.extend_from_slice(&self.symbols);
    }

    /// Bytes [`write_dht_entry`](Self::write_dht_entry) writes.
    pub fn dht_entry_len(&self) -> usize {
        1 + 16 + self.symbols.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft_sum(table: &HuffmanTable) -> f64 {
        table
            .codes
            .iter()
            .filter(|(_, l)| *l > 0)
            .map(|(_, l)| 0.5f64.powi(i32::from(*l)))
            .sum()
    }

    #[test]
    fn codes_are_canonical_prefix_free_and_never_all_ones() {
        for counts in [
            {
                let mut c = [0u32; 256];
                c[0] = 1;
                c
            },
            {
                let mut c = [0u32; 256];
                c[..12].copy_from_slice(&[900, 500, 300, 200, 100, 50, 20, 10, 5, 2, 1, 1]);
                c
            },
            std::array::from_fn(|s| (s as u32 * 7919) % 1000 + 1),
            std::array::from_fn(|s| 1 << (s % 20)),
        ] {
            let table = HuffmanTable::fitted(&counts);
            let used: Vec<(u16, u8)> = (0..256)
                .filter(|&s| counts[s] > 0)
                .map(|s| table.code(s as u8))
                .collect();
            assert!(used.iter().all(|&(_, l)| (1..=16).contains(&l)));
            assert!(
                used.iter().all(|&(c, l)| u32::from(c) != (1u32 << l) - 1),
                "all-ones code"
            );
            // Prefix-free, and room left for exactly the reserved code.
            for (i, &(a, la)) in used.iter().enumerate() {
                for &(b, lb) in &used[i + 1..] {
                    let (short, ls, long, ll) = if la <= lb {
                        (a, la, b, lb)
                    } else {
                        (b, lb, a, la)
                    };
                    assert_ne!(long >> (ll - ls), short, "{short:b} prefixes {long:b}");
                }
            }
            assert!(kraft_sum(&table) < 1.0);
            let longest = used.iter().map(|&(_, l)| l).max().unwrap();
            assert_eq!(kraft_sum(&table) + 0.5f64.powi(i32::from(longest)), 1.0);
            // The DHT lists every used symbol once, by length.
            assert_eq!(table.symbols.len(), used.len());
            let bits: u32 = table.counts_per_length.iter().map(|&n| u32::from(n)).sum();
            assert_eq!(bits as usize, used.len());
        }
    }

    #[test]
    fn frequent_symbols_get_shorter_codes() {
        let mut counts = [0u32; 256];
        counts[0x00] = 10_000;
        counts[0x01] = 1_000;
        counts[0xF0] = 10;
        let table = HuffmanTable::fitted(&counts);
        assert!(table.code(0x00).1 < table.code(0x01).1);
        assert!(table.code(0x01).1 <= table.code(0xF0).1);
    }
}
