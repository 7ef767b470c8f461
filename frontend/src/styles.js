import { css } from "lit";

// Shared look. Every colour and radius is a custom property so a host page can theme the
// components from outside the shadow DOM (e.g. `credits-balance { --credits-accent: #6d28d9 }`).
export const shared = css`
  :host {
    display: block;
    font-family: var(--credits-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
    color: var(--credits-text, #1f2933);
    --accent: var(--credits-accent, #2563eb);
    --muted: var(--credits-muted, #52606d);
    --line: var(--credits-line, #d9e2ec);
    --bg: var(--credits-surface, #ffffff);
    --warn: var(--credits-warn, #b45309);
    --bad: var(--credits-bad, #b91c1c);
    --good: var(--credits-good, #047857);
  }
  .card {
    background: var(--bg);
    border: 1px solid var(--line);
    border-radius: var(--credits-radius, 12px);
    padding: 1rem 1.25rem;
    box-sizing: border-box;
    min-width: 0;
  }
  h2 { font-size: 1.1rem; margin: 0 0 0.75rem; }
  h3 { font-size: 0.95rem; margin: 1rem 0 0.5rem; }
  p { margin: 0.25rem 0; }
  .muted { color: var(--muted); font-size: 0.9rem; }
  .big { font-size: 2.25rem; font-weight: 700; line-height: 1.1; }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; }
  .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.75rem; margin: 0.75rem 0; }
  .stat { border-left: 3px solid var(--accent); padding-left: 0.5rem; }
  .stat b { display: block; font-size: 1.2rem; }
  label { display: flex; flex-direction: column; gap: 0.2rem; font-size: 0.85rem; color: var(--muted); }
  input, select, button {
    font: inherit; font-size: 0.95rem; padding: 0.45rem 0.6rem; border-radius: 8px;
    border: 1px solid var(--line); background: #fff; color: inherit; min-height: 2.4rem;
  }
  input, select { min-width: 0; max-width: 100%; }
  /* Filter forms: fields on a grid, every control the same height (date inputs and selects differ
     by default), the buttons on a row of their own under them. */
  .filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0.5rem 1rem; align-items: end; }
  .filters :is(input, select) { height: 2.4rem; box-sizing: border-box; width: 100%; }
  .filter-buttons { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: 0.5rem; }
  button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); font-weight: 600; }
  button.secondary { background: #fff; color: var(--accent); }
  button:disabled { opacity: 0.55; cursor: not-allowed; }
  :is(input, select, button, a, summary):focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .notice { border-radius: 8px; padding: 0.6rem 0.8rem; margin: 0.5rem 0; background: #eff6ff; }
  .notice.warn { background: #fffbeb; color: var(--warn); }
  .notice.bad { background: #fef2f2; color: var(--bad); }
  .notice.good { background: #ecfdf5; color: var(--good); }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .chart { position: relative; height: 220px; }
  /* What an action bought: label / value pairs. */
  .purchase { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem; margin: 0.5rem 0; }
  .purchase ul { padding-left: 1.1rem; margin: 0.25rem 0; }
  .purchase h4 { font-size: 0.9rem; margin: 0.6rem 0 0.2rem; }
  .facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.25rem 1rem; margin: 0; }
  .facts dt { color: var(--muted); font-size: 0.85rem; }
  .facts dd { margin: 0; overflow-wrap: anywhere; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  @media (max-width: 540px) {
    .card { padding: 0.85rem; }
    .big { font-size: 1.9rem; }
    /* Tables become stacked cards: each cell shows its column name. */
    table.stack thead { display: none; }
    table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: 0.4rem 0; }
    table.stack td { display: flex; justify-content: space-between; gap: 1rem; border: 0; padding: 0.15rem 0; text-align: right; }
    table.stack td::before { content: attr(data-label); color: var(--muted); text-align: left; }
  }
`;
