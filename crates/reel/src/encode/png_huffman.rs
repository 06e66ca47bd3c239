//! Huffman codes for deflate blocks (RFC 1951, section 3.2.2): code lengths
//! fitted to symbol counts and limited in length, and the canonical codes
//! they stand for.

/// Writes into `lengths` code lengths of at most `limit` bits (1 to 15) for
/// symbols counted in `counts`, 0 for symbols never used.
///
/// The code is always complete and has at least two symbols (alphabets of
/// at least two symbols): if fewer were used, the first unused symbols get a
/// code too. Some inflaters (zlib's among them) reject a code-length code
/// that is incomplete, and a complete code needs two symbols.
pub fn code_lengths(counts: &[u32], limit: u8, lengths: &mut [u8]) {
    assert!(counts.len() == lengths.len() && counts.len() >= 2);
    assert!(counts.len() <= MAX_SYMBOLS, "{} symbols", counts.len());
    assert!((1..=15).contains(&limit) && counts.len() <= 1 << limit);
    lengths.fill(0);
    // Count above symbol, ascending: the in-place algorithm below wants
    // leaves sorted by weight, and one word per leaf sorts fastest. This
    // runs for every deflate block, so nothing here allocates.
    let mut leaves = [0u64; MAX_SYMBOLS];
    let mut n = 0;
    for (symbol, &count) in counts.iter().enumerate() {
        leaves[n] = u64::from(count) << 16 | symbol as u64;
        n += usize::from(count > 0);
    }
    let mut unused = (0..counts.len()).filter(|&s| counts[s] == 0);
    while n < 2 {
        let symbol = unused
            .next()
            .expect("an alphabet of two symbols has an unused one");
        leaves[n] = 1 << 16 | symbol as u64;
        n += 1;
    }
    let leaves = &mut leaves[..n];
    leaves.sort_unstable();
    let per_length = lengths_per_depth(leaves, usize::from(limit));
    // The most frequent symbols (at the end) get the shortest codes.
    let mut next = leaves.len();
    for (length, &count) in per_length.iter().enumerate().skip(1) {
        for _ in 0..count {
            next -= 1;
            lengths[(leaves[next] & 0xffff) as usize] = length as u8;
        }
    }
}

/// The largest alphabet [`code_lengths`] takes (deflate's literal/length
/// alphabet has 286 symbols, JPEG's with its reserved code 257).
pub const MAX_SYMBOLS: usize = 288;

/// How many leaves have each code length (index = length, at most `limit`,
/// itself at most 15) in a Huffman code for `leaves` (at least two, each a
/// count above 16 bits of symbol, sorted).
///
/// Huffman's depths by Moffat and Katajainen's in-place method (as in
/// miniz), then lengths over the limit folded in and the Kraft sum brought
/// back to one by lengthening shorter codes (miniz's method too).
fn lengths_per_depth(leaves: &[u64], limit: usize) -> [u32; 16] {
    let n = leaves.len();
    // While merging, a leaf's slot holds its weight and a merged node's
    // slot its weight and then its parent's index.
    let mut w = [0u64; MAX_SYMBOLS];
    for (slot, &leaf) in w.iter_mut().zip(leaves) {
        *slot = leaf >> 16;
    }
    let (mut leaf, mut root) = (0, 0);
    for next in 0..n - 1 {
        for child in 0..2 {
            let take_root = leaf >= n || (root < next && w[root] < w[leaf]);
            let weight = if take_root {
                let weight = w[root];
                w[root] = next as u64;
                root += 1;
                weight
            } else {
                leaf += 1;
                w[leaf - 1]
            };
            w[next] = if child == 0 { weight } else { w[next] + weight };
        }
    }
    // Depths of the merged nodes, from the root (slot n - 2) down.
    w[n - 2] = 0;
    for node in (0..n - 2).rev() {
        w[node] = w[w[node] as usize] + 1;
    }
    // Leaves per depth (at most n - 1), folded into lengths of at most
    // `limit`: at each depth, the slots not taken by merged nodes.
    let mut per_length = [0u32; 16];
    let (mut available, mut depth, mut node) = (1usize, 0usize, n as isize - 2);
    while available > 0 {
        let mut merged = 0;
        while node >= 0 && w[node as usize] == depth as u64 {
            merged += 1;
            node -= 1;
        }
        per_length[depth.min(limit)] += (available - merged) as u32;
        available = 2 * merged;
        depth += 1;
    }
    let mut kraft: u64 = (1..=limit)
        .map(|length| u64::from(per_length[length]) << (limit - length))
        .sum();
    while kraft > 1 << limit {
        per_length[limit] -= 1;
        let shorter = (1..limit).rev().find(|&length| per_length[length] > 0);
        let shorter = shorter.expect("an over-full code has a code shorter than the limit");
        per_length[shorter] -= 1;
        per_length[shorter + 1] += 2;
        kraft -= 1;
    }
    per_length
}

