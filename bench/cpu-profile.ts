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
  totalMs: number;
  /** Self time by where the code lives: a package, a file of the app, Node itself, GC, idle. */
  byPlace: ProfileShare[];
  /** Time with a frame of that place anywhere on the stack (what it costs with what it calls). */
  byPlaceInclusive: ProfileShare[];
  /** Self time by function. */
  byFunction: ProfileShare[];
}

/** Where a frame's code lives: `pkg:<name>`, `app:<file>`, `node:<module>` or a V8 pseudo-frame. */
function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  const app = /\/dist\/(.+)\.js$/.exec(url);
  if (app) return `app:${app[1]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

function top(totals: Map<string, number>, totalMs: number, count: number): ProfileShare[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms, percent: (ms / totalMs) * 100 }));
}

/** Sums the self time of the `.cpuprofile` files that `node --cpu-prof` wrote into `dir`. */
export function summarizeCpuProfiles(dir: string, count = 15): ProfileSummary {
  const byPlace = new Map<string, number>();
  const byPlaceInclusive = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
      const place = placeOf(url, functionName);
      totalMs += ms;
      byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
      const onStack = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const frame = nodes.get(at)!.callFrame;
        if (frame.url) onStack.add(placeOf(frame.url, frame.functionName));
      }
      for (const p of onStack) byPlaceInclusive.set(p, (byPlaceInclusive.get(p) ?? 0) + ms);
      const fn = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    });
  }
  return {
    totalMs,
    byPlace: top(byPlace, totalMs, count),
    byPlaceInclusive: top(byPlaceInclusive, totalMs, count),
    byFunction: top(byFunction, totalMs, count),
  };
}
