//! Building QuickTime atoms (boxes) in memory.

/// Appends big-endian fields and nested atoms to a byte buffer, filling in
/// each atom's 32-bit size when it is closed.
#[derive(Debug, Default)]
pub struct AtomWriter {
    buf: Vec<u8>,
}

impl AtomWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Writes an atom of type `kind` whose body `body` writes.
    ///
    /// # Panics
    ///
    /// If the atom grows past 4 GiB (the sample tables of ~500 million frames).
    pub fn atom(&mut self, kind: [u8; 4], body: impl FnOnce(&mut Self)) {
        let start = self.buf.len();
        self.u32(0);
        self.bytes(&kind);
        body(self);
        let size = u32::try_from(self.buf.len() - start).expect("atom below 4 GiB");
        self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
    }

    /// Writes a "full" atom: one whose body starts with a version byte and 24 bits of flags.
    pub fn full_atom(
        &mut self,
        kind: [u8; 4],
        version: u8,
        flags: u32,
        body: impl FnOnce(&mut Self),
    ) {
        self.atom(kind, |w| {
            w.u32((u32::from(version) << 24) | (flags & 0x00FF_FFFF));
            body(w);
        });
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A big-endian u16.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A big-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// `n` zero bytes.
    pub fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    /// The identity transformation matrix of movie and track headers.
    pub fn identity_matrix(&mut self) {
        for v in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000u32] {
            self.u32(v);
        }
    }

    /// A counted (Pascal) string of at most 255 bytes.
    pub fn pascal_string(&mut self, s: &str) {
        let b = &s.as_bytes()[..s.len().min(255)];
        self.u8(b.len() as u8);
        self.bytes(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_atoms_get_their_sizes_filled_in() {
        let mut w = AtomWriter::new();
        w.atom(*b"outr", |w| {
            w.atom(*b"innr", |w| w.u16(0xABCD));
        });
        assert_eq!(
            w.into_bytes(),
            [
                0, 0, 0, 18, b'o', b'u', b't', b'r', 0, 0, 0, 10, b'i', b'n', b'n', b'r', 0xAB,
                0xCD
            ]
        );
    }

    #[test]
    fn full_atom_writes_version_and_flags_before_the_body() {
        let mut w = AtomWriter::new();
        w.full_atom(*b"vmhd", 0, 1, |w| w.u16(0x40));
        assert_eq!(
            w.into_bytes(),
            [0, 0, 0, 14, b'v', b'm', b'h', b'd', 0, 0, 0, 1, 0, 0x40]
        );
    }

    #[test]
    fn pascal_strings_are_counted_and_capped() {
        let mut w = AtomWriter::new();
        w.pascal_string("abc");
        w.pascal_string(&"x".repeat(300));
        let b = w.into_bytes();
        assert_eq!(&b[..4], &[3, b'a', b'b', b'c']);
        assert_eq!(b[4], 255);
        assert_eq!(b.len(), 4 + 256);
    }
}
