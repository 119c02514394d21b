// Autocomplete for the search box: an ARIA combobox over GET /api/suggest, debounced,
// driven by the keyboard (ArrowDown/ArrowUp to move, Enter to pick, Escape to close).

import { isMissingRoute } from "./api.js";
import { h, plural } from "./dom.js";

const DELAY_MS = 150;
const KINDS = { entity: "Entity", phrase: "Phrase" };

/**
 * Attach suggestions to ``input`` shown in ``list`` (a role=listbox element).
 * ``fetchSuggestions(text, signal)`` answers {suggestions: [{text, kind, count}]};
 * ``onPick(suggestion)`` is called with the chosen one.
 */
export function attachSuggest(input, list, fetchSuggestions, onPick) {
  let items = [];
  let active = -1;
  let timer = null;
  let controller = null;
  let available = true;

  const close = () => {
    clearTimeout(timer);
    if (controller) controller.abort();
    items = [];
    active = -1;
    list.replaceChildren();
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };

  const highlight = (index) => {
    active = index;
    [...list.children].forEach((option, i) => {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      const option = list.children[index];
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };

  const pick = (index) => {
    const chosen = items[index];
    close();
    if (chosen) onPick(chosen);
  };

  const show = (suggestions) => {
    items = suggestions;
    active = -1;
    list.replaceChildren(
      ...items.map((item, i) =>
        h(
          "li",
          {
            id: `suggestion-${i}`,
            role: "option",
            "aria-selected": "false",
            class: "suggestion",
            dataset: { kind: item.kind },
            onmousedown: (event) => event.preventDefault(), // keep focus in the box
            onclick: () => pick(i),
          },
          h("span", { class: "suggestion-text" }, item.text),
          h(
            "span",
            { class: "suggestion-meta" },
            `${KINDS[item.kind] || item.kind}`,
            typeof item.count === "number" ? ` · ${plural(item.count, "event")}` : "",
          ),
        ),
      ),
    );
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
  };

  const load = async () => {
    const text = input.value;
    if (!text.trim() || !available) return close();
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const body = await fetchSuggestions(text, controller.signal);
      if (input.value !== text || document.activeElement !== input) return;
      show(Array.isArray(body.suggestions) ? body.suggestions : []);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (isMissingRoute(error)) available = false; // a server without suggestions
      close();
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    if (!input.value.trim()) return close();
    timer = setTimeout(load, DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && items.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) {
        if (event.key === "ArrowDown" && input.value.trim()) load();
        return;
      }
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = active + step;
      highlight(next < -1 ? items.length - 1 : next >= items.length ? -1 : next);
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault();
        pick(active);
      } else {
        close();
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        close();
      }
    }
  });

  input.addEventListener("blur", close);
  return { close };
}
