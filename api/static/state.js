// The page's whole state lives in the URL's query string, so a view can be shared
// and the back button works.  These functions convert between the two.

export const PAGE_SIZE = 10;
export const MAX_RESULT_WINDOW = 10000;
export const SORTS = ["relevance", "newest", "oldest"];
export const FILTERS = ["entity", "source", "category"];

/** The state in a query string ("?q=...&entity=..."). */
export function readState(search) {
  const params = new URLSearchParams(search);
  const state = {
    q: params.get("q") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
    sort: SORTS.includes(params.get("sort")) ? params.get("sort") : "",
    page: Math.max(1, Number.parseInt(params.get("page"), 10) || 1),
    event: params.get("event") || "",
  };
  for (const name of FILTERS) state[name] = unique(params.getAll(name).filter((v) => v.trim()));
  return state;
}

/** The query string of ``state``, without defaults, so URLs stay short. */
export function writeState(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  for (const name of FILTERS) for (const value of state[name]) params.append(name, value);
  if (state.from) params.set("from", state.from);
  if (state.to) params.set("to", state.to);
  if (state.sort) params.set("sort", state.sort);
  if (state.page > 1) params.set("page", String(state.page));
  if (state.event) params.set("event", state.event);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** ``state`` with ``changes``: any change but a page goes back to page 1 and closes the event. */
export function changed(state, changes) {
  const next = { ...state, page: 1, event: "", ...changes };
  for (const name of FILTERS) next[name] = unique(next[name]);
  return next;
}

/** The same state with ``value`` added to (or, when there, removed from) filter ``name``. */
export function toggled(state, name, value) {
  const values = state[name].includes(value)
    ? state[name].filter((v) => v !== value)
    : [...state[name], value];
  return changed(state, { [name]: values });
}

/** The parameters of GET /api/search for ``state``. */
export function searchParams(state) {
  const params = new URLSearchParams();
  params.set("q", state.q);
  for (const name of FILTERS) for (const value of state[name]) params.append(name, value);
  if (state.from) params.set("from", state.from);
  if (state.to) params.set("to", state.to);
  if (state.sort) params.set("sort", state.sort);
  params.set("page", String(state.page));
  params.set("size", String(PAGE_SIZE));
  params.set("facets", "date,entity,source,category");
  params.set("facet_size", "10");
  params.set("interval", "auto");
  return params;
}

/** How many pages of results can be shown for ``total`` matches. */
export function pageCount(total) {
  return Math.min(Math.ceil(total / PAGE_SIZE), Math.floor(MAX_RESULT_WINDOW / PAGE_SIZE));
}

function unique(values) {
  return [...new Set(values)];
}
