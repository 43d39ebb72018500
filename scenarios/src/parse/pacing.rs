//! `[clients]` pacing and request queues: open or closed loop, the replicas' bound on waiting
//! requests and what they do past it, and the refusals of fields that contradict each other.

use super::*;
use crate::model::{Overload, Pacing, QueueBound};

const CLOSED_NAMES: &[bool] = &[false, true];

/// `loop`, `outstanding` and `think_ms`: a field of the other loop is refused, naming the fix.
pub(super) fn read_pacing(c: &mut Ctx<'_>, sec: &Section<'_>) -> Option<Pacing> {
    use fields::clients as F;
    let closed = c.pick(sec, &F::r#loop, CLOSED_NAMES)?;
    let outstanding = sec.get(F::outstanding.key).map(|_| c.whole_or::<u32>(sec, &F::outstanding, 1));
    let think = c.opt_num(sec, &F::think_ms);
    if !closed.v {
        let stray = refuse_stray(c, sec, &[&F::outstanding, &F::think_ms], "loop = \"closed\"");
        return (!stray).then_some(Pacing::Open);
    }
    let Some(outstanding) = outstanding else {
        let message = "a closed loop needs `outstanding`, the transactions each client keeps in flight";
        c.fail(&closed, message, Some("add clients.outstanding = 8, for example".to_string()));
        return None;
    };
    Some(Pacing::Closed { outstanding: outstanding?.v, think_ms: think?.map_or(0.0, |t| t.v) })
}

/// `queue_limit`, `overload`, `backoff_ms` and `backoff_max_ms`. A closed loop whose dropped
/// requests nothing resends would lose its slots one by one: refused.
pub(super) fn read_queue(c: &mut Ctx<'_>, sec: &Section<'_>, pacing: Option<Pacing>) -> Option<Option<QueueBound>> {
    use fields::clients as F;
    let limit = sec.get(F::queue_limit.key).map(|_| c.whole_or::<u32>(sec, &F::queue_limit, 1));
    let push_back = c.pick_or(sec, &F::overload, false, &[false, true]);
    let backoff = c.opt_num(sec, &F::backoff_ms);
    let backoff_max = c.opt_num(sec, &F::backoff_max_ms);
    let stray = match (&limit, &push_back) {
        (None, _) => refuse_stray(c, sec, &[&F::overload, &F::backoff_ms, &F::backoff_max_ms], "queue_limit"),
        (Some(_), Some(p)) if !p.v => {
            refuse_stray(c, sec, &[&F::backoff_ms, &F::backoff_max_ms], "overload = \"push_back\"")
        }
        _ => false,
    };
    if stray {
        return None;
    }
    let Some(limit) = limit else { return Some(None) };
    let (limit, push_back) = (limit?, push_back?);
    if !push_back.v {
        return check_drop(c, sec, pacing, &limit)
            .then_some(Some(QueueBound { limit: limit.v, overload: Overload::Drop }));
    }
    let backoff_ms = backoff?.map_or(10.0, |b| b.v);
    let backoff_max = backoff_max?;
    let backoff_max_ms = backoff_max.as_ref().map_or(backoff_ms.max(1000.0), |b| b.v);
    if let Some(max) = backoff_max.filter(|m| m.v < backoff_ms) {
        c.fail(
            &max,
            format!("must be at least backoff_ms ({backoff_ms})"),
            Some("raise clients.backoff_max_ms".into()),
        );
        return None;
    }
    Some(Some(QueueBound { limit: limit.v, overload: Overload::PushBack { backoff_ms, backoff_max_ms } }))
}

/// A closed loop with dropping replicas needs `retry_ms`, or a dropped request holds its
/// client's slot for ever.
fn check_drop(c: &mut Ctx<'_>, sec: &Section<'_>, pacing: Option<Pacing>, limit: &Val<u32>) -> bool {
    let closed = matches!(pacing, Some(Pacing::Closed { .. }));
    if closed && sec.get(fields::clients::retry_ms.key).is_none() {
        let message = "a closed-loop client whose request is dropped, with no `retry_ms`, waits for it for ever";
        let help = "set clients.retry_ms, or clients.overload = \"push_back\"".to_string();
        c.fail(limit, message, Some(help));
        return false;
    }
    true
}

/// Reports each of `fields` the section has although it lacks `needs`; whether there was one.
fn refuse_stray(c: &mut Ctx<'_>, sec: &Section<'_>, fields: &[&Field], needs: &str) -> bool {
    let mut stray = false;
    for field in fields {
        let Some(node) = sec.get(field.key) else { continue };
        let message = format!("`{}` applies only with clients.{needs}", field.key);
        let help = format!("set clients.{needs}, or remove clients.{}", field.key);
        c.report(&node.at, Some(&sec.field(field.key)), message, Some(help));
        stray = true;
    }
    stray
}
