// The search page: reads the state from the URL, asks the API, draws the results,
// facets, histogram and event detail, and turns every action into a new URL.

import { api, isMissingRoute } from "./api.js";
import { renderHistogram } from "./chart.js";
import { formatDate, h, hostOf, plural, safeUrl, snippetFragment } from "./dom.js";
import { changed, FILTERS, pageCount, readState, searchParams, toggled, writeState } from "./state.js";
import { attachSuggest } from "./suggest.js";

const $ = (id) => document.getElementById(id);
const els = {
  main: $("main"),
  form: $("search-form"),
  input: $("q"),
  suggestions: $("suggestions"),
  filters: $("filters"),
  facets: $("facets"),
  error: $("error"),
  searchView: $("search-view"),
  activeFilters: $("active-filters"),
  chips: $("chips"),
  chart: $("chart"),
  heading: $("results-heading"),
  status: $("status"),
  sort: $("sort"),
  didYouMean: $("did-you-mean"),
  dateHint: $("date-hint"),
  expanded: $("expanded"),
  results: $("results"),
  pager: $("pager"),
  detail: $("detail-view"),
};

const FACET_TITLES = { entity: "Entities", source: "Sources", category: "Categories" };
const FILTER_LABELS = { entity: "Entity", source: "Source", category: "Category" };

let state = readState(location.search);
let generation = 0; // which render is current; older answers are dropped
let controller = null;
let lastOpened = ""; // the event whose link gets the focus back after "back"
let focusAfterRender = null;

// Navigation

function urlOf(next) {
  return `${location.pathname}${writeState(next)}`;
}

/** Show ``next`` and record it in the history (a new entry unless ``replace``). */
function go(next, { replace = false, focus = null } = {}) {
  state = next;
  focusAfterRender = focus;
  history[replace ? "replaceState" : "pushState"](null, "", urlOf(state));
  render();
}

/** A link to ``next`` that the page follows itself (it still opens in a new tab). */
function navLink(next, props, ...children) {
  const dataset = { ...(props && props.dataset), nav: "1" };
  return h("a", { ...props, href: urlOf(next), dataset }, ...children);
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const next = readState(new URL(link.href).search);
  go(next, { focus: next.event ? "detail" : "results" });
});

window.addEventListener("popstate", () => {
  const next = readState(location.search);
  if (writeState(next) === writeState(state)) return; // only the #fragment moved (skip link)
  state = next;
  focusAfterRender = state.event ? "detail" : "back";
  render();
});

// Rendering

async function render() {
  generation += 1;
  const mine = generation;
  if (controller) controller.abort();
  controller = new AbortController();
  const { signal } = controller;

  if (document.activeElement !== els.input || els.input.value !== state.q) els.input.value = state.q;
  els.sort.value = state.sort || (state.q.trim() ? "relevance" : "newest");
  document.title = titleOf(state);
  hideError();
  renderChips();

  const detailOpen = Boolean(state.event);
  els.searchView.hidden = detailOpen;
  els.detail.hidden = !detailOpen;
  document.body.classList.toggle("detail-open", detailOpen);
  els.main.setAttribute("aria-busy", "true");
  try {
    if (detailOpen) await renderDetail(state.event, signal, () => mine === generation);
    else await renderSearch(signal, () => mine === generation);
  } catch (error) {
    if (error.name === "AbortError" || mine !== generation) return;
    showError(error);
  } finally {
    if (mine === generation) els.main.removeAttribute("aria-busy");
  }
}

function titleOf(s) {
  const parts = [s.q, ...s.entity, ...s.source, ...s.category].filter(Boolean);
  return parts.length ? `${parts.join(", ")} – Event search` : "Event search";
}

async function renderSearch(signal, current) {
  els.status.textContent = "Searching…";
  const data = await api.search(searchParams(state), signal);
  if (!current()) return;
  renderResults(data);
  renderFacets(data.facets || {});
  renderHistogram(els.chart, data.facets && data.facets.date, (from, to) =>
    go(changed(state, { from, to }), { focus: "results" }),
  );
  renderPager(data.total);
  restoreFocus();
}

