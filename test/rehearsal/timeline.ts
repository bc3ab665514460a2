/**
 * An execution's modelled timeline: one row per step (a Task state with its poll loop's waits and
 * retries), printed as text or drawn as an SVG Gantt chart.
 */
import type { ExecutionRecord } from './runner';
import { statesOf } from './sample';

export interface TimelineRow {
  readonly step: string;
  /** `main`, or `<Parallel>.<branch>` */
  readonly branch: string;
  /** Seconds from the execution's start. */
  readonly start: number;
  readonly end: number;
  readonly invocations: number;
}

export interface Marker {
  readonly label: string;
  /** Seconds from the execution's start. */
  readonly at: number;
}

/** The Task a Wait state leads back to (Wait → Count → Task in the poll loops). */
function taskAfter(definition: any, wait: string): string {
  const states = new Map(statesOf(definition).map(s => [s.name, s.state]));
  let name = wait;
  for (let hops = 0; hops < 5; hops++) {
    const state = states.get(name);
    if (!state) break;
    if (state.Type === 'Task') return name;
    if (!state.Next) break;
    name = state.Next;
  }
  return wait;
}

export function timelineRows(record: ExecutionRecord, definition: any): TimelineRow[] {
  const rows = new Map<string, { branch: string; start: number; end: number; invocations: number }>();
  for (const span of record.spans) {
    const step = span.kind === 'wait' ? taskAfter(definition, span.state) : span.state;
    const row = rows.get(step) ?? { branch: span.thread.split('#')[1], start: Infinity, end: -Infinity, invocations: 0 };
    row.start = Math.min(row.start, (span.start - record.start) / 1000);
    row.end = Math.max(row.end, (span.end - record.start) / 1000);
    if (span.kind === 'task') row.invocations++;
    rows.set(step, row);
  }
  return [...rows.entries()].map(([step, row]) => ({ step, ...row })).sort((a, b) => a.start - b.start || a.end - b.end);
}

export function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function timelineText(rows: TimelineRow[], markers: Marker[] = []): string {
  const width = Math.max(...rows.map(r => r.step.length), 12);
  const lines = [`${'state'.padEnd(width)}  ${'start'.padStart(6)}  ${'duration'.padStart(8)}  calls  branch`];
  for (const row of rows) {
    lines.push(`${row.step.padEnd(width)}  ${clock(row.start).padStart(6)}  ${clock(row.end - row.start).padStart(8)}  ${String(row.invocations).padStart(5)}  ${row.branch}`);
  }
  for (const marker of markers) lines.push(`${('* ' + marker.label).padEnd(width)}  ${clock(marker.at).padStart(6)}`);
  return lines.join('\n');
}

const COLORS: Record<string, string> = { 'main': '#2f6fb3', 'Prepare.0': '#c2622d', 'Prepare.1': '#3c8c5a' };
const LEGEND: Record<string, string> = { 'main': 'reset (main path)', 'Prepare.0': 'target branch', 'Prepare.1': 'helper branch' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Gantt chart of the rows, in modelled minutes, as SVG text. */
export function timelineSvg(title: string, rows: TimelineRow[], markers: Marker[] = [], note = ''): string {
  const label = 210;
  const chart = 700;
  const rowHeight = 22;
  const top = 72;
  const total = Math.max(...rows.map(r => r.end), ...markers.map(m => m.at)) * 1.02;
  const minuteStep = total > 1800 ? 5 : total > 600 ? 2 : 1;
  const x = (seconds: number) => label + (seconds / total) * chart;
  const height = top + rows.length * rowHeight + 64;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${label + chart + 30}" height="${height}" viewBox="0 0 ${label + chart + 30} ${height}" ` +
    'font-family="Helvetica, Arial, sans-serif" font-size="12">');
  out.push('<rect width="100%" height="100%" fill="#ffffff"/>');
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`);
  if (note) out.push(`<text x="10" y="40" fill="#555">${escape(note)}</text>`);
  for (let m = 0; m * 60 <= total; m += minuteStep) {
    const gx = x(m * 60).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + rows.length * rowHeight}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${gx}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#555">${m} min</text>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const w = Math.max(x(row.end) - x(row.start), 2);
    out.push(`<text x="${label - 8}" y="${y + 15}" text-anchor="end">${escape(row.step)}</text>`);
    out.push(`<rect x="${x(row.start).toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" rx="3" fill="${COLORS[row.branch] ?? '#777'}">` +
      `<title>${escape(row.step)}: ${clock(row.start)} + ${clock(row.end - row.start)} (${row.invocations} invocations)</title></rect>`);
  });
  for (const marker of markers) {
    const mx = x(marker.at).toFixed(1);
    out.push(`<line x1="${mx}" y1="${top - 8}" x2="${mx}" y2="${top + rows.length * rowHeight}" stroke="#b00020" stroke-dasharray="4 3"/>`);
    const anchor = x(marker.at) > label + chart * 0.8 ? 'end' : 'middle';
    out.push(`<text x="${mx}" y="${top - 12}" text-anchor="${anchor}" fill="#b00020">${escape(marker.label)} ${clock(marker.at)}</text>`);
  }
  let lx = label;
  const ly = top + rows.length * rowHeight + 38;
  for (const [branch, text] of Object.entries(LEGEND)) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" rx="2" fill="${COLORS[branch]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">${escape(text)}</text>`);
    lx += 30 + text.length * 6.5;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
