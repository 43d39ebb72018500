//! Algorand's parameters (committee sizes, thresholds, timeouts, gossip), with the two presets
//! of the design note: the SOSP 2017 paper and today's network.

use sim_core::Span;

/// One kind of committee: `expected` is the expected total weight selected (tau); a step
/// completes for a value once its votes weigh at least `threshold` (the paper's "more than
/// T * tau", as an integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committee {
    pub expected: u64,
    pub threshold: u64,
}

impl Committee {
    /// From the paper's fraction T: the smallest weight strictly above T * tau.
    pub fn with_fraction(expected: u64, fraction: f64) -> Committee {
        assert!(fraction > 0.5 && fraction < 1.0, "thresholds are a super-majority of the committee");
        let threshold = libm::floor(expected as f64 * fraction) as u64 + 1;
        Committee { expected, threshold }
    }
}

/// Who talks to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Today's network: users 0..relays are relays (0: automatic, see `relay_count`), meshed
    /// with `relay_degree` random relays
    /// each; every other user connects to `fanout` random relays and relays only its own
    /// messages.
    Relays { relays: u32, relay_degree: u32 },
    /// The SOSP 2017 setting: every user picks `fanout` random peers (links are both ways) and
    /// relays everything once.
    Peers,
}

/// How stake is spread over users.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StakeDistribution {
    /// Every user holds `per_user` units.
    Equal { per_user: u64 },
    /// Pareto-distributed holdings with this shape (1.16: 80% of the stake with 20% of the
    /// users), scaled so the mean is `mean_per_user` units.
    Pareto { shape: f64, mean_per_user: u64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlgorandConfig {
    /// Expected number of proposers per round (tau_proposer).
    pub proposers: u64,
    /// The two reduction steps (today's network: the soft vote).
    pub reduction: Committee,
    /// BinaryBA* steps (today's network: the cert vote).
    pub binary: Committee,
    /// The FINAL step.
    pub final_step: Committee,
    /// From the start of a round, how long users collect priorities before voting for the best
    /// block (lambda_priority + lambda_stepvar; today's filter timeout).
    pub priority_wait: Span,
    /// How long after `priority_wait` a user waits for the best block before voting for the
    /// empty block (lambda_block).
    pub block_wait: Span,
    /// How long a voting step waits for its threshold (lambda_step).
    pub step_timeout: Span,
    /// Whether a round ends only once its FINAL votes reach their threshold, or `step_timeout`
    /// after BinaryBA* returned (SOSP 2017, Algorithm 3: BA* counts FINAL before it returns
    /// final or tentative). `false`: the next round starts when BinaryBA* returns, and FINAL
    /// is counted beside it.
    pub final_wait: bool,
    /// BinaryBA* gives up (hangs, as in the paper) after this many steps.
    pub max_steps: u32,
    /// A block carries at most this many bytes of transactions.
    pub block_max_bytes: u32,
    /// Outgoing links per user (peers, or relays for a non-relay user).
    pub fanout: u32,
    pub topology: Topology,
    /// A user gathers what it has to relay for this long and sends it as one message per link
    /// (0: after every handler). This is what keeps gossip at one event per link and batch.
    pub gossip_batch: Span,
    /// Bytes on the wire of a vote (credential with VRF proof, signature, round, step, value).
    pub vote_bytes: u32,
    /// Bytes of a priority message.
    pub priority_bytes: u32,
    /// Bytes of a block without its transactions.
    pub block_header_bytes: u32,
    /// CPU to verify a VRF proof (sortition of a vote or a proposal).
    pub vrf_verify: Span,
    pub stake: StakeDistribution,
    /// A deliberately broken protocol, for tests and `explore` to show the checkers catch it;
    /// `None` in every preset, and no scenario field sets it.
    #[doc(hidden)]
    pub bug: Option<PlantedBug>,
    /// Test-only: gossip as before issue 14, every item of a flush in one batch on the one
    /// FIFO queue of a link (blocks ahead of votes). `false` in every preset; no scenario
    /// field sets it.
    #[doc(hidden)]
    pub one_lane: bool,
}

/// A deliberately broken Algorand, to prove the checkers catch what it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// Takes a catch-up reply that extends the chain at the current round without asking for
    /// it or checking its certificate (what users did before issue 11): a `fake_sync` liar
    /// moves its neighbours onto rounds nobody voted for.
    TrustAnySync,
    /// Every threshold is 3/10 of its committee, so half the stake alone reaches each one:
    /// two halves of the users that hear different things certify different blocks.
    LowThreshold,
}