function restoreFocus() {
  const focus = focusAfterRender;
  focusAfterRender = null;
  if (focus === "results") {
    els.heading.focus({ preventScroll: true });
    els.heading.scrollIntoView({ block: "nearest" });
  } else if (focus === "back" && lastOpened) {
    const link = els.results.querySelector(`a[data-event="${CSS.escape(lastOpened)}"]`);
    if (link) link.focus();
  }
}

function renderResults(data) {
  const { total, results } = data;
  const first = (state.page - 1) * data.size + 1;
  els.status.textContent = total
    ? results.length
      ? `${plural(total, "event")}; showing ${first}–${first + results.length - 1}`
      : `${plural(total, "event")}; no results on page ${state.page}`
    : "No events match";
  els.results.setAttribute("start", String(first));
  els.results.replaceChildren(...results.map(resultItem));
  renderDateHint(data.date_hint);
  renderDidYouMean(total, data.did_you_mean);
  renderExpanded(data.expanded);
}

/** A date the query holds ("Sept. 2015"), offered as a chip that sets the date filter. */
function renderDateHint(hint) {
  const applied = hint && state.from === hint.from && state.to === hint.to;
  els.dateHint.hidden = !hint || applied;
  if (!hint || applied) {
    els.dateHint.replaceChildren();
    return;
  }
  const days = hint.from === hint.to ? formatDate(hint.from) : `${formatDate(hint.from)} – ${formatDate(hint.to)}`;
  els.dateHint.replaceChildren(
    `“${hint.text}” looks like a date: `,
    navLink(
      changed(state, { from: hint.from, to: hint.to }),
      { class: "chip date-hint-chip", title: "Show only the events of these days" },
      `Only ${days}`,
    ),
  );
}

/** What the API added to the query (query expansion), so results without the words make sense. */
function renderExpanded(expanded) {
  const added = expanded ? [...(expanded.entities || []), ...(expanded.terms || [])] : [];
  els.expanded.hidden = added.length === 0;
  els.expanded.textContent = added.length ? `Also searched for related words: ${added.join(", ")}` : "";
}

function renderDidYouMean(total, suggestion) {
  els.didYouMean.replaceChildren();
  els.didYouMean.hidden = total > 0;
  if (total > 0) return;
  if (suggestion) {
    els.didYouMean.append(
      h(
        "p",
        {},
        "Did you mean ",
        navLink(changed(state, { q: suggestion }), { class: "suggested-query" }, h("strong", {}, suggestion)),
        "?",
      ),
    );
  }
  const hasFilters = FILTERS.some((name) => state[name].length) || state.from || state.to;
  els.didYouMean.append(
    h(
      "p",
      { class: "hint" },
      hasFilters
        ? "No event matches the words and all the filters. Remove a filter above, or use fewer words."
        : "No event matches these words. Try fewer or other words, or a prefix such as elect*.",
    ),
  );
}

function resultItem(result) {
  const titleId = `result-${result.id}`;
  return h(
    "li",
    { class: "result" },
    h(
      "article",
      { "aria-labelledby": titleId },
      h(
        "p",
        { class: "meta" },
        h("time", { datetime: result.date }, formatDate(result.date)),
        result.category ? h("span", { class: "category" }, result.category) : null,
        result.story ? h("span", { class: "story" }, result.story) : null,
      ),
      h(
        "h3",
        { id: titleId, class: "result-title" },
        navLink(changed(state, { event: result.id, page: state.page }), { dataset: { event: result.id } }, result.title),
      ),
      result.snippet ? h("p", { class: "snippet" }, snippetFragment(result.snippet)) : null,
      entityChips(result.entities, (name) => toggled(state, "entity", name)),
      sourceLinks(result.sources),
    ),
  );
}

function entityChips(entities, nextFor) {
  if (!entities || !entities.length) return null;
  return h(
    "ul",
    { class: "entity-chips", "aria-label": "Entities" },
    entities.map((name) =>
      h(
        "li",
        {},
        navLink(
          nextFor(name),
          {
            class: state.entity.includes(name) ? "chip entity-chip active" : "chip entity-chip",
            title: `Filter by ${name}`,
          },
          name,
        ),
      ),
    ),
  );
}

