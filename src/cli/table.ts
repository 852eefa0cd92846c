/**
 * The admin commands' output: aligned plain-text tables for people, JSON for scripts.
 * No dependency: the tables are small and their only job is to line up.
 */

export type Cell = string | number | boolean | null | undefined;

const text = (cell: Cell): string => (cell === null || cell === undefined || cell === '' ? '-' : String(cell));

/** Columns padded to their widest cell, two spaces apart; `(none)` for no rows. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((row) => headers.map((_, i) => text(row[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  // trimEnd: the last column is padded too, and trailing spaces only confuse diffs and greps.
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** One object as `key  value` lines, for showing a single created or updated row. */
export function formatRecord(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${text(value)}`).join('\n') + '\n';
}

/** Epoch ms → ISO 8601 (UTC), keeping null; both views show times this way. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** `--json` → pretty JSON on stdout; otherwise the human text. Nothing else goes to stdout. */
export function emit(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json === true ? `${JSON.stringify(value, null, 2)}\n` : human());
}
