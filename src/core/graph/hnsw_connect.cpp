/*
 * hnsw_connect.cpp -- connect_unreachable(): makes layer 0 strongly
 * connected over the live nodes, so that searches and exhaustive scans can
 * return every node, wherever the descent lands.
 *
 * Why it is needed.  Algorithm 4 keeps a neighbour e only if e is nearer to
 * the base node than to every neighbour kept before it.  A node whose close
 * neighbours all "shadow" it can be pruned from every list that shrinks past
 * it, and end with no in-link at all. An exact duplicate is the extreme
 * case.  This hits about 0.1% of nodes on the 10,000-point test set at
 * M = 16, 5% of clustered data at M = 3, and hnswlib has the same property.
 * Duplicates can also do the opposite: a group of copies keeps only links
 * to its own members (every other candidate is pruned as "nearer to a twin
 * than to q").  A descent landing in such a group can never leave it.
 * repair_deleted() can cause both when it rebuilds lists.
 *
 * The pass is single-threaded.
 *   1. In-links.  Mark every node reachable from the entry point on layer 0,
 *      with a depth-first walk over the lists.  Nodes marked deleted but not
 *      yet removed are walked through, as searches do.  Then take each live
 *      unreachable node u in id order.  Search for u's vector (greedy
 *      descent, then SEARCH-LAYER on layer 0 with ef = max(efConstruction,
 *      2M)) and walk the reachable results, nearest first.  The first v
 *      that accepts gets the link v -> u (link_layer0()); if none accepts,
 *      the entry point is tried.  Then mark what u newly reaches: u and
 *      everything behind it, often other unreachable nodes, which need no
 *      link of their own.
 *   2. Out-links.  Tarjan's strongly connected components over layer 0
 *      (iterative).  A component completes after every component it links
 *      to, so whether it reaches the entry point is known when it
 *      completes.  Every component that does not ("stranded") leads to a
 *      stranded component with no link out of itself (a sink).  One link out
 *      of each sink to a near node that reaches the entry point therefore
 *      fixes them all.  For that link, the sink's members are tried in id
 *      order, each with its nearest search results that reach the entry
 *      point, then the entry point itself.
 *
 * link_layer0(v, u) never makes any node unreachable and never exceeds
 * Mmax0 = 2M.
 *   - If v's list has a free slot, u is appended.
 *   - If v's list is full, u is "spliced" into one of v's links v -> w: w is
 *     replaced by u in v's list, and u -> w must exist.  Every path that used
 *     v -> w now goes v -> u -> w, so reachability can only grow.  The w
 *     chosen is the farthest (from v) of v's neighbours that u already links
 *     to, so no other list changes.  Failing that, it is v's farthest
 *     neighbour, appended to u's list if u has a free slot.  v loses its
 *     longest link, which the heuristic values least, and u, which is near
 *     v, gets the slot.
 *   - If v is full, u is full, and they share no neighbour: where u is
 *     not reached yet (step 1), u's farthest link gives way to v's farthest
 *     neighbour w, then v -> w becomes v -> u -> w.  No path from the entry
 *     point ran through u, so none is lost.  Elsewhere v refuses.  (Builds
 *     whose new nodes take 2M links leave every list full: with refusals,
 *     42 of 100,000 SPLADE-like rows stayed unreachable.)
 * Re-running Algorithm 4 on v's list plus u would be the "natural" choice,
 * but it drops whichever old neighbours it likes, and any of them could
 * lose its only in-link.  Proving otherwise takes another reachability
 * walk per link; the splice needs none.
 *
 * Because no step removes a path, the marks of step 1 stay exact as the
 * pass goes, and the components of step 2 stay correct, or at worst
 * pessimistic: a node found not to reach the entry point may reach it after
 * an earlier fix.  The loops are therefore bounded: each unreachable node is
 * handled at most once, and each sink once.  No further round is needed.
 * Only a link that no candidate accepts leaves something unfixed, and
 * ConnectStats::failed counts it.
 *
 * Cost: two walks over layer 0, plus one search per link added.  Memory:
 * at most connect_scratch_bytes() (Tarjan's three arrays and two stacks,
 * reserved up front, and one search scratch); build() frees its own
 * scratch first.  On the test set the pass takes about 2.5 ms; the build
 * takes about 0.3 s.
 */
#include "hnsw.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "../core_only.h"

