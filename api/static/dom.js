// Small DOM helpers: build elements without string HTML, and the few safe conversions.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** An HTML element; strings among the children become text, never markup. */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

/** An SVG element. */
export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

/** A fragment of a snippet: the API escapes everything but <mark>, and only <mark> is kept. */
export function snippetFragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const el of [...template.content.querySelectorAll("*")].reverse()) {
    if (el.tagName !== "MARK" || el.attributes.length) el.replaceWith(el.textContent);
  }
  return template.content;
}

/** ``url`` if it is an http(s) URL, else null (no javascript: or data: links). */
export function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The host of a URL without "www.", for showing beside a source. */
export function hostOf(url) {
  try {
    return new URL(url).hostname.replace(/^www\./, "");
  } catch {
    return "";
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2016-06-23" -> "23 Jun 2016"; "2016-06" -> "Jun 2016"; "2016" -> "2016". */
export function formatDate(text) {
  const [year, month, day] = String(text || "").split("-");
  if (!month) return year || "";
  const name = MONTHS[Number(month) - 1] || month;
  return day ? `${Number(day)} ${name} ${year}` : `${name} ${year}`;
}

/** "1 event", "3 events". */
export function plural(count, word) {
  return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
}
