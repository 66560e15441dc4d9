// Podium's HTTP API as the page calls it. Every URL is relative to the page (…/join/<token>),
// so the page works behind a path prefix or on another host without configuration.

export const base = new URL("../", document.baseURI);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    // Podium's problems name their code in `type`: "/problems/<code>".
    this.code = problem.code || String(problem.type || "").split("/").pop() || null;
    this.problem = problem;
  }
}

export class Api {
  constructor(token = null) {
    this.token = token;
  }

  url(path) {
    return new URL(path.replace(/^\//, ""), base);
  }

  async call(method, path, body = undefined) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.url(path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit",
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, data || {});
    return data;
  }

  get(path) { return this.call("GET", path); }
  post(path, body = {}) { return this.call("POST", path, body); }
  put(path, body) { return this.call("PUT", path, body); }
  patch(path, body) { return this.call("PATCH", path, body); }
  delete(path) { return this.call("DELETE", path); }

  // The live socket's URL: ws(s) on the same origin as the API.
  socketUrl(path, params) {
    const url = this.url(path);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url;
  }
}