function sourceLinks(sources) {
  const links = (sources || [])
    .map((source) => ({ ...source, url: safeUrl(source.url) }))
    .filter((source) => source.url);
  if (!links.length) return null;
  return h(
    "p",
    { class: "sources" },
    h("span", { class: "sources-label" }, "Sources: "),
    links.map((source, i) => [
      i ? ", " : "",
      h(
        "a",
        { href: source.url, rel: "noopener noreferrer external", target: "_blank" },
        source.name || hostOf(source.url),
        h("span", { class: "visually-hidden" }, ` (${hostOf(source.url)}, opens in a new tab)`),
      ),
    ]),
  );
}

function renderFacets(facets) {
  const groups = FILTERS.map((name) => {
    const values = facets[name] || [];
    const selected = state[name].filter((v) => !values.some((f) => f.value === v));
    const all = [...values, ...selected.map((value) => ({ value, count: null }))];
    if (!all.length) return null;
    const headingId = `facet-${name}-heading`;
    return h(
      "section",
      { class: "facet", dataset: { facet: name }, "aria-labelledby": headingId },
      h("h3", { id: headingId }, FACET_TITLES[name]),
      h(
        "ul",
        {},
        all.map(({ value, count }) => {
          const pressed = state[name].includes(value);
          return h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "facet-value",
                "aria-pressed": pressed ? "true" : "false",
                dataset: { facet: name, value },
                onclick: () => go(toggled(state, name, value), { focus: "results" }),
              },
              h("span", { class: "facet-name" }, value),
              count === null
                ? null
                : h("span", { class: "facet-count" }, count.toLocaleString("en"),
                    h("span", { class: "visually-hidden" }, count === 1 ? " event" : " events")),
            ),
          );
        }),
      ),
    );
  }).filter(Boolean);
  els.facets.replaceChildren(
    ...(groups.length ? groups : [h("p", { class: "hint" }, "No filters for these results.")]),
  );
}

function renderChips() {
  const chips = [];
  for (const name of FILTERS) {
    for (const value of state[name]) {
      chips.push(chip(`${FILTER_LABELS[name]}: ${value}`, toggled(state, name, value), name, value));
    }
  }
  if (state.from || state.to) {
    const label =
      state.from && state.to
        ? state.from === state.to
          ? formatDate(state.from)
          : `${formatDate(state.from)} – ${formatDate(state.to)}`
        : state.from
          ? `from ${formatDate(state.from)}`
          : `until ${formatDate(state.to)}`;
    chips.push(chip(`Dates: ${label}`, changed(state, { from: "", to: "" }), "date", ""));
  }
  if (chips.length > 1) {
    const cleared = changed(state, { entity: [], source: [], category: [], from: "", to: "" });
    chips.push(h("li", {}, navLink(cleared, { class: "clear-filters" }, "Clear all filters")));
  }
  els.chips.replaceChildren(...chips);
  els.activeFilters.hidden = chips.length === 0;
}

function chip(label, next, kind, value) {
  return h(
    "li",
    { class: "chip filter-chip", dataset: { kind, value } },
    h("span", {}, label),
    navLink(
      next,
      { class: "chip-remove", "aria-label": `Remove filter ${label}`, title: "Remove this filter" },
      "×",
    ),
  );
}

