//! The CPU model: each replica is a queue served by `cores` servers. Handling an input costs a
//! base amount, an amount per KiB received, and the crypto operations the handler performs
//! (charged through `Ctx`); inputs wait while every core is busy, and what a handler sends
//! leaves when it finishes.

use crate::time::Span;

/// What each crypto operation costs one core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CryptoCosts {
    pub sign: Span,
    pub verify: Span,
    /// Per signature folded into an aggregate.
    pub aggregate_per_sig: Span,
    /// Verifying an aggregate of signatures on one message (flat in the number of signers).
    pub verify_aggregate: Span,
    /// Verifying a client's signature on a transaction (clients sign with Ed25519-class keys,
    /// not BLS).
    pub verify_client: Span,
}

impl CryptoCosts {
    pub const FREE: CryptoCosts = CryptoCosts {
        sign: Span::ZERO,
        verify: Span::ZERO,
        aggregate_per_sig: Span::ZERO,
        verify_aggregate: Span::ZERO,
        verify_client: Span::ZERO,
    };

    /// BLS12-381 (min_pk) with blst on a 2-core x86 machine: the default profile of the design
    /// brief (sign 0.37 ms, verify 1.04 ms, aggregate 1.3 us per signature, aggregate-verify of
    /// one message about 1.1 ms), with clients' Ed25519 signatures at 50 us to verify.
    pub const BLST_X86_2CORE: CryptoCosts = CryptoCosts {
        sign: Span::from_micros(370),
        verify: Span::from_micros(1040),
        aggregate_per_sig: Span::from_nanos(1300),
        verify_aggregate: Span::from_micros(1100),
        verify_client: Span::from_micros(50),
    };
}

/// A replica's processing power.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuConfig {
    /// Servers of the queue; 0 means unlimited: handlers take no time at all.
    pub cores: u32,
    /// Cost of handling any input.
    pub base: Span,
    /// Cost per KiB of a received message (deserialization, hashing).
    pub per_kib: Span,
    pub crypto: CryptoCosts,
}

impl CpuConfig {
    /// No CPU model: every handler is instantaneous (the closed-form setting).
    pub const UNLIMITED: CpuConfig =
        CpuConfig { cores: 0, base: Span::ZERO, per_kib: Span::ZERO, crypto: CryptoCosts::FREE };

    pub fn is_unlimited(&self) -> bool {
        self.cores == 0
    }

    /// The cost charged before the handler runs, for an input of `size` bytes.
    pub fn input_cost(&self, size: u32) -> Span {
        self.base + Span((self.per_kib.0 as u128 * size as u128 / 1024) as u64)
    }
}
