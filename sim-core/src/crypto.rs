//! Real BLS12-381 signatures (min_pk: 48-byte public keys, 96-byte signatures) with blst, for
//! the `real` crypto mode. Keys derive from the scenario seed. Signature tokens index the real
//! signatures kept here, and verification looks only at those bytes, the claimed signer's public
//! key and the claimed message: a wrong signature fails the pairing check, not a bookkeeping one.

use blst::BLST_ERROR;
use blst::min_pk::{AggregateSignature as BlstAggregate, PublicKey, SecretKey, Signature as BlstSignature};

use crate::rng::Streams;

/// The ciphersuite of the IETF BLS draft for min_pk, no message augmentation.
const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// Whether signatures are tokens only, or real BLS signatures as well.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CryptoMode {
    /// Unforgeable tokens; every operation is charged from the cost profile.
    #[default]
    Modeled,
    /// The same tokens, backed by real BLS signatures that are really verified (slower in wall
    /// time; the simulated run is the same).
    Real,
}

/// Keys of every replica and every signature made in the run.
pub struct RealCrypto {
    secret: Vec<SecretKey>,
    public: Vec<PublicKey>,
    signatures: Vec<BlstSignature>,
    aggregates: Vec<BlstSignature>,
}

impl std::fmt::Debug for RealCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RealCrypto({} keys, {} signatures)", self.public.len(), self.signatures.len())
    }
}

fn message(digest: u64) -> [u8; 8] {
    digest.to_le_bytes()
}

impl RealCrypto {
    /// One key pair per replica, from the seed's `keys/<i>` streams.
    pub fn new(streams: &Streams, n_replicas: u32) -> RealCrypto {
        let secret: Vec<SecretKey> = (0..n_replicas)
            .map(|i| {
                let mut rng = streams.stream(&format!("keys/{i}"));
                let mut ikm = [0u8; 32];
                for chunk in ikm.chunks_exact_mut(8) {
                    chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
                }
                SecretKey::key_gen(&ikm, b"byzsim").expect("32 bytes of key material")
            })
            .collect();
        let public = secret.iter().map(SecretKey::sk_to_pk).collect();
        RealCrypto { secret, public, signatures: Vec::new(), aggregates: Vec::new() }
    }

    /// Signs `digest` as `signer`; returns the index of the signature.
    pub fn sign(&mut self, signer: u32, digest: u64) -> u32 {
        let sig = self.secret[signer as usize].sign(&message(digest), DST, &[]);
        self.signatures.push(sig);
        u32::try_from(self.signatures.len() - 1).expect("fewer than 2^32 signatures")
    }

    /// Whether signature `index` is `signer`'s on `digest`.
    pub fn verify(&self, index: u32, signer: u32, digest: u64) -> bool {
        let (Some(sig), Some(pk)) = (self.signatures.get(index as usize), self.public.get(signer as usize)) else {
            return false;
        };
        sig.verify(true, &message(digest), DST, &[], pk, false) == BLST_ERROR::BLST_SUCCESS
    }

    /// Aggregates signatures (by index) into one; returns its index.
    pub fn aggregate(&mut self, indices: &[u32]) -> Option<u32> {
        let sigs: Vec<&BlstSignature> =
            indices.iter().map(|&i| self.signatures.get(i as usize)).collect::<Option<_>>()?;
        let agg = BlstAggregate::aggregate(&sigs, false).ok()?.to_signature();
        self.aggregates.push(agg);
        Some(u32::try_from(self.aggregates.len() - 1).expect("fewer than 2^32 aggregates"))
    }

    /// Whether aggregate `index` is the aggregate of `signers`' signatures on `digest`.
    pub fn verify_aggregate(&self, index: u32, signers: impl Iterator<Item = u32>, digest: u64) -> bool {
        let Some(agg) = self.aggregates.get(index as usize) else { return false };
        let pks: Option<Vec<&PublicKey>> = signers.map(|s| self.public.get(s as usize)).collect();
        let Some(pks) = pks.filter(|p| !p.is_empty()) else { return false };
        agg.fast_aggregate_verify(true, &message(digest), DST, &pks) == BLST_ERROR::BLST_SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_signatures_verify_and_wrong_ones_do_not() {
        let mut c = RealCrypto::new(&Streams::new(1), 4);
        let s0 = c.sign(0, 42);
        assert!(c.verify(s0, 0, 42));
        assert!(!c.verify(s0, 1, 42), "another signer's key rejects it");
        assert!(!c.verify(s0, 0, 43), "another message rejects it");
        let s1 = c.sign(1, 42);
        let s2 = c.sign(2, 42);
        let agg = c.aggregate(&[s0, s1, s2]).unwrap();
        assert!(c.verify_aggregate(agg, [0, 1, 2].into_iter(), 42));
        assert!(!c.verify_aggregate(agg, [0, 1, 3].into_iter(), 42), "a signer bitmap that lies is caught");
        assert!(!c.verify_aggregate(agg, [0, 1, 2].into_iter(), 7));
        let other = c.sign(3, 99);
        let mixed = c.aggregate(&[s0, other]).unwrap();
        assert!(!c.verify_aggregate(mixed, [0, 3].into_iter(), 42), "signatures on different messages");
    }

    #[test]
    fn keys_come_from_the_seed() {
        let a = RealCrypto::new(&Streams::new(5), 2);
        let b = RealCrypto::new(&Streams::new(5), 2);
        let c = RealCrypto::new(&Streams::new(6), 2);
        assert_eq!(a.public[1].to_bytes(), b.public[1].to_bytes());
        assert_ne!(a.public[1].to_bytes(), c.public[1].to_bytes());
    }
}