function renderPager(total) {
  const pages = pageCount(total);
  els.pager.replaceChildren();
  els.pager.hidden = pages <= 1;
  if (pages <= 1) return;
  const current = Math.min(state.page, pages);
  const at = (page) => changed(state, { page });
  const numbers = new Set([1, pages]);
  for (let p = current - 2; p <= current + 2; p += 1) if (p >= 1 && p <= pages) numbers.add(p);
  const items = [];
  items.push(
    current > 1
      ? navLink(at(current - 1), { rel: "prev", class: "pager-step" }, "← Previous")
      : h("span", { class: "pager-step disabled", "aria-hidden": "true" }, "← Previous"),
  );
  let previous = 0;
  for (const p of [...numbers].sort((a, b) => a - b)) {
    if (p - previous > 1) items.push(h("span", { class: "pager-gap", "aria-hidden": "true" }, "…"));
    items.push(
      p === current
        ? h("a", { "aria-current": "page", class: "pager-page current", href: urlOf(at(p)) }, String(p))
        : navLink(at(p), { class: "pager-page", "aria-label": `Page ${p}` }, String(p)),
    );
    previous = p;
  }
  items.push(
    current < pages
      ? navLink(at(current + 1), { rel: "next", class: "pager-step" }, "Next →")
      : h("span", { class: "pager-step disabled", "aria-hidden": "true" }, "Next →"),
  );
  els.pager.append(...items);
}

// The event detail view

async function renderDetail(id, signal, current) {
  lastOpened = id;
  const back = changed(state, { event: "", page: state.page });
  els.detail.replaceChildren(
    h("p", { class: "back" }, navLink(back, { class: "back-link" }, "← Back to results")),
    h("p", { class: "status" }, "Loading the event…"),
  );
  const relatedPromise = api.related(id, signal).catch((error) => error);
  const event = await api.event(id, signal);
  if (!current()) return;
  document.title = `${event.title} – Event search`;
  const relatedSection = h(
    "section",
    { class: "related", "aria-labelledby": "related-heading", "aria-busy": "true" },
    h("h3", { id: "related-heading" }, "Related events"),
    h("p", { class: "status" }, "Finding related events…"),
  );
  const image = safeUrl(event.image);
  els.detail.replaceChildren(
    h("p", { class: "back" }, navLink(back, { class: "back-link" }, "← Back to results")),
    h(
      "article",
      { class: "event" },
      h(
        "p",
        { class: "meta" },
        h("time", { datetime: event.date }, formatDate(event.date)),
        event.category ? h("span", { class: "category" }, event.category) : null,
        event.story ? h("span", { class: "story" }, event.story) : null,
      ),
      h("h2", { id: "detail-title", tabindex: "-1" }, event.title),
      h(
        "div",
        { class: "event-body" },
        String(event.body || "")
          .split(/\n\s*\n/)
          .filter((p) => p.trim())
          .map((p) => h("p", {}, p.trim())),
      ),
      event.entities && event.entities.length
        ? h(
            "section",
            { "aria-labelledby": "entities-heading" },
            h("h3", { id: "entities-heading" }, "Entities"),
            entityChips(event.entities, (name) =>
              changed(readState(""), { entity: [name] }),
            ),
          )
        : null,
      h(
        "section",
        { "aria-labelledby": "sources-heading" },
        h("h3", { id: "sources-heading" }, "Sources"),
        sourceList(event.sources, image),
      ),
      linkedEvents(event.related),
      relatedSection,
    ),
  );
  if (focusAfterRender === "detail") {
    focusAfterRender = null;
    $("detail-title").focus();
    window.scrollTo(0, 0);
  }
  const related = await relatedPromise;
  if (!current()) return;
  relatedSection.removeAttribute("aria-busy");
  relatedSection.replaceChildren(relatedSection.firstChild, ...relatedEvents(related));
}

function sourceList(sources, image) {
  const items = (sources || [])
    .map((source) => ({ ...source, url: safeUrl(source.url) }))
    .map((source) =>
      h(
        "li",
        {},
        source.url
          ? h("a", { href: source.url, rel: "noopener noreferrer external", target: "_blank" }, source.name)
          : source.name,
        source.url ? h("span", { class: "domain" }, ` ${hostOf(source.url)}`) : null,
      ),
    );
  if (image) {
    items.push(
      h(
        "li",
        {},
        h("a", { href: image, rel: "noopener noreferrer external", target: "_blank" }, "Cover image"),
        h("span", { class: "domain" }, ` ${hostOf(image)}`),
      ),
    );
  }
  return items.length ? h("ul", { class: "source-list" }, items) : h("p", { class: "hint" }, "No sources cited.");
}

