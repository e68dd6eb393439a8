import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time when the process was not idle; the shares are of this. */
  busyMs: number;
  /** Self time by where the code lives: a package, a file of the app, Node itself, GC, idle. */
  byPlace: ProfileShare[];
  /** Time with a frame of that place anywhere on the stack (what it costs with what it calls). */
  byPlaceInclusive: ProfileShare[];
  /** Self time by function. */
  byFunction: ProfileShare[];
}

const IDLE = '(idle)';
const NATIVE = '(native)';

/** Where a frame's code lives: `pkg:<name>`, `app:<file>`, `node:<module>` or a V8 pseudo-frame. */
function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : NATIVE;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  const app = /\/dist\/(.+)\.js$/.exec(url);
  return app ? `app:${app[1]}` : url;
}

function top(totals: Map<string, number>, totalMs: number, count: number): ProfileShare[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms, percent: (ms / totalMs) * 100 }));
}

/** Sums the self time of the `.cpuprofile` files that `node --cpu-prof` wrote into `dir`, idle time left out. */
export function summarizeCpuProfiles(dir: string, count = 15): ProfileSummary {
  const byPlace = new Map<string, number>();
  const byPlaceInclusive = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyMs = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
      const place = placeOf(url, functionName);
      if (place === IDLE) return;
      busyMs += ms;
      byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
      const onStack = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const frame = nodes.get(at)!.callFrame;
        if (frame.url) onStack.add(placeOf(frame.url, frame.functionName));
      }
      for (const p of onStack) byPlaceInclusive.set(p, (byPlaceInclusive.get(p) ?? 0) + ms);
      const fn = url ? `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}` : place === NATIVE ? `${functionName} ${NATIVE}` : place;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    });
  }
  return {
    busyMs,
    byPlace: top(byPlace, busyMs, count),
    byPlaceInclusive: top(byPlaceInclusive, busyMs, count),
    byFunction: top(byFunction, busyMs, count),
  };
}
