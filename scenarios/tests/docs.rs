//! The documentation stays true: the full example of docs/scenarios.md parses, and every field
//! the parser knows appears in the reference.

use std::path::Path;

fn docs() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios.md");
    std::fs::read_to_string(path).expect("docs/scenarios.md exists")
}

#[test]
fn the_documented_example_parses() {
    let text = docs();
    let start = text.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let len = text[start..].find("```").expect("closed block");
    let example = &text[start..start + len];
    let s = scenarios::parse::load_str(Path::new("docs-example.toml"), example, &[], None)
        .unwrap_or_else(|d| panic!("the documented example does not parse:\n{d}"));
    assert_eq!(s.cpu.profile.name, "blst-x86-2core");
}

#[test]
fn every_section_is_documented() {
    let text = docs();
    for section in [
        "[replicas]",
        "[clients]",
        "[network]",
        "[adversary]",
        "[workload]",
        "[hotstuff]",
        "[leaderless]",
        "[algorand]",
        "[cpu]",
        "[limits]",
        "[output]",
    ] {
        assert!(text.contains(&format!("### `{section}`")), "docs/scenarios.md lacks a {section} section");
    }
    let fields = ["certificate", "cores", "base_us", "per_kib_us", "profile", "batch_size", "zipf_s", "send_to"];
    let algorand = ["preset", "topology", "relays", "relay_degree", "fanout", "gossip_batch_ms", "block_max_kib"];
    let algorand_more = ["priority_wait_s", "block_wait_s", "step_timeout_s", "vrf_verify_us", "stake", "pareto_shape"];
    let others = ["behavior", "count", "liveness_bound_s", "groups"];
    let adversary = ["mode", "delay_max_ms", "targets", "delay", "drop", "rules"];
    let adversary_rules = ["kinds", "from", "to", "views", "action", "delay_ms", "until_s"];
    for field in
        fields.into_iter().chain(others).chain(algorand).chain(algorand_more).chain(adversary).chain(adversary_rules)
    {
        assert!(text.contains(&format!("| `{field}` |")), "docs/scenarios.md lacks the field {field}");
    }
}
