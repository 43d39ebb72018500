//! Stable hashing: the run digest and content fingerprints. Our own functions, so that a digest
//! means the same thing on every platform and every Rust version.

/// The SplitMix64 step: a bijective 64-bit mixer.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over the bytes of a string, then mixed.
pub fn stable_hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(h)
}

/// An order-sensitive fold of 64-bit words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold(u64);

impl Fold {
    pub const fn new(tag: u64) -> Fold {
        Fold(tag)
    }
    pub fn add(&mut self, word: u64) -> &mut Fold {
        self.0 = splitmix64(self.0 ^ word.rotate_left(17)).wrapping_add(word);
        self
    }
    pub fn value(&self) -> u64 {
        self.0
    }
}

/// Hash of a short list of words, for fingerprints and ids.
pub fn hash_words(words: &[u64]) -> u64 {
    let mut f = Fold::new(0x6279_7a73_696d);
    for &w in words {
        f.add(w);
    }
    f.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_is_order_sensitive_and_pinned() {
        assert_ne!(hash_words(&[1, 2]), hash_words(&[2, 1]));
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }
}