function linkedEvents(links) {
  if (!links || !links.length) return null;
  return h(
    "section",
    { class: "linked", "aria-labelledby": "linked-heading" },
    h("h3", { id: "linked-heading" }, "Linked events"),
    h(
      "ul",
      { class: "event-links" },
      links.map((link) =>
        h(
          "li",
          {},
          link.date ? h("time", { datetime: link.date }, formatDate(link.date)) : null,
          " ",
          navLink(changed(state, { event: link.id, page: state.page }), { dataset: { event: link.id } }, link.title || link.id),
          link.context ? h("span", { class: "context" }, ` — about ${link.context}`) : null,
        ),
      ),
    ),
  );
}

function relatedEvents(answer) {
  if (answer instanceof Error) {
    const text = isMissingRoute(answer)
      ? "Related events are not available on this server."
      : `Related events could not be loaded: ${answer.message}`;
    return [h("p", { class: "hint" }, text)];
  }
  const results = (answer && answer.results) || [];
  if (!results.length) return [h("p", { class: "hint" }, "No related events found.")];
  return [
    h(
      "ol",
      { class: "related-list" },
      results.map((result) =>
        h(
          "li",
          { class: "related-item" },
          h("p", { class: "meta" }, h("time", { datetime: result.date }, formatDate(result.date))),
          h(
            "h4",
            {},
            navLink(changed(state, { event: result.id, page: state.page }), { dataset: { event: result.id } }, result.title),
          ),
          result.snippet ? h("p", { class: "snippet" }, snippetFragment(result.snippet)) : null,
          reasons(result.reasons),
        ),
      ),
    ),
  ];
}

function reasons(why) {
  if (!why) return null;
  const parts = [];
  if (why.linked) parts.push(h("li", { class: "reason linked" }, "Linked from this event"));
  if (why.entities && why.entities.length) {
    parts.push(h("li", { class: "reason" }, `Shares ${why.entities.join(", ")}`));
  }
  if (why.terms && why.terms.length) {
    parts.push(h("li", { class: "reason" }, `Common words: ${why.terms.join(", ")}`));
  }
  return parts.length ? h("ul", { class: "reasons", "aria-label": "Why it is related" }, parts) : null;
}

// Errors

function showError(error) {
  const where = error.parameter ? ` (parameter “${error.parameter}”)` : "";
  const text =
    error.status === 404 && state.event
      ? `This event was not found. It may have been removed from the index.`
      : `${error.message}${where}`;
  els.error.replaceChildren(
    h("p", {}, h("strong", {}, error.status >= 500 || !error.status ? "The search failed. " : "That did not work. "), text),
  );
  els.error.hidden = false;
  els.status.textContent = "";
  if (state.event) {
    els.detail.replaceChildren(
      h("p", { class: "back" }, navLink(changed(state, { event: "" }), { class: "back-link" }, "← Back to results")),
    );
  } else {
    els.results.replaceChildren();
    els.pager.hidden = true;
    els.didYouMean.hidden = true;
    els.dateHint.hidden = true;
    els.expanded.hidden = true;
    els.chart.hidden = true;
    els.facets.replaceChildren();
  }
}

function hideError() {
  els.error.hidden = true;
  els.error.replaceChildren();
}

// Wiring

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  suggest.close();
  go(changed(state, { q: els.input.value.trim() }), { focus: null });
});

els.sort.addEventListener("change", () => {
  go(changed(state, { sort: els.sort.value }));
});

const suggest = attachSuggest(els.input, els.suggestions, api.suggest, (chosen) => {
  if (chosen.kind === "entity") {
    els.input.value = "";
    go(changed(state, { q: "", entity: [...state.entity, chosen.text] }), { focus: "results" });
  } else {
    // A phrase of several words is searched as that phrase, not as any of its words.
    const q = /\s/.test(chosen.text.trim()) ? `"${chosen.text.trim()}"` : chosen.text.trim();
    els.input.value = q;
    go(changed(state, { q }), { focus: "results" });
  }
});

const narrow = window.matchMedia("(max-width: 47.99rem)");
els.filters.open = !narrow.matches;
narrow.addEventListener("change", () => {
  els.filters.open = !narrow.matches;
});

render();
