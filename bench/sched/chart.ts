/**
 * docs/sched-goodput.png: goodput against offered load, one line per policy, one panel per
 * workload. The chart is an SVG written here and photographed by Debian's Chromium through
 * playwright-core (no browser download).
 */
import { existsSync } from 'node:fs';
import type { PolicyName } from './simulation.js';
import type { Row } from './report.js';
import type { WorkloadName } from './workload.js';

const colors: Record<PolicyName, string> = {
  naive: '#7f7f7f',
  random: '#bcbd22',
  'least-request': '#1f77b4',
  'cache-aware': '#ff7f0e',
  skylark: '#d62728',
  'skylark-slo': '#8b0000',
};

const panel = { width: 560, height: 400, left: 64, right: 16, top: 48, bottom: 56 };

function niceMax(value: number): number {
  const magnitude = Math.pow(10, Math.floor(Math.log10(Math.max(value, 1e-9))));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function panelSvg(rows: readonly Row[], workload: WorkloadName, policies: readonly PolicyName[], x0: number, subtitle: string): string {
  const mine = rows.filter((row) => row.workload === workload);
  const loads = [...new Set(mine.map((row) => row.load))].sort((a, b) => a - b);
  const yMax = niceMax(Math.max(...mine.map((row) => row.m.goodputRps)) * 1.05);
  const xMin = loads[0] ?? 0;
  const xMax = loads.at(-1) ?? 1;
  const plotW = panel.width - panel.left - panel.right;
  const plotH = panel.height - panel.top - panel.bottom;
  const x = (load: number): number => x0 + panel.left + ((load - xMin) / Math.max(1e-9, xMax - xMin)) * plotW;
  const y = (value: number): number => panel.top + plotH - (value / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + panel.width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${workload}</text>`);
  parts.push(`<text x="${x0 + panel.width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">${subtitle}</text>`);
  for (let i = 0; i <= 5; i++) {
    const value = (yMax * i) / 5;
    parts.push(`<line x1="${x0 + panel.left}" x2="${x0 + panel.left + plotW}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x0 + panel.left - 6}" y="${y(value) + 4}" text-anchor="end" font-size="11">${value.toFixed(value < 10 ? 1 : 0)}</text>`);
  }
  for (const load of loads) {
    parts.push(`<line x1="${x(load)}" x2="${x(load)}" y1="${panel.top}" y2="${panel.top + plotH}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x(load)}" y="${panel.top + plotH + 16}" text-anchor="middle" font-size="11">${load}×</text>`);
  }
  parts.push(`<rect x="${x0 + panel.left}" y="${panel.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${x0 + panel.left + plotW / 2}" y="${panel.height - 14}" text-anchor="middle" font-size="12">offered load (× measured capacity)</text>`);
  parts.push(`<text transform="translate(${x0 + 16},${panel.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">goodput (req/s within SLO)</text>`);
  for (const policy of policies) {
    const points = loads.flatMap((load) => {
      const row = mine.find((r) => r.policy === policy && r.load === load);
      return row ? [[x(load), y(row.m.goodputRps)] as const] : [];
    });
    const width = policy.startsWith('skylark') ? 3 : 2;
    const dash = policy === 'skylark-slo' ? ' stroke-dasharray="7 4"' : '';
    parts.push(`<polyline fill="none" stroke="${colors[policy]}" stroke-width="${width}"${dash} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of points) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${colors[policy]}"/>`);
  }
  return parts.join('\n');
}

export function goodputSvg(rows: readonly Row[], workloads: readonly WorkloadName[], policies: readonly PolicyName[], subtitle: (w: WorkloadName) => string): string {
  const width = panel.width * workloads.length;
  const legendY = panel.height + 8;
  const legend = policies
    .map((policy, i) => {
      const lx = 40 + i * 180;
      return `<line x1="${lx}" x2="${lx + 28}" y1="${legendY + 10}" y2="${legendY + 10}" stroke="${colors[policy]}" stroke-width="3"${policy === 'skylark-slo' ? ' stroke-dasharray="7 4"' : ''}/><text x="${lx + 34}" y="${legendY + 14}" font-size="13">${policy}</text>`;
    })
    .join('\n');
  const panels = workloads.map((workload, i) => panelSvg(rows, workload, policies, i * panel.width, subtitle(workload))).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendY + 32}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>${panels}\n${legend}</svg>`;
}

/** Renders the SVG to a PNG with the system Chromium; returns why not when it cannot. */
export async function renderPng(svg: string, path: string): Promise<string | undefined> {
  const executablePath = '/usr/bin/chromium';
  if (!existsSync(executablePath)) return `${executablePath} is missing (apt-get install -y chromium)`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0;background:white">${svg}</body></html>`);
    const box = await page.locator('svg').boundingBox();
    if (box === null) return 'the SVG did not render';
    await page.screenshot({ path, clip: box });
    return undefined;
  } finally {
    await browser.close();
  }
}