impl PlantedBug {
    pub const ALL: &'static [PlantedBug] = &[PlantedBug::TrustAnySync, PlantedBug::LowThreshold];

    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::TrustAnySync => "trust_any_sync",
            PlantedBug::LowThreshold => "low_threshold",
        }
    }
}

impl AlgorandConfig {
    /// Gilad et al., SOSP 2017, section 10: tau_proposer 26, tau_step 2000 with T = 0.685,
    /// tau_final 10000 with T = 0.74, lambda_priority 5 s, lambda_stepvar 5 s, lambda_block
    /// 60 s, lambda_step 20 s, 1 MB blocks, random peers.
    pub fn sosp2017() -> AlgorandConfig {
        let step = Committee::with_fraction(2000, 0.685);
        AlgorandConfig {
            proposers: 26,
            reduction: step,
            binary: step,
            final_step: Committee::with_fraction(10_000, 0.74),
            priority_wait: Span::from_millis(10_000),
            block_wait: Span::from_millis(60_000),
            step_timeout: Span::from_millis(20_000),
            final_wait: true,
            max_steps: 150,
            block_max_bytes: 1_000_000,
            fanout: 4,
            topology: Topology::Peers,
            gossip_batch: Span::from_millis(10),
            vote_bytes: 250,
            priority_bytes: 200,
            block_header_bytes: 250,
            vrf_verify: Span::from_micros(150),
            stake: StakeDistribution::Equal { per_user: 1_000_000 },
            bug: None,
            one_lane: false,
        }
    }

    /// Today's network (go-algorand `config/consensus.go`): 20 proposers; soft committee 2990
    /// with threshold 2267 for the reduction, cert committee 1500 with threshold 1112 for the
    /// binary steps and the final one; a 2.5 s filter timeout, 4 s deadline for the block and
    /// the steps; relays; blocks up to 5 MiB.
    pub fn mainnet() -> AlgorandConfig {
        let cert = Committee { expected: 1500, threshold: 1112 };
        AlgorandConfig {
            proposers: 20,
            reduction: Committee { expected: 2990, threshold: 2267 },
            binary: cert,
            final_step: cert,
            priority_wait: Span::from_millis(2_500),
            block_wait: Span::from_millis(1_500),
            step_timeout: Span::from_millis(4_000),
            final_wait: false,
            max_steps: 150,
            block_max_bytes: 5 * 1024 * 1024,
            fanout: 4,
            topology: Topology::Relays { relays: 0, relay_degree: 8 },
            gossip_batch: Span::from_millis(10),
            vote_bytes: 250,
            priority_bytes: 200,
            block_header_bytes: 250,
            vrf_verify: Span::from_micros(150),
            stake: StakeDistribution::Equal { per_user: 1_000_000 },
            bug: None,
            one_lane: false,
        }
    }

    /// This configuration with every threshold at 3/10 of its committee (`LowThreshold`).
    pub fn with_low_thresholds(&self) -> AlgorandConfig {
        let weak = |c: Committee| Committee { expected: c.expected, threshold: c.expected * 3 / 10 };
        AlgorandConfig {
            reduction: weak(self.reduction),
            binary: weak(self.binary),
            final_step: weak(self.final_step),
            ..self.clone()
        }
    }

    /// The number of relays for `n_users`: the configured one, or 1 per 100 users (at least 20,
    /// so that a list of up to 20 regions, which users take in turn, has a relay in each; at
    /// most all of them) when it is 0.
    pub fn relay_count(&self, n_users: u32) -> u32 {
        match self.topology {
            Topology::Relays { relays: 0, .. } => (n_users / 100).max(20).min(n_users),
            Topology::Relays { relays, .. } => relays.min(n_users),
            Topology::Peers => 0,
        }
    }
}

/// What a user does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Correct,
    /// Offline stake: sends nothing, relays nothing.
    Silent,
    /// As a proposer, sends two different blocks with the same credential to two halves of its
    /// links; as a voter, votes for two values (one per half).
    Equivocate,
    /// Votes in every step for both the value it would vote for and the empty block.
    DoubleVote,
    /// Runs the protocol, and at the start of every round tells each neighbour, unasked, that
    /// the round decided the empty block (a catch-up reply); it answers catch-up requests with
    /// the same lie. It holds no certificate for it: at most its own votes.
    FakeSync,
}
