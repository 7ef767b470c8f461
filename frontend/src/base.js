import { LitElement, html } from "lit";
import { CreditsApi } from "./api.js";
import { shared } from "./styles.js";

export const CHANGED = "credits-changed"; // something spent or bought credits: every component reloads
export const UNAUTHORIZED = "credits-unauthorized"; // a 401: the host refreshes the token or signs in again
export const PAYMENT_REQUIRED = "credits-payment-required"; // a 402, with {required, available, needed, detail}

// Base of every component: `api-base` and `token` attributes, a load() run whenever either changes
// or a `credits-changed` event reaches the document, and one way to show a failed load.
export class CreditsElement extends LitElement {
  static styles = shared;
  static properties = {
    apiBase: { attribute: "api-base" },
    token: {},
    loading: { state: true },
    failure: { state: true },
  };

  constructor() {
    super();
    this.apiBase = "/api/v1";
    this.token = "";
    this.loading = false;
    this.failure = null;
    this._reload = () => this.reload();
  }

  get api() {
    return new CreditsApi(this.apiBase, this.token);
  }

  connectedCallback() {
    super.connectedCallback();
    document.addEventListener(CHANGED, this._reload);
  }

  disconnectedCallback() {
    document.removeEventListener(CHANGED, this._reload);
    super.disconnectedCallback();
  }

  updated(changed) {
    if ((changed.has("token") || changed.has("apiBase")) && this.token) this.reload();
  }

  async reload() {
    if (!this.token) return;
    this.loading = true;
    try {
      await this.load();
      this.failure = null;
    } catch (error) {
      this.handle(error);
    } finally {
      this.loading = false;
    }
  }

  async load() {}

  // 401 goes to the host (which refreshes the token); anything else is shown in place.
  handle(error) {
    if (error.status === 401) this.emit(UNAUTHORIZED, { code: error.code });
    this.failure = error;
  }

  emit(name, detail = {}) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  changed() {
    document.dispatchEvent(new CustomEvent(CHANGED, { detail: { source: this.localName } }));
  }

  failureNotice() {
    if (!this.failure) return "";
    if (this.failure.status === 401) return html`<p class="notice warn" role="alert">Your session has expired. Please sign in again.</p>`;
    if (this.failure.status === 402) return html`<p class="notice bad" role="alert">${this.failure.message}</p>`;
    return html`<p class="notice bad" role="alert">Could not load this: ${this.failure.message}</p>`;
  }
}

export const number = (value) => (value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"));
// "1 transaction", "3 transactions", "1,250 credits".
export const count = (value, one, many = `${one}s`) => `${number(value)} ${Number(value) === 1 ? one : many}`;
export const day = (iso) => (iso ? new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }) : "–");
export const when = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC" : "–");
export const label = (slug) =>
  (slug || "").replace(/_/g, " ").replace(/^ai\b/, "AI").replace(/^./, (c) => c.toUpperCase());
export const money = (cents, currency = "usd") =>
  (cents / 100).toLocaleString("en-US", { style: "currency", currency: currency.toUpperCase() });
