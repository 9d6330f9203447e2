//! The offline optimum: the cheapest assignment of past traffic to providers that respects
//! their capacity, quality thresholds and budget caps — the yardstick routing strategies are
//! measured against.
//!
//! Traffic comes in lanes (one hour's calls to one country); a lane's calls may be split
//! between the providers eligible for it (quality thresholds decide eligibility). Within an
//! hour, per-provider capacity makes this a transportation problem, solved exactly by
//! min-cost flow (successive shortest paths). Budget caps couple the hours: they are met by
//! pricing each capped provider's spend up (a Lagrange multiplier per provider, found by
//! bisection), which keeps the result within every cap. The optimum without budget caps is
//! exact and is reported as the lower bound, so the true capped optimum lies between the two.

/// One hour's calls to one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// The capacity window (the hour) the lane belongs to.
    pub slot: i64,
    /// Calls.
    pub calls: i64,
    /// What all the lane's calls would cost on each provider, in 10⁻⁹ units (indexed like the
    /// providers); `None` where the provider may not carry them (no rate, or under a
    /// quality threshold).
    pub cost: Vec<Option<i64>>,
}

/// Limits of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Most calls per slot.
    pub capacity: Option<i64>,
    /// Most spend over the whole period, in 10⁻⁹ units.
    pub budget: Option<i64>,
}

/// An assignment of the lanes' calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Calls of each lane on each provider.
    pub calls: Vec<Vec<i64>>,
    /// Calls of each lane no provider could take within the limits.
    pub unserved: Vec<i64>,
    /// Spend on each provider, 10⁻⁹ units.
    pub spend: Vec<i64>,
    /// Total spend.
    pub cost: i64,
}

/// The capped optimum and the uncapped lower bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Optimum {
    /// Respects capacity, quality and budget caps.
    pub assignment: Assignment,
    /// The exact optimum with capacity and quality but no budget caps.
    pub lower_bound: Assignment,
}

/// What `calls` of a lane cost on provider `p` (the lane's calls are alike on average).
fn share_cost(lane: &Lane, p: usize, calls: i64) -> i64 {
    match lane.cost.get(p).copied().flatten() {
        Some(total) if lane.calls > 0 => {
            (i128::from(total) * i128::from(calls) / i128::from(lane.calls)) as i64
        }
        _ => 0,
    }
}

/// Spend and totals of per-lane splits.
fn assignment(lanes: &[Lane], providers: usize, calls: Vec<Vec<i64>>) -> Assignment {
    let mut spend = vec![0; providers];
    let mut unserved = Vec::with_capacity(lanes.len());
    for (lane, split) in lanes.iter().zip(&calls) {
        for (p, n) in split.iter().enumerate() {
            spend[p] += share_cost(lane, p, *n);
        }
        unserved.push(lane.calls - split.iter().sum::<i64>());
    }
    Assignment {
        cost: spend.iter().sum(),
        calls,
        unserved,
        spend,
    }
}

/// A residual graph edge.
struct Edge {
    to: usize,
    cap: i64,
    cost: i128,
}

/// Min-cost flow by successive shortest paths (Bellman-Ford: graphs here are small and
/// reverse edges carry negative costs). Costs are integers so no rounding can fake a
/// shorter path.
struct Flow {
    edges: Vec<Edge>,
    out: Vec<Vec<usize>>,
}

impl Flow {
    fn new(nodes: usize) -> Self {
        Flow {
            edges: Vec::new(),
            out: vec![Vec::new(); nodes],
        }
    }

    /// Adds an edge and its reverse; returns the edge's index.
    fn edge(&mut self, from: usize, to: usize, cap: i64, cost: i128) -> usize {
        let i = self.edges.len();
        self.edges.push(Edge { to, cap, cost });
        self.edges.push(Edge {
            to: from,
            cap: 0,
            cost: -cost,
        });
        self.out[from].push(i);
        self.out[to].push(i + 1);
        i
    }

