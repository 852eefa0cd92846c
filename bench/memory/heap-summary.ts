/**
 * Sums a V8 heap snapshot by node type and by name: `node dist/bench/memory/heap-summary.js
 * FILE.heapsnapshot [top]`. Self sizes only (no retained sizes): enough to see which kinds of
 * object hold the heap (module sources, compiled code, a cache that grows) without DevTools.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary FILE.heapsnapshot [top]');
const top = Number(topArg ?? 25);
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
const byType = new Map<string, { size: number; count: number }>();
const byName = new Map<string, { size: number; count: number }>();
const add = (map: Map<string, { size: number; count: number }>, key: string, size: number) => {
  const entry = map.get(key) ?? { size: 0, count: 0 };
  entry.size += size;
  entry.count++;
  map.set(key, entry);
};
let total = 0;
for (let i = 0; i < snap.nodes.length; i += fields.length) {
  const type = types[snap.nodes[i + typeAt!]!]!;
  const size = snap.nodes[i + sizeAt!]!;
  let name = snap.strings[snap.nodes[i + nameAt!]!]!;
  total += size;
  add(byType, type, size);
  // Strings are named by their text: bucket them by length and the first characters.
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = `${type} ${size >= 65536 ? '≥64K' : size >= 4096 ? '4K–64K' : '<4K'}: ${name.slice(0, 40).replace(/\s+/g, ' ')}${size >= 4096 ? '' : '…'}`;
  add(byName, `${type} ${name}`, size);
}
const mb = (bytes: number) => (bytes / 1048576).toFixed(2).padStart(7);
console.log(`total self size ${mb(total)} MB`);
for (const [type, { size, count }] of [...byType].sort((a, b) => b[1].size - a[1].size)) console.log(`${mb(size)} MB ${String(count).padStart(8)}  ${type}`);
console.log(`\ntop ${top} by name`);
for (const [name, { size, count }] of [...byName].sort((a, b) => b[1].size - a[1].size).slice(0, top)) console.log(`${mb(size)} MB ${String(count).padStart(8)}  ${name.slice(0, 110)}`);
