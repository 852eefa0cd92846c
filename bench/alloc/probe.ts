/**
 * Loaded into a gateway with `node --import …/alloc/probe.js` (bench:alloc): counts the bytes
 * the process allocates on V8's heap and, on demand, samples where they are allocated.
 *
 * Node 20's v8.getHeapStatistics() has no cumulative "allocated" counter, so it is rebuilt:
 * a v8.GCProfiler runs from start-up and every collection it reports adds what that collection
 * freed (used heap before − after); bytes allocated since start-up are then the freed total
 * plus the growth of the used heap. Off-heap memory (Buffers' backing stores, sqlite's and
 * undici's native buffers) is not counted: this is the garbage the GC has to deal with.
 *
 * Driven by SIGUSR2: the command is read from $SKYLARK_ALLOC_CTL and the answer appended to
 * $SKYLARK_ALLOC_OUT as one JSON line.
 *   mark                  → { allocated, gcs, heapUsed }
 *   sample-start BYTES    → starts the inspector's sampling heap profiler (one sample every
 *                           BYTES on average), counting objects the GC has collected since,
 *                           which is what makes it a profile of allocation, not of what lives
 *   sample-stop           → { sites, total }: the sampled bytes grouped by the allocating
 *                           function (name, file, line) with its heaviest callers
 */
import { readFileSync, appendFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';

const out = process.env.SKYLARK_ALLOC_OUT;
const ctl = process.env.SKYLARK_ALLOC_CTL;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: ProfileNode[];
}

export interface AllocSite {
  site: string;
  bytes: number;
  /** The callers that allocated most through this site, heaviest first, with their bytes. */
  callers: [string, number][];
}

/** `name (path:line)`, the path cut down to what says where it lives (src/…, node_modules/pkg/…, node:…). */
export function siteName(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  let path = frame.url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) path = path.slice(modules + 1);
  else {
    const dist = path.lastIndexOf('/dist/');
    if (dist >= 0) path = path.slice(dist + 6);
  }
  return `${name} (${path}:${frame.lineNumber + 1})`;
}

function groupSites(head: ProfileNode): { sites: AllocSite[]; total: number } {
  const bySite = new Map<string, { bytes: number; callers: Map<string, number> }>();
  let total = 0;
  const walk = (node: ProfileNode, parent: string) => {
    const site = siteName(node.callFrame);
    if (node.selfSize > 0) {
      total += node.selfSize;
      let entry = bySite.get(site);
      if (!entry) bySite.set(site, (entry = { bytes: 0, callers: new Map() }));
      entry.bytes += node.selfSize;
      entry.callers.set(parent, (entry.callers.get(parent) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, site);
  };
  walk(head, '(root)');
  const sites = [...bySite].map(([site, { bytes, callers }]) => ({
    site,
    bytes,
    callers: [...callers].sort((a, b) => b[1] - a[1]).slice(0, 3),
  }));
  return { sites: sites.sort((a, b) => b.bytes - a.bytes), total };
}

if (out && ctl) {
  const base = v8.getHeapStatistics().used_heap_size;
  let freed = 0;
  let gcs = 0;
  let profiler = new v8.GCProfiler();
  profiler.start();
  const collect = () => {
    const result = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    // The figures come camelCased (usedHeapSize), whatever @types/node says.
    type Stats = { usedHeapSize: number };
    for (const gc of result?.statistics ?? []) {
      gcs++;
      freed += (gc.beforeGC.heapStatistics as unknown as Stats).usedHeapSize - (gc.afterGC.heapStatistics as unknown as Stats).usedHeapSize;
    }
  };
  const session = new Session();
  session.connect();
  const write = (line: object) => appendFileSync(out, `${JSON.stringify(line)}\n`);

  process.on('SIGUSR2', () => {
    const [command = '', arg] = readFileSync(ctl, 'utf8').trim().split(/\s+/);
    if (command === 'mark') {
      collect();
      const heapUsed = v8.getHeapStatistics().used_heap_size;
      write({ allocated: freed + heapUsed - base, gcs, heapUsed });
    } else if (command === 'sample-start') {
      void session
        .post('HeapProfiler.startSampling', {
          samplingInterval: Number(arg ?? 4096),
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        })
        .then(() => write({ sampling: true }), (error: unknown) => write({ error: String(error) }));
    } else if (command === 'sample-stop') {
      void session
        .post('HeapProfiler.stopSampling')
        .then(({ profile }) => write(groupSites(profile.head as ProfileNode)), (error: unknown) => write({ error: String(error) }));
    } else write({ error: `unknown command ${command}` });
  });
}