    fn run(&mut self, source: usize, sink: usize) {
        let n = self.out.len();
        loop {
            let mut dist: Vec<Option<i128>> = vec![None; n];
            let mut via: Vec<Option<usize>> = vec![None; n];
            dist[source] = Some(0);
            for _ in 0..n {
                let mut changed = false;
                for u in 0..n {
                    let Some(du) = dist[u] else {
                        continue;
                    };
                    for &e in &self.out[u] {
                        let edge = &self.edges[e];
                        let d = du + edge.cost;
                        if edge.cap > 0 && dist[edge.to].is_none_or(|old| d < old) {
                            dist[edge.to] = Some(d);
                            via[edge.to] = Some(e);
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            // The path back from the sink; a walk longer than the graph would be a cycle,
            // which shortest paths over a min-cost residual graph never form.
            let mut path = Vec::new();
            let mut v = sink;
            while let Some(e) = via[v] {
                if v == source || path.len() > n {
                    break;
                }
                path.push(e);
                v = self.edges[e ^ 1].to;
            }
            if v != source || path.is_empty() {
                return;
            }
            let push = path.iter().map(|&e| self.edges[e].cap).min().unwrap_or(0);
            for &e in &path {
                self.edges[e].cap -= push;
                self.edges[e ^ 1].cap += push;
            }
        }
    }
}

/// Per-call costs are carried in millionths of 10⁻⁹ units, so averages over a lane's calls
/// keep their fractions.
const COST_SCALE: i128 = 1_000_000;

/// A lane's per-call cost on a provider whose spend is priced at `price`, scaled.
fn priced(total: i64, calls: i64, price: f64) -> i128 {
    let per_call = i128::from(total) * COST_SCALE / i128::from(calls.max(1));
    // Prices are at most MAX_PRICE, so the product stays far inside i128.
    (per_call as f64 * (1.0 + price)).round() as i128
}

/// The cheapest split of one slot's lanes, with each provider's per-call costs scaled by
/// `1 + price[p]`.
fn solve_slot(lanes: &[&Lane], limits: &[Limits], price: &[f64], penalty: i128) -> Vec<Vec<i64>> {
    let (k, n) = (lanes.len(), limits.len());
    // Nodes: source, lanes, providers, unserved, sink.
    let (source, unserved, sink) = (0, 1 + k + n, 2 + k + n);
    let mut flow = Flow::new(3 + k + n);
    let mut lane_edges = Vec::with_capacity(k);
    for (i, lane) in lanes.iter().enumerate() {
        flow.edge(source, 1 + i, lane.calls, 0);
        let mut edges = vec![None; n];
        for (p, cost) in lane.cost.iter().enumerate().take(n) {
            if let Some(total) = cost {
                let per_call = priced(*total, lane.calls, price[p]);
                edges[p] = Some(flow.edge(1 + i, 1 + k + p, lane.calls, per_call));
            }
        }
        flow.edge(1 + i, unserved, lane.calls, penalty);
        lane_edges.push(edges);
    }
    for (p, l) in limits.iter().enumerate() {
        flow.edge(1 + k + p, sink, l.capacity.unwrap_or(i64::MAX / 4), 0);
    }
    flow.edge(unserved, sink, i64::MAX / 4, 0);
    flow.run(source, sink);
    lane_edges
        .iter()
        .map(|edges| {
            edges
                .iter()
                .map(|e| e.map_or(0, |i| flow.edges[i ^ 1].cap))
                .collect()
        })
        .collect()
}

/// Solves every slot with the given prices.
fn solve_all(lanes: &[Lane], limits: &[Limits], price: &[f64]) -> Assignment {
    let max_per_call = lanes
        .iter()
        .flat_map(|l| {
            l.cost
                .iter()
                .flatten()
                .map(move |c| priced(*c, l.calls, 0.0))
        })
        .fold(1, i128::max);
    // Leaving a call unserved costs more than any provider's unpriced cost, and less than a
    // provider priced out of its budget.
    let penalty = max_per_call * 1_000_000;
    let mut slots: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, lane) in lanes.iter().enumerate() {
        slots.entry(lane.slot).or_default().push(i);
    }
    let mut calls = vec![vec![0; limits.len()]; lanes.len()];
    for members in slots.values() {
        let slot: Vec<&Lane> = members.iter().map(|&i| &lanes[i]).collect();
        for (i, split) in members
            .iter()
            .zip(solve_slot(&slot, limits, price, penalty))
        {
            calls[*i] = split;
        }
    }
    assignment(lanes, limits.len(), calls)
}

fn within_budgets(a: &Assignment, limits: &[Limits]) -> bool {
    limits
        .iter()
        .zip(&a.spend)
        .all(|(l, s)| l.budget.is_none_or(|b| *s <= b))
}

/// Moves calls onto budget-capped providers whose budget has room left, where they are
/// cheaper than where the calls are, largest saving per call first. Pricing a provider's
/// spend moves whole lanes at once; this spends what the last lane moved off left unused.
fn fill_budgets(lanes: &[Lane], limits: &[Limits], mut calls: Vec<Vec<i64>>) -> Vec<Vec<i64>> {
    let n = limits.len();
    let per_call =
        |lane: &Lane, p: usize| lane.cost[p].map(|c| c as f64 / lane.calls.max(1) as f64);
    loop {
        let current = assignment(lanes, n, calls.clone());
        let mut load: std::collections::BTreeMap<(i64, usize), i64> = Default::default();
        for (lane, split) in lanes.iter().zip(&calls) {
            for (p, c) in split.iter().enumerate() {
                *load.entry((lane.slot, p)).or_default() += c;
            }
        }
        // (saving per call, lane, from (None: unserved), to)
        let mut moves: Vec<(f64, usize, Option<usize>, usize)> = Vec::new();
        for (i, lane) in lanes.iter().enumerate() {
            for (to, limit) in limits.iter().enumerate() {
                let (Some(budget), Some(cost_to)) = (limit.budget, per_call(lane, to)) else {
                    continue;
                };
                if current.spend[to] >= budget {
                    continue;
                }
                if current.unserved[i] > 0 {
                    moves.push((f64::INFINITY, i, None, to));
                }
                for from in (0..n).filter(|q| *q != to && calls[i][*q] > 0) {
                    if let Some(cost_from) = per_call(lane, from).filter(|c| *c > cost_to) {
                        moves.push((cost_from - cost_to, i, Some(from), to));
                    }
                }
            }
        }
        moves.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut moved = false;
        for (_, i, from, to) in moves {
            let lane = &lanes[i];
            let available = from.map_or(current.unserved[i], |q| calls[i][q]);
            let room = limits[to].capacity.map_or(i64::MAX, |cap| {
                cap - load.get(&(lane.slot, to)).copied().unwrap_or(0)
            });
            let slack = limits[to].budget.unwrap_or(i64::MAX) - current.spend[to];
            let mut k = available.min(room);
            let added = |k: i64| {
                share_cost(lane, to, calls[i][to] + k) - share_cost(lane, to, calls[i][to])
            };
            while k > 0 && added(k) > slack {
                k -= 1;
            }
            if k > 0 {
                calls[i][to] += k;
                if let Some(q) = from {
                    calls[i][q] -= k;
                }
                moved = true;
                break;
            }
        }
        if !moved {
            return calls;
        }
    }
}

/// Highest price tried for a provider's spend: past it, leaving calls unserved is cheaper
/// than any call the provider carries at a millionth of the dearest call's cost.
const MAX_PRICE: f64 = 1e12;

/// Takes a provider still over its budget off its dearest calls (they become unserved).
fn trim_to_budgets(lanes: &[Lane], limits: &[Limits], mut calls: Vec<Vec<i64>>) -> Vec<Vec<i64>> {
    let n = limits.len();
    for p in 0..n {
        let Some(budget) = limits[p].budget else {
            continue;
        };
        let mut order: Vec<usize> = (0..lanes.len()).filter(|&i| calls[i][p] > 0).collect();
        order.sort_by_key(|&i| {
            std::cmp::Reverse(priced(lanes[i].cost[p].unwrap_or(0), lanes[i].calls, 0.0))
        });
        let mut spend = assignment(lanes, n, calls.clone()).spend[p];
        for i in order {
            if spend <= budget {
                break;
            }
            let lane = &lanes[i];
            let had = calls[i][p];
            let shed = |k: i64| share_cost(lane, p, had) - share_cost(lane, p, had - k);
            // The fewest calls to shed here: all of them if that is not enough.
            let (mut lo, mut hi) = (0, had);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if spend - shed(mid) <= budget {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            spend -= shed(lo);
            calls[i][p] -= lo;
        }
    }
    calls
}

/// The cheapest assignment of `lanes` to providers within `limits`.
pub fn optimum(lanes: &[Lane], limits: &[Limits]) -> Optimum {
    let mut price = vec![0.0; limits.len()];
    let lower_bound = solve_all(lanes, limits, &price);
    let mut best = lower_bound.clone();
    for _round in 0..4 {
        if within_budgets(&best, limits) {
            break;
        }
        for p in 0..limits.len() {
            let Some(budget) = limits[p].budget else {
                continue;
            };
            if best.spend[p] <= budget {
                continue;
            }
            // The smallest price that brings p within its budget.
            let (mut lo, mut hi) = (price[p], (price[p] * 2.0).max(1e-3));
            loop {
                price[p] = hi;
                if solve_all(lanes, limits, &price).spend[p] <= budget || hi >= MAX_PRICE {
                    break;
                }
                lo = hi;
                hi *= 4.0;
            }
            for _ in 0..40 {
                let mid = (lo + hi) / 2.0;
                price[p] = mid;
                if solve_all(lanes, limits, &price).spend[p] <= budget {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            price[p] = hi;
            best = solve_all(lanes, limits, &price);
        }
    }
    if limits.iter().any(|l| l.budget.is_some()) {
        let trimmed = trim_to_budgets(lanes, limits, best.calls);
        best = assignment(lanes, limits.len(), fill_budgets(lanes, limits, trimmed));
    }
    Optimum {
        assignment: best,
        lower_bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lane(slot: i64, calls: i64, per_call: &[Option<i64>]) -> Lane {
        Lane {
            slot,
            calls,
            cost: per_call.iter().map(|c| c.map(|c| c * calls)).collect(),
        }
    }

    #[test]
    fn capacity_sends_the_rest_to_the_next_cheapest() {
        let lanes = [lane(0, 10, &[Some(5), Some(7)])];
        let limits = [
            Limits {
                capacity: Some(6),
                budget: None,
            },
            Limits::default(),
        ];
        let o = optimum(&lanes, &limits);
        assert_eq!(o.assignment.calls, vec![vec![6, 4]]);
        assert_eq!(o.assignment.cost, 6 * 5 + 4 * 7);
    }

    #[test]
    fn a_budget_cap_moves_spend_to_the_next_provider() {
        let lanes = [
            lane(0, 10, &[Some(5), Some(7)]),
            lane(1, 10, &[Some(5), Some(9)]),
        ];
        let limits = [
            Limits {
                capacity: None,
                budget: Some(60),
            },
            Limits::default(),
        ];
        let o = optimum(&lanes, &limits);
        assert!(o.assignment.spend[0] <= 60, "{o:?}");
        assert_eq!(o.lower_bound.cost, 100);
        // The cheapest way to keep 60 on provider 0: its 12 calls where the other is
        // dearest (hour 1), the rest on provider 1.
        assert_eq!(o.assignment.calls, vec![vec![2, 8], vec![10, 0]]);
        assert_eq!(o.assignment.cost, 60 + 56);
    }

    #[test]
    fn ineligible_providers_carry_nothing_and_what_fits_nowhere_is_unserved() {
        let lanes = [lane(0, 5, &[None, Some(3)])];
        let limits = [
            Limits::default(),
            Limits {
                capacity: Some(2),
                budget: None,
            },
        ];
        let o = optimum(&lanes, &limits);
        assert_eq!(
            (o.assignment.calls.clone(), o.assignment.unserved.clone()),
            (vec![vec![0, 2]], vec![3])
        );
    }

    /// Every integer split of the lanes' calls among the providers, checked against the
    /// limits: the least unserved, then the least cost.
    fn brute_force(lanes: &[Lane], limits: &[Limits]) -> (i64, i64) {
        fn splits(calls: i64, parts: usize) -> Vec<Vec<i64>> {
            if parts == 0 {
                return vec![Vec::new()];
            }
            (0..=calls)
                .flat_map(|first| {
                    splits(calls - first, parts - 1)
                        .into_iter()
                        .map(move |mut rest| {
                            rest.insert(0, first);
                            rest
                        })
                })
                .collect()
        }
        let n = limits.len();
        let mut best = (i64::MAX, i64::MAX);
        let options: Vec<Vec<Vec<i64>>> = lanes
            .iter()
            .map(|l| {
                // n providers plus "unserved".
                splits(l.calls, n + 1)
                    .into_iter()
                    .filter(|s| (0..n).all(|p| s[p] == 0 || l.cost[p].is_some()))
                    .map(|mut s| {
                        s.truncate(n);
                        s
                    })
                    .collect()
            })
            .collect();
        let mut pick = vec![0; lanes.len()];
        loop {
            let calls: Vec<Vec<i64>> = pick
                .iter()
                .zip(&options)
                .map(|(i, o)| o[*i].clone())
                .collect();
            let a = assignment(lanes, n, calls);
            let fits = limits.iter().enumerate().all(|(p, l)| {
                let per_slot_ok = l.capacity.is_none_or(|cap| {
                    let mut by_slot: std::collections::BTreeMap<i64, i64> = Default::default();
                    for (lane, split) in lanes.iter().zip(&a.calls) {
                        *by_slot.entry(lane.slot).or_default() += split[p];
                    }
                    by_slot.values().all(|v| *v <= cap)
                });
                per_slot_ok && l.budget.is_none_or(|b| a.spend[p] <= b)
            });
            if fits {
                best = best.min((a.unserved.iter().sum(), a.cost));
            }
            let mut i = 0;
            loop {
                if i == pick.len() {
                    return best;
                }
                pick[i] += 1;
                if pick[i] < options[i].len() {
                    break;
                }
                pick[i] = 0;
                i += 1;
            }
        }
    }

    fn instance() -> impl Strategy<Value = (Vec<Lane>, Vec<Limits>)> {
        let limits = prop::collection::vec(
            (prop::option::of(1i64..5), prop::option::of(0i64..60)),
            2..=3,
        );
        limits.prop_flat_map(|limits| {
            let n = limits.len();
            let lanes = prop::collection::vec(
                (
                    0i64..2,
                    1i64..4,
                    prop::collection::vec(prop::option::weighted(0.8, 1i64..10), n),
                ),
                1..=3,
            );
            let limits: Vec<Limits> = limits
                .into_iter()
                .map(|(capacity, budget)| Limits { capacity, budget })
                .collect();
            lanes.prop_map(move |lanes| {
                let lanes = lanes
                    .into_iter()
                    .map(|(slot, calls, per_call)| lane(slot, calls, &per_call))
                    .collect();
                (lanes, limits.clone())
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Without budget caps the flow is the exact optimum; with them it stays within every
        /// cap and never beats the best feasible split.
        #[test]
        fn matches_brute_force((lanes, limits) in instance()) {
            let uncapped: Vec<Limits> = limits.iter().map(|l| Limits { budget: None, ..*l }).collect();
            let o = optimum(&lanes, &uncapped);
            let exact = brute_force(&lanes, &uncapped);
            prop_assert_eq!((o.assignment.unserved.iter().sum::<i64>(), o.assignment.cost), exact);

            let capped = optimum(&lanes, &limits);
            prop_assert!(within_budgets(&capped.assignment, &limits));
            let best = brute_force(&lanes, &limits);
            let got = (capped.assignment.unserved.iter().sum::<i64>(), capped.assignment.cost);
            prop_assert!(got >= best, "{:?} beats the best feasible split {:?}", got, best);
        }
    }
}