/// The canonical code of each symbol for `lengths`, bit-reversed so that a
/// writer filling bytes from the least significant bit sends it first, as
/// deflate wants Huffman codes.
pub fn canonical_codes(lengths: &[u8], codes: &mut [u16]) {
    assert_eq!(lengths.len(), codes.len());
    let mut per_length = [0u16; 16];
    for &length in lengths {
        per_length[usize::from(length)] += 1;
    }
    per_length[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for length in 1..16 {
        code = (code + per_length[length - 1]) << 1;
        next[length] = code;
    }
    for (symbol, &length) in lengths.iter().enumerate() {
        if length > 0 {
            let code = next[usize::from(length)];
            next[usize::from(length)] += 1;
            codes[symbol] = code.reverse_bits() >> (16 - length);
        } else {
            codes[symbol] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kraft_sum(lengths: &[u8], limit: u8) -> u64 {
        lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (limit - l))
            .sum()
    }

    #[test]
    fn skewed_counts_get_lengths_within_the_limit_and_a_complete_code() {
        // Fibonacci counts make a plain Huffman code as deep as it gets.
        let mut counts = vec![0u32; 30];
        let (mut a, mut b) = (1u32, 1u32);
        for count in &mut counts {
            *count = a;
            (a, b) = (b, a + b);
        }
        let mut lengths = vec![0; 30];
        code_lengths(&counts, 7, &mut lengths);
        assert!(lengths.iter().all(|&l| (1..=7).contains(&l)), "{lengths:?}");
        assert_eq!(kraft_sum(&lengths, 7), 1 << 7);
    }

    #[test]
    fn one_used_symbol_still_gets_a_complete_code_of_two() {
        let mut counts = vec![0u32; 19];
        counts[5] = 40;
        let mut lengths = vec![0; 19];
        code_lengths(&counts, 7, &mut lengths);
        assert_eq!(lengths[5], 1);
        assert_eq!(lengths.iter().filter(|&&l| l > 0).count(), 2);
    }

    #[test]
    fn canonical_codes_match_the_rfcs_example() {
        // RFC 1951 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes
        // 010 011 100 101 110 00 1110 1111 (here bit-reversed).
        let lengths = [3, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical_codes(&lengths, &mut codes);
        let expected = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for ((&code, &want), &length) in codes.iter().zip(&expected).zip(&lengths) {
            assert_eq!(code, (want as u16).reverse_bits() >> (16 - length));
        }
    }

    proptest! {
        #[test]
        fn any_counts_get_a_complete_code_no_worse_than_lengths_of_equal_size(
            counts in proptest::collection::vec(0u32..100_000, 2..286),
        ) {
            let mut lengths = vec![0; counts.len()];
            code_lengths(&counts, 15, &mut lengths);
            prop_assert_eq!(kraft_sum(&lengths, 15), 1 << 15);
            for (&count, &length) in counts.iter().zip(&lengths) {
                prop_assert!(count == 0 || length > 0);
                prop_assert!(length <= 15);
            }
            // Optimal codes never lose to a fixed 9-bit code.
            let bits: u64 = counts.iter().zip(&lengths).map(|(&c, &l)| u64::from(c) * u64::from(l)).sum();
            let fixed: u64 = counts.iter().map(|&c| u64::from(c) * 9).sum();
            prop_assert!(bits <= fixed);
        }
    }
}
