// The credits REST API as the components call it. One instance per request burst; it carries the
// API root (e.g. "/api/v1") and the caller's JWT access token.

export class ApiError extends Error {
  constructor(status, body, headers) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "";
    this.body = body || {};
    this.headers = headers;
  }

  // 402 insufficient_credits: the three numbers, from the headers the guide documents (or the body).
  get credits() {
    const pick = (name, key) => Number(this.headers?.get(name) ?? this.body[key] ?? NaN);
    return {
      required: pick("X-Credits-Required", "required"),
      available: pick("X-Credits-Available", "available"),
      needed: pick("X-Credits-Needed", "needed"),
    };
  }
}

export class CreditsApi {
  constructor(base, token) {
    this.base = (base || "/api/v1").replace(/\/+$/, "");
    this.token = token || "";
  }

  url(path, params) {
    const url = new URL(`${this.base}/${path.replace(/^\/+/, "")}`, window.location.href);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    return url.toString();
  }

  async raw(method, path, { params, body } = {}) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(this.url(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async request(method, path, options) {
    const response = await this.raw(method, path, options);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's or a misconfigured server's HTML page): say what failed, never show the page.
      data = { detail: `The server answered ${response.status} ${response.statusText}`.trim() + "." };
    }
    if (!response.ok) throw new ApiError(response.status, data, response.headers);
    return { data, headers: response.headers, status: response.status };
  }

  async get(path, params) {
    return (await this.request("GET", path, { params })).data;
  }

  async post(path, body) {
    return (await this.request("POST", path, { body: body ?? {} })).data;
  }

  async send(method, path, body) {
    return (await this.request(method, path, { body })).data;
  }

  credits(path, params) {
    return this.get(`api/credits/${path}`, params);
  }
}

// The list endpoints answer {count, next, previous, results}; a few future ones may answer a bare list.
export const rowsOf = (data) => (Array.isArray(data) ? data : data?.results ?? []);