namespace vecdb::hnsw {

namespace {

using Node = ScoredId<std::uint32_t>;

bool list_contains(const std::uint32_t *l, std::uint32_t x)
{
    for (std::uint32_t i = 0; i < l[0]; i++)
        if (l[1 + i] == x)
            return true;
    return false;
}

/// Marks what start reaches on layer 0 (start included) and is not marked
/// yet; returns how many nodes it marked.
std::uint32_t mark_from(const MemoryGraph &g, std::uint32_t start, std::vector<std::uint8_t> &reached,
                        std::vector<std::uint32_t> &stack)
{
    if (reached[start])
        return 0;
    std::uint32_t marked = 1;
    reached[start] = 1;
    stack.assign(1, start);
    while (!stack.empty()) {
        const std::uint32_t x = stack.back();
        stack.pop_back();
        const std::uint32_t *l = g.links(x, 0);
        for (std::uint32_t i = 0; i < l[0]; i++) {
            const std::uint32_t y = l[1 + i];
            if (!reached[y]) {
                reached[y] = 1;
                marked++;
                stack.push_back(y);
            }
        }
    }
    return marked;
}

}  // namespace

bool link_layer0(MemoryGraph &g, std::uint32_t v, std::uint32_t u, bool u_unreached)
{
    if (u == v)
        return false;
    const std::uint32_t Mmax = g.max_links(0);
    std::uint32_t *lv = g.links(v, 0);
    std::uint32_t *lu = g.links(u, 0);
    if (list_contains(lv, u))
        return true;
    if (lv[0] < Mmax) {
        lv[1 + lv[0]] = u;
        lv[0]++;
        return true;
    }
    // Splice: v -> w becomes v -> u -> w.  First choice: the farthest w that
    // u already links to; then, if u has room for one more link, the
    // farthest w of all.
    const bool room = lu[0] < Mmax;
    for (int pass = 0; pass < 2; pass++) {
        std::uint32_t slot = Mmax;
        float far = 0;
        for (std::uint32_t i = 0; i < lv[0]; i++) {
            const std::uint32_t w = lv[1 + i];
            if (pass == 0 && !list_contains(lu, w))
                continue;
            const float d = g.distance(v, w);
            if (slot == Mmax || d > far) {
                slot = i;
                far = d;
            }
        }
        if (slot == Mmax) {
            if (!room && !u_unreached)
                return false;
            continue;
        }
        if (pass == 1) {
            // w is not u (u is not in v's list) and not in u's list (pass 0
            // found none).  A full u gives up its farthest link: no path
            // from the entry point runs through u yet.
            std::uint32_t at = lu[0];
            if (!room) {
                float far_u = 0;
                for (std::uint32_t i = 0; i < lu[0]; i++) {
                    const float d = g.distance(u, lu[1 + i]);
                    if (i == 0 || d > far_u) {
                        at = i;
                        far_u = d;
                    }
                }
            } else {
                lu[0]++;
            }
            lu[1 + at] = lv[1 + slot];
        }
        lv[1 + slot] = u;
        return true;
    }
    return false;
}

std::size_t connect_scratch_bytes(std::uint32_t capacity, const Params &params)
{
    // index, low, comp; the Tarjan stack and the call stack (reserved); one
    // byte of marks, up to n component flags and n sink members (vectors
    // that grow by doubling: twice that).
    const std::size_t per_node = 3 * 4 + 4 + 8 + 2 * (1 + 4);
    const std::size_t ef = std::max<std::size_t>(params.ef_construction, 2 * params.M);
    return std::size_t(capacity) * per_node + EpochVisitedSet::bytes(capacity) +
           SearchScratch<std::uint32_t>::bytes(ef, 2 * params.M);
}

ConnectStats connect_unreachable(MemoryGraph &g, bool (*cancel)(void *context), void *context)
{
    ConnectStats st;
    // Polled before each search (a graph of duplicates needs one per node,
    // each as long as the graph: quadratic, so it must stop on request).
    auto stop = [&] { return cancel != nullptr && (st.cancelled = st.cancelled || cancel(context)); };
    const std::uint32_t n = g.inserted();
    const std::uint32_t ep = g.entry_point();
    if (ep == MemoryGraph::kNone || n == 0)
        return st;

    const Params &p = g.params();
    const std::size_t ef = std::max<std::size_t>(p.ef_construction, 2 * p.M);
    std::unique_ptr<char[]> memory;
    EpochVisitedSet visited;
    SearchScratch<std::uint32_t> s;
    // The nearest live nodes to x's vector, nearest first, in s.results.
    auto search_near = [&](std::uint32_t x) -> std::uint32_t {
        if (!memory) {
            memory.reset(new char[EpochVisitedSet::bytes(g.capacity()) + SearchScratch<std::uint32_t>::bytes(ef, 2 * p.M)]);
            visited.init(memory.get(), g.capacity());
            s.init(memory.get() + EpochVisitedSet::bytes(g.capacity()), ef, 2 * p.M);
        }
        MemoryReader<false> reader(g, g.vector(x));
        SearchStats stats;
        Node cur{reader.distance(ep), ep};
        for (int lc = g.max_level(); lc > 0; lc--)
            cur = search_layer_greedy(reader, s, cur, lc, stats);
        return search_layer(reader, visited, s, &cur, 1, ef, 0, stats);
    };

    // 1. In-links: every live node reachable from the entry point.
    std::vector<std::uint8_t> reached(n, 0);
    std::vector<std::uint32_t> stack;
    if (mark_from(g, ep, reached, stack) < n) {
        for (std::uint32_t u = 0; u < n; u++)
            st.unreachable += !reached[u] && !g.is_deleted(u);
        for (std::uint32_t u = 0; u < n; u++) {
            if (reached[u] || g.is_deleted(u))
                continue;  // removed nodes are deleted too
            if (stop())
                return st;
            const std::uint32_t found = search_near(u);
            bool linked = false;
            for (std::uint32_t i = 0; i < found && !linked; i++)
                if (reached[s.results[i].id])  // not u itself: u is not reached
                    linked = link_layer0(g, s.results[i].id, u, true);
            if (!linked)
                linked = link_layer0(g, ep, u, true);
            if (linked) {
                st.linked_in++;
                mark_from(g, u, reached, stack);
            } else {
                st.failed++;
            }
        }
    }
    std::vector<std::uint8_t>().swap(reached);

    // 2. Out-links: every node (removed ones aside) reaches the entry point.
    // Tarjan's strongly connected components, iteratively.  A component is
    // complete only after every component it reaches, so whether it reaches
    // the entry point is known when it completes.  Those that do not are
    // "stranded"; each reaches a stranded one with no link out of itself (a
    // sink), and one link out of each sink to a node that reaches the entry
    // point fixes them all.
    constexpr std::uint32_t kNo = 0xFFFFFFFFu;
    std::vector<std::uint32_t> index(n, kNo), low(n), comp(n, kNo);
    std::vector<std::uint8_t> comp_reaches;        // per component
    std::vector<std::uint32_t> sinks, sink_start;  // members of stranded sinks, flat
    std::vector<std::pair<std::uint32_t, std::uint32_t>> call;  // (node, next link)
    stack.clear();
    stack.reserve(n);
    call.reserve(n);
    std::uint32_t next = 0;
    for (std::uint32_t root = 0; root < n; root++) {
        if (g.is_removed(root) || index[root] != kNo)
            continue;
        index[root] = low[root] = next++;
        stack.push_back(root);
        call.emplace_back(root, 0);
        while (!call.empty()) {
            const std::uint32_t v = call.back().first;
            const std::uint32_t *lv = g.links(v, 0);
            if (call.back().second < lv[0]) {
                const std::uint32_t w = lv[1 + call.back().second++];
                if (index[w] == kNo) {
                    index[w] = low[w] = next++;
                    stack.push_back(w);
                    call.emplace_back(w, 0);
                } else if (comp[w] == kNo) {  // on the stack
                    low[v] = std::min(low[v], index[w]);
                }
                continue;
            }
            call.pop_back();
            if (!call.empty())
                low[call.back().first] = std::min(low[call.back().first], low[v]);
            if (low[v] != index[v])
                continue;
            // v roots a component: the stack from v up.
            std::size_t first = stack.size();
            while (stack[--first] != v) {
            }
            const auto c = static_cast<std::uint32_t>(comp_reaches.size());
            for (std::size_t i = first; i < stack.size(); i++)
                comp[stack[i]] = c;
            bool reaches = false, sink = true;
            for (std::size_t i = first; i < stack.size(); i++) {
                const std::uint32_t m = stack[i];
                reaches |= m == ep;
                const std::uint32_t *lm = g.links(m, 0);
                for (std::uint32_t j = 0; j < lm[0]; j++)
                    if (comp[lm[1 + j]] != c) {
                        sink = false;
                        reaches |= comp_reaches[comp[lm[1 + j]]] != 0;
                    }
            }
            comp_reaches.push_back(reaches);
            if (!reaches) {
                st.stranded += static_cast<std::uint32_t>(stack.size() - first);
                if (sink) {
                    sink_start.push_back(static_cast<std::uint32_t>(sinks.size()));
                    sinks.insert(sinks.end(), stack.begin() + first, stack.end());
                }
            }
            stack.resize(first);
        }
    }
    sink_start.push_back(static_cast<std::uint32_t>(sinks.size()));
    std::vector<std::uint32_t>().swap(index);
    std::vector<std::uint32_t>().swap(low);

    // Each sink: its members in id order, the nearest live nodes that reach
    // the entry point (fixes only add paths, so the marks stay true), then
    // the entry point itself.
    for (std::size_t k = 0; k + 1 < sink_start.size(); k++) {
        std::sort(sinks.begin() + sink_start[k], sinks.begin() + sink_start[k + 1]);
        bool linked = false;
        for (std::uint32_t i = sink_start[k]; i < sink_start[k + 1] && !linked; i++) {
            const std::uint32_t c = sinks[i];
            if (stop())
                return st;
            const std::uint32_t found = search_near(c);
            for (std::uint32_t j = 0; j < found && !linked; j++)
                if (comp_reaches[comp[s.results[j].id]])
                    linked = link_layer0(g, c, s.results[j].id);
            if (!linked)
                linked = link_layer0(g, c, ep);
        }
        if (linked)
            st.linked_out++;
        else
            st.failed += sink_start[k + 1] - sink_start[k];
    }
    return st;
}

}  // namespace vecdb::hnsw
