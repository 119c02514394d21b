// Calls to the JSON API.  Every failure becomes an ApiError with a readable message.

export class ApiError extends Error {
  constructor(status, code, message, parameter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.parameter = parameter;
  }
}

/** GET ``path`` with ``params`` (URLSearchParams or object); the parsed JSON body. */
export async function getJSON(path, params, signal) {
  const query = params ? new URLSearchParams(params).toString() : "";
  let response;
  try {
    response = await fetch(query ? `${path}?${query}` : path, {
      signal,
      headers: { Accept: "application/json" },
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server could not be reached. Check that it is running.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    if (error.name === "AbortError") throw error;
  }
  if (!response.ok) {
    const err = body && body.error;
    throw new ApiError(
      response.status,
      (err && err.code) || "error",
      (err && err.message) || `The server answered ${response.status} ${response.statusText}.`,
      (err && err.parameter) || null,
    );
  }
  if (body === null) throw new ApiError(response.status, "bad_response", "The server's answer was not JSON.");
  return body;
}

/** True for an error that means the route itself does not exist (an older server). */
export function isMissingRoute(error) {
  return error instanceof ApiError && (error.status === 404 || error.status === 405);
}

export const api = {
  search: (params, signal) => getJSON("/api/search", params, signal),
  suggest: (q, signal) => getJSON("/api/suggest", { q, size: "8" }, signal),
  event: (id, signal) => getJSON(`/api/events/${encodeURIComponent(id)}`, null, signal),
  related: (id, signal) =>
    getJSON(`/api/events/${encodeURIComponent(id)}/related`, { size: "5" }, signal),
};
